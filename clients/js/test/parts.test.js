import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { decodeJWT } from '@aws-amplify/core';

import { amplifyAuthConfig, amplifyAuthOptions, createTokenProvider } from '../src/amplify.js';
import { brokerErrors, claimsOf, createNonce, hashNonce, KakaoAuth, messages, userMessage } from '../src/index.js';
import { API, CLIENT, fakeFetch, IDENTITY_POOL, loginAnswer, POOL } from './fakes.js';

describe('nonce', () => {
  it('hashes as the broker checks: lowercase hex SHA-256 of the raw nonce', async () => {
    assert.equal(await hashNonce('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(await hashNonce('한글'), createHash('sha256').update('한글', 'utf8').digest('hex'));
  });

  it('creates 256-bit raw nonces, URL-safe, with their hash', async () => {
    const seen = new Set();
    for (let i = 0; i < 50; i++) {
      const { nonce, hashedNonce } = await createNonce();
      assert.match(nonce, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(hashedNonce, createHash('sha256').update(nonce).digest('hex'));
      seen.add(nonce);
    }
    assert.equal(seen.size, 50);
  });
});

describe('messages', () => {
  it('has a Korean and an English message for every code the client throws', () => {
    const codes = [...Object.keys(brokerErrors), 'NetworkError', 'SessionExpired', 'NotSignedIn'];
    for (const locale of ['ko', 'en']) {
      assert.deepEqual(Object.keys(messages[locale]).sort(), [...codes].sort(), locale);
    }
    assert.equal(userMessage({ code: 'AccountConflict' }, 'en'), messages.en.AccountConflict);
    assert.equal(userMessage({ code: 'AccountConflict' }), messages.ko.AccountConflict, 'Korean by default');
    assert.equal(userMessage(new Error('x'), 'en'), messages.en.internal);
    assert.equal(userMessage({ code: 'toString' }, 'en'), messages.en.internal);
  });
});

describe('claimsOf', () => {
  it('reads UTF-8 claims of base64url JWTs', () => {
    const payload = Buffer.from(JSON.stringify({ nickname: '라이언?>' })).toString('base64url');
    assert.deepEqual(claimsOf(`e30.${payload}.x`), { nickname: '라이언?>' });
    assert.throws(() => claimsOf('nope'), TypeError);
  });
});

describe('Amplify', () => {
  const login = () => ({ status: 200, body: loginAnswer() });

  it('hands Amplify the session as its TokenProvider, null when signed out', async () => {
    const f = fakeFetch({ 'POST /v1/auth/kakao': login });
    const auth = new KakaoAuth({ apiUrl: API, userPoolId: POOL, userPoolClientId: CLIENT, fetch: f.fetch });
    const provider = createTokenProvider(auth);
    assert.equal(await provider.getTokens(), null);
    const s = await auth.signInWithKakao({ accessToken: 'a' });
    const tokens = await provider.getTokens();
    assert.equal(tokens.idToken.toString(), s.idToken);
    assert.equal(tokens.accessToken.toString(), s.accessToken);
    assert.deepEqual(tokens.idToken.payload, decodeJWT(s.idToken).payload);
  });

  it('configures the pools at the endpoints the client uses, and drops cached credentials on sign-out', async () => {
    const local = new KakaoAuth({
      apiUrl: API, userPoolId: POOL, userPoolClientId: CLIENT, identityPoolId: IDENTITY_POOL,
      userPoolEndpoint: 'http://127.0.0.1:5000/', identityPoolEndpoint: 'http://127.0.0.1:5000/',
    });
    assert.deepEqual(amplifyAuthConfig(local), {
      Cognito: {
        userPoolId: POOL, userPoolClientId: CLIENT, userPoolEndpoint: 'http://127.0.0.1:5000/',
        identityPoolId: IDENTITY_POOL, allowGuestAccess: false, identityPoolEndpoint: 'http://127.0.0.1:5000/',
      },
    });
    const aws = new KakaoAuth({ apiUrl: API, userPoolId: POOL, userPoolClientId: CLIENT });
    assert.deepEqual(amplifyAuthConfig(aws), { Cognito: { userPoolId: POOL, userPoolClientId: CLIENT } });

    const f = fakeFetch({ 'POST /v1/auth/kakao': login, RevokeToken: () => ({ status: 200, body: {} }) });
    const auth = new KakaoAuth({ apiUrl: API, userPoolId: POOL, userPoolClientId: CLIENT, fetch: f.fetch });
    let cleared = 0;
    const options = amplifyAuthOptions(auth, { credentialsProvider: { getCredentialsAndIdentityId: async () => undefined, clearCredentialsAndIdentityId: () => { cleared++; } } });
    assert.ok(options.tokenProvider && options.credentialsProvider);
    await auth.signInWithKakao({ accessToken: 'a' });
    await auth.signOut();
    assert.equal(cleared, 2, 'cleared on sign-in (another user) and on sign-out');
  });
});
