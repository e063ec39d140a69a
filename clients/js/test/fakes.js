// Stand-ins for the broker and Cognito, in memory: enough to test the
// client's own logic fast. The real broker, Cognito (moto) and Amplify are
// exercised in a browser by the Go test in clients/js (browser_test.go).

export const API = 'https://api.example/v1';
export const POOL = 'ap-northeast-2_Pool1';
export const CLIENT = 'appclient123';
export const IDENTITY_POOL = 'ap-northeast-2:11111111-2222-3333-4444-555555555555';
export const ISS = `https://cognito-idp.ap-northeast-2.amazonaws.com/${POOL}`;

const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

/** An unsigned JWT with claims (the client never verifies signatures). */
export function jwt(claims) {
  return `${b64url({ alg: 'RS256', kid: 'k' })}.${b64url(claims)}.c2ln`;
}

export function idToken(extra = {}) {
  return jwt({ iss: ISS, sub: 'sub-1', aud: CLIENT, token_use: 'id', 'cognito:username': 'kakao_4242', 'custom:kakao_id': '4242', exp: 2e9, ...extra });
}

export function accessToken(extra = {}) {
  return jwt({ iss: ISS, sub: 'sub-1', client_id: CLIENT, token_use: 'access', username: 'kakao_4242', exp: 2e9, ...extra });
}

export function loginAnswer(extra = {}) {
  return {
    id_token: idToken(), access_token: accessToken(), refresh_token: 'refresh-1', expires_in: 3600,
    token_type: 'Bearer', sub: 'sub-1', username: 'kakao_4242', new_user: true, ...extra,
  };
}

/**
 * A fetch that routes by URL and X-Amz-Target to handlers and records
 * every request. A handler returns {status, body} (body JSON-encoded
 * unless it is a string) or throws to make fetch reject.
 */
export function fakeFetch(handlers) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    const headers = new Headers(init.headers);
    const target = headers.get('X-Amz-Target') ?? '';
    const key = target ? target.split('.').pop() : `${init.method ?? 'GET'} ${new URL(url).pathname}`;
    const body = init.body ? JSON.parse(init.body) : undefined;
    calls.push({ url: String(url), key, headers, body });
    const h = handlers[key];
    if (!h) return new Response(JSON.stringify({ message: `no handler for ${key}` }), { status: 599 });
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const out = await h({ url: String(url), headers, body, signal: init.signal });
    const text = typeof out.body === 'string' ? out.body : out.body === undefined ? '' : JSON.stringify(out.body);
    return new Response(text, { status: out.status ?? 200, headers: { 'Content-Type': 'application/json' } });
  };
  return { fetch, calls };
}

export function cognitoError(type, message, status = 400) {
  return { status, body: { __type: type, message } };
}
