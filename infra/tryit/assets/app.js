// The try-it page: Kakao's authorize page, the code exchanged for Kakao
// tokens (by this page's backend, as a web app's backend does), then the
// Kakao token posted to the broker, and what came back.
//
// With the stack's hosted UI, #hosted-ui-login signs in through it instead:
// Cognito's authorize page (which goes on to Kakao), the code exchanged
// for Cognito tokens (PKCE), and the first sign-in of a Kakao account,
// which the stack ends on purpose once it has linked the account
// (KakaoAccountLinked), restarted once without asking the person anything.
//
// How it is built, so that a new action is one more of the same:
// - `messages` is the one table of words, in English and Korean; the login
//   API's error messages join it at start from /tryit/api/messages, which
//   serves errors.go's (loadBrokerMessages).
// - `state` holds everything the page knows; `render` draws all of it, in
//   the language chosen, and runs after every change (and language switch).
// - Each action (`refresh`, `signOut`, `unlink`) sets its own outcome in
//   `state.actions`, drawn in its own area (#<action>-outcome); the login's
//   outcome is the broker's answer (#login-outcome). `finish` announces an
//   outcome in the status region (#announce, aria-live).
// - `backend` is every request to the page's own server: JSON, with the
//   X-Kakaoauth-Page header.
// - What an app does with its session runs in the browser through the
//   JavaScript client (clients/js, @kakaoauth/client), loaded as it is from
//   /tryit/client/: the broker login (signInWithKakao, the hashed nonce of
//   createNonce for an ID token), the refresh (InitiateAuth
//   REFRESH_TOKEN_AUTH) and the sign-out (RevokeToken) at Cognito, GET /me
//   with the ID token, and the identity pool's AWS credentials. The
//   client's errors are shown with its userMessage table (client.<code>).
//
// Test hooks (stable): #kakao-login starts a login, #hosted-ui-login one
// through the hosted UI, #me-sub and #me-kakao-id what GET /me answered,
// #identity-id and #caller-arn the identity pool's credentials and whose
// they are (STS), #sub holds the Cognito sub once logged in, #error
// the error code of a failed login (the login's only; each action's code is
// in #<action>-outcome's data-code), #same-user whether the broker and the
// hosted UI signed in the same Cognito user; data-state on
// #session-state, data-kind on #user-kind, data-value on #account-status.
// The team's own app (cfg.teamApp, the local stack): #team-email,
// #team-password and #team-signin sign in, #team-link, #team-signout and
// #team-unlink (each with its #team-<action>-outcome), #team-sub and
// #team-kakao who is signed in and the Kakao account linked, data-value on
// #team-state (password, kakao, out), and on #same-person (same, other)
// whether a Kakao login reached that person.
"use strict";
(() => {
  const cfg = JSON.parse(document.getElementById("config").textContent);
  const $ = (id) => document.getElementById(id);
  const PENDING = "kakaoauth.tryit.pending";
  const LANG = "kakaoauth.tryit.lang";
  const SUBS = "kakaoauth.tryit.subs"; // the last sub of each flow, in this tab
  const TEAM = "kakaoauth.tryit.person"; // the team app's person, in this tab (its session: kakaoauth.tryit.team)
  const PAGE_HEADER = "X-Kakaoauth-Page";

  // ------------------------------------------------------------------ words

  // Keys by prefix: the page's words; hop.* the hops; kind.*, session.*,
  // account.* the states; broker.<code> (from the settings), kakao.<code>,
  // cognito.<code>, tryit.<code> (this page's backend) and page.<code>
  // (this script) the errors, each with what it means for the person.
  const messages = {
    en: {
      "title": "kakaoauth · Try Kakao login",
      "subtitle": "Try Kakao login",
      "lang.switch": "한국어",
      "target.local": "local stack",
      "target.stack": "stack {0}",
      "login.title": "Log in",
      "login.explain": "What a web app does: Kakao's authorize page, the code exchanged for Kakao tokens, then the Kakao token sent to the broker's POST /auth/kakao.",
      "login.kakao": "Log in with Kakao",
      "login.again": "Log in again",
      "login.idtoken": "Log in with an ID token (OpenID Connect)",
      "login.hosted": "Sign in through Cognito's hosted UI",
      "login.hostedExplain": "The stack also has Cognito's hosted UI: a web app's browser redirect (Amplify's signInWithRedirect) to Cognito, which signs in with Kakao as an OpenID Connect provider. One Kakao account is one Cognito user in both flows.",
      "flow.title": "The steps:",
      "flow.authorize": "Kakao: authorize and consent",
      "flow.exchange": "code → Kakao tokens",
      "flow.cognito": "Cognito tokens, checked against the pool's JWKS",
      "result.title": "Login result",
      "result.ok": "Signed in: the broker answered with Cognito tokens.",
      "result.okHosted": "Signed in: the hosted UI's token endpoint answered with Cognito tokens.",
      "result.failed": "The login failed.",
      "result.at": "at {0}",
      "user.title": "Cognito user and session",
      "user.sub": "Cognito sub",
      "user.previousSub": "Previous sub",
      "user.username": "Username",
      "user.kind": "This login",
      "user.mode": "Logged in with",
      "user.session": "Session",
      "user.account": "Mapping status",
      "user.same": "Same user as the other flow",
      "kind.new": "new user: created by this login",
      "kind.returning": "existing user: signed in again",
      "kind.relinked": "re-linked: the same Cognito user as before the unlink (same sub)",
      "kind.recreated": "recreated: a new Cognito user (new sub) in place of the deleted one",
      "kind.hosted": "signed in through the hosted UI",
      "same.yes": "yes: the broker and the hosted UI signed in the same Cognito user",
      "same.no": "NO: the other flow signed in sub {0}",
      "mode.access": "Kakao access token",
      "mode.id": "Kakao ID token (OIDC, hashed nonce)",
      "mode.hosted": "Cognito's hosted UI (Kakao as OpenID Connect provider)",
      "session.active": "active",
      "session.signedOut": "signed out: Cognito revoked the refresh token",
      "session.local": "signed out on this page only: Cognito did not revoke the refresh token",
      "session.refused": "ended: Cognito refuses the refresh token",
      "session.unlinked": "ended by the unlink: the stack disabled the Cognito user and revoked its tokens",
      "session.deleted": "ended by the unlink: the stack deleted the Cognito user",
      "account.active": "active",
      "account.unlinked": "unlinked",
      "account.deleted": "deleted",
      "account.none": "no mapping",
      "account.unknown": "unknown ({0})",
      "account.since": "{0} (since {1})",
      "tokens.title": "Cognito tokens (shortened)",
      "tokens.length": "{0} characters",
      "claims.title": "ID token claims",
      "claims.signature": "signature",
      "sig.verified": "verified against the pool's JWKS",
      "sig.failed": "NOT verified: {0}",
      "sig.error": "not checked: {0}",
      "actions.title": "Try the session",
      "action.refresh": "Refresh the Cognito tokens",
      "action.signout": "Sign out (revoke)",
      "action.unlink": "Unlink at Kakao",
      "action.me": "Call my API (GET /me)",
      "action.credentials": "Get AWS credentials",
      "outcome.me": "Call my API",
      "outcome.credentials": "AWS credentials",
      "outcome.refresh": "Refresh",
      "outcome.signout": "Sign out",
      "outcome.unlink": "Unlink",
      "outcome.login": "Login",
      "outcome.announce": "{0}: {1}",
      "result.refreshed": "Tokens refreshed with REFRESH_TOKEN_AUTH, from the browser (the JavaScript client).",
      "result.signedOut": "Signed out: Cognito revoked the refresh token (RevokeToken). The old refresh token is now refused ({0}).",
      "result.me": "Your API accepted the ID token and answered for its user.",
      "result.meOff": "This stack has no GET /me: its EnableMeRoute parameter is off.",
      "result.credentials": "The identity pool gave AWS credentials, and STS says whose they are.",
      "result.credentialsOff": "This stack has no identity pool: its EnableIdentityPool parameter is off.",
      "cred.identityId": "Identity id",
      "cred.expires": "Expires",
      "cred.caller": "Caller (STS GetCallerIdentity)",
      "result.signedOutStillWorks": "Signed out, but the old refresh token still works.",
      "result.unlinkSent": "Kakao called the stack's unlink webhook (HTTP {0}); waiting for the account to change…",
      "result.unlinked": "The account is unlinked: its Cognito user is disabled. Log in again to re-link it.",
      "result.deleted": "The account is deleted: its Cognito user is gone. Log in again to get a new one.",
      "result.linkedRestart": "Your Kakao account is now linked to its Cognito user; signing in again…",
      "detail.kakao": "Kakao said:",
      "detail.cognito": "Cognito said:",
      "detail.tryit": "The page's backend said:",
      "detail.broker": "The broker said:",
      "detail.page": "Details:",
      "detail.client": "The client said:",
      "detail.api": "Your API said:",
      "detail.sts": "STS said:",
      "hops.title": "Hops",
      "hops.step": "Step",
      "hops.result": "Result",
      "hops.time": "Time",
      "hop.authorize": "Kakao: authorize + consent (includes you)",
      "hop.exchange": "Kakao: code → tokens",
      "hop.broker": "Broker: POST /auth/kakao",
      "hop.jwks": "Cognito ID token ↔ pool JWKS",
      "hop.account": "Mapping status",
      "hop.refresh": "Cognito: REFRESH_TOKEN_AUTH",
      "hop.signout": "Cognito: RevokeToken",
      "hop.revokeCheck": "Cognito: the old refresh token, tried again",
      "hop.me": "Your API: GET /me",
      "hop.credentials": "Cognito Identity: GetId + GetCredentialsForIdentity",
      "hop.caller": "STS: GetCallerIdentity (the page's backend)",
      "hop.unlink": "Kakao: unlink → webhook",
      "hop.unlinkLanded": "Unlink visible in the mapping",
      "hop.upstream": "{0} upstream",
      "hop.hosted": "Cognito hosted UI → Kakao → Cognito (includes you)",
      "hop.hostedLinked": "First sign-in: Kakao account linked, signing in again",
      "hop.hostedToken": "Cognito: code → tokens (/oauth2/token)",
      "hopres.code": "code",
      "hopres.stateMismatch": "state mismatch",
      "hopres.networkError": "network error",
      "hopres.ok": "OK",
      "hopres.verified": "verified",
      "hopres.notVerified": "NOT verified",
      "hopres.callback": "callback {0}",
      "err.unknown": "An error this page does not know ({0}).",
      "page.StateMismatch": "The state that came back is not the one this page sent: the answer is refused.",
      "page.NoCode": "Kakao sent no authorization code.",
      "page.NoIDToken": "Kakao returned no ID token: enable OpenID Connect for the Kakao app.",
      "page.NetworkError": "The API did not answer, or refused this page's origin (CORS: check the stack's CorsAllowedOrigins).",
      "page.UnlinkPending": "The unlink has not reached the mapping yet.",
      "page.UnlinkCallbackFailed": "The stack's unlink webhook answered HTTP {0}; Kakao counts that as not delivered and does not retry.",
      "page.LinkedTwice": "The hosted UI still reports the link after signing in again; try once more.",
      "page.ClientUnavailable": "The page could not load the JavaScript client.",
      "sts.InvalidClientTokenId": "STS does not know these credentials' access key.",
      "sts.ExpiredToken": "The credentials have expired.",
      "sts.AccessDenied": "STS refused the call with these credentials.",
      "sts.SignatureDoesNotMatch": "STS refused the signature made with these credentials.",
      "kakao.access_denied": "You cancelled at Kakao's consent page: nothing was sent to the broker.",
      "kakao.invalid_grant": "Kakao refused the authorization code: it expired or was used already. Log in again.",
      "kakao.invalid_request": "Kakao refused the request as malformed.",
      "kakao.invalid_client": "Kakao does not know this app key, or its client secret is wrong.",
      "kakao.unauthorized_client": "This Kakao app may not use this login.",
      "kakao.invalid_scope": "Kakao refused a consent item the login asked for.",
      "kakao.consent_required": "The person has not agreed to a required consent item.",
      "kakao.login_required": "The person is not logged in to Kakao.",
      "kakao.KakaoRefused": "Kakao refused the code exchange.",
      "cognito.NotAuthorizedException": "Cognito refused the token: it was revoked (sign-out, unlink) or has expired, or the user is disabled.",
      "cognito.TooManyRequestsException": "Cognito throttled the request; try again shortly.",
      "cognito.LimitExceededException": "Cognito throttled the request; try again shortly.",
      "cognito.InvalidParameterException": "Cognito refused the request's parameters.",
      "cognito.UserNotFoundException": "The Cognito user no longer exists.",
      "cognito.ResourceNotFoundException": "The user pool or app client does not exist.",
      "cognito.invalid_grant": "Cognito refused the authorization code: it expired, was used already, or the PKCE verifier does not match.",
      "cognito.invalid_client": "Cognito does not know this app client.",
      "cognito.invalid_request": "Cognito refused the request as malformed.",
      "cognito.unauthorized_client": "This app client may not use the authorization-code flow.",
      "cognito.access_denied": "The sign-in was refused.",
      "cognito.CognitoRefused": "Cognito refused the code exchange.",
      "cognito.ResourceConflictException": "The identity pool does not accept tokens of this app client.",
      "tryit.InvalidRequest": "The page's backend refused the request as malformed.",
      "tryit.KakaoUnavailable": "Kakao's token endpoint did not answer properly; try again shortly.",
      "tryit.CognitoUnavailable": "Cognito did not answer properly; try again shortly.",
      "tryit.StoreUnavailable": "The mapping table did not answer.",
      "tryit.UnlinkNotDelivered": "The Kakao double could not deliver the unlink to the stack.",
      "tryit.NotFound": "Not found.",
      "tryit.NotAvailable": "This works on the local stack only.",
      "tryit.Forbidden": "The page's backend answers its own page only.",
      "tryit.internal": "The page's backend failed.",
      "team.title": "Your app's own account",
      "team.explain": "The people of your app already have accounts in the pool; here, an email and a password in your app's own app client, and a person already in it. They sign in as always, link Kakao, and from then on log in with Kakao as the same person: the same Cognito user, the same sub, their password still theirs.",
      "team.email": "Email",
      "team.password": "Password",
      "team.signin": "Sign in with email and password",
      "team.link": "Link Kakao",
      "team.signout": "Log out",
      "team.unlink": "Unlink Kakao",
      "team.account": "Account",
      "team.sub": "Cognito sub",
      "team.state": "Signed in",
      "team.kakao": "Kakao",
      "teamState.password": "yes, with the email and password",
      "teamState.kakao": "yes, with Kakao (the same person)",
      "teamState.out": "no: logged out",
      "team.linked": "linked: Kakao account {0}",
      "team.notLinked": "not linked",
      "team.NotAuthorizedException": "Wrong email or password.",
      "outcome.team-signin": "Sign in",
      "outcome.team-link": "Link Kakao",
      "outcome.team-signout": "Log out",
      "outcome.team-unlink": "Unlink Kakao",
      "result.teamSignedIn": "Signed in with your email and password (USER_PASSWORD_AUTH, your app's client).",
      "result.teamLinked": "Kakao account {0} is linked to this account. Log out, then log in with Kakao: you will be this same person.",
      "result.teamAlreadyLinked": "Kakao account {0} was linked to this account already: nothing changed.",
      "result.teamSignedOut": "Logged out of your app: Cognito revoked the refresh token (RevokeToken).",
      "result.teamUnlinked": "Kakao account {0} is unlinked: a Kakao login no longer reaches this account, and the password still signs you in.",
      "hop.password": "Cognito: USER_PASSWORD_AUTH (your app)",
      "hop.link": "Broker: POST /auth/kakao/link",
      "hop.teamUnlink": "Broker: DELETE /auth/kakao/link",
      "hop.teamSignout": "Cognito: RevokeToken (your app)",
      "user.person": "Your email account",
      "person.same": "the same person as your email account: the same Cognito user, the same sub",
      "person.other": "a different person: not the Cognito user of your email account",
      "kind.linked": "your own account, linked to Kakao: signed in with Kakao, the password untouched",
      "footer.pool": "User pool",
      "footer.client": "Kakao app key",
      "footer.redirect": "Redirect URI",
    },
    ko: {
      "title": "kakaoauth · 카카오 로그인 체험",
      "subtitle": "카카오 로그인 체험",
      "lang.switch": "English",
      "target.local": "로컬 스택",
      "target.stack": "스택 {0}",
      "login.title": "로그인",
      "login.explain": "웹 앱이 하는 그대로: 카카오 인가 페이지, 인가 코드로 카카오 토큰 받기, 그 토큰을 브로커의 POST /auth/kakao로 보내기.",
      "login.kakao": "카카오 로그인",
      "login.again": "다시 로그인",
      "login.idtoken": "ID 토큰으로 로그인 (OpenID Connect)",
      "login.hosted": "Cognito 호스팅 UI로 로그인",
      "login.hostedExplain": "이 스택에는 Cognito 호스팅 UI도 있습니다: 웹 앱이 브라우저를 Cognito로 보내고(Amplify의 signInWithRedirect), Cognito는 카카오를 OpenID Connect 공급자로 써서 로그인합니다. 두 방식 모두 카카오 계정 하나에 Cognito 사용자 하나입니다.",
      "flow.title": "단계:",
      "flow.authorize": "카카오: 인가와 동의",
      "flow.exchange": "인가 코드 → 카카오 토큰",
      "flow.cognito": "Cognito 토큰, 사용자 풀 JWKS로 서명 확인",
      "result.title": "로그인 결과",
      "result.ok": "로그인했습니다: 브로커가 Cognito 토큰으로 응답했습니다.",
      "result.okHosted": "로그인했습니다: 호스팅 UI의 토큰 엔드포인트가 Cognito 토큰으로 응답했습니다.",
      "result.failed": "로그인하지 못했습니다.",
      "result.at": "{0}",
      "user.title": "Cognito 사용자와 세션",
      "user.sub": "Cognito sub",
      "user.previousSub": "이전 sub",
      "user.username": "사용자 이름",
      "user.kind": "이번 로그인",
      "user.mode": "로그인 방식",
      "user.session": "세션",
      "user.account": "연결 상태",
      "user.same": "다른 방식과 같은 사용자",
      "kind.new": "새 사용자: 이번 로그인에서 생성됨",
      "kind.returning": "기존 사용자: 다시 로그인함",
      "kind.relinked": "다시 연결됨: 연결 끊기 전과 같은 Cognito 사용자 (sub 그대로)",
      "kind.recreated": "다시 생성됨: 삭제된 사용자 대신 새 Cognito 사용자 (새 sub)",
      "kind.hosted": "호스팅 UI로 로그인함",
      "same.yes": "예: 브로커와 호스팅 UI가 같은 Cognito 사용자로 로그인했습니다",
      "same.no": "아니오: 다른 방식은 sub {0}로 로그인했습니다",
      "mode.access": "카카오 액세스 토큰",
      "mode.id": "카카오 ID 토큰 (OIDC, 해시한 nonce)",
      "mode.hosted": "Cognito 호스팅 UI (카카오를 OpenID Connect 공급자로)",
      "session.active": "활성",
      "session.signedOut": "로그아웃됨: Cognito가 리프레시 토큰을 폐기함",
      "session.local": "이 페이지에서만 로그아웃됨: Cognito가 리프레시 토큰을 폐기하지 않음",
      "session.refused": "종료됨: Cognito가 리프레시 토큰을 거부함",
      "session.unlinked": "연결 끊기로 종료됨: 스택이 Cognito 사용자를 사용 중지하고 토큰을 폐기함",
      "session.deleted": "연결 끊기로 종료됨: 스택이 Cognito 사용자를 삭제함",
      "account.active": "활성",
      "account.unlinked": "연결 끊김",
      "account.deleted": "삭제됨",
      "account.none": "매핑 없음",
      "account.unknown": "알 수 없음 ({0})",
      "account.since": "{0} ({1}부터)",
      "tokens.title": "Cognito 토큰 (줄임)",
      "tokens.length": "{0}자",
      "claims.title": "ID 토큰 클레임",
      "claims.signature": "서명",
      "sig.verified": "사용자 풀 JWKS로 확인됨",
      "sig.failed": "확인 실패: {0}",
      "sig.error": "확인하지 못함: {0}",
      "actions.title": "세션 시험하기",
      "action.refresh": "Cognito 토큰 갱신",
      "action.signout": "로그아웃 (토큰 폐기)",
      "action.unlink": "카카오에서 연결 끊기",
      "action.me": "내 API 호출 (GET /me)",
      "action.credentials": "AWS 자격 증명 받기",
      "outcome.me": "내 API 호출",
      "outcome.credentials": "AWS 자격 증명",
      "outcome.refresh": "갱신",
      "outcome.signout": "로그아웃",
      "outcome.unlink": "연결 끊기",
      "outcome.login": "로그인",
      "outcome.announce": "{0}: {1}",
      "result.refreshed": "브라우저에서 REFRESH_TOKEN_AUTH로 토큰을 갱신했습니다 (JavaScript 클라이언트).",
      "result.signedOut": "로그아웃했습니다: Cognito가 리프레시 토큰을 폐기했습니다 (RevokeToken). 이전 리프레시 토큰은 이제 거부됩니다 ({0}).",
      "result.me": "내 API가 ID 토큰을 받아들이고 그 사용자로 응답했습니다.",
      "result.meOff": "이 스택에는 GET /me가 없습니다: EnableMeRoute 매개변수가 꺼져 있습니다.",
      "result.credentials": "자격 증명 풀이 AWS 자격 증명을 주었고, STS가 그 주인을 확인했습니다.",
      "result.credentialsOff": "이 스택에는 자격 증명 풀이 없습니다: EnableIdentityPool 매개변수가 꺼져 있습니다.",
      "cred.identityId": "자격 증명 ID",
      "cred.expires": "만료",
      "cred.caller": "호출자 (STS GetCallerIdentity)",
      "result.signedOutStillWorks": "로그아웃했지만 이전 리프레시 토큰이 아직 동작합니다.",
      "result.unlinkSent": "카카오가 스택의 연결 끊기 웹훅을 호출했습니다 (HTTP {0}). 계정 상태가 바뀌기를 기다리는 중…",
      "result.unlinked": "계정 연결이 끊겼습니다: Cognito 사용자가 사용 중지되었습니다. 다시 로그인하면 다시 연결됩니다.",
      "result.deleted": "계정이 삭제되었습니다: Cognito 사용자가 없어졌습니다. 다시 로그인하면 새 사용자가 생깁니다.",
      "result.linkedRestart": "카카오 계정이 Cognito 사용자와 연결되었습니다. 다시 로그인하는 중…",
      "detail.kakao": "카카오 원문:",
      "detail.cognito": "Cognito 원문:",
      "detail.tryit": "페이지 백엔드 원문:",
      "detail.broker": "브로커 원문:",
      "detail.page": "자세히:",
      "detail.client": "클라이언트 원문:",
      "detail.api": "내 API 원문:",
      "detail.sts": "STS 원문:",
      "hops.title": "단계별 시간",
      "hops.step": "단계",
      "hops.result": "결과",
      "hops.time": "시간",
      "hop.authorize": "카카오: 인가 + 동의 (사용자 시간 포함)",
      "hop.exchange": "카카오: 인가 코드 → 토큰",
      "hop.broker": "브로커: POST /auth/kakao",
      "hop.jwks": "Cognito ID 토큰 ↔ 사용자 풀 JWKS",
      "hop.account": "연결 상태",
      "hop.refresh": "Cognito: REFRESH_TOKEN_AUTH",
      "hop.signout": "Cognito: RevokeToken",
      "hop.revokeCheck": "Cognito: 이전 리프레시 토큰 다시 시도",
      "hop.me": "내 API: GET /me",
      "hop.credentials": "Cognito 자격 증명 풀: GetId + GetCredentialsForIdentity",
      "hop.caller": "STS: GetCallerIdentity (페이지 백엔드)",
      "hop.unlink": "카카오: 연결 끊기 → 웹훅",
      "hop.unlinkLanded": "연결 끊기가 매핑에 반영됨",
      "hop.upstream": "상위 호출 {0}",
      "hop.hosted": "Cognito 호스팅 UI → 카카오 → Cognito (사용자 시간 포함)",
      "hop.hostedLinked": "첫 로그인: 카카오 계정 연결됨, 다시 로그인",
      "hop.hostedToken": "Cognito: 인가 코드 → 토큰 (/oauth2/token)",
      "hopres.code": "인가 코드",
      "hopres.stateMismatch": "state 불일치",
      "hopres.networkError": "네트워크 오류",
      "hopres.ok": "성공",
      "hopres.verified": "확인됨",
      "hopres.notVerified": "확인 실패",
      "hopres.callback": "웹훅 응답 {0}",
      "err.unknown": "이 페이지가 모르는 오류입니다 ({0}).",
      "page.StateMismatch": "돌아온 state가 이 페이지가 보낸 값과 다릅니다: 응답을 거부합니다.",
      "page.NoCode": "카카오가 인가 코드를 보내지 않았습니다.",
      "page.NoIDToken": "카카오가 ID 토큰을 주지 않았습니다: 카카오 앱에서 OpenID Connect를 켜 주세요.",
      "page.NetworkError": "API가 응답하지 않았거나 이 페이지의 출처를 거부했습니다 (CORS: 스택의 CorsAllowedOrigins 확인).",
      "page.UnlinkPending": "연결 끊기가 아직 매핑에 반영되지 않았습니다.",
      "page.UnlinkCallbackFailed": "스택의 연결 끊기 웹훅이 HTTP {0}로 응답했습니다. 카카오는 이를 전달 실패로 보고 다시 보내지 않습니다.",
      "page.LinkedTwice": "다시 로그인한 뒤에도 호스팅 UI가 연결을 알려 왔습니다. 한 번 더 시도해 주세요.",
      "page.ClientUnavailable": "페이지가 JavaScript 클라이언트를 불러오지 못했습니다.",
      "sts.InvalidClientTokenId": "STS가 이 자격 증명의 액세스 키를 모릅니다.",
      "sts.ExpiredToken": "자격 증명이 만료되었습니다.",
      "sts.AccessDenied": "STS가 이 자격 증명으로 한 호출을 거부했습니다.",
      "sts.SignatureDoesNotMatch": "STS가 이 자격 증명으로 만든 서명을 거부했습니다.",
      "kakao.access_denied": "카카오 동의 화면에서 취소했습니다: 브로커에는 아무것도 보내지 않았습니다.",
      "kakao.invalid_grant": "카카오가 인가 코드를 거부했습니다: 만료되었거나 이미 쓰였습니다. 다시 로그인해 주세요.",
      "kakao.invalid_request": "카카오가 요청 형식이 잘못되었다며 거부했습니다.",
      "kakao.invalid_client": "카카오가 이 앱 키를 모르거나 클라이언트 시크릿이 틀렸습니다.",
      "kakao.unauthorized_client": "이 카카오 앱은 이 로그인을 쓸 수 없습니다.",
      "kakao.invalid_scope": "카카오가 로그인이 요청한 동의 항목을 거부했습니다.",
      "kakao.consent_required": "사용자가 필수 동의 항목에 동의하지 않았습니다.",
      "kakao.login_required": "사용자가 카카오에 로그인하지 않았습니다.",
      "kakao.KakaoRefused": "카카오가 인가 코드 교환을 거부했습니다.",
      "cognito.NotAuthorizedException": "Cognito가 토큰을 거부했습니다: 폐기되었거나(로그아웃, 연결 끊기) 만료되었거나, 사용자가 사용 중지되었습니다.",
      "cognito.TooManyRequestsException": "Cognito가 요청을 제한했습니다. 잠시 후 다시 시도해 주세요.",
      "cognito.LimitExceededException": "Cognito가 요청을 제한했습니다. 잠시 후 다시 시도해 주세요.",
      "cognito.InvalidParameterException": "Cognito가 요청의 매개변수를 거부했습니다.",
      "cognito.UserNotFoundException": "Cognito 사용자가 더 이상 없습니다.",
      "cognito.ResourceNotFoundException": "사용자 풀이나 앱 클라이언트가 없습니다.",
      "cognito.invalid_grant": "Cognito가 인가 코드를 거부했습니다: 만료되었거나 이미 쓰였거나, PKCE 검증 값이 맞지 않습니다.",
      "cognito.invalid_client": "Cognito가 이 앱 클라이언트를 모릅니다.",
      "cognito.invalid_request": "Cognito가 요청 형식이 잘못되었다며 거부했습니다.",
      "cognito.unauthorized_client": "이 앱 클라이언트는 인가 코드 방식을 쓸 수 없습니다.",
      "cognito.access_denied": "로그인이 거부되었습니다.",
      "cognito.CognitoRefused": "Cognito가 인가 코드 교환을 거부했습니다.",
      "cognito.ResourceConflictException": "자격 증명 풀이 이 앱 클라이언트의 토큰을 받지 않습니다.",
      "tryit.InvalidRequest": "페이지 백엔드가 요청 형식이 잘못되었다며 거부했습니다.",
      "tryit.KakaoUnavailable": "카카오 토큰 엔드포인트가 제대로 응답하지 않았습니다. 잠시 후 다시 시도해 주세요.",
      "tryit.CognitoUnavailable": "Cognito가 제대로 응답하지 않았습니다. 잠시 후 다시 시도해 주세요.",
      "tryit.StoreUnavailable": "매핑 테이블이 응답하지 않았습니다.",
      "tryit.UnlinkNotDelivered": "카카오 더블이 연결 끊기를 스택에 전달하지 못했습니다.",
      "tryit.NotFound": "찾을 수 없습니다.",
      "tryit.NotAvailable": "로컬 스택에서만 됩니다.",
      "tryit.Forbidden": "페이지 백엔드는 자기 페이지의 요청에만 응답합니다.",
      "tryit.internal": "페이지 백엔드에서 오류가 났습니다.",
      "team.title": "내 앱의 기존 계정",
      "team.explain": "앱 사용자는 이미 사용자 풀에 계정이 있습니다. 여기서는 앱 자체 클라이언트의 이메일과 비밀번호, 그리고 이미 가입된 사람 한 명입니다. 평소처럼 로그인하고 카카오를 연결하면, 그다음부터는 카카오로 로그인해도 같은 사람입니다: 같은 Cognito 사용자, 같은 sub, 비밀번호도 그대로입니다.",
      "team.email": "이메일",
      "team.password": "비밀번호",
      "team.signin": "이메일과 비밀번호로 로그인",
      "team.link": "카카오 연결",
      "team.signout": "로그아웃",
      "team.unlink": "카카오 연결 해제",
      "team.account": "계정",
      "team.sub": "Cognito sub",
      "team.state": "로그인",
      "team.kakao": "카카오",
      "teamState.password": "예, 이메일과 비밀번호로",
      "teamState.kakao": "예, 카카오로 (같은 사람)",
      "teamState.out": "아니오: 로그아웃함",
      "team.linked": "연결됨: 카카오 계정 {0}",
      "team.notLinked": "연결 안 됨",
      "team.NotAuthorizedException": "이메일이나 비밀번호가 틀렸습니다.",
      "outcome.team-signin": "로그인",
      "outcome.team-link": "카카오 연결",
      "outcome.team-signout": "로그아웃",
      "outcome.team-unlink": "카카오 연결 해제",
      "result.teamSignedIn": "이메일과 비밀번호로 로그인했습니다 (USER_PASSWORD_AUTH, 앱 자체 클라이언트).",
      "result.teamLinked": "카카오 계정 {0}: 이 계정에 연결했습니다. 로그아웃한 뒤 카카오로 로그인하면 같은 사람으로 로그인됩니다.",
      "result.teamAlreadyLinked": "카카오 계정 {0}: 이미 이 계정에 연결되어 있었습니다. 바뀐 것은 없습니다.",
      "result.teamSignedOut": "앱에서 로그아웃했습니다: Cognito가 리프레시 토큰을 폐기했습니다 (RevokeToken).",
      "result.teamUnlinked": "카카오 계정 {0}: 연결을 해제했습니다. 이제 카카오 로그인으로는 이 계정에 들어올 수 없고, 비밀번호로는 계속 로그인할 수 있습니다.",
      "hop.password": "Cognito: USER_PASSWORD_AUTH (앱 자체 클라이언트)",
      "hop.link": "브로커: POST /auth/kakao/link",
      "hop.teamUnlink": "브로커: DELETE /auth/kakao/link",
      "hop.teamSignout": "Cognito: RevokeToken (앱 자체 클라이언트)",
      "user.person": "이메일 계정과",
      "person.same": "같은 사람: 이메일 계정과 같은 Cognito 사용자, 같은 sub",
      "person.other": "다른 사람: 이메일 계정의 Cognito 사용자가 아님",
      "kind.linked": "카카오를 연결한 기존 계정: 카카오로 로그인함, 비밀번호는 그대로",
      "footer.pool": "사용자 풀",
      "footer.client": "카카오 앱 키",
      "footer.redirect": "Redirect URI",
    },
  };

  // ?lang=ko|en (a link to share; kept, so the return from Kakao keeps
  // it), else the last choice, else the browser's language.
  const langParam = location.pathname === "/" ? new URLSearchParams(location.search).get("lang") : null;
  if (["ko", "en"].includes(langParam)) localStorage.setItem(LANG, langParam);
  let lang = localStorage.getItem(LANG) || ((navigator.language || "").toLowerCase().startsWith("ko") ? "ko" : "en");

  const has = (key) => key in messages[lang] || key in messages.en;

  function t(key, ...args) {
    const s = messages[lang][key] ?? messages.en[key] ?? key;
    return s.replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i)]));
  }

  const locale = () => (lang === "ko" ? "ko-KR" : "en-US");
  const fmtNumber = (n) => new Intl.NumberFormat(locale()).format(n);
  const fmtMs = (ms) => new Intl.NumberFormat(locale(), { style: "unit", unit: "millisecond", unitDisplay: "short", maximumFractionDigits: 0 }).format(ms);

  // zone names the browser's time zone: KST in Korea, else its short name.
  function zone(d) {
    if (Intl.DateTimeFormat().resolvedOptions().timeZone === "Asia/Seoul") return "KST";
    const part = new Intl.DateTimeFormat(locale(), { timeZoneName: "short" }).formatToParts(d).find((p) => p.type === "timeZoneName");
    return part ? part.value : "";
  }
  const fmtDateTime = (ms) => `${new Intl.DateTimeFormat(locale(), { dateStyle: "long", timeStyle: "medium" }).format(ms)} ${zone(new Date(ms))}`;
  const fmtTime = (ms) => `${new Intl.DateTimeFormat(locale(), { timeStyle: "medium" }).format(ms)} ${zone(new Date(ms))}`;

  // ------------------------------------------------------------------ state

  // Everything the page shows comes from here, through render().
  const state = {
    busy: true,
    navigating: false, // on its way to another page (an authorize page)
    login: null, // the last login's outcome (see outcome())
    user: null, // {sub, username, kind, previousSub, mode, client, kakaoId}
    tokens: null, // {id, access, refresh}
    claims: null, // /tryit/api/verify's answer, or {error}
    session: null, // active | signedOut | local | refused | unlinked | deleted
    account: null, // the mapping (local stack): {status, ...} or {error}
    actions: { refresh: null, signout: null, me: null, credentials: null, unlink: null, // each action's outcome
      "team-signin": null, "team-link": null, "team-signout": null, "team-unlink": null },
    // the team app's person (cfg.teamApp): {email, sub, username, kakaoId,
    // via}; via is how they are signed in now: password, kakao or null
    team: null,
    me: null, // GET /me's answer: {sub, kakaoId}
    credentials: null, // {identityId, expiration, arn}: never the keys
    sameUser: null, // {other, same}: the other flow's last sub
    hops: [],
  };

  // outcome is one result: ok (true, false, or "pending"); text a message
  // key (with args); or an error's source and code, whose message the table
  // gives, with raw the upstream's own words; status an HTTP status and
  // where the step that answered (login only).
  function outcome(o) {
    return { at: Date.now(), args: [], ...o };
  }

  // errorKey finds the message of an error code from the first source
  // that knows it.
  function errorKey(sources, code) {
    return sources.map((s) => `${s}.${code}`).find(has);
  }

  function outcomeText(o) {
    if (o.text) return t(o.text, ...o.args);
    const key = errorKey(o.sources, o.code);
    if (key) return t(key, ...o.args);
    return lang === "en" && o.raw ? o.raw : t("err.unknown", o.code);
  }

  // outcomeDetail is the upstream's own words, when they add something.
  function outcomeDetail(o) {
    if (!o.raw || o.ok === true) return null;
    const key = errorKey(o.sources || [], o.code);
    if (key && key.startsWith("broker.")) return null; // the broker's message is the table's
    if (!key && lang === "en" && !o.text) return null; // already the text
    return { label: t(`detail.${o.detailFrom || (o.sources || ["page"])[0]}`), text: o.raw };
  }

  // finish records an action's outcome, draws it and announces it.
  function finish(action, o) {
    if (action === "login") state.login = o;
    else state.actions[action] = o;
    render();
    announce(action, o);
  }

  // announce tells screen readers (the status region) what just happened:
  // the region is emptied first, so that the same words twice are said
  // twice, and filled a moment later, in the language chosen by then.
  function announce(action, o) {
    const el = $("announce");
    el.textContent = "";
    setTimeout(() => {
      el.textContent = t("outcome.announce", t(`outcome.${action}`), outcomeText(o) + (o.code ? ` (${o.code})` : ""));
    }, 50);
  }

  function addHop(key, result, ms, upstreamMs) {
    state.hops.push({ key, result, ms, upstreamMs });
    render();
  }

  // ----------------------------------------------------------------- render

  function shorten(s) {
    if (!s) return "—";
    return s.length <= 24 ? s : `${s.slice(0, 12)}…${s.slice(-8)} (${fmtNumber(s.length)})`;
  }

  const text = (id, s) => { $(id).textContent = s; };

  function renderStatic() {
    document.documentElement.lang = lang;
    document.title = t("title");
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    const l = $("lang");
    l.textContent = t("lang.switch");
    l.lang = lang === "ko" ? "en" : "ko";
    text("target", cfg.target === "local" ? t("target.local") : t("target.stack", cfg.target));
    text("kakao-login-text", t(state.user ? "login.again" : "login.kakao"));
  }

  function renderOutcome(el, o) {
    el.hidden = !o;
    el.dataset.state = o ? (o.ok === true ? "ok" : o.ok === "pending" || o.ok === "off" ? o.ok : "error") : "";
    el.dataset.code = (o && o.code) || "";
    if (!o) return;
    el.querySelector(".mark").textContent = { true: "✓", pending: "…", off: "–" }[o.ok] || "✕";
    el.querySelector(".outcome-text").textContent = outcomeText(o);
    el.querySelector(".outcome-code").textContent = o.code || "";
    const at = el.querySelector(".outcome-at");
    at.textContent = o.at ? t("result.at", fmtTime(o.at)) : "";
    const d = outcomeDetail(o);
    const detail = el.querySelector(".outcome-detail");
    detail.hidden = !d;
    if (d) {
      detail.querySelector(".detail-label").textContent = d.label;
      detail.querySelector(".detail-text").textContent = d.text;
    }
  }

  function renderLogin() {
    const o = state.login;
    $("result").hidden = !o;
    if (!o) return;
    renderOutcome($("login-outcome"), o);
    text("status-label", o.where ? t(o.where) : "");
    const status = $("status");
    status.textContent = o.status ? String(o.status) : "";
    status.className = "status " + (o.status >= 200 && o.status < 300 ? "ok" : "bad");
  }

  function renderUser() {
    const u = state.user;
    $("user").hidden = !u;
    if (!u) return;
    text("sub", u.sub || "");
    text("username", u.username || "");
    $("previous-sub-row").hidden = !u.previousSub;
    text("previous-sub", u.previousSub || "");
    const kind = $("user-kind");
    kind.dataset.kind = u.kind || "";
    kind.textContent = u.kind ? t(`kind.${u.kind}`) : "—";
    text("mode", t(`mode.${u.mode}`));
    const s = $("session-state");
    s.dataset.state = state.session || "";
    s.textContent = state.session ? t(`session.${state.session}`) : "—";
    s.className = state.session === "active" ? "ok" : "bad";

    const acct = $("account-status");
    const a = state.account;
    acct.dataset.value = a ? a.status || a.error || "" : "";
    if (!a) acct.textContent = "—";
    else if (a.error === "NotFound") acct.textContent = t("account.none");
    else if (a.error) acct.textContent = t("account.unknown", a.error);
    else {
      const label = has(`account.${a.status}`) ? t(`account.${a.status}`) : a.status;
      const since = { active: a.active_since, unlinked: a.unlinked_at, deleted: a.deleted_at }[a.status];
      acct.textContent = since ? t("account.since", label, fmtDateTime(Date.parse(since))) : label;
    }

    $("same-person-row").hidden = u.samePerson == null;
    $("same-person").dataset.value = u.samePerson == null ? "" : u.samePerson ? "same" : "other";
    text("same-person", u.samePerson == null ? "" : t(u.samePerson ? "person.same" : "person.other"));
    $("same-person").className = u.samePerson ? "ok" : "bad";

    $("same-user-row").hidden = !state.sameUser;
    if (state.sameUser) text("same-user", state.sameUser.same ? t("same.yes") : t("same.no", state.sameUser.other));

    const tok = state.tokens || {};
    text("token-id", shorten(tok.id));
    text("token-access", shorten(tok.access));
    text("token-refresh", shorten(tok.refresh));

    const v = state.claims || {};
    const c = v.claims || {};
    const show = (id, val) => text(id, val === undefined ? "—" : String(val));
    show("claim-sub", c.sub);
    show("claim-kakao-id", c["custom:kakao_id"]);
    show("claim-email", c.email);
    show("claim-email-verified", c.email_verified);
    show("claim-exp", c.exp);
    text("claim-exp-time", c.exp ? `(${fmtDateTime(c.exp * 1000)})` : "");
    const sig = $("signature");
    sig.className = v.verified ? "ok" : "bad";
    if (v.error) sig.textContent = t("sig.error", v.error);
    else if (v.verified) sig.textContent = t("sig.verified");
    else sig.textContent = state.claims ? t("sig.failed", (v.problems || []).join("; ")) : "—";


    const me = state.me;
    $("me-result").hidden = !me;
    text("me-sub", me ? me.sub : "");
    text("me-kakao-id", me ? me.kakaoId ?? "—" : "");
    const cr = state.credentials;
    $("credentials-result").hidden = !cr;
    text("identity-id", cr ? cr.identityId : "");
    text("credentials-expiration", cr ? fmtDateTime(cr.expiration) : "");
    text("caller-arn", (cr && cr.arn) || "—");
  }

  function renderTeam() {
    const team = state.team;
    $("team-user").hidden = !team;
    if (!team) return;
    text("team-who", team.email || team.username);
    text("team-sub", team.sub);
    const st = $("team-state");
    st.dataset.value = team.via || "out";
    st.textContent = t(`teamState.${team.via || "out"}`);
    const k = $("team-kakao");
    k.dataset.value = team.kakaoId || "";
    k.textContent = team.kakaoId ? t("team.linked", team.kakaoId) : t("team.notLinked");
  }

  function renderHops() {
    $("hops-card").hidden = state.hops.length === 0;
    const rows = state.hops.map((h) => {
      const tr = document.createElement("tr");
      const name = document.createElement("td");
      name.textContent = t(h.key);
      const res = document.createElement("td");
      if (typeof h.result === "object") res.textContent = t(h.result.key, ...(h.result.args || []));
      else res.append(Object.assign(document.createElement("code"), { textContent: h.result })); // a status, a code
      const time = document.createElement("td");
      time.className = "num";
      time.textContent = h.ms == null ? "—" : fmtMs(h.ms);
      if (h.upstreamMs != null) {
        const d = document.createElement("span");
        d.className = "muted";
        d.textContent = t("hop.upstream", fmtMs(h.upstreamMs));
        time.append(" ", d);
      }
      tr.append(name, res, time);
      tr.setAttribute("role", "row");
      for (const td of tr.children) td.setAttribute("role", "cell");
      return tr;
    });
    $("hops").replaceChildren(...rows);
  }

  function renderButtons() {
    const b = state.busy;
    document.body.setAttribute("aria-busy", String(b));
    for (const id of ["kakao-login", "login-id-token", "hosted-ui-login"]) $(id).disabled = b;
    $("refresh").disabled = b || !state.tokens;
    $("signout").disabled = b || !state.tokens || state.session !== "active";
    $("me").disabled = b || !state.tokens || state.session !== "active" || !cfg.client.meURL;
    $("credentials").disabled = b || !state.tokens || state.session !== "active" || !cfg.client.identityPoolID;
    $("unlink").disabled = b || !state.user || !state.user.kakaoId || !state.account || state.account.status !== "active";
    const via = state.team && state.team.via;
    $("team-signin").disabled = b;
    $("team-link").disabled = b || via !== "password";
    $("team-signout").disabled = b || via !== "password";
    $("team-unlink").disabled = b || !via || !state.team.kakaoId;
  }

  function render() {
    renderStatic();
    renderLogin();
    renderUser();
    renderTeam();
    for (const [action, o] of Object.entries(state.actions)) renderOutcome($(`${action}-outcome`), o);
    renderHops();
    renderButtons();
  }

  function setBusy(b) {
    if (!b && state.navigating) return;
    state.busy = b;
    render();
  }

  function goTo(url) {
    state.navigating = true;
    setBusy(true);
    location.assign(url);
  }

  // ---------------------------------------------------------------- backend

  // backend calls this page's own server, as the page (JSON, and the
  // header that only a same-origin page can send). It never throws: a
  // failure is {ok:false, body:{error, message}}.
  async function backend(method, path, body) {
    const started = performance.now();
    const headers = { [PAGE_HEADER]: "1" };
    if (body) headers["Content-Type"] = "application/json";
    try {
      const resp = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
      const json = await resp.json().catch(() => ({}));
      return { ok: resp.ok, status: resp.status, body: json, ms: performance.now() - started };
    } catch (e) {
      return { ok: false, status: 0, body: { error: "NetworkError", message: String(e) }, ms: performance.now() - started };
    }
  }

  const hopResult = (r, okText) => (r.ok ? okText : `${r.status} ${r.body.error}`);

  // ----------------------------------------------------------------- client

  // lib is the JavaScript client's module (init loads it). clients holds
  // one KakaoAuth per app client whose tokens the page can hold: the
  // broker's (the stack's public client) and the hosted UI's. Each keeps
  // its session in a memory store of its own, as an app keeps its own.
  let lib = null;
  const clients = {};

  function makeClient(clientID, which, store = lib.memoryStore()) {
    const c = cfg.client;
    const key = `kakaoauth.tryit.${which}`;
    const auth = new lib.KakaoAuth({
      apiUrl: apiBase(), userPoolId: cfg.userPoolID, userPoolClientId: clientID, region: c.region,
      userPoolEndpoint: c.cognitoEndpoint, identityPoolId: c.identityPoolID || undefined,
      identityPoolEndpoint: c.identityEndpoint || undefined, store, storageKey: key,
    });
    return { auth, store, key };
  }

  const current = () => clients[state.user.client];

  const tokensOf = (session) => ({ id: session.idToken, access: session.accessToken, refresh: session.refreshToken, expiresAt: session.expiresAt });

  // hold gives the client the session the page shows, as the client's
  // store keeps a Session: the hosted UI's tokens (which the page's
  // backend got from Cognito's token endpoint), or, once the client has
  // dropped them (a sign-out, a refused refresh), the old tokens, to show
  // what Cognito says of them now.
  async function hold(cl, tok = state.tokens, user = state.user) {
    await cl.store.setItem(cl.key, JSON.stringify({
      idToken: tok.id, accessToken: tok.access, refreshToken: tok.refresh, expiresAt: tok.expiresAt || 0,
      tokenType: "Bearer", sub: user.sub || "", username: user.username || "", newUser: false,
    }));
  }

  async function holding(cl) {
    if (!(await cl.store.getItem(cl.key))) await hold(cl);
    return cl;
  }

  // errorCause is what Cognito said under a client error (SessionExpired
  // wraps Cognito's NotAuthorizedException), else the error itself.
  const errorCause = (e) => (e && e.cause && e.cause.code ? e.cause : e);

  function errorCode(e) {
    if (lib && e instanceof lib.KakaoAuthError) return e.code;
    // fetch's own failures: no answer, or a deadline (AbortSignal.timeout)
    return e instanceof TypeError || (e && ["AbortError", "TimeoutError"].includes(e.name)) ? "NetworkError" : "internal";
  }

  // errorHop is a failed call's result in the hops: the status and code
  // of the answer (Cognito's, under the client's), or the client's code.
  function errorHop(e) {
    const c = errorCause(e);
    return `${(c && c.status) || ""} ${errorCode(c)}`.trim();
  }

  // clientFailure is the outcome of an error the client threw: its code
  // and userMessage (client.<code>), else Cognito's or the page's words;
  // the detail is what Cognito (or from: the API) said.
  function clientFailure(e, from) {
    const c = errorCause(e);
    const cognito = c !== e || (lib && e instanceof lib.CognitoError);
    return {
      ok: false, sources: ["client", "cognito", "page"], code: errorCode(e),
      raw: c !== e ? `${c.code}: ${c.message}` : String((e && e.message) || e),
      detailFrom: cognito ? "cognito" : from || "client",
    };
  }

  // timed runs an action's call and measures it.
  async function timed(fn) {
    const started = performance.now();
    try {
      return { value: await fn(), ms: performance.now() - started };
    } catch (error) {
      return { error, ms: performance.now() - started };
    }
  }

  // ------------------------------------------------------------------ login

  function randomString() {
    const b = new Uint8Array(18);
    crypto.getRandomValues(b);
    return btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function apiBase() {
    return cfg.apiURL || location.origin;
  }

  // startLogin goes to Kakao's authorize page. An ID-token login passes
  // Kakao the nonce's SHA-256 (hashNonce, lowercase hex) and keeps the raw
  // nonce for the broker, which checks that the token's nonce claim is its
  // hash (the stack's default).
  async function startLogin(mode) {
    if (state.busy) return;
    setBusy(true);
    const nonce = mode === "id" ? await lib.createNonce() : { nonce: "", hashedNonce: "" };
    const pending = { state: randomString(), nonce: nonce.nonce, mode, started: Date.now() };
    sessionStorage.setItem(PENDING, JSON.stringify(pending));
    const q = new URLSearchParams({
      client_id: cfg.clientID,
      redirect_uri: cfg.redirectURI,
      response_type: "code",
      state: pending.state,
    });
    if (mode === "id") {
      q.set("scope", "openid");
      q.set("nonce", nonce.hashedNonce);
    }
    goTo(`${cfg.authorizeURL}?${q}`);
  }

  // pkceChallenge is S256 of the verifier, base64url.
  async function pkceChallenge(verifier) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    return btoa(String.fromCharCode(...new Uint8Array(digest))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // startHosted sends the browser to the hosted UI's authorize page, with
  // identity_provider naming Kakao (Cognito goes straight on to Kakao), as
  // Amplify's signInWithRedirect({provider: {custom: "Kakao"}}) does.
  // linked: this is the one automatic restart after the first sign-in
  // linked the account, which took linked.ms.
  async function startHosted(linked) {
    if (state.busy && !linked) return;
    setBusy(true);
    const h = cfg.hostedUI;
    const pending = { state: randomString(), verifier: randomString() + randomString(), mode: "hosted", linked: linked || null, started: Date.now() };
    sessionStorage.setItem(PENDING, JSON.stringify(pending));
    const q = new URLSearchParams({
      identity_provider: h.provider,
      client_id: h.clientID,
      response_type: "code",
      scope: h.scopes,
      redirect_uri: cfg.redirectURI,
      state: pending.state,
      code_challenge: await pkceChallenge(pending.verifier),
      code_challenge_method: "S256",
    });
    goTo(`${h.authorizeURL}?${q}`);
  }

  // The stack's PreSignUp trigger ends the first hosted-UI sign-in of a
  // Kakao account on purpose once it has linked it ("PreSignUp failed with
  // error KakaoAccountLinked: ..."); Cognito's own text for the same case
  // is "Already found an entry for username ...".
  function linkedRestart(description) {
    return description.includes(cfg.hostedUI.linkedCode) || description.includes("Already found an entry for username");
  }

  // triggerCode is the error code a trigger's refusal starts with
  // ("PreSignUp failed with error AccountConflict: ...").
  function triggerCode(description) {
    const m = /failed with error ([A-Za-z]+):/.exec(description);
    return m ? m[1] : "";
  }

  // noteSub remembers the sub each flow signed in last, to show whether
  // the other flow's was the same Cognito user.
  function noteSub(flow, sub) {
    const subs = JSON.parse(sessionStorage.getItem(SUBS) || "{}");
    subs[flow] = sub;
    sessionStorage.setItem(SUBS, JSON.stringify(subs));
    const other = subs[flow === "hosted" ? "broker" : "hosted"];
    state.sameUser = other ? { other, same: other === sub } : null;
  }

  const loginFailed = (o) => finish("login", outcome({ ok: false, ...o }));

  // handleCallback finishes the login Kakao sent the browser back from.
  // The page is busy (aria-busy, buttons disabled) until it is done.
  async function handleCallback() {
    setBusy(true);
    try {
      await finishLogin();
    } finally {
      setBusy(false);
    }
  }

  async function finishLogin() {
    const params = new URLSearchParams(location.search);
    history.replaceState(null, "", "/");
    const raw = sessionStorage.getItem(PENDING);
    sessionStorage.removeItem(PENDING);
    const pending = raw ? JSON.parse(raw) : null;
    // The state first: an answer to a login this page did not start (or
    // already finished) is refused before anything else is read from it.
    if (!pending || !params.get("state") || params.get("state") !== pending.state) {
      addHop("hop.authorize", { key: "hopres.stateMismatch" }, null);
      loginFailed({ where: "hop.authorize", sources: ["page"], code: "StateMismatch" });
      return;
    }
    if (pending.mode === "hosted") {
      await finishHosted(params, pending);
      return;
    }
    // Linking Kakao (the team app) fails into its own outcome.
    const failed = pending.mode === "link" ? (o) => finish("team-link", outcome({ ok: false, ...o })) : loginFailed;
    const error = params.get("error");
    addHop("hop.authorize", error || { key: "hopres.code" }, Date.now() - pending.started);
    if (error) {
      failed({ where: "hop.authorize", sources: ["kakao"], code: error, raw: params.get("error_description") || "" });
      return;
    }
    const code = params.get("code");
    if (!code) {
      failed({ where: "hop.authorize", sources: ["page"], code: "NoCode" });
      return;
    }
    const ex = await backend("POST", "/tryit/api/exchange", { code });
    addHop("hop.exchange", hopResult(ex, "200"), ex.ms, ex.body.kakao_ms);
    if (!ex.ok) {
      failed({ where: "hop.exchange", status: ex.status, sources: ["tryit", "kakao"], code: ex.body.error, raw: ex.body.message });
      return;
    }
    if (pending.mode === "link") {
      await finishLink({ accessToken: ex.body.access_token });
      return;
    }
    let body;
    if (pending.mode === "id") {
      if (!ex.body.id_token) {
        loginFailed({ where: "hop.exchange", sources: ["page"], code: "NoIDToken" });
        return;
      }
      body = { idToken: ex.body.id_token, nonce: pending.nonce };
    } else {
      body = { accessToken: ex.body.access_token };
    }
    await callBroker(body, pending.mode);
  }

  // finishHosted finishes a sign-in the hosted UI sent the browser back
  // from: restart once after the link, or exchange the code (with the
  // PKCE verifier) for the pool's tokens.
  async function finishHosted(params, pending) {
    const error = params.get("error");
    const description = params.get("error_description") || "";
    // The first sign-in, which linked the account, happened on the page
    // before this load: shown first.
    if (pending.linked) addHop("hop.hostedLinked", cfg.hostedUI.linkedCode, pending.linked.ms);
    addHop("hop.hosted", error || { key: "hopres.code" }, Date.now() - pending.started);
    if (error && linkedRestart(description)) {
      if (pending.linked) {
        loginFailed({ where: "hop.hosted", sources: ["page"], code: cfg.hostedUI.linkedCode, text: "page.LinkedTwice" });
        return;
      }
      finish("login", outcome({ ok: "pending", where: "hop.hosted", text: "result.linkedRestart" }));
      await startHosted({ ms: Date.now() - pending.started });
      return;
    }
    if (error) {
      const code = triggerCode(description);
      loginFailed(code ? { where: "hop.hosted", sources: ["broker"], code, raw: description }
        : { where: "hop.hosted", sources: ["cognito"], code: error, raw: description });
      return;
    }
    const ex = await backend("POST", "/tryit/api/hosted/token", { code: params.get("code") || "", code_verifier: pending.verifier });
    addHop("hop.hostedToken", hopResult(ex, "200"), ex.ms, ex.body.cognito_ms);
    if (!ex.ok) {
      loginFailed({ where: "hop.hostedToken", status: ex.status, sources: ["tryit", "cognito"], code: ex.body.error, raw: ex.body.message });
      return;
    }
    startSession({ id: ex.body.id_token, access: ex.body.access_token, refresh: ex.body.refresh_token,
      expiresAt: Date.now() + (ex.body.expires_in || 3600) * 1000 }, "hosted", "hosted");
    const claims = await verify();
    state.user.sub = claims.sub || "";
    state.user.username = claims["cognito:username"] || "";
    // The client refreshes and signs out this session as the broker's.
    await hold(clients.hosted);
    state.user.kind = "hosted";
    await readAccount();
    if (claims.sub) noteSub("hosted", claims.sub);
    finish("login", outcome({ ok: true, where: "hop.hostedToken", status: ex.status, text: "result.okHosted" }));
  }

  // startSession replaces the page's session with a new login's: the
  // outcomes of the last session's actions go with it.
  function startSession(tokens, mode, client, user) {
    state.tokens = tokens;
    state.user = { mode, client, kind: null, kakaoId: null, previousSub: null, ...user };
    state.session = "active";
    state.claims = null;
    state.account = null;
    state.sameUser = null;
    state.me = null;
    state.credentials = null;
    // (The team app's outcomes are its own session's: they stay.)
    Object.assign(state.actions, {
      refresh: null, signout: null, unlink: null,
      // What the stack lacks is said before anyone asks.
      me: cfg.client.meURL ? null : { ok: "off", text: "result.meOff", args: [] },
      credentials: cfg.client.identityPoolID ? null : { ok: "off", text: "result.credentialsOff", args: [] },
    });
    if (state.team && state.team.via === "kakao") state.team.via = null;
  }

  // callBroker signs in at the broker (POST /auth/kakao) with the client,
  // as a web app does; the broker is the login API, on another origin
  // when deployed: the client sends only what its CORS allows (JSON).
  async function callBroker(tokens, mode) {
    const startedAt = Date.now();
    const r = await timed(() => clients.broker.auth.signInWithKakao(tokens));
    if (r.error) {
      const e = r.error;
      const status = e.status || 0;
      const code = errorCode(e);
      addHop("hop.broker", status ? `${status} ${code}` : { key: "hopres.networkError" }, r.ms);
      loginFailed({ where: "hop.broker", status, sources: ["broker", "page", "client"], code, raw: String(e.message || e) });
      return;
    }
    const session = r.value;
    // The client resolves on the broker's 200 only.
    addHop("hop.broker", "200", r.ms);
    startSession(tokensOf(session), mode, "broker", { sub: session.sub, username: session.username });
    await verify();
    // The team app's person, logged in with Kakao: the same Cognito user?
    // (A linked user's tokens carry no Kakao id: the page knows it from
    // the link.)
    const team = state.team;
    if (team && team.sub) {
      state.user.samePerson = session.sub === team.sub;
      if (state.user.samePerson) {
        team.via = "kakao";
        if (!state.user.kakaoId && team.kakaoId) state.user.kakaoId = team.kakaoId;
      }
    }
    await readAccount();
    Object.assign(state.user, loginKind({ sub: session.sub, new_user: session.newUser }, state.account, startedAt));
    noteSub("broker", session.sub);
    finish("login", outcome({ ok: true, where: "hop.broker", status: 200, text: "result.ok" }));
  }

  // loginKind says what a successful login did to the account: the
  // broker's new_user, and on the local stack the mapping's last
  // transition when this login made it (its time is after the login
  // started: the page and the stack share the machine's clock).
  function loginKind(json, account, startedAt) {
    const ev = account && account.last_event;
    const now = ev && ev.sub === json.sub && Date.parse(ev.time) >= startedAt;
    if (now && ev.type === "recreated") return { kind: "recreated", previousSub: ev.previous_sub || null };
    if (now && ev.type === "relinked") return { kind: "relinked" };
    // A user of the pool's own, linked to this Kakao account (custom auth).
    if (!json.new_user && account && account.kind === "linked") return { kind: "linked" };
    return { kind: json.new_user ? "new" : "returning" };
  }

  // verify checks the session's ID token at the backend, as a resource
  // server would, and returns its claims ({} when it could not).
  async function verify() {
    const v = await backend("POST", "/tryit/api/verify", { id_token: state.tokens.id });
    addHop("hop.jwks", v.ok ? { key: v.body.verified ? "hopres.verified" : "hopres.notVerified" } : `${v.status} ${v.body.error}`, v.ms, v.body.jwks_ms);
    state.claims = v.ok ? v.body : { error: v.body.error };
    const claims = (v.ok && v.body.claims) || {};
    if (claims["custom:kakao_id"]) state.user.kakaoId = Number(claims["custom:kakao_id"]);
    render();
    return claims;
  }

  async function fetchAccount() {
    const a = await backend("GET", `/tryit/api/account?kakao_id=${encodeURIComponent(state.user.kakaoId)}`);
    return a.ok ? a : { ...a, body: { error: a.body.error || `HTTP${a.status}` } };
  }

  // readAccount reads the account's mapping (the local stack only).
  async function readAccount() {
    if (!cfg.accounts || !state.user || !state.user.kakaoId) return;
    const a = await fetchAccount();
    addHop("hop.account", a.ok ? { key: `account.${a.body.status}` } : `${a.status} ${a.body.error}`, a.ms);
    state.account = a.body;
  }

  // ---------------------------------------------------------------- actions

  // act runs one action with the page busy meanwhile.
  async function act(fn) {
    if (state.busy) return;
    setBusy(true);
    try {
      await fn();
    } finally {
      setBusy(false);
    }
  }

  // refresh asks Cognito for new tokens from the browser (the client's
  // InitiateAuth REFRESH_TOKEN_AUTH); after a sign-out it tries the old
  // refresh token, to show that Cognito refuses it.
  const refresh = () => act(async () => {
    if (!state.tokens) return;
    const cl = await holding(current());
    const r = await timed(() => cl.auth.refresh());
    addHop("hop.refresh", r.error ? errorHop(r.error) : { key: "hopres.ok" }, r.ms);
    if (r.error) {
      // Refused while the page thought it active: the session is over.
      if (errorCode(r.error) === "SessionExpired" && state.session === "active") state.session = "refused";
      finish("refresh", outcome(clientFailure(r.error)));
      return;
    }
    state.tokens = tokensOf(r.value);
    state.session = "active";
    await verify();
    finish("refresh", outcome({ ok: true, text: "result.refreshed" }));
  });

  // signOut revokes the refresh token at Cognito from the browser (the
  // client's RevokeToken), then tries it once more, as someone holding a
  // copy would: Cognito must refuse it. The tokens stay on the page, so
  // that Refresh shows the revocation too.
  const signOut = () => act(async () => {
    if (!state.tokens) return;
    const cl = await holding(current());
    const r = await timed(() => cl.auth.signOut());
    const result = r.error ? { revoked: false, error: r.error } : r.value;
    addHop("hop.signout", result.revoked ? { key: "hopres.ok" } : errorHop(result.error), r.ms);
    if (!result.revoked) {
      state.session = "local";
      finish("signout", outcome(clientFailure(result.error)));
      return;
    }
    state.session = "signedOut";
    await hold(cl);
    const check = await timed(() => cl.auth.refresh());
    addHop("hop.revokeCheck", check.error ? errorHop(check.error) : { key: "hopres.ok" }, check.ms);
    const refused = check.error && errorCode(check.error) === "SessionExpired";
    if (refused) finish("signout", outcome({ ok: true, text: "result.signedOut", args: [errorCode(errorCause(check.error))] }));
    else finish("signout", outcome({ ok: false, text: "result.signedOutStillWorks" }));
  });

  // callMe calls the app's own API as an app does: GET /me with the ID
  // token (the client's fetchWithIdToken), behind the stack's Cognito
  // user-pool authorizer (locally, the same check of the token).
  const callMe = () => act(async () => {
    if (!state.tokens || !cfg.client.meURL) return;
    state.me = null;
    const cl = await holding(current());
    const r = await timed(async () => {
      const resp = await cl.auth.fetchWithIdToken(cfg.client.meURL, { signal: AbortSignal.timeout(10000) });
      return { status: resp.status, body: await resp.json().catch(() => undefined) };
    });
    if (r.error) {
      addHop("hop.me", errorHop(r.error), r.ms);
      finish("me", outcome(clientFailure(r.error)));
      return;
    }
    const { status, body } = r.value;
    addHop("hop.me", `${status}${body && body.error ? " " + body.error : ""}`, r.ms);
    if (status !== 200 || !body || !body.sub) {
      // The API's error code as the client names it (Unauthorized, NotFound...).
      finish("me", outcome(clientFailure(lib.brokerError(status, body), "api")));
      return;
    }
    state.me = { sub: body.sub, kakaoId: body.kakao_id };
    finish("me", outcome({ ok: true, text: "result.me" }));
  });

  // getCredentials gets the identity pool's AWS credentials for the user
  // (the client's GetId and GetCredentialsForIdentity with the ID token),
  // then has the page's backend ask STS whose they are. The page shows
  // the identity id and the caller; never the secret key or the session
  // token, which stay in this function.
  const getCredentials = () => act(async () => {
    if (!state.tokens || !cfg.client.identityPoolID) return;
    state.credentials = null;
    const cl = await holding(current());
    const r = await timed(() => cl.auth.getCredentials({ forceRefresh: true }));
    addHop("hop.credentials", r.error ? errorHop(r.error) : { key: "hopres.ok" }, r.ms);
    if (r.error) {
      finish("credentials", outcome(clientFailure(r.error)));
      return;
    }
    const c = r.value;
    state.credentials = { identityId: c.identityId, expiration: c.expiration.getTime(), arn: null };
    render();
    const who = await backend("POST", "/tryit/api/caller", { access_key_id: c.accessKeyId, secret_access_key: c.secretAccessKey, session_token: c.sessionToken });
    addHop("hop.caller", hopResult(who, "200"), who.ms, who.body.sts_ms);
    if (!who.ok) {
      finish("credentials", outcome({ ok: false, sources: ["sts", "tryit"], code: who.body.error, raw: who.body.message, detailFrom: "sts" }));
      return;
    }
    state.credentials.arn = who.body.arn;
    finish("credentials", outcome({ ok: true, text: "result.credentials" }));
  });

  const unlink = () => act(async () => {
    if (!state.user || !state.user.kakaoId) return;
    const r = await backend("POST", "/tryit/api/unlink", { kakao_id: state.user.kakaoId });
    addHop("hop.unlink", r.ok ? { key: "hopres.callback", args: [r.body.callback_status] } : `${r.status} ${r.body.error}`, r.ms, r.body.kakao_ms);
    if (!r.ok) {
      finish("unlink", outcome({ ok: false, sources: ["tryit"], code: r.body.error, raw: r.body.message }));
      return;
    }
    if (r.body.callback_status !== 200) {
      // Kakao counts anything but 200 as a failed delivery, and does not retry.
      finish("unlink", outcome({ ok: false, sources: ["page"], code: "UnlinkCallbackFailed", args: [r.body.callback_status] }));
      return;
    }
    finish("unlink", outcome({ ok: "pending", text: "result.unlinkSent", args: [r.body.callback_status] }));
    // The stack may process the unlink later (a queue and a worker):
    // watch the mapping rather than assume it changed already.
    const started = performance.now();
    for (let i = 0; i < 60; i++) {
      const a = await fetchAccount();
      if (a.body.status !== "active") {
        state.account = a.body;
        addHop("hop.unlinkLanded", a.ok ? { key: `account.${a.body.status}` } : a.body.error, performance.now() - started);
        const deleted = a.body.status === "deleted";
        state.session = deleted ? "deleted" : "unlinked";
        finish("unlink", outcome({ ok: true, text: deleted ? "result.deleted" : "result.unlinked" }));
        return;
      }
      await new Promise((res) => setTimeout(res, 500));
    }
    finish("unlink", outcome({ ok: false, sources: ["page"], code: "UnlinkPending" }));
  });

  // ------------------------------------------------------- the team's app

  // What the team app's person is, kept in this tab (sessionStorage) with
  // the team client's session: the page comes back from Kakao's consent
  // page to finish a link. A Kakao login as that person is this page's
  // only, as the broker's session is.
  function saveTeam() {
    const { via, ...person } = state.team;
    sessionStorage.setItem(TEAM, JSON.stringify(person));
  }

  async function restoreTeam() {
    if (!cfg.teamApp) return;
    const raw = sessionStorage.getItem(TEAM);
    if (!raw) return;
    const held = await clients.team.store.getItem(clients.team.key);
    state.team = { ...JSON.parse(raw), via: held ? "password" : null };
  }

  // teamSignIn signs the person in with their own email and password, as
  // the team's app does (InitiateAuth USER_PASSWORD_AUTH with its public
  // client, through this page's backend), and gives the client their
  // session.
  const teamSignIn = () => act(async () => {
    const r = await backend("POST", "/tryit/api/password", { username: $("team-email").value.trim(), password: $("team-password").value });
    addHop("hop.password", hopResult(r, "200"), r.ms, r.body.cognito_ms);
    if (!r.ok) {
      finish("team-signin", outcome({ ok: false, sources: ["team", "tryit", "cognito"], code: r.body.error, raw: r.body.message, detailFrom: "cognito" }));
      return;
    }
    const claims = lib.claimsOf(r.body.id_token);
    const same = state.team && state.team.sub === claims.sub;
    state.team = { email: claims.email || "", sub: claims.sub, username: claims["cognito:username"] || "",
      kakaoId: same ? state.team.kakaoId : null, via: "password" };
    await hold(clients.team, { id: r.body.id_token, access: r.body.access_token, refresh: r.body.refresh_token,
      expiresAt: Date.now() + (r.body.expires_in || 3600) * 1000 }, state.team);
    saveTeam();
    finish("team-signin", outcome({ ok: true, text: "result.teamSignedIn" }));
  });

  // teamLink runs the Kakao login (the consent page) for the link: the
  // callback finishes it (finishLink).
  const teamLink = () => {
    if (state.team && state.team.via === "password") startLogin("link");
  };

  // finishLink links the Kakao account to the signed-in person: POST
  // /auth/kakao/link with their Cognito access token (the client's
  // linkKakao).
  async function finishLink(kakao) {
    const r = await timed(() => clients.team.auth.linkKakao(kakao));
    addHop("hop.link", r.error ? errorHop(r.error) : "200", r.ms);
    if (r.error) {
      finish("team-link", outcome(clientFailure(r.error, "broker")));
      return;
    }
    state.team.kakaoId = r.value.kakaoId;
    saveTeam();
    finish("team-link", outcome({ ok: true, text: r.value.newLink ? "result.teamLinked" : "result.teamAlreadyLinked", args: [r.value.kakaoId] }));
  }

  // teamSignOut ends the password session (the client's RevokeToken with
  // the team's client).
  const teamSignOut = () => act(async () => {
    const r = await timed(() => clients.team.auth.signOut());
    const result = r.error ? { revoked: false, error: r.error } : r.value;
    addHop("hop.teamSignout", result.revoked ? { key: "hopres.ok" } : errorHop(result.error), r.ms);
    state.team.via = null;
    finish("team-signout", outcome(result.revoked ? { ok: true, text: "result.teamSignedOut" } : clientFailure(result.error)));
  });

  // teamUnlink removes the person's link to Kakao (DELETE
  // /auth/kakao/link, the client's unlinkKakao) with the session they
  // are in: the password's, or the Kakao login's as the same person.
  const teamUnlink = () => act(async () => {
    const cl = state.team.via === "kakao" ? await holding(current()) : clients.team;
    const r = await timed(() => cl.auth.unlinkKakao());
    addHop("hop.teamUnlink", r.error ? errorHop(r.error) : "200", r.ms);
    if (r.error) {
      finish("team-unlink", outcome(clientFailure(r.error, "broker")));
      return;
    }
    state.team.kakaoId = null;
    saveTeam();
    // The Kakao login's user card reads the mapping again: gone.
    if (state.user && String(state.user.kakaoId) === r.value.kakaoId) await readAccount();
    finish("team-unlink", outcome({ ok: true, text: "result.teamUnlinked", args: [r.value.kakaoId] }));
  });

  // ------------------------------------------------------------------ start

  // loadBrokerMessages adds the login API's messages (broker.<code>), in
  // both languages, from errors.go through the page's backend. Without
  // them the page still shows what the API said, in its words.
  async function loadBrokerMessages() {
    const r = await backend("GET", "/tryit/api/messages");
    for (const [code, m] of Object.entries((r.ok && r.body.codes) || {})) {
      messages.en[`broker.${code}`] = m.en;
      messages.ko[`broker.${code}`] = m.ko || m.en;
    }
  }

  // loadClient loads the JavaScript client and its words for a person
  // (client.<code>, its userMessage table) in both languages.
  async function loadClient() {
    lib = await import(cfg.client.clientModule);
    clients.broker = makeClient(cfg.client.userPoolClientID, "broker");
    if (cfg.hostedUI) clients.hosted = makeClient(cfg.hostedUI.clientID, "hosted");
    // The team app keeps its session in this tab's sessionStorage, as a web
    // app would: it lives through the trip to Kakao's consent page.
    if (cfg.teamApp) clients.team = makeClient(cfg.teamApp.clientID, "team", sessionStorage);
    for (const l of ["en", "ko"]) {
      for (const [code, m] of Object.entries(lib.messages[l])) messages[l][`client.${code}`] = m;
    }
  }

  async function init() {
    text("api-endpoint", `POST ${apiBase()}/auth/kakao`);
    text("pool-id", cfg.userPoolID);
    text("client-id", cfg.clientID);
    text("redirect-uri", cfg.redirectURI);
    const local = cfg.unlink || cfg.accounts;
    for (const el of document.querySelectorAll(".local-only")) el.hidden = !local;
    if (!cfg.unlink) $("unlink").hidden = $("unlink").closest(".action").hidden = true;
    const tpl = $("outcome-template");
    for (const action of Object.keys(state.actions)) $(`${action}-outcome`).replaceChildren(tpl.content.cloneNode(true));
    $("lang").addEventListener("click", () => {
      lang = lang === "ko" ? "en" : "ko";
      localStorage.setItem(LANG, lang);
      // What was announced stays said; the region waits, empty, for the
      // next result, in the new language.
      $("announce").textContent = "";
      render();
    });
    $("kakao-login").addEventListener("click", () => startLogin("access"));
    $("login-id-token").addEventListener("click", () => startLogin("id"));
    if (cfg.hostedUI) {
      $("hosted-ui-login").hidden = false;
      $("hosted-ui-explain").hidden = false;
      $("hosted-ui-login").addEventListener("click", () => startHosted(false));
    }
    $("refresh").addEventListener("click", refresh);
    $("signout").addEventListener("click", signOut);
    $("me").addEventListener("click", callMe);
    $("credentials").addEventListener("click", getCredentials);
    $("unlink").addEventListener("click", unlink);
    if (cfg.teamApp) {
      $("team-card").hidden = false;
      $("team-email").value = cfg.teamApp.username;
      $("team-password").value = cfg.teamApp.password;
      // Enter in a field signs in, as a sign-in form does.
      $("team-form").addEventListener("submit", (e) => {
        e.preventDefault();
        teamSignIn();
      });
    }
    $("team-link").addEventListener("click", teamLink);
    $("team-signout").addEventListener("click", teamSignOut);
    $("team-unlink").addEventListener("click", teamUnlink);
    render();
    try {
      await loadClient();
    } catch (e) {
      // Nothing works without it: say so, and leave the buttons off.
      finish("login", outcome({ ok: false, sources: ["page"], code: "ClientUnavailable", raw: `${cfg.client.clientModule}: ${e}` }));
      return;
    }
    await loadBrokerMessages();
    await restoreTeam();
    // The person's email stays in the field; only the demo's password is
    // offered.
    if (state.team && state.team.email && state.team.email !== cfg.teamApp.username) {
      $("team-email").value = state.team.email;
      $("team-password").value = "";
    }
    if (location.pathname === "/callback") await handleCallback();
    else setBusy(false);
  }

  init();
})();
