// Amplify JS v6 with a Kakao login: Amplify's Auth category asks this
// client for the user pool's tokens (a custom TokenProvider), so
// fetchAuthSession(), getCurrentUser() and the API and Storage categories
// work with a kakaoauth session. AWS credentials come from Amplify's own
// identity-pool provider (cognitoCredentialsProvider), which reads the ID
// token from here; on sign-out its cached credentials are dropped.
//
//   import { Amplify } from 'aws-amplify';
//   import { cognitoCredentialsProvider } from 'aws-amplify/auth/cognito';
//   import { amplifyAuthConfig, amplifyAuthOptions } from '@kakaoauth/client/amplify';
//
//   Amplify.configure({ Auth: amplifyAuthConfig(auth) },
//     { Auth: amplifyAuthOptions(auth, { credentialsProvider: cognitoCredentialsProvider }) });

import { decodeJWT } from '@aws-amplify/core';

/** @typedef {import('./client.js').KakaoAuth} KakaoAuth */
/** @typedef {import('@aws-amplify/core').TokenProvider} TokenProvider */
/** @typedef {import('@aws-amplify/core').CredentialsAndIdentityIdProvider} CredentialsAndIdentityIdProvider */
/** @typedef {import('@aws-amplify/core').AuthConfig} AuthConfig */

/**
 * Amplify's TokenProvider backed by auth: the session's tokens, refreshed
 * through Cognito when they are about to expire (or forceRefresh); null
 * when nobody is signed in, which Amplify reads as signed out.
 * @param {KakaoAuth} auth
 * @returns {TokenProvider}
 */
export function createTokenProvider(auth) {
  return {
    async getTokens(options = {}) {
      const session = await auth.getSession({ forceRefresh: options.forceRefresh === true });
      if (!session) return null;
      return { accessToken: decodeJWT(session.accessToken), idToken: decodeJWT(session.idToken) };
    },
  };
}

/**
 * The Auth part of Amplify's resource configuration for auth's stack:
 * the user pool (and identity pool, when auth has one), at the endpoints
 * auth uses. No guest access.
 * @param {KakaoAuth} auth
 * @returns {AuthConfig}
 */
export function amplifyAuthConfig(auth) {
  const c = auth.config;
  /** @type {any} */
  const cognito = { userPoolId: c.userPoolId, userPoolClientId: c.userPoolClientId };
  if (c.userPoolEndpoint !== `https://cognito-idp.${c.region}.amazonaws.com/`) cognito.userPoolEndpoint = c.userPoolEndpoint;
  if (c.identityPoolId) {
    cognito.identityPoolId = c.identityPoolId;
    cognito.allowGuestAccess = false;
    if (c.identityPoolEndpoint !== `https://cognito-identity.${c.region}.amazonaws.com/`) cognito.identityPoolEndpoint = c.identityPoolEndpoint;
  }
  return { Cognito: cognito };
}

/**
 * Amplify's Auth library options: this client's tokens, and the
 * credentials provider given (Amplify's cognitoCredentialsProvider for
 * the identity pool), whose credentials are dropped when auth signs out.
 * @param {KakaoAuth} auth
 * @param {{credentialsProvider?: CredentialsAndIdentityIdProvider}} [options]
 * @returns {{tokenProvider: TokenProvider, credentialsProvider?: CredentialsAndIdentityIdProvider}}
 */
export function amplifyAuthOptions(auth, options = {}) {
  const { credentialsProvider } = options;
  if (credentialsProvider) {
    auth.subscribe((e) => {
      if (e.type === 'signedOut' || e.type === 'signedIn') credentialsProvider.clearCredentialsAndIdentityId();
    });
  }
  return credentialsProvider
    ? { tokenProvider: createTokenProvider(auth), credentialsProvider }
    : { tokenProvider: createTokenProvider(auth) };
}
