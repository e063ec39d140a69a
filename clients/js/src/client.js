// KakaoAuth: the app's side of a kakaoauth stack. It posts the Kakao token
// the app's Kakao login returned to the broker (POST /auth/kakao), keeps
// the Cognito tokens it gets back in a store, refreshes them with Cognito
// directly (InitiateAuth REFRESH_TOKEN_AUTH with the stack's public app
// client), signs out (RevokeToken), gets AWS credentials from the stack's
// identity pool, and links Kakao to the signed-in user or removes the link
// (POST and DELETE /auth/kakao/link). One instance per app client; no
// global state.

import { callCognito, identityPoolEndpoint, userPoolEndpoint } from './cognito.js';
import {
  brokerError,
  InvalidRequestError,
  KakaoAuthError,
  NetworkError,
  NotSignedInError,
  SessionExpiredError,
} from './errors.js';
import { requestJSON } from './http.js';
import { claimsOf } from './jwt.js';
import { memoryStore } from './store.js';

/** @typedef {import('./store.js').TokenStore} TokenStore */

/**
 * @typedef {object} KakaoAuthOptions
 * @property {string} apiUrl base URL of the login API: the stack's ApiUrl output (locally http://127.0.0.1:8080)
 * @property {string} userPoolId the stack's UserPoolId output
 * @property {string} userPoolClientId the stack's UserPoolClientId output (the public app client)
 * @property {string} [region] AWS region; default: the user pool id's prefix
 * @property {string} [userPoolEndpoint] Cognito user pools' endpoint; default AWS's in the region (locally moto's)
 * @property {string} [identityPoolId] the stack's IdentityPoolId output, for getCredentials()
 * @property {string} [identityPoolEndpoint] Cognito identity pools' endpoint; default AWS's in the region
 * @property {TokenStore} [store] where the session is kept; default: memory only
 * @property {string} [storageKey] the store's key; default kakaoauth:<userPoolClientId>
 * @property {typeof fetch} [fetch] default globalThis.fetch
 * @property {() => number} [now] clock in ms; default Date.now
 * @property {number} [refreshMarginSeconds] refresh tokens this long before they expire; default 60
 * @property {number} [timeoutMs] deadline of a broker call; default 30000 (API Gateway's is 29 s)
 * @property {number} [cognitoTimeoutMs] deadline of a Cognito call; default 10000
 */

/**
 * What a sign-in gives and the store keeps.
 * @typedef {object} Session
 * @property {string} idToken the pool's ID token: what API Gateway's Cognito authorizer wants (no OAuth scopes)
 * @property {string} accessToken the pool's access token
 * @property {string} refreshToken the pool's refresh token
 * @property {number} expiresAt when the ID and access tokens expire (ms since the epoch, local clock)
 * @property {string} tokenType "Bearer"
 * @property {string} sub the Cognito user's sub: the user's stable id
 * @property {string} username the Cognito username (kakao_<Kakao id> for a user the broker created)
 * @property {boolean} newUser true only in the session of the login that created the user
 */

/**
 * @typedef {object} User
 * @property {string} sub
 * @property {string} username
 * @property {string | null} kakaoId custom:kakao_id (a string: Kakao ids pass 2^53)
 * @property {string | null} email a verified email only
 * @property {string | null} nickname
 */

/**
 * Temporary AWS credentials of the identity pool's authenticated role.
 * @typedef {object} AWSCredentials
 * @property {string} identityId the user's identity id (stable: the S3 prefix of the example policy)
 * @property {string} accessKeyId
 * @property {string} secretAccessKey
 * @property {string} sessionToken
 * @property {Date} expiration
 */

/**
 * @typedef {object} AuthEvent
 * @property {'signedIn' | 'refreshed' | 'signedOut'} type
 * @property {Session | null} session the session after the event
 */

/**
 * @typedef {object} SignOutResult
 * @property {boolean} revoked Cognito revoked the refresh token (and the access tokens issued with it)
 * @property {KakaoAuthError} [error] why not, when revoked is false; the local session is gone either way
 */

/**
 * @typedef {object} KakaoTokens
 * @property {string} [accessToken] Kakao access token
 * @property {string} [idToken] Kakao OIDC ID token
 * @property {string} [nonce] the raw nonce whose SHA-256 the Kakao login was given (createNonce)
 */

/**
 * What linking answered.
 * @typedef {object} LinkResult
 * @property {string} kakaoId the Kakao account's user id (a string: Kakao ids pass 2^53)
 * @property {string} sub the signed-in user's sub, which a Kakao login of that account now reaches
 * @property {string} username the signed-in user's Cognito username
 * @property {boolean} newLink false when that Kakao account was linked to this user already (nothing changed)
 */

/**
 * @typedef {object} LinkOptions
 * @property {string} [accessToken] a Cognito access token of the user to link, when the user signed in another way (Amplify's fetchAuthSession().tokens.accessToken.toString()); default: the session's
 */

/**
 * What removing the link answered.
 * @typedef {object} UnlinkResult
 * @property {string} kakaoId the Kakao account whose link was removed
 * @property {string} sub the user, untouched: its other sign-ins keep working
 */

const USER_POOL = 'AWSCognitoIdentityProviderService.';
const IDENTITY_POOL = 'AWSCognitoIdentityService.';
// Credentials this close to expiry are fetched again.
const CREDENTIALS_MARGIN_MS = 5 * 60 * 1000;

export class KakaoAuth {
  /** @type {Required<Omit<KakaoAuthOptions, 'identityPoolId'>> & {identityPoolId: string}} */
  #o;
  /** @type {Promise<Session> | null} */
  #refreshing = null;
  /** @type {Set<(e: AuthEvent) => void>} */
  #listeners = new Set();
  /** @type {{sub: string, credentials: AWSCredentials} | null} */
  #credentials = null;
  /** @type {Map<string, string>} identity id per sub */
  #identityIds = new Map();

  /** @param {KakaoAuthOptions} options */
  constructor(options) {
    const { apiUrl, userPoolId, userPoolClientId } = options ?? {};
    if (!apiUrl || !userPoolId || !userPoolClientId) {
      throw new TypeError('KakaoAuth: apiUrl, userPoolId and userPoolClientId are required (the stack outputs ApiUrl, UserPoolId, UserPoolClientId)');
    }
    const region = options.region ?? userPoolId.split('_')[0];
    this.#o = {
      apiUrl: apiUrl.replace(/\/+$/, ''),
      userPoolId,
      userPoolClientId,
      region,
      userPoolEndpoint: options.userPoolEndpoint ?? userPoolEndpoint(region),
      identityPoolId: options.identityPoolId ?? '',
      identityPoolEndpoint: options.identityPoolEndpoint ?? identityPoolEndpoint(region),
      store: options.store ?? memoryStore(),
      storageKey: options.storageKey ?? `kakaoauth:${userPoolClientId}`,
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      now: options.now ?? Date.now,
      refreshMarginSeconds: options.refreshMarginSeconds ?? 60,
      timeoutMs: options.timeoutMs ?? 30000,
      cognitoTimeoutMs: options.cognitoTimeoutMs ?? 10000,
    };
  }

  /** The stack this client talks to (what Amplify's configuration needs). */
  get config() {
    const o = this.#o;
    return {
      apiUrl: o.apiUrl, region: o.region, userPoolId: o.userPoolId, userPoolClientId: o.userPoolClientId,
      userPoolEndpoint: o.userPoolEndpoint, identityPoolId: o.identityPoolId, identityPoolEndpoint: o.identityPoolEndpoint,
    };
  }

  /**
   * Signs in with what the app's Kakao login returned: POST /auth/kakao.
   * Send the ID token with the raw nonce of createNonce() (the login was
   * given its hash), an access token, or both.
   * @param {KakaoTokens} tokens
   * @returns {Promise<Session>}
   * @throws {KakaoAuthError} the broker's error code as its class (InvalidKakaoTokenError, AccountConflictError, ...), or NetworkError
   */
  async signInWithKakao(tokens) {
    const { status, body: ans } = await requestJSON(this.#o.fetch, `${this.#o.apiUrl}/auth/kakao`, {
      headers: { 'Content-Type': 'application/json' },
      body: kakaoBody(tokens),
      timeoutMs: this.#o.timeoutMs,
    });
    if (status !== 200) throw brokerError(status, ans);
    const a = /** @type {Record<string, unknown>} */ (ans ?? {});
    for (const k of ['id_token', 'access_token', 'refresh_token', 'sub', 'username']) {
      if (typeof a[k] !== 'string' || !a[k]) throw new NetworkError(`The API's answer has no ${k}.`, { status });
    }
    /** @type {Session} */
    const session = {
      idToken: /** @type {string} */ (a.id_token),
      accessToken: /** @type {string} */ (a.access_token),
      refreshToken: /** @type {string} */ (a.refresh_token),
      expiresAt: this.#o.now() + Number(a.expires_in ?? 3600) * 1000,
      tokenType: typeof a.token_type === 'string' ? a.token_type : 'Bearer',
      sub: /** @type {string} */ (a.sub),
      username: /** @type {string} */ (a.username),
      newUser: a.new_user === true,
    };
    this.#credentials = null;
    await this.#save(session);
    this.#emit({ type: 'signedIn', session });
    return session;
  }

  /**
   * The current session, refreshed first when its tokens expire within
   * the refresh margin (or when forceRefresh); null when nobody is signed
   * in or the session has ended (the refresh token was refused).
   * @param {{forceRefresh?: boolean}} [options]
   * @returns {Promise<Session | null>}
   */
  async getSession(options = {}) {
    const session = await this.#load();
    if (!session) return null;
    if (!options.forceRefresh && session.expiresAt - this.#o.now() > this.#o.refreshMarginSeconds * 1000) {
      return session;
    }
    try {
      return await this.refresh();
    } catch (e) {
      if (e instanceof SessionExpiredError || e instanceof NotSignedInError) return null;
      throw e;
    }
  }

  /**
   * New ID and access tokens from Cognito (InitiateAuth
   * REFRESH_TOKEN_AUTH with the public app client; no AWS credentials).
   * Concurrent calls share one request.
   * @returns {Promise<Session>}
   * @throws {SessionExpiredError} the refresh token was refused: the session is removed
   * @throws {NotSignedInError | CognitoError | NetworkError}
   */
  refresh() {
    this.#refreshing ??= this.#refresh().finally(() => { this.#refreshing = null; });
    return this.#refreshing;
  }

  /** @returns {Promise<Session>} */
  async #refresh() {
    const session = await this.#load();
    if (!session) throw new NotSignedInError();
    let out;
    try {
      out = await callCognito(this.#o.fetch, this.#o.userPoolEndpoint, USER_POOL + 'InitiateAuth', {
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        ClientId: this.#o.userPoolClientId,
        AuthParameters: { REFRESH_TOKEN: session.refreshToken },
      }, this.#o.cognitoTimeoutMs);
    } catch (e) {
      if (e instanceof KakaoAuthError && e.code === 'NotAuthorizedException') {
        await this.#clear();
        this.#emit({ type: 'signedOut', session: null });
        throw new SessionExpiredError('The session has ended; sign in again.', { status: e.status, cause: e });
      }
      throw e;
    }
    const r = out.AuthenticationResult ?? {};
    if (!r.IdToken || !r.AccessToken) throw new NetworkError('Cognito answered the refresh without tokens.');
    /** @type {Session} */
    const next = {
      ...session,
      idToken: r.IdToken,
      accessToken: r.AccessToken,
      // Present only when the pool rotates refresh tokens.
      refreshToken: r.RefreshToken ?? session.refreshToken,
      expiresAt: this.#o.now() + Number(r.ExpiresIn ?? 3600) * 1000,
      tokenType: r.TokenType ?? session.tokenType,
      newUser: false,
    };
    await this.#save(next);
    this.#emit({ type: 'refreshed', session: next });
    return next;
  }

  /**
   * Signs out: Cognito revokes the refresh token and the access tokens
   * issued with it (RevokeToken); with global, every session of the user
   * first (GlobalSignOut). The local session is removed whatever Cognito
   * answers; `revoked` says whether Cognito did its part.
   * @param {{global?: boolean}} [options]
   * @returns {Promise<SignOutResult>}
   */
  async signOut(options = {}) {
    const session = await this.#load();
    if (!session) return { revoked: true };
    try {
      if (options.global) {
        await callCognito(this.#o.fetch, this.#o.userPoolEndpoint, USER_POOL + 'GlobalSignOut',
          { AccessToken: session.accessToken }, this.#o.cognitoTimeoutMs);
      }
      await callCognito(this.#o.fetch, this.#o.userPoolEndpoint, USER_POOL + 'RevokeToken',
        { Token: session.refreshToken, ClientId: this.#o.userPoolClientId }, this.#o.cognitoTimeoutMs);
      return { revoked: true };
    } catch (e) {
      const error = e instanceof KakaoAuthError ? e : new NetworkError('Sign-out failed.', { cause: e });
      return { revoked: false, error };
    } finally {
      this.#credentials = null;
      await this.#clear();
      this.#emit({ type: 'signedOut', session: null });
    }
  }

  /**
   * Who is signed in, from the ID token's claims; null when nobody is.
   * @returns {Promise<User | null>}
   */
  async currentUser() {
    const session = await this.getSession();
    if (!session) return null;
    const c = claimsOf(session.idToken);
    const str = (/** @type {unknown} */ v) => (typeof v === 'string' && v !== '' ? v : null);
    return {
      sub: String(c.sub),
      username: str(c['cognito:username']) ?? session.username,
      kakaoId: str(c['custom:kakao_id']),
      email: c.email_verified === true || c.email_verified === 'true' ? str(c.email) : null,
      nickname: str(c.nickname),
    };
  }

  /**
   * fetch() with the ID token in the Authorization header, as an API
   * behind API Gateway's Cognito user-pool authorizer (no OAuth scopes)
   * wants it: the stack's GET /me, or the app's own API.
   * @param {string | URL} url
   * @param {RequestInit} [init]
   * @returns {Promise<Response>}
   * @throws {NotSignedInError}
   */
  async fetchWithIdToken(url, init = {}) {
    const session = await this.getSession();
    if (!session) throw new NotSignedInError();
    const headers = new Headers(init.headers);
    headers.set('Authorization', session.idToken);
    return this.#o.fetch(url, { ...init, headers });
  }

  /**
   * AWS credentials of the identity pool's authenticated role for the
   * signed-in user (GetId, then GetCredentialsForIdentity with the ID
   * token; unsigned calls). Kept until five minutes before they expire.
   * @param {{forceRefresh?: boolean}} [options]
   * @returns {Promise<AWSCredentials>}
   * @throws {NotSignedInError | CognitoError | NetworkError}
   */
  async getCredentials(options = {}) {
    if (!this.#o.identityPoolId) throw new TypeError('KakaoAuth: no identityPoolId (the stack output IdentityPoolId)');
    const session = await this.getSession();
    if (!session) throw new NotSignedInError();
    const cached = this.#credentials;
    if (!options.forceRefresh && cached && cached.sub === session.sub &&
      cached.credentials.expiration.getTime() - this.#o.now() > CREDENTIALS_MARGIN_MS) {
      return cached.credentials;
    }
    const iss = String(claimsOf(session.idToken).iss ?? '');
    const logins = { [iss.replace(/^https:\/\//, '')]: session.idToken };
    const call = (/** @type {string} */ op, /** @type {object} */ input) =>
      callCognito(this.#o.fetch, this.#o.identityPoolEndpoint, IDENTITY_POOL + op, input, this.#o.cognitoTimeoutMs);
    let identityId = this.#identityIds.get(session.sub);
    if (!identityId) {
      identityId = /** @type {string} */ ((await call('GetId', { IdentityPoolId: this.#o.identityPoolId, Logins: logins })).IdentityId);
      this.#identityIds.set(session.sub, identityId);
    }
    const out = await call('GetCredentialsForIdentity', { IdentityId: identityId, Logins: logins });
    const c = out.Credentials ?? {};
    /** @type {AWSCredentials} */
    const credentials = {
      identityId: out.IdentityId ?? identityId,
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretKey,
      sessionToken: c.SessionToken,
      expiration: new Date(Number(c.Expiration) * 1000),
    };
    this.#credentials = { sub: session.sub, credentials };
    return credentials;
  }

  /**
   * Links a Kakao account to the signed-in user (POST /auth/kakao/link with
   * the session's access token): from then on a Kakao login of that
   * account signs in this user, with this sub, and the user's own
   * password and other sign-ins keep working. Give what the app's Kakao
   * login returned, as to signInWithKakao. The session stays as it is.
   * A user who signed in another way (a password through Amplify, the
   * hosted UI) passes that session's access token in options: the app
   * client it belongs to must be the stack's or in its LinkClientIds.
   * @param {KakaoTokens} tokens
   * @param {LinkOptions} [options]
   * @returns {Promise<LinkResult>}
   * @throws {KakaoAuthError} the broker's code as its class: KakaoAccountInUseError (another user has that Kakao account), UserAlreadyLinkedError (this user has another), InvalidCognitoTokenError (the session was revoked or the user disabled), AccountBannedError, InvalidKakaoTokenError, ...; NotSignedInError, NetworkError
   */
  async linkKakao(tokens, options = {}) {
    const body = kakaoBody(tokens);
    const a = await this.#withAccessToken('POST', options.accessToken, body);
    return { kakaoId: a.kakaoId, sub: a.sub, username: typeof a.body.username === 'string' ? a.body.username : '', newLink: a.body.new_link === true };
  }

  /**
   * Removes the signed-in user's link to Kakao (DELETE /auth/kakao/link
   * with the session's access token): the stack tells Kakao to unlink the
   * app and forgets the link; the user and the session stay. A user the
   * broker created signs in with Kakao only and cannot remove it.
   * @param {LinkOptions} [options]
   * @returns {Promise<UnlinkResult>}
   * @throws {KakaoAuthError} NotLinkedError (no Kakao account is linked), KakaoOnlyAccountError (a user the broker created), InvalidCognitoTokenError, KakaoUnavailableError (nothing changed; try again); NotSignedInError, NetworkError
   */
  async unlinkKakao(options = {}) {
    const a = await this.#withAccessToken('DELETE', options.accessToken);
    return { kakaoId: a.kakaoId, sub: a.sub };
  }

  /**
   * One call to the linking endpoint as the user of accessToken, or of
   * the session (refreshed first when it is about to expire).
   * @param {'POST' | 'DELETE'} method
   * @param {string | undefined} accessToken
   * @param {Record<string, string>} [body]
   * @returns {Promise<{kakaoId: string, sub: string, body: Record<string, unknown>}>}
   */
  async #withAccessToken(method, accessToken, body) {
    const token = accessToken || (await this.getSession())?.accessToken;
    if (!token) throw new NotSignedInError();
    /** @type {Record<string, string>} */
    const headers = { Authorization: `Bearer ${token}` };
    if (body) headers['Content-Type'] = 'application/json';
    const { status, body: ans, text } = await requestJSON(this.#o.fetch, `${this.#o.apiUrl}/auth/kakao/link`, {
      method, headers, body, timeoutMs: this.#o.timeoutMs,
    });
    if (status !== 200) throw brokerError(status, ans);
    const a = /** @type {Record<string, unknown>} */ (ans ?? {});
    // The id from the answer's text: JSON.parse would round one past 2^53.
    const kakaoId = /"kakao_id"\s*:\s*(\d+)/.exec(text)?.[1];
    if (!kakaoId || typeof a.sub !== 'string' || !a.sub) throw new NetworkError("The API's answer has no kakao_id or sub.", { status });
    return { kakaoId, sub: a.sub, body: a };
  }

  /**
   * Calls listener on sign-in, refresh and sign-out.
   * @param {(event: AuthEvent) => void} listener
   * @returns {() => void} unsubscribes
   */
  subscribe(listener) {
    this.#listeners.add(listener);
    return () => { this.#listeners.delete(listener); };
  }

  /** @param {AuthEvent} event */
  #emit(event) {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch {
        // A listener's failure is its own.
      }
    }
  }

  /** @returns {Promise<Session | null>} */
  async #load() {
    const raw = await this.#o.store.getItem(this.#o.storageKey);
    if (!raw) return null;
    try {
      const s = JSON.parse(raw);
      return s && typeof s.refreshToken === 'string' && typeof s.idToken === 'string' ? s : null;
    } catch {
      return null;
    }
  }

  /** @param {Session} session */
  async #save(session) {
    await this.#o.store.setItem(this.#o.storageKey, JSON.stringify(session));
  }

  async #clear() {
    await this.#o.store.removeItem(this.#o.storageKey);
  }
}

/**
 * The broker's body for what a Kakao login returned (POST /auth/kakao and
 * POST /auth/kakao/link take the same).
 * @param {KakaoTokens} tokens
 * @returns {Record<string, string>}
 */
function kakaoBody(tokens) {
  const { accessToken, idToken, nonce } = tokens ?? {};
  if (!accessToken && !idToken) {
    throw new InvalidRequestError('Give the Kakao access token or ID token your Kakao login returned.');
  }
  /** @type {Record<string, string>} */
  const body = {};
  if (accessToken) body.access_token = accessToken;
  if (idToken) body.id_token = idToken;
  if (nonce) body.nonce = nonce;
  return body;
}
