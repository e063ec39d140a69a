// A TypeScript app of the package, as it imports it from npm: compiles
// against the published declarations (types/, made by `npm run
// build:types`), with the errors, session and Amplify types it uses.
import {
  AccountConflictError,
  createNonce,
  KakaoAuth,
  KakaoAuthError,
  userMessage,
  KakaoAccountInUseError,
  type AWSCredentials,
  type LinkResult,
  type Session,
  type TokenStore,
  type User,
} from '@kakaoauth/client';
import { amplifyAuthConfig, amplifyAuthOptions, createTokenProvider } from '@kakaoauth/client/amplify';
import type { TokenProvider } from '@aws-amplify/core';

const store: TokenStore = { getItem: async () => null, setItem: async () => {}, removeItem: async () => {} };
const auth = new KakaoAuth({ apiUrl: 'https://x/v1', userPoolId: 'ap-northeast-2_a', userPoolClientId: 'c', store });

export async function app(): Promise<string> {
  const { nonce, hashedNonce } = await createNonce();
  void hashedNonce;
  try {
    const s: Session = await auth.signInWithKakao({ idToken: 't', nonce });
    const u: User | null = await auth.currentUser();
    const c: AWSCredentials = await auth.getCredentials();
    const l: LinkResult = await auth.linkKakao({ accessToken: 'kakao' });
    const gone = await auth.unlinkKakao({ accessToken: 'cognito-access' });
    return `${s.sub} ${u?.kakaoId ?? ''} ${c.expiration.toISOString()} ${l.kakaoId} ${l.newLink} ${gone.sub}`;
  } catch (e) {
    if (e instanceof KakaoAccountInUseError) return userMessage(e, 'ko');
    if (e instanceof AccountConflictError) return userMessage(e, 'en');
    if (e instanceof KakaoAuthError) return `${e.code} ${e.status}`;
    throw e;
  }
}

const provider: TokenProvider = createTokenProvider(auth);
export const config = { Auth: amplifyAuthConfig(auth) };
export const options = { Auth: amplifyAuthOptions(auth) };
void provider;
