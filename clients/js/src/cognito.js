// The few Cognito calls an app makes itself, unsigned (no AWS credentials):
// user pools' InitiateAuth (REFRESH_TOKEN_AUTH), RevokeToken and
// GlobalSignOut with the stack's public app client, and identity pools'
// GetId and GetCredentialsForIdentity with the user's ID token. Each is
// one POST of Cognito's JSON protocol; the AWS SDK would add a dependency
// and a bundle for four calls.

import { CognitoError, NetworkError } from './errors.js';
import { requestJSON } from './http.js';

/**
 * Cognito's user pool endpoint in region.
 * @param {string} region
 */
export const userPoolEndpoint = (region) => `https://cognito-idp.${region}.amazonaws.com/`;

/**
 * Cognito's identity pool endpoint in region.
 * @param {string} region
 */
export const identityPoolEndpoint = (region) => `https://cognito-identity.${region}.amazonaws.com/`;

/**
 * Calls a Cognito operation.
 * @param {typeof fetch} fetchFn
 * @param {string} endpoint
 * @param {string} target e.g. AWSCognitoIdentityProviderService.InitiateAuth
 * @param {object} input
 * @param {number} timeoutMs
 * @returns {Promise<any>}
 */
export async function callCognito(fetchFn, endpoint, target, input, timeoutMs) {
  const { status, body } = await requestJSON(fetchFn, endpoint, {
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': target },
    body: input,
    timeoutMs,
  });
  if (status >= 200 && status < 300) return body ?? {};
  const b = /** @type {{__type?: unknown, message?: unknown, Message?: unknown}} */ (body && typeof body === 'object' ? body : {});
  if (typeof b.__type !== 'string') {
    throw new NetworkError(`${new URL(endpoint).host} answered HTTP ${status}.`, { status });
  }
  // e.g. "com.amazonaws.cognito.identity.idp.model#NotAuthorizedException"
  const code = b.__type.slice(b.__type.lastIndexOf('#') + 1);
  const message = typeof b.message === 'string' ? b.message : typeof b.Message === 'string' ? b.Message : code;
  throw new CognitoError(code, message, { status });
}
