// Reading a JWT's claims. The client never needs to verify a signature:
// its tokens come straight from the broker or Cognito over TLS. Servers
// verify (docs/app-integration.md: aws-jwt-verify, cognitojwt).

/**
 * The claims of a JWT, unverified.
 * @param {string} token
 * @returns {Record<string, unknown>}
 */
export function claimsOf(token) {
  const part = typeof token === 'string' ? token.split('.')[1] : undefined;
  if (!part) throw new TypeError('not a JWT');
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (part.length % 4)) % 4);
  // UTF-8 without TextDecoder, which React Native's Hermes may lack.
  const utf8 = Array.from(atob(b64), (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  const claims = JSON.parse(decodeURIComponent(utf8));
  if (!claims || typeof claims !== 'object') throw new TypeError('not a JWT');
  return claims;
}
