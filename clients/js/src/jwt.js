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
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const claims = JSON.parse(new TextDecoder().decode(bytes));
  if (!claims || typeof claims !== 'object') throw new TypeError('not a JWT');
  return claims;
}
