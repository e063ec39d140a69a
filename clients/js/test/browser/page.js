// The test page's script: what a web app does with @kakaoauth/client and
// Amplify v6. Bundled by esbuild (browser_test.go) from the package's
// sources and the real aws-amplify.
import { Amplify } from 'aws-amplify';
import { get } from 'aws-amplify/api';
import { fetchAuthSession, getCurrentUser } from 'aws-amplify/auth';
import { cognitoCredentialsProvider } from 'aws-amplify/auth/cognito';
import { downloadData, list, uploadData } from 'aws-amplify/storage';

import { amplifyAuthConfig, amplifyAuthOptions } from '../../src/amplify.js';
import { createNonce, KakaoAuth, userMessage } from '../../src/index.js';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const show = (id, v) => { $(id).textContent = String(v); };

const cfg = await (await fetch('/config.json')).json();

// sessionStorage: the session survives the trip to Kakao's login and back.
const auth = new KakaoAuth({
  apiUrl: cfg.apiUrl, userPoolId: cfg.userPoolId, userPoolClientId: cfg.userPoolClientId,
  userPoolEndpoint: cfg.cognitoEndpoint, identityPoolId: cfg.identityPoolId, identityPoolEndpoint: cfg.cognitoEndpoint,
  store: window.sessionStorage,
});
Amplify.configure({
  Auth: amplifyAuthConfig(auth),
  API: {
    REST: {
      stack: { endpoint: cfg.apiUrl },
      // STS through Amplify's REST API with region and service: Amplify
      // signs the call with the identity pool's credentials.
      sts: { endpoint: cfg.stsEndpoint, region: cfg.region, service: 'sts' },
    },
  },
  // The stack's UserFilesBucket: each identity may use private/<its id>/.
  Storage: { S3: { bucket: cfg.userFilesBucket, region: cfg.region } },
}, { Auth: amplifyAuthOptions(auth, { credentialsProvider: cognitoCredentialsProvider }) });

async function busy(fn) {
  document.body.setAttribute('aria-busy', 'true');
  show('error', '');
  show('error-message', '');
  try {
    await fn();
  } catch (e) {
    show('error', e.code ?? e.name ?? 'Error');
    show('error-message', userMessage(e, 'en') + ' (' + e.message + ')');
  } finally {
    for (const b of document.querySelectorAll('button')) b.disabled = false;
    document.body.setAttribute('aria-busy', 'false');
  }
}

// 1. Kakao's login: the hashed nonce to Kakao, the raw one kept.
$('kakao-login').onclick = () => busy(async () => {
  const { nonce, hashedNonce } = await createNonce();
  const state = crypto.randomUUID();
  sessionStorage.setItem('kakao-login', JSON.stringify({ nonce, state }));
  location.assign(cfg.kakaoAuthorizeUrl + '?' + new URLSearchParams({
    client_id: cfg.kakaoClientId, redirect_uri: location.origin + '/callback', response_type: 'code',
    scope: 'openid', nonce: hashedNonce, state,
  }));
  await new Promise(() => {}); // leaving
});

// 2. Back from Kakao: the app's backend exchanges the code, then the
// client signs in at the broker.
async function callback() {
  const q = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem('kakao-login') ?? 'null');
  sessionStorage.removeItem('kakao-login');
  history.replaceState(null, '', '/');
  if (!pending || q.get('state') !== pending.state) throw new Error('state mismatch');
  const res = await fetch('/exchange', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code: q.get('code'), redirect_uri: location.origin + '/callback' }),
  });
  const kakao = await res.json();
  const session = cfg.signInWith === 'id_token'
    ? await auth.signInWithKakao({ idToken: kakao.id_token, nonce: pending.nonce })
    : await auth.signInWithKakao({ accessToken: kakao.access_token });
  show('new-user', session.newUser);
}

// What Amplify sees of the session.
async function amplifyView() {
  const session = await auth.getSession();
  if (!session) return;
  show('sub', session.sub);
  const s = await fetchAuthSession();
  show('amplify-sub', s.tokens?.idToken?.payload.sub ?? '');
  show('amplify-same-token', s.tokens?.idToken?.toString() === session.idToken);
  const u = await getCurrentUser();
  show('amplify-username', u.username);
  show('amplify-user-id', u.userId);
}

// 3. A refresh through Cognito, asked of Amplify (it asks the client).
$('refresh').onclick = () => busy(async () => {
  const before = (await auth.getSession())?.idToken;
  const s = await fetchAuthSession({ forceRefresh: true });
  const after = (await auth.getSession())?.idToken;
  show('refreshed', s.tokens?.idToken?.toString() === after && after !== before);
});

// 4. The stack's GET /me through Amplify's REST API, with the ID token.
$('me').onclick = () => busy(async () => {
  const { tokens } = await fetchAuthSession();
  const { body } = await get({ apiName: 'stack', path: '/me', options: { headers: { Authorization: tokens?.idToken?.toString() ?? '' } } }).response;
  const me = await body.json();
  show('me-sub', me.sub);
  show('me-kakao-id', me.kakao_id);
});

// 5. AWS credentials: Amplify's identity-pool provider with the client's
// ID token; a call Amplify signs with them says whose they are.
$('credentials').onclick = () => busy(async () => {
  const s = await fetchAuthSession();
  show('identity-id', s.identityId ?? '');
  const { body } = await get({ apiName: 'sts', path: '/', options: { queryParams: { Action: 'GetCallerIdentity', Version: '2011-06-15' } } }).response;
  const xml = await body.text();
  show('caller-arn', /<Arn>([^<]+)<\/Arn>/.exec(xml)?.[1] ?? xml);
});

// 6. Amplify Storage with the identity's credentials: a file under the
// identity's own prefix, written, listed and read back.
$('storage').onclick = () => busy(async () => {
  const { credentials } = await fetchAuthSession();
  show('storage-access-key', credentials?.accessKeyId ?? '');
  const path = ({ identityId }) => `private/${identityId}/hello.txt`;
  const uploaded = await uploadData({ path, data: cfg.storageText, options: { contentType: 'text/plain; charset=utf-8' } }).result;
  show('storage-path', uploaded.path);
  const { items } = await list({ path: ({ identityId }) => `private/${identityId}/` });
  show('storage-list', items.map((i) => `${i.path} ${i.size}`).join(', '));
  const { body } = await downloadData({ path }).result;
  show('storage-text', await body.text());
});

// 7. Sign-out: RevokeToken; the old refresh token no longer refreshes,
// and Amplify sees nobody.
$('sign-out').onclick = () => busy(async () => {
  const old = (await auth.getSession())?.refreshToken;
  const r = await auth.signOut();
  show('signed-out', r.revoked);
  const res = await fetch(cfg.cognitoEndpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
    body: JSON.stringify({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: cfg.userPoolClientId, AuthParameters: { REFRESH_TOKEN: old } }),
  });
  const out = await res.json();
  show('old-refresh', res.ok ? 'refreshed' : String(out.__type).split('#').pop());
  const s = await fetchAuthSession();
  let user = 'none';
  try {
    user = (await getCurrentUser()).username;
  } catch (e) {
    user = e.name;
  }
  show('amplify-after', `${s.tokens ? 'tokens' : 'no tokens'} ${user}`);
});

await busy(async () => {
  if (location.pathname === '/callback') await callback();
  await amplifyView();
});
