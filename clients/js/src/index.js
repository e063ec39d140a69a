// @kakaoauth/client: Kakao Login for an Amazon Cognito user pool, the
// app's side of a kakaoauth stack. Amplify v6 integration: '@kakaoauth/client/amplify'.

export { KakaoAuth } from './client.js';
export { createNonce, hashNonce } from './nonce.js';
export { memoryStore } from './store.js';
export { messages, userMessage } from './messages.js';
export { claimsOf } from './jwt.js';
export {
  KakaoAuthError,
  InvalidRequestError,
  InvalidKakaoTokenError,
  WrongKakaoAppError,
  AccountUnlinkedError,
  AccountDisabledError,
  AccountBannedError,
  AccountConflictError,
  AccountNotLinkedError,
  InvalidCognitoTokenError,
  KakaoAccountInUseError,
  UserAlreadyLinkedError,
  KakaoOnlyAccountError,
  NotLinkedError,
  KakaoSignInUnavailableError,
  ThrottledError,
  RecreateLimitReachedError,
  KakaoUnavailableError,
  TimeoutError,
  InternalError,
  NotFoundError,
  UnauthorizedError,
  NetworkError,
  NotSignedInError,
  SessionExpiredError,
  CognitoError,
  brokerErrors,
  brokerError,
} from './errors.js';

/** @typedef {import('./client.js').KakaoAuthOptions} KakaoAuthOptions */
/** @typedef {import('./client.js').KakaoTokens} KakaoTokens */
/** @typedef {import('./client.js').Session} Session */
/** @typedef {import('./client.js').User} User */
/** @typedef {import('./client.js').AWSCredentials} AWSCredentials */
/** @typedef {import('./client.js').AuthEvent} AuthEvent */
/** @typedef {import('./client.js').SignOutResult} SignOutResult */
/** @typedef {import('./client.js').LinkResult} LinkResult */
/** @typedef {import('./client.js').LinkOptions} LinkOptions */
/** @typedef {import('./client.js').UnlinkResult} UnlinkResult */
/** @typedef {import('./store.js').TokenStore} TokenStore */
/** @typedef {import('./nonce.js').Nonce} Nonce */
/** @typedef {import('./messages.js').Locale} Locale */
