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
// Test hooks (stable): #kakao-login starts a login, #hosted-ui-login one
// through the hosted UI, #sub holds the Cognito sub once logged in, #error
// the error code of whatever failed last, #same-user whether the broker
// and the hosted UI signed in the same Cognito user.
"use strict";
(() => {
  const cfg = JSON.parse(document.getElementById("config").textContent);
  const $ = (id) => document.getElementById(id);
  const PENDING = "kakaoauth.tryit.pending";
  const LANG = "kakaoauth.tryit.lang";
  const SUBS = "kakaoauth.tryit.subs"; // the last sub of each flow, in this tab

  const messages = {
    en: {
      "subtitle": "Try Kakao login",
      "target.local": "local stack",
      "target.stack": "stack {0}",
      "login.title": "Log in",
      "login.explain": "What a web app does: Kakao's authorize page, the code exchanged for Kakao tokens, then the Kakao token sent to the broker's POST /auth/kakao.",
      "login.kakao": "Log in with Kakao",
      "login.again": "Log in again",
      "login.idtoken": "Log in with an ID token (OpenID Connect)",
      "login.hosted": "Sign in through Cognito's hosted UI",
      "login.hostedExplain": "The stack also has Cognito's hosted UI: a web app's browser redirect (Amplify signInWithRedirect) to Cognito, which signs in with Kakao as an OpenID Connect provider. One Kakao account is one Cognito user in both flows.",
      "flow.authorize": "Kakao: authorize and consent",
      "flow.exchange": "code → Kakao tokens",
      "flow.cognito": "Cognito tokens, checked against the pool's JWKS",
      "result.title": "The broker's answer",
      "result.titleHosted": "The hosted UI's answer",
      "user.sub": "Cognito sub",
      "user.username": "Username",
      "user.kind": "User",
      "user.mode": "Logged in with",
      "user.session": "Session",
      "user.account": "Mapping status",
      "user.new": "new user (created by this login)",
      "user.hosted": "signed in through the hosted UI",
      "user.same": "Same user as the other flow",
      "same.yes": "yes: the broker and the hosted UI signed in the same Cognito user",
      "same.no": "NO: the other flow signed in sub {0}",
      "user.returning": "returning user",
      "mode.access": "Kakao access token",
      "mode.id": "Kakao ID token (OIDC, with nonce)",
      "mode.hosted": "Cognito's hosted UI (Kakao as OpenID Connect provider)",
      "session.active": "active",
      "session.signedOut": "signed out",
      "tokens.title": "Cognito tokens (shortened)",
      "claims.title": "ID token claims",
      "claims.signature": "signature",
      "sig.verified": "verified against the pool's JWKS",
      "sig.failed": "NOT verified: {0}",
      "action.refresh": "Refresh the Cognito tokens",
      "action.signout": "Sign out (revoke)",
      "action.unlink": "Unlink at Kakao",
      "result.refreshed": "Tokens refreshed with REFRESH_TOKEN_AUTH at {0}.",
      "result.refreshRefused": "Cognito refused the refresh token.",
      "result.signedOut": "Signed out everywhere (GlobalSignOut). A refresh with the old refresh token is now refused: {0}.",
      "result.signedOutStillWorks": "Signed out, but the old refresh token still works.",
      "result.unlinkSent": "Kakao called the stack's unlink webhook (HTTP {0}); waiting for the account to change…",
      "result.unlinked": "The account is now {0}. Log in again to see what happens on the return.",
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
      "hop.signout": "Cognito: GlobalSignOut",
      "hop.unlink": "Kakao: unlink → webhook",
      "hop.unlinkLanded": "Unlink visible in the mapping",
      "hop.upstream": "{0} ms upstream",
      "hop.hosted": "Cognito hosted UI → Kakao → Cognito (includes you)",
      "hop.hostedLinked": "First sign-in: Kakao account linked, signing in again",
      "hop.hostedToken": "Cognito: code → tokens (/oauth2/token)",
      "result.linkedRestart": "Your Kakao account is now linked to its Cognito user; signing in again…",
      "err.linkedTwice": "The hosted UI still reports the link after signing in again; try once more.",
      "err.state": "The state that came back is not the one this page sent: the answer is refused.",
      "err.noCode": "Kakao sent no authorization code.",
      "err.noIDToken": "Kakao returned no ID token: enable OpenID Connect for the Kakao app.",
      "err.network": "The API did not answer, or refused this page's origin (CORS: check the stack's CorsAllowedOrigins).",
      "err.unlinkPending": "The unlink has not reached the mapping yet.",
      "err.unlinkCallback": "The stack's unlink webhook answered HTTP {0}; Kakao counts that as not delivered and does not retry.",
      "footer.pool": "User pool",
      "footer.client": "Kakao app key",
      "footer.redirect": "Redirect URI",
    },
    ko: {
      "subtitle": "카카오 로그인 체험",
      "target.local": "로컬 스택",
      "target.stack": "스택 {0}",
      "login.title": "로그인",
      "login.explain": "웹 앱이 하는 그대로: 카카오 인가 페이지, 인가 코드로 카카오 토큰 받기, 그 토큰을 브로커의 POST /auth/kakao로 보내기.",
      "login.kakao": "카카오 로그인",
      "login.again": "다시 로그인",
      "login.idtoken": "ID 토큰으로 로그인 (OpenID Connect)",
      "login.hosted": "Cognito 호스팅 UI로 로그인",
      "login.hostedExplain": "이 스택에는 Cognito 호스팅 UI도 있습니다: 웹 앱이 브라우저를 Cognito로 보내고(Amplify signInWithRedirect), Cognito는 카카오를 OpenID Connect 공급자로 써서 로그인합니다. 두 방식 모두 카카오 계정 하나에 Cognito 사용자 하나입니다.",
      "flow.authorize": "카카오: 인가와 동의",
      "flow.exchange": "인가 코드 → 카카오 토큰",
      "flow.cognito": "Cognito 토큰, 사용자 풀 JWKS로 서명 확인",
      "result.title": "브로커의 응답",
      "result.titleHosted": "호스팅 UI의 응답",
      "user.sub": "Cognito sub",
      "user.username": "사용자 이름",
      "user.kind": "사용자",
      "user.mode": "로그인 방식",
      "user.session": "세션",
      "user.account": "연결 상태",
      "user.new": "새 사용자 (이번 로그인에서 생성)",
      "user.hosted": "호스팅 UI로 로그인",
      "user.same": "다른 방식과 같은 사용자",
      "same.yes": "예: 브로커와 호스팅 UI가 같은 Cognito 사용자로 로그인했습니다",
      "same.no": "아니오: 다른 방식은 sub {0}로 로그인했습니다",
      "user.returning": "돌아온 사용자",
      "mode.access": "카카오 액세스 토큰",
      "mode.id": "카카오 ID 토큰 (OIDC, nonce 포함)",
      "mode.hosted": "Cognito 호스팅 UI (카카오 OpenID Connect 공급자)",
      "session.active": "활성",
      "session.signedOut": "로그아웃됨",
      "tokens.title": "Cognito 토큰 (줄임)",
      "claims.title": "ID 토큰 클레임",
      "claims.signature": "서명",
      "sig.verified": "사용자 풀 JWKS로 확인됨",
      "sig.failed": "확인 실패: {0}",
      "action.refresh": "Cognito 토큰 갱신",
      "action.signout": "로그아웃 (토큰 폐기)",
      "action.unlink": "카카오에서 연결 끊기",
      "result.refreshed": "{0}에 REFRESH_TOKEN_AUTH로 토큰을 갱신했습니다.",
      "result.refreshRefused": "Cognito가 리프레시 토큰을 거부했습니다.",
      "result.signedOut": "모든 기기에서 로그아웃했습니다 (GlobalSignOut). 이전 리프레시 토큰은 이제 거부됩니다: {0}.",
      "result.signedOutStillWorks": "로그아웃했지만 이전 리프레시 토큰이 아직 동작합니다.",
      "result.unlinkSent": "카카오가 스택의 연결 끊기 웹훅을 호출했습니다 (HTTP {0}). 계정 상태가 바뀌기를 기다리는 중…",
      "result.unlinked": "계정 상태: {0}. 다시 로그인해서 돌아왔을 때 어떻게 되는지 확인해 보세요.",
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
      "hop.signout": "Cognito: GlobalSignOut",
      "hop.unlink": "카카오: 연결 끊기 → 웹훅",
      "hop.unlinkLanded": "연결 끊기가 매핑에 반영됨",
      "hop.upstream": "상위 호출 {0} ms",
      "hop.hosted": "Cognito 호스팅 UI → 카카오 → Cognito (사용자 시간 포함)",
      "hop.hostedLinked": "첫 로그인: 카카오 계정 연결됨, 다시 로그인",
      "hop.hostedToken": "Cognito: 인가 코드 → 토큰 (/oauth2/token)",
      "result.linkedRestart": "카카오 계정이 Cognito 사용자와 연결되었습니다. 다시 로그인하는 중…",
      "err.linkedTwice": "다시 로그인한 뒤에도 호스팅 UI가 연결을 알려 왔습니다. 한 번 더 시도해 주세요.",
      "err.state": "돌아온 state가 이 페이지가 보낸 값과 다릅니다: 응답을 거부합니다.",
      "err.noCode": "카카오가 인가 코드를 보내지 않았습니다.",
      "err.noIDToken": "카카오가 ID 토큰을 주지 않았습니다: 카카오 앱에서 OpenID Connect를 켜 주세요.",
      "err.network": "API가 응답하지 않았거나 이 페이지의 출처를 거부했습니다 (CORS: 스택의 CorsAllowedOrigins 확인).",
      "err.unlinkPending": "연결 끊기가 아직 매핑에 반영되지 않았습니다.",
      "err.unlinkCallback": "스택의 연결 끊기 웹훅이 HTTP {0}로 응답했습니다. 카카오는 이를 전달 실패로 보고 다시 보내지 않습니다.",
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

  function t(key, ...args) {
    const s = (messages[lang] && messages[lang][key]) || messages.en[key] || key;
    return s.replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i)]));
  }

  // setT shows a message and remembers it, so a language switch redraws it.
  function setT(el, key, ...args) {
    el.dataset.i18n = key;
    el.dataset.i18nArgs = JSON.stringify(args);
    el.textContent = t(key, ...args);
  }

  function applyLang() {
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll("[data-i18n]")) {
      const args = el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : [];
      el.textContent = t(el.dataset.i18n, ...args);
    }
    $("lang").textContent = lang === "ko" ? "English" : "한국어";
  }

  // ---------------------------------------------------------------- state

  const session = { tokens: null, kakaoId: null, mode: null, client: "broker" };
  let busy = false;
  // navigating: the page is on its way to another (an authorize page);
  // it stays busy until it is gone.
  let navigating = false;

  function randomString() {
    const b = new Uint8Array(18);
    crypto.getRandomValues(b);
    return btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function shorten(s) {
    if (!s) return "—";
    return s.length <= 24 ? s : `${s.slice(0, 12)}…${s.slice(-8)} (${s.length})`;
  }

  function apiBase() {
    return cfg.apiURL || location.origin;
  }

  // --------------------------------------------------------------- render

  function showResult() {
    $("result").hidden = false;
  }

  function setStatus(status) {
    const el = $("status");
    el.textContent = String(status);
    el.className = "status " + (status >= 200 && status < 300 ? "ok" : "bad");
  }

  function setError(code, message) {
    showResult();
    $("error").textContent = code || "";
    $("error-message").textContent = message || "";
  }

  function setErrorT(code, key, ...args) {
    setError(code, "");
    setT($("error-message"), key, ...args);
  }

  function clearError() {
    $("error").textContent = "";
    const m = $("error-message");
    delete m.dataset.i18n;
    m.textContent = "";
  }

  function addHop(key, result, ms, detail) {
    $("hops-card").hidden = false;
    const tr = document.createElement("tr");
    const name = document.createElement("td");
    setT(name, key);
    const res = document.createElement("td");
    res.textContent = result;
    const time = document.createElement("td");
    time.className = "num";
    time.textContent = ms == null ? "—" : `${Math.round(ms)} ms`;
    if (detail != null) {
      const d = document.createElement("span");
      d.className = "muted";
      setT(d, "hop.upstream", detail);
      time.append(" ", d);
    }
    tr.append(name, res, time);
    $("hops").append(tr);
  }

  function resetHops() {
    $("hops").textContent = "";
  }

  function setBusy(b) {
    if (!b && navigating) return;
    busy = b;
    document.body.setAttribute("aria-busy", String(b));
    for (const id of ["kakao-login", "login-id-token", "hosted-ui-login", "refresh", "signout", "unlink"]) $(id).disabled = b;
  }

  function goTo(url) {
    navigating = true;
    setBusy(true);
    location.assign(url);
  }

  function showTokens() {
    $("token-id").textContent = shorten(session.tokens.id);
    $("token-access").textContent = shorten(session.tokens.access);
    $("token-refresh").textContent = shorten(session.tokens.refresh);
  }

  function showClaims(v) {
    const c = v.claims || {};
    const show = (id, val) => { $(id).textContent = val === undefined ? "—" : String(val); };
    show("claim-sub", c.sub);
    show("claim-kakao-id", c["custom:kakao_id"]);
    show("claim-email", c.email);
    show("claim-email-verified", c.email_verified);
    show("claim-exp", c.exp);
    $("claim-exp-time").textContent = c.exp ? `(${new Date(c.exp * 1000).toLocaleString()})` : "";
    const sig = $("signature");
    sig.className = v.verified ? "ok" : "bad";
    if (v.verified) setT(sig, "sig.verified");
    else setT(sig, "sig.failed", (v.problems || []).join("; "));
  }

  // -------------------------------------------------------------- backend

  // backend calls this page's own server. It never throws: a failure is
  // {ok:false, body:{error, message}}.
  async function backend(method, path, body) {
    const started = performance.now();
    try {
      const resp = await fetch(path, {
        method,
        headers: body ? { "Content-Type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      const json = await resp.json().catch(() => ({}));
      return { ok: resp.ok, status: resp.status, body: json, ms: performance.now() - started };
    } catch (e) {
      return { ok: false, status: 0, body: { error: "NetworkError", message: String(e) }, ms: performance.now() - started };
    }
  }

  // ---------------------------------------------------------------- login

  function startLogin(mode) {
    if (busy) return;
    const pending = { state: randomString(), nonce: mode === "id" ? randomString() : "", mode, started: Date.now() };
    sessionStorage.setItem(PENDING, JSON.stringify(pending));
    const q = new URLSearchParams({
      client_id: cfg.clientID,
      redirect_uri: cfg.redirectURI,
      response_type: "code",
      state: pending.state,
    });
    if (mode === "id") {
      q.set("scope", "openid");
      q.set("nonce", pending.nonce);
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
    if (busy && !linked) return;
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

  // noteSub remembers the sub each flow signed in last and shows whether
  // the other flow's was the same Cognito user.
  function noteSub(flow, sub) {
    const subs = JSON.parse(sessionStorage.getItem(SUBS) || "{}");
    subs[flow] = sub;
    sessionStorage.setItem(SUBS, JSON.stringify(subs));
    const other = subs[flow === "hosted" ? "broker" : "hosted"];
    for (const el of document.querySelectorAll(".same-user")) el.hidden = !other;
    if (other) setT($("same-user"), other === sub ? "same.yes" : "same.no", other);
  }

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
    showResult();
    setStatus("—");
    // The state first: an answer to a login this page did not start (or
    // already finished) is refused before anything else is read from it.
    if (!pending || !params.get("state") || params.get("state") !== pending.state) {
      addHop("hop.authorize", "state mismatch", null);
      setErrorT("StateMismatch", "err.state");
      return;
    }
    if (pending.mode === "hosted") {
      await finishHosted(params, pending);
      return;
    }
    addHop("hop.authorize", params.get("error") || "code", Date.now() - pending.started);
    if (params.get("error")) {
      setError(params.get("error"), params.get("error_description") || "");
      return;
    }
    const code = params.get("code");
    if (!code) {
      setErrorT("NoCode", "err.noCode");
      return;
    }
    const ex = await backend("POST", "/tryit/api/exchange", { code });
    addHop("hop.exchange", ex.ok ? "200" : `${ex.status} ${ex.body.error}`, ex.ms, ex.body.kakao_ms);
    if (!ex.ok) {
      setError(ex.body.error, ex.body.message);
      return;
    }
    let body;
    if (pending.mode === "id") {
      if (!ex.body.id_token) {
        setErrorT("NoIDToken", "err.noIDToken");
        return;
      }
      body = { id_token: ex.body.id_token, nonce: pending.nonce };
    } else {
      body = { access_token: ex.body.access_token };
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
    addHop("hop.hosted", error || "code", Date.now() - pending.started);
    if (error && linkedRestart(description)) {
      if (pending.linked) {
        setErrorT(cfg.hostedUI.linkedCode, "err.linkedTwice");
        return;
      }
      setT($("action-result"), "result.linkedRestart");
      await startHosted({ ms: Date.now() - pending.started });
      return;
    }
    if (error) {
      setError(triggerCode(description) || error, description);
      return;
    }
    const ex = await backend("POST", "/tryit/api/hosted/token", { code: params.get("code") || "", code_verifier: pending.verifier });
    addHop("hop.hostedToken", ex.ok ? "200" : `${ex.status} ${ex.body.error}`, ex.ms, ex.body.cognito_ms);
    setStatus(ex.ok ? 200 : ex.status);
    if (!ex.ok) {
      setError(ex.body.error, ex.body.message);
      return;
    }
    clearError();
    session.tokens = { id: ex.body.id_token, access: ex.body.access_token, refresh: ex.body.refresh_token };
    session.mode = "hosted";
    session.client = "hosted";
    setT(document.querySelector("#result h2"), "result.titleHosted");
    $("user").hidden = false;
    setT($("user-kind"), "user.hosted");
    setT($("mode"), "mode.hosted");
    setT($("session-state"), "session.active");
    setT(document.querySelector("#kakao-login span"), "login.again");
    $("action-result").textContent = "";
    showTokens();
    const claims = await verify();
    if (claims) {
      $("sub").textContent = claims.sub || "";
      $("username").textContent = claims["cognito:username"] || "";
      if (claims.sub) noteSub("hosted", claims.sub);
    }
    await showAccount();
  }

  async function callBroker(body, mode) {
    const started = performance.now();
    let resp;
    let json = {};
    try {
      resp = await fetch(`${apiBase()}/auth/kakao`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      json = await resp.json().catch(() => ({}));
    } catch (e) {
      addHop("hop.broker", "network error", performance.now() - started);
      setErrorT("NetworkError", "err.network");
      return;
    }
    addHop("hop.broker", `${resp.status}${json.error ? " " + json.error : ""}`, performance.now() - started);
    setStatus(resp.status);
    if (!resp.ok) {
      setError(json.error || `HTTP${resp.status}`, json.message || "");
      return;
    }
    clearError();
    session.tokens = { id: json.id_token, access: json.access_token, refresh: json.refresh_token };
    session.mode = mode;
    session.client = "broker";
    setT(document.querySelector("#result h2"), "result.title");
    $("user").hidden = false;
    $("sub").textContent = json.sub;
    $("username").textContent = json.username;
    setT($("user-kind"), json.new_user ? "user.new" : "user.returning");
    setT($("mode"), mode === "id" ? "mode.id" : "mode.access");
    setT($("session-state"), "session.active");
    setT(document.querySelector("#kakao-login span"), "login.again");
    $("action-result").textContent = "";
    showTokens();
    await verify();
    noteSub("broker", json.sub);
    await showAccount();
  }

  async function verify() {
    const v = await backend("POST", "/tryit/api/verify", { id_token: session.tokens.id });
    addHop("hop.jwks", v.ok ? (v.body.verified ? "verified" : "NOT verified") : `${v.status} ${v.body.error}`, v.ms, v.body.jwks_ms);
    if (!v.ok) {
      setError(v.body.error, v.body.message);
      return null;
    }
    showClaims(v.body);
    const id = v.body.claims && v.body.claims["custom:kakao_id"];
    if (id) session.kakaoId = Number(id);
    return v.body.claims || {};
  }

  async function readAccount() {
    return backend("GET", `/tryit/api/account?kakao_id=${encodeURIComponent(session.kakaoId)}`);
  }

  async function showAccount() {
    if (!cfg.accounts || !session.kakaoId) return;
    const a = await readAccount();
    addHop("hop.account", a.ok ? a.body.status : `${a.status} ${a.body.error}`, a.ms);
    $("account-status").textContent = a.ok ? a.body.status : a.body.error;
  }

  // -------------------------------------------------------------- actions

  async function refresh() {
    if (!session.tokens || busy) return;
    setBusy(true);
    try {
      const r = await backend("POST", "/tryit/api/refresh", { refresh_token: session.tokens.refresh, client: session.client });
      addHop("hop.refresh", r.ok ? "200" : `${r.status} ${r.body.error}`, r.ms, r.body.cognito_ms);
      if (!r.ok) {
        setError(r.body.error, r.body.message);
        setT($("action-result"), "result.refreshRefused");
        return;
      }
      clearError();
      session.tokens.id = r.body.id_token;
      session.tokens.access = r.body.access_token;
      if (r.body.refresh_token) session.tokens.refresh = r.body.refresh_token;
      showTokens();
      setT($("action-result"), "result.refreshed", new Date().toLocaleTimeString());
      await verify();
    } finally {
      setBusy(false);
    }
  }

  async function signOut() {
    if (!session.tokens || busy) return;
    setBusy(true);
    try {
      const r = await backend("POST", "/tryit/api/signout", { access_token: session.tokens.access, refresh_token: session.tokens.refresh, client: session.client });
      addHop("hop.signout", r.ok ? "200" : `${r.status} ${r.body.error}`, r.ms, r.body.cognito_ms);
      if (!r.ok) {
        setError(r.body.error, r.body.message);
        return;
      }
      clearError();
      setT($("session-state"), "session.signedOut");
      // The tokens stay on the page so that Refresh shows the revocation.
      if (r.body.refresh_refused) setT($("action-result"), "result.signedOut", r.body.refresh_error);
      else setT($("action-result"), "result.signedOutStillWorks");
    } finally {
      setBusy(false);
    }
  }

  async function unlink() {
    if (!session.kakaoId || busy) return;
    setBusy(true);
    try {
      const r = await backend("POST", "/tryit/api/unlink", { kakao_id: session.kakaoId });
      addHop("hop.unlink", r.ok ? `callback ${r.body.callback_status}` : `${r.status} ${r.body.error}`, r.ms, r.body.kakao_ms);
      if (!r.ok) {
        setError(r.body.error, r.body.message);
        return;
      }
      if (r.body.callback_status !== 200) {
        // Kakao counts anything but 200 as a failed delivery, and does not retry.
        setErrorT("UnlinkCallbackFailed", "err.unlinkCallback", r.body.callback_status);
        return;
      }
      clearError();
      setT($("action-result"), "result.unlinkSent", r.body.callback_status);
      // The stack may process the unlink later (a queue and a worker):
      // watch the mapping rather than assume it changed already.
      const started = performance.now();
      for (let i = 0; i < 60; i++) {
        const a = await readAccount();
        const status = a.ok ? a.body.status : a.body.error;
        if (status !== "active") {
          $("account-status").textContent = status;
          addHop("hop.unlinkLanded", status, performance.now() - started);
          setT($("action-result"), "result.unlinked", status);
          return;
        }
        await new Promise((res) => setTimeout(res, 500));
      }
      setErrorT("UnlinkPending", "err.unlinkPending");
    } finally {
      setBusy(false);
    }
  }

  // ---------------------------------------------------------------- start

  function init() {
    $("target").textContent = "";
    if (cfg.target === "local") setT($("target"), "target.local");
    else setT($("target"), "target.stack", cfg.target);
    $("api-endpoint").textContent = `POST ${apiBase()}/auth/kakao`;
    $("pool-id").textContent = cfg.userPoolID;
    $("client-id").textContent = cfg.clientID;
    $("redirect-uri").textContent = cfg.redirectURI;
    for (const el of document.querySelectorAll(".local-only")) el.hidden = !cfg.unlink && !cfg.accounts;
    if (!cfg.unlink) $("unlink").hidden = true;
    applyLang();
    $("lang").addEventListener("click", () => {
      lang = lang === "ko" ? "en" : "ko";
      localStorage.setItem(LANG, lang);
      applyLang();
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
    $("unlink").addEventListener("click", unlink);
    if (location.pathname === "/callback") handleCallback();
    else setBusy(false);
  }

  init();
})();
