import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  AccountConflictError,
  brokerErrors,
  InvalidCognitoTokenError,
  KakaoAccountInUseError,
  KakaoOnlyAccountError,
  NotLinkedError,
  CognitoError,
  InvalidRequestError,
  KakaoAuth,
  KakaoAuthError,
  NetworkError,
  NotSignedInError,
  SessionExpiredError,
} from '../src/index.js';
import {
  accessToken, API, CLIENT, cognitoError, fakeFetch, IDENTITY_POOL, idToken, ISS, loginAnswer, POOL,
} from './fakes.js';

function client(handlers, extra = {}) {
  const f = fakeFetch(handlers);
  let now = 1_000_000;
  const auth = new KakaoAuth({
    apiUrl: API + '/', userPoolId: POOL, userPoolClientId: CLIENT, identityPoolId: IDENTITY_POOL,
    fetch: f.fetch, now: () => now, ...extra,
  });
  return { auth, calls: f.calls, advance: (ms) => { now += ms; } };
}

const login = () => ({ status: 200, body: loginAnswer() });

describe('signInWithKakao', () => {
  it('posts exactly the tokens given to POST /auth/kakao and keeps the session', async () => {
    const { auth, calls } = client({ 'POST /v1/auth/kakao': login });
    const events = [];
    auth.subscribe((e) => events.push(e.type));
    const s = await auth.signInWithKakao({ idToken: 'kakao-id-token', nonce: 'raw-nonce' });
    assert.equal(calls[0].url, `${API}/auth/kakao`);
    assert.equal(calls[0].headers.get('Content-Type'), 'application/json');
    assert.deepEqual(calls[0].body, { id_token: 'kakao-id-token', nonce: 'raw-nonce' });
    assert.equal(s.sub, 'sub-1');
    assert.equal(s.newUser, true);
    assert.equal(s.expiresAt, 1_000_000 + 3600 * 1000);
    assert.deepEqual(await auth.getSession(), s);
    assert.deepEqual(events, ['signedIn']);

    await auth.signInWithKakao({ accessToken: 'kakao-access' });
    assert.deepEqual(calls[1].body, { access_token: 'kakao-access' });
  });

  it('refuses no token before any request', async () => {
    const { auth, calls } = client({});
    await assert.rejects(auth.signInWithKakao({ nonce: 'x' }), InvalidRequestError);
    assert.equal(calls.length, 0);
  });

  it("turns each of the broker's error codes into its class", async () => {
    for (const [code, Kind] of Object.entries(brokerErrors)) {
      const { auth } = client({ 'POST /v1/auth/kakao': () => ({ status: 409, body: { error: code, message: `m ${code}` } }) });
      const err = await auth.signInWithKakao({ accessToken: 'a' }).catch((e) => e);
      assert.ok(err instanceof Kind, `${code}: ${err}`);
      assert.ok(err instanceof KakaoAuthError);
      assert.equal(err.code, code);
      assert.equal(err.status, 409);
      assert.equal(err.message, `m ${code}`);
      assert.equal(err.name, Kind.name);
    }
    const { auth } = client({ 'POST /v1/auth/kakao': () => ({ status: 409, body: { error: 'AccountConflict', message: 'x' } }) });
    await assert.rejects(auth.signInWithKakao({ accessToken: 'a' }), AccountConflictError);
    assert.equal(await auth.getSession(), null, 'a failed login keeps no session');
  });

  it('keeps an unknown code as KakaoAuthError, and a non-API answer as NetworkError', async () => {
    let { auth } = client({ 'POST /v1/auth/kakao': () => ({ status: 403, body: { error: 'SomethingNew', message: 'new' } }) });
    let err = await auth.signInWithKakao({ accessToken: 'a' }).catch((e) => e);
    assert.equal(err.constructor, KakaoAuthError);
    assert.equal(err.code, 'SomethingNew');
    ({ auth } = client({ 'POST /v1/auth/kakao': () => ({ status: 502, body: '<html>Bad Gateway</html>' }) }));
    err = await auth.signInWithKakao({ accessToken: 'a' }).catch((e) => e);
    assert.ok(err instanceof NetworkError);
    assert.equal(err.status, 502);
    ({ auth } = client({ 'POST /v1/auth/kakao': () => { throw new TypeError('Failed to fetch'); } }));
    await assert.rejects(auth.signInWithKakao({ accessToken: 'a' }), NetworkError);
    ({ auth } = client({ 'POST /v1/auth/kakao': () => ({ status: 200, body: { sub: 's' } }) }));
    await assert.rejects(auth.signInWithKakao({ accessToken: 'a' }), NetworkError, 'a 200 without tokens');
  });

  it('gives up after its deadline', async () => {
    const { auth } = client({
      'POST /v1/auth/kakao': ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))),
    }, { timeoutMs: 20 });
    const err = await auth.signInWithKakao({ accessToken: 'a' }).catch((e) => e);
    assert.ok(err instanceof NetworkError);
    assert.match(err.message, /no answer within 20 ms/);
  });
});

describe('sessions', () => {
  const refreshed = (extra = {}) => ({
    status: 200,
    body: { AuthenticationResult: { IdToken: idToken({ iat: 2 }), AccessToken: accessToken({ iat: 2 }), ExpiresIn: 3600, TokenType: 'Bearer', ...extra } },
  });

  it('refreshes through Cognito with the public client when the tokens are about to expire', async () => {
    const { auth, calls, advance } = client({ 'POST /v1/auth/kakao': login, InitiateAuth: () => refreshed() });
    const first = await auth.signInWithKakao({ accessToken: 'a' });
    advance(3600 * 1000 - 61 * 1000);
    assert.equal((await auth.getSession()).idToken, first.idToken, 'not yet within the margin');
    advance(2000);
    const s = await auth.getSession();
    const c = calls.at(-1);
    assert.equal(c.url, 'https://cognito-idp.ap-northeast-2.amazonaws.com/');
    assert.equal(c.headers.get('X-Amz-Target'), 'AWSCognitoIdentityProviderService.InitiateAuth');
    assert.equal(c.headers.get('Content-Type'), 'application/x-amz-json-1.1');
    assert.deepEqual(c.body, { AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: CLIENT, AuthParameters: { REFRESH_TOKEN: 'refresh-1' } });
    assert.notEqual(s.idToken, first.idToken);
    assert.equal(s.refreshToken, 'refresh-1', 'kept when the pool does not rotate it');
    assert.equal(s.newUser, false);
  });

  it('shares one refresh among concurrent callers, and keeps a rotated refresh token', async () => {
    let n = 0;
    const { auth } = client({ 'POST /v1/auth/kakao': login, InitiateAuth: async () => { n++; await new Promise((r) => setTimeout(r, 10)); return refreshed({ RefreshToken: 'refresh-2' }); } });
    await auth.signInWithKakao({ accessToken: 'a' });
    const all = await Promise.all([auth.refresh(), auth.getSession({ forceRefresh: true }), auth.refresh()]);
    assert.equal(n, 1);
    assert.ok(all.every((s) => s.refreshToken === 'refresh-2'));
  });

  it('ends the session when Cognito refuses the refresh token', async () => {
    const { auth } = client({ 'POST /v1/auth/kakao': login, InitiateAuth: () => cognitoError('NotAuthorizedException', 'Refresh Token has been revoked') });
    await auth.signInWithKakao({ accessToken: 'a' });
    const events = [];
    auth.subscribe((e) => events.push(e.type));
    const err = await auth.refresh().catch((e) => e);
    assert.ok(err instanceof SessionExpiredError);
    assert.ok(err.cause instanceof CognitoError);
    assert.deepEqual(events, ['signedOut']);
    assert.equal(await auth.getSession(), null);
    await assert.rejects(auth.refresh(), NotSignedInError);
  });

  it('passes other Cognito failures on and keeps the session', async () => {
    const { auth } = client({ 'POST /v1/auth/kakao': login, InitiateAuth: () => cognitoError('com.amazonaws.cognito#TooManyRequestsException', 'Rate exceeded') });
    await auth.signInWithKakao({ accessToken: 'a' });
    const err = await auth.refresh().catch((e) => e);
    assert.ok(err instanceof CognitoError);
    assert.equal(err.code, 'TooManyRequestsException');
    assert.ok(await auth.getSession());
  });

  it('works with an asynchronous store, under its own key', async () => {
    const items = new Map();
    const store = {
      getItem: async (k) => items.get(k) ?? null,
      setItem: async (k, v) => { items.set(k, v); },
      removeItem: async (k) => { items.delete(k); },
    };
    const { auth } = client({ 'POST /v1/auth/kakao': login }, { store });
    await auth.signInWithKakao({ accessToken: 'a' });
    assert.deepEqual([...items.keys()], [`kakaoauth:${CLIENT}`]);
    const again = new KakaoAuth({ apiUrl: API, userPoolId: POOL, userPoolClientId: CLIENT, store, now: () => 1_000_000 });
    assert.equal((await again.getSession()).sub, 'sub-1', 'another instance on the same store finds the session');
  });
});

describe('signOut', () => {
  it('revokes the refresh token with RevokeToken and forgets the session', async () => {
    const { auth, calls } = client({ 'POST /v1/auth/kakao': login, RevokeToken: () => ({ status: 200, body: {} }) });
    await auth.signInWithKakao({ accessToken: 'a' });
    assert.deepEqual(await auth.signOut(), { revoked: true });
    assert.deepEqual(calls.at(-1).body, { Token: 'refresh-1', ClientId: CLIENT });
    assert.equal(await auth.getSession(), null);
  });

  it('signs out everywhere first with global', async () => {
    const { auth, calls } = client({ 'POST /v1/auth/kakao': login, GlobalSignOut: () => ({ status: 200, body: {} }), RevokeToken: () => ({ status: 200, body: {} }) });
    const s = await auth.signInWithKakao({ accessToken: 'a' });
    await auth.signOut({ global: true });
    assert.deepEqual(calls.slice(1).map((c) => c.key), ['GlobalSignOut', 'RevokeToken']);
    assert.deepEqual(calls[1].body, { AccessToken: s.accessToken });
  });

  it('forgets the session even when Cognito cannot be reached, and says so', async () => {
    const { auth } = client({ 'POST /v1/auth/kakao': login, RevokeToken: () => { throw new TypeError('offline'); } });
    await auth.signInWithKakao({ accessToken: 'a' });
    const out = await auth.signOut();
    assert.equal(out.revoked, false);
    assert.ok(out.error instanceof NetworkError);
    assert.equal(await auth.getSession(), null);
  });
});

describe('linking', () => {
  const LINK = 'POST /v1/auth/kakao/link';
  const UNLINK = 'DELETE /v1/auth/kakao/link';

  it("links with the session's access token as Bearer and the Kakao token as a login sends it", async () => {
    const { auth, calls } = client({
      'POST /v1/auth/kakao': login,
      // A Kakao id past 2^53 comes back whole.
      [LINK]: () => ({ status: 200, body: '{"kakao_id": 9007199254740993, "sub": "sub-1", "username": "alice", "new_link": true}' }),
    });
    const s = await auth.signInWithKakao({ accessToken: 'a' });
    const r = await auth.linkKakao({ idToken: 'kakao-id-token', nonce: 'raw-nonce' });
    assert.deepEqual(r, { kakaoId: '9007199254740993', sub: 'sub-1', username: 'alice', newLink: true });
    const call = calls.at(-1);
    assert.equal(call.url, `${API}/auth/kakao/link`);
    assert.equal(call.headers.get('Authorization'), `Bearer ${s.accessToken}`);
    assert.equal(call.headers.get('Content-Type'), 'application/json');
    assert.deepEqual(call.body, { id_token: 'kakao-id-token', nonce: 'raw-nonce' });
    assert.deepEqual(await auth.getSession(), s, 'the session stays as it was');
  });

  it('removes the link with DELETE and no body', async () => {
    const { auth, calls } = client({
      'POST /v1/auth/kakao': login,
      [UNLINK]: () => ({ status: 200, body: { kakao_id: 4242, sub: 'sub-1' } }),
    });
    const s = await auth.signInWithKakao({ accessToken: 'a' });
    assert.deepEqual(await auth.unlinkKakao(), { kakaoId: '4242', sub: 'sub-1' });
    assert.equal(calls.at(-1).headers.get('Authorization'), `Bearer ${s.accessToken}`);
    assert.equal(calls.at(-1).body, undefined);
    assert.equal(calls.at(-1).headers.get('Content-Type'), null);
    assert.equal((await auth.getSession()).sub, 'sub-1');
  });

  it("turns the linking codes into their classes, and keeps the session", async () => {
    for (const [method, key, code, status, Kind] of [
      ['linkKakao', LINK, 'KakaoAccountInUse', 409, KakaoAccountInUseError],
      ['linkKakao', LINK, 'InvalidCognitoToken', 401, InvalidCognitoTokenError],
      ['unlinkKakao', UNLINK, 'NotLinked', 404, NotLinkedError],
      ['unlinkKakao', UNLINK, 'KakaoOnlyAccount', 409, KakaoOnlyAccountError],
    ]) {
      const { auth } = client({ 'POST /v1/auth/kakao': login, [key]: () => ({ status, body: { error: code, message: `m ${code}` } }) });
      await auth.signInWithKakao({ accessToken: 'a' });
      const err = await auth[method]({ accessToken: 'k' }).catch((e) => e);
      assert.ok(err instanceof Kind, `${code}: ${err}`);
      assert.equal(err.status, status);
      assert.notEqual(await auth.getSession(), null);
    }
  });

  it("uses the access token given, of a user who signed in another way", async () => {
    const { auth, calls } = client({
      [LINK]: () => ({ status: 200, body: { kakao_id: 7, sub: 'pw-user', username: 'alice', new_link: false } }),
      [UNLINK]: () => ({ status: 200, body: { kakao_id: 7, sub: 'pw-user' } }),
    });
    const r = await auth.linkKakao({ accessToken: 'k' }, { accessToken: 'amplify-access' });
    assert.deepEqual(r, { kakaoId: '7', sub: 'pw-user', username: 'alice', newLink: false });
    await auth.unlinkKakao({ accessToken: 'amplify-access' });
    assert.deepEqual(calls.map((c) => c.headers.get('Authorization')), ['Bearer amplify-access', 'Bearer amplify-access']);
    assert.equal(await auth.getSession(), null, 'no session is made of it');
  });

  it('asks for a session and a Kakao token before any request', async () => {
    const { auth, calls } = client({ 'POST /v1/auth/kakao': login });
    await assert.rejects(auth.linkKakao({ accessToken: 'k' }), NotSignedInError);
    await assert.rejects(auth.unlinkKakao(), NotSignedInError);
    await auth.signInWithKakao({ accessToken: 'a' });
    await assert.rejects(auth.linkKakao({}), InvalidRequestError);
    assert.equal(calls.length, 1);
  });

  it('refuses an answer without the link', async () => {
    const { auth } = client({ 'POST /v1/auth/kakao': login, [LINK]: () => ({ status: 200, body: { sub: 'sub-1' } }) });
    await auth.signInWithKakao({ accessToken: 'a' });
    await assert.rejects(auth.linkKakao({ accessToken: 'k' }), NetworkError);
  });
});

describe('the signed-in user', () => {
  it('reads the ID token: a verified email only', async () => {
    const { auth } = client({
      'POST /v1/auth/kakao': () => ({ status: 200, body: loginAnswer({ id_token: idToken({ email: 'a@b.c', email_verified: false, nickname: '라이언' }) }) }),
    });
    assert.equal(await auth.currentUser(), null);
    await auth.signInWithKakao({ accessToken: 'a' });
    assert.deepEqual(await auth.currentUser(), { sub: 'sub-1', username: 'kakao_4242', kakaoId: '4242', email: null, nickname: '라이언' });
  });

  it('sends the ID token itself to the app\'s API', async () => {
    const { auth, calls } = client({ 'POST /v1/auth/kakao': login, 'GET /v1/me': () => ({ status: 200, body: { sub: 'sub-1' } }) });
    await assert.rejects(auth.fetchWithIdToken(`${API}/me`), NotSignedInError);
    const s = await auth.signInWithKakao({ accessToken: 'a' });
    const res = await auth.fetchWithIdToken(`${API}/me`, { headers: { Accept: 'application/json' } });
    assert.equal(res.status, 200);
    assert.equal(calls.at(-1).headers.get('Authorization'), s.idToken);
    assert.equal(calls.at(-1).headers.get('Accept'), 'application/json');
  });
});

describe('getCredentials', () => {
  it('gets the identity once and credentials until they are about to expire', async () => {
    const { auth, calls, advance } = client({
      'POST /v1/auth/kakao': login,
      GetId: () => ({ status: 200, body: { IdentityId: 'ap-northeast-2:id-1' } }),
      GetCredentialsForIdentity: () => ({ status: 200, body: { IdentityId: 'ap-northeast-2:id-1', Credentials: { AccessKeyId: 'AK', SecretKey: 'SK', SessionToken: 'ST', Expiration: 1_000_000 / 1000 + 3600 } } }),
    });
    await assert.rejects(auth.getCredentials(), NotSignedInError);
    const s = await auth.signInWithKakao({ accessToken: 'a' });
    const c = await auth.getCredentials();
    assert.deepEqual(c, { identityId: 'ap-northeast-2:id-1', accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST', expiration: new Date((1_000_000 / 1000 + 3600) * 1000) });
    const [getId, getCreds] = calls.slice(1);
    assert.equal(getId.url, 'https://cognito-identity.ap-northeast-2.amazonaws.com/');
    assert.equal(getId.headers.get('X-Amz-Target'), 'AWSCognitoIdentityService.GetId');
    const logins = { [ISS.replace('https://', '')]: s.idToken };
    assert.deepEqual(getId.body, { IdentityPoolId: IDENTITY_POOL, Logins: logins });
    assert.deepEqual(getCreds.body, { IdentityId: 'ap-northeast-2:id-1', Logins: logins });
    await auth.getCredentials();
    assert.equal(calls.length, 3, 'cached');
    advance(56 * 60 * 1000);
    await auth.getCredentials();
    assert.deepEqual(calls.slice(3).map((x) => x.key), ['GetCredentialsForIdentity'], 'the identity id is kept');
  });
});
