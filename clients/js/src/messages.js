// What to tell a person when a sign-in or a session fails, in Korean and
// English, per error code (docs/app-integration.md has the same table).
// The broker's own `message` is for developers; show these instead.

/** @typedef {'ko' | 'en'} Locale */

/** @type {Readonly<Record<Locale, Readonly<Record<string, string>>>>} */
export const messages = Object.freeze({
  en: Object.freeze({
    InvalidRequest: 'Something went wrong with the sign-in. Please try again.',
    InvalidKakaoToken: 'Your Kakao login has expired. Please log in with Kakao again.',
    WrongKakaoApp: 'Kakao login is not set up correctly for this app. Please contact support.',
    AccountUnlinked: 'This Kakao account was disconnected from the app. Log in with Kakao again to reconnect it.',
    AccountDisabled: 'This account has been suspended. Please contact support.',
    AccountBanned: 'This account is suspended. Please contact support.',
    AccountConflict: 'An account with this email already exists. Sign in to it, then connect Kakao in your account settings.',
    AccountNotLinked: 'No account is connected to this Kakao account yet. Sign in another way, then connect Kakao in your account settings.',
    InvalidCognitoToken: 'Your session has ended. Please sign in again.',
    KakaoAccountInUse: 'This Kakao account is already connected to another account.',
    UserAlreadyLinked: 'Your account is already connected to another Kakao account. Disconnect it first.',
    KakaoOnlyAccount: 'This account signs in with Kakao only, so Kakao cannot be disconnected.',
    NotLinked: 'No Kakao account is connected.',
    KakaoSignInUnavailable: 'This account cannot sign in with Kakao. Please sign in the way you usually do (password, Google or Apple).',
    Throttled: 'Too many attempts right now. Please try again in a moment.',
    RecreateLimitReached: 'This account was recreated too many times recently. Please try again later.',
    KakaoUnavailable: 'Kakao is not responding right now. Please try again in a moment.',
    Timeout: 'Signing in took too long. Please try again.',
    internal: 'Something went wrong on our side. Please try again later.',
    NotFound: 'The app cannot reach its sign-in service. Please update the app or try again later.',
    Unauthorized: 'Your session has ended. Please sign in again.',
    NetworkError: 'No connection. Check your network and try again.',
    SessionExpired: 'Your session has ended. Please sign in again.',
    NotSignedIn: 'Please sign in.',
  }),
  ko: Object.freeze({
    InvalidRequest: '로그인 요청에 문제가 있습니다. 다시 시도해 주세요.',
    InvalidKakaoToken: '카카오 로그인이 만료되었습니다. 카카오로 다시 로그인해 주세요.',
    WrongKakaoApp: '이 앱의 카카오 로그인 설정에 문제가 있습니다. 고객센터에 문의해 주세요.',
    AccountUnlinked: '이 카카오 계정은 앱과의 연결이 끊겼습니다. 카카오로 다시 로그인하면 다시 연결됩니다.',
    AccountDisabled: '이용이 정지된 계정입니다. 고객센터에 문의해 주세요.',
    AccountBanned: '이 계정은 이용이 정지되었습니다. 고객센터에 문의해 주세요.',
    AccountConflict: '이 이메일로 가입된 계정이 이미 있습니다. 그 계정으로 로그인한 뒤 계정 설정에서 카카오를 연결해 주세요.',
    AccountNotLinked: '이 카카오 계정과 연결된 계정이 아직 없습니다. 다른 방법으로 로그인한 뒤 계정 설정에서 카카오를 연결해 주세요.',
    InvalidCognitoToken: '로그인이 만료되었습니다. 다시 로그인해 주세요.',
    KakaoAccountInUse: '이 카카오 계정은 이미 다른 계정에 연결되어 있습니다.',
    UserAlreadyLinked: '이 계정은 이미 다른 카카오 계정과 연결되어 있습니다. 먼저 연결을 해제해 주세요.',
    KakaoOnlyAccount: '이 계정은 카카오로만 로그인하므로 카카오 연결을 해제할 수 없습니다.',
    NotLinked: '연결된 카카오 계정이 없습니다.',
    KakaoSignInUnavailable: '이 계정은 카카오로 로그인할 수 없습니다. 평소에 쓰시던 방법(비밀번호, Google, Apple)으로 로그인해 주세요.',
    Throttled: '요청이 많습니다. 잠시 후 다시 시도해 주세요.',
    RecreateLimitReached: '최근에 계정이 너무 자주 다시 만들어졌습니다. 나중에 다시 시도해 주세요.',
    KakaoUnavailable: '카카오가 응답하지 않습니다. 잠시 후 다시 시도해 주세요.',
    Timeout: '로그인이 너무 오래 걸렸습니다. 다시 시도해 주세요.',
    internal: '일시적인 오류가 발생했습니다. 잠시 후 다시 시도해 주세요.',
    NotFound: '로그인 서비스에 연결할 수 없습니다. 앱을 업데이트하거나 잠시 후 다시 시도해 주세요.',
    Unauthorized: '로그인이 만료되었습니다. 다시 로그인해 주세요.',
    NetworkError: '네트워크에 연결할 수 없습니다. 연결을 확인하고 다시 시도해 주세요.',
    SessionExpired: '로그인이 만료되었습니다. 다시 로그인해 주세요.',
    NotSignedIn: '로그인해 주세요.',
  }),
});

/**
 * The message to show a person for an error the client threw (any other
 * error gets the message of `internal`).
 * @param {unknown} error
 * @param {Locale} [locale] default 'ko'
 * @returns {string}
 */
export function userMessage(error, locale = 'ko') {
  const table = messages[locale] ?? messages.ko;
  const code = error && typeof error === 'object' && 'code' in error ? String(error.code) : '';
  return Object.hasOwn(table, code) ? table[code] : table.internal;
}
