// The nonce of Kakao's OpenID Connect login, hashed: the app keeps a
// random raw nonce, gives Kakao its SHA-256 (lowercase hex) as the `nonce`
// of the login, and sends the raw nonce to the broker with the ID token.
// The broker accepts the token only if its nonce claim is the hash of the
// nonce it was sent, so a token copied out of the app cannot be replayed
// by someone who does not hold the raw nonce.

/**
 * @typedef {object} Nonce
 * @property {string} nonce the raw nonce: keep it, send it to the broker (signInWithKakao)
 * @property {string} hashedNonce hex SHA-256 of it: give it to Kakao's login as `nonce`
 */

/**
 * A fresh nonce pair (256 random bits).
 * @param {{crypto?: Crypto}} [options] WebCrypto (default globalThis.crypto)
 * @returns {Promise<Nonce>}
 */
export async function createNonce(options = {}) {
  const crypto = options.crypto ?? globalThis.crypto;
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  const nonce = btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return { nonce, hashedNonce: await hashNonce(nonce, options) };
}

/**
 * The value Kakao gets for a raw nonce: lowercase hex SHA-256 of its UTF-8.
 * @param {string} nonce
 * @param {{crypto?: Crypto}} [options]
 * @returns {Promise<string>}
 */
export async function hashNonce(nonce, options = {}) {
  const crypto = options.crypto ?? globalThis.crypto;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(nonce));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
