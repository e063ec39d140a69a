// Typed errors. The broker's answers ({"error": code, "message": text})
// become one class per code of its error table (the repository's
// errors.go, docs/api.md): catch them by class or switch on `code`.
// Errors of the client's own (network, not signed in, session expired)
// and Cognito's refusals have classes of their own.

/**
 * Base of every error the client throws.
 */
export class KakaoAuthError extends Error {
  /**
   * @param {string} code the broker's error code, or the client's own
   * @param {string} message
   * @param {{status?: number, cause?: unknown}} [options]
   */
  constructor(code, message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KakaoAuthError';
    /** The error code: the broker's `error` field, or the client's own. */
    this.code = code;
    /** The HTTP status the error came with (0 when there was none). */
    this.status = options.status ?? 0;
  }
}

/** 400: malformed JSON, no token, oversized body, unknown fields. */
export class InvalidRequestError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('InvalidRequest', message, options); this.name = 'InvalidRequestError'; }
}
/** 401: Kakao refused the token, or the ID token failed verification. */
export class InvalidKakaoTokenError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('InvalidKakaoToken', message, options); this.name = 'InvalidKakaoTokenError'; }
}
/** 401: the access token was issued to another Kakao app. */
export class WrongKakaoAppError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('WrongKakaoApp', message, options); this.name = 'WrongKakaoAppError'; }
}
/** 403: the Kakao account was unlinked from the app. */
export class AccountUnlinkedError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('AccountUnlinked', message, options); this.name = 'AccountUnlinkedError'; }
}
/** 403: an administrator disabled the account. */
export class AccountDisabledError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('AccountDisabled', message, options); this.name = 'AccountDisabledError'; }
}
/** 403: an operator banned the account (until the ban ends, or is lifted). */
export class AccountBannedError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('AccountBanned', message, options); this.name = 'AccountBannedError'; }
}
/** 409: the Kakao account's verified email belongs to another user. */
export class AccountConflictError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('AccountConflict', message, options); this.name = 'AccountConflictError'; }
}
/** 403: no account is linked to this Kakao account, and the stack creates none (an existing pool); sign in another way, then link. */
export class AccountNotLinkedError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('AccountNotLinked', message, options); this.name = 'AccountNotLinkedError'; }
}
/** 401 from the linking endpoints: the Cognito access token is missing, invalid, expired or revoked. */
export class InvalidCognitoTokenError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('InvalidCognitoToken', message, options); this.name = 'InvalidCognitoTokenError'; }
}
/** 409 from linking: the Kakao account is linked to another user. */
export class KakaoAccountInUseError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('KakaoAccountInUse', message, options); this.name = 'KakaoAccountInUseError'; }
}
/** 409 from linking: this user already has another Kakao account linked. */
export class UserAlreadyLinkedError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('UserAlreadyLinked', message, options); this.name = 'UserAlreadyLinkedError'; }
}
/** 409 from unlinking: the account signs in with Kakao only. */
export class KakaoOnlyAccountError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('KakaoOnlyAccount', message, options); this.name = 'KakaoOnlyAccountError'; }
}
/** 404 from unlinking: the user has no Kakao account linked. */
export class NotLinkedError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('NotLinked', message, options); this.name = 'NotLinkedError'; }
}
/** 403: the account cannot sign in with Kakao (another provider's, unconfirmed, a password reset or MFA step due): the person signs in their usual way. */
export class KakaoSignInUnavailableError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('KakaoSignInUnavailable', message, options); this.name = 'KakaoSignInUnavailableError'; }
}
/** 429: too many requests; try again shortly. */
export class ThrottledError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('Throttled', message, options); this.name = 'ThrottledError'; }
}
/** 429: the account's Cognito user was recreated too often; try again after the stack's RecreationPeriod. */
export class RecreateLimitReachedError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('RecreateLimitReached', message, options); this.name = 'RecreateLimitReachedError'; }
}
/** 502: Kakao did not answer; try again shortly. */
export class KakaoUnavailableError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('KakaoUnavailable', message, options); this.name = 'KakaoUnavailableError'; }
}
/** 504: the login took too long; try again. */
export class TimeoutError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('Timeout', message, options); this.name = 'TimeoutError'; }
}
/** 500: the broker failed (details only in its logs). */
export class InternalError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('internal', message, options); this.name = 'InternalError'; }
}
/** 404: no such route (a wrong API URL, or a route the stack does not have). */
export class NotFoundError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('NotFound', message, options); this.name = 'NotFoundError'; }
}
/** 401 from a protected route (GET /me): the ID token is missing, invalid or expired. */
export class UnauthorizedError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('Unauthorized', message, options); this.name = 'UnauthorizedError'; }
}

/** The broker's error codes, each with its class. */
export const brokerErrors = Object.freeze({
  InvalidRequest: InvalidRequestError,
  InvalidKakaoToken: InvalidKakaoTokenError,
  WrongKakaoApp: WrongKakaoAppError,
  AccountUnlinked: AccountUnlinkedError,
  AccountDisabled: AccountDisabledError,
  AccountBanned: AccountBannedError,
  AccountConflict: AccountConflictError,
  AccountNotLinked: AccountNotLinkedError,
  InvalidCognitoToken: InvalidCognitoTokenError,
  KakaoAccountInUse: KakaoAccountInUseError,
  UserAlreadyLinked: UserAlreadyLinkedError,
  KakaoOnlyAccount: KakaoOnlyAccountError,
  NotLinked: NotLinkedError,
  KakaoSignInUnavailable: KakaoSignInUnavailableError,
  Throttled: ThrottledError,
  RecreateLimitReached: RecreateLimitReachedError,
  KakaoUnavailable: KakaoUnavailableError,
  Timeout: TimeoutError,
  internal: InternalError,
  NotFound: NotFoundError,
  Unauthorized: UnauthorizedError,
});

/** The request did not reach the server, or its answer was not the API's. */
export class NetworkError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('NetworkError', message, options); this.name = 'NetworkError'; }
}
/** Nobody is signed in (no session in the store). */
export class NotSignedInError extends KakaoAuthError {
  /** @param {string} [message] */
  constructor(message = 'Nobody is signed in.') { super('NotSignedIn', message); this.name = 'NotSignedInError'; }
}
/**
 * Cognito refused the refresh token (revoked, expired, the user signed out
 * everywhere or was disabled): the session is gone; sign in again.
 */
export class SessionExpiredError extends KakaoAuthError {
  /** @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(message, options) { super('SessionExpired', message, options); this.name = 'SessionExpiredError'; }
}
/** Cognito refused a call; `code` is Cognito's error type, e.g. TooManyRequestsException. */
export class CognitoError extends KakaoAuthError {
  /** @param {string} code @param {string} message @param {{status?: number, cause?: unknown}} [options] */
  constructor(code, message, options) { super(code, message, options); this.name = 'CognitoError'; }
}

/**
 * The error for a broker answer: its code's class, or KakaoAuthError for
 * a code this version of the client does not know.
 * @param {number} status
 * @param {unknown} body the parsed JSON answer
 * @returns {KakaoAuthError}
 */
export function brokerError(status, body) {
  const b = /** @type {{error?: unknown, message?: unknown}} */ (body && typeof body === 'object' ? body : {});
  const code = typeof b.error === 'string' ? b.error : '';
  const message = typeof b.message === 'string' ? b.message : `HTTP ${status}`;
  if (!code) return new NetworkError(`The API answered HTTP ${status} without an error code.`, { status });
  const Kind = Object.hasOwn(brokerErrors, code) ? brokerErrors[/** @type {keyof typeof brokerErrors} */ (code)] : undefined;
  return Kind ? new Kind(message, { status }) : new KakaoAuthError(code, message, { status });
}
