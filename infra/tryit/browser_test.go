package tryit_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/chromium"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/infra/tryit"
)

// The try-it page on the local stack, in headless Chromium, clicked
// through as a developer would: the page, the double's consent page, the
// broker, Cognito (moto) and DynamoDB are all real. The tests share one
// browser and one stack (each test's accounts are its own Kakao ids); each
// test has its own tab in a fresh browser context. Every flow runs as an
// English reader on a desktop and as a Korean reader on a phone, and each
// state it reaches is checked in every view (both languages, desktop and
// phone widths): nothing overflows, nothing is left in the other language,
// the headings and names hold.

var (
	screenshot = flag.String("screenshot", "", "write a PNG of the page after its first login (desktop, English) here, e.g. $PWD/../../docs/tryit.png")
	shots      = flag.String("shots", "", "write a PNG of every state the tests reach, in every view, into this directory")
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.stack != nil {
		if err := shared.stack.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close the local stack:", err)
			code = max(code, 1)
		}
	}
	chromium.Shutdown()
	if err := moto.Shutdown(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// shared is the package's one local stack, started by the first test that
// needs it and closed by TestMain.
var shared struct {
	once  sync.Once
	stack *localstack.Main
}

func stack(t *testing.T) *localstack.Main {
	t.Helper()
	shared.once.Do(func() {
		shared.stack = localstack.StartForTests(t, "../../template.yaml", func(c *localstack.Config) {
			if *screenshot != "" {
				// The docs' picture shows the addresses `make run` uses.
				c.APIAddr, c.KakaoAddr = localstack.DefaultAPIAddr, kakaofake.DefaultAddr
			}
		})
	})
	if shared.stack == nil {
		t.Fatal("the local stack did not start (see the first test)")
	}
	return shared.stack
}

const demoID = 4242 // kakaofake.DemoUser, whom the consent page offers first

// lastID hands out Kakao ids no other test uses; above the demo user's,
// so that the consent page keeps offering the demo user first.
var lastID atomic.Int64

func init() { lastID.Store(700_000) }

func newKakaoID() int64 { return lastID.Add(1) }

// A view is how a person sees the page: a language, a window width and
// the time zone of their computer.
type view struct {
	name  string
	lang  string
	width int64
	tz    string
}

var (
	desktopEn = view{"desktop-en", "en", 1280, "America/Los_Angeles"}
	phoneKo   = view{"phone-ko", "ko", 390, "Asia/Seoul"}
	// flows run in these views
	flowViews = []view{desktopEn, phoneKo}
	// each state is checked in both languages at these widths (the flow's
	// time zone stays)
	checkWidths = []int64{1280, 390, 360}
)

// say is the text in the view's language.
func (v view) say(en, ko string) string {
	if v.lang == "ko" {
		return ko
	}
	return en
}

func (v view) phone() bool { return v.width < 600 }

func (v view) apply(tab *chromium.Tab) {
	tab.SetViewport(v.width, 900, v.phone())
	if got, _ := tab.Eval(`document.documentElement.lang`); got != v.lang {
		tab.Click("#lang")
		tab.WaitTrue("language "+v.lang, fmt.Sprintf(`document.documentElement.lang === %q`, v.lang))
	}
}

// forViews runs a flow once per flow view, each in its own tab.
func forViews(t *testing.T, flow func(t *testing.T, s *localstack.Main, v view, tab *chromium.Tab)) {
	s := stack(t)
	for _, v := range flowViews {
		t.Run(v.name, func(t *testing.T) {
			flow(t, s, v, open(t, s, v))
		})
	}
}

// open is the page in a new tab as view v's person opens it.
func open(t *testing.T, s *localstack.Main, v view) *chromium.Tab {
	t.Helper()
	tab := chromium.ForTest(t)
	tab.SetTimezone(v.tz)
	tab.SetViewport(v.width, 900, v.phone())
	tab.Navigate(s.APIURL() + "/?lang=" + v.lang)
	idle(t, s, tab)
	return tab
}

// idle waits until the page at the stack's address has finished what it
// was doing (it marks itself aria-busy meanwhile, as it greys its buttons).
func idle(t *testing.T, s *localstack.Main, tab *chromium.Tab) {
	t.Helper()
	tab.WaitTrue("the page, done", fmt.Sprintf(`location.origin === %q && document.body.getAttribute("aria-busy") === "false"`, s.APIURL()))
}

// login clicks button on the page and agrees at the double's consent page
// as Kakao account kakaoID (0: the account the page offers), typing the id
// as a person does; then waits until the page is done with the login.
func login(t *testing.T, s *localstack.Main, tab *chromium.Tab, button string, kakaoID int64) {
	t.Helper()
	tab.Click(button)
	tab.WaitVisible("#consent")
	if kakaoID != 0 {
		tab.Type("#account-id", strconv.FormatInt(kakaoID, 10))
	}
	tab.Click("#consent")
	idle(t, s, tab)
}

// firstLogin logs in a new Kakao account, and returns its id and its
// Cognito user's sub.
func firstLogin(t *testing.T, s *localstack.Main, tab *chromium.Tab) (int64, string) {
	t.Helper()
	id := newKakaoID()
	login(t, s, tab, "#kakao-login", id)
	sub := tab.Text("#sub")
	if sub == "" || attr(t, tab, "#user-kind", "data-kind") != "new" {
		t.Fatalf("the first login of %d: sub %q, %q", id, sub, tab.Text("#user-kind"))
	}
	return id, sub
}

func mapping(t *testing.T, s *localstack.Main, kakaoID int64) (kakaoauth.Mapping, bool) {
	t.Helper()
	m, err := s.Deps().Mappings().Get(context.Background(), kakaoID)
	var notFound *kakaoauth.NotFound
	if errors.As(err, &notFound) {
		return m, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return m, true
}

func attr(t *testing.T, tab *chromium.Tab, sel, name string) string {
	t.Helper()
	s, err := tab.Eval(fmt.Sprintf(`(document.querySelector(%q) || {getAttribute: () => ""}).getAttribute(%q) || ""`, sel, name))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func disabled(t *testing.T, tab *chromium.Tab, sel string) bool {
	s, _ := tab.Eval(fmt.Sprintf(`String(document.querySelector(%q).disabled)`, sel))
	return s == "true"
}

func expect(t *testing.T, tab *chromium.Tab, want map[string]string) {
	t.Helper()
	for sel, v := range want {
		if got := tab.Text(sel); got != v {
			t.Errorf("%s = %q, want %q", sel, got, v)
		}
	}
}

func equals(want string) func(string) bool { return func(s string) bool { return s == want } }

func contains(want string) func(string) bool {
	return func(s string) bool { return strings.Contains(s, want) }
}

// shortened is how the page shows a token: never whole, its length in
// the language's digits.
var shortened = regexp.MustCompile(`^\S{12}…\S{8} \(\d{1,3}(,\d{3})*\)$`)

// expTime is how the page writes a time in view v: Korean's own format
// with KST in Seoul, English's with the zone's name elsewhere.
func expTime(v view, unix int64) string {
	loc, err := time.LoadLocation(v.tz)
	if err != nil {
		panic(err)
	}
	at := time.Unix(unix, 0).In(loc)
	if v.lang == "ko" {
		ampm := "오전"
		if at.Hour() >= 12 {
			ampm = "오후"
		}
		h := at.Hour() % 12
		if h == 0 {
			h = 12
		}
		return fmt.Sprintf("%d년 %d월 %d일 %s %d:%02d:%02d KST", at.Year(), at.Month(), at.Day(), ampm, h, at.Minute(), at.Second())
	}
	return at.Format("January 2, 2006 at 3:04:05 PM MST")
}

// clock is a time of day as the page writes it in view v.
func clock(v view) *regexp.Regexp {
	if v.lang == "ko" {
		return regexp.MustCompile(`^(오전|오후) \d{1,2}:\d{2}:\d{2} KST$`)
	}
	return regexp.MustCompile(`^at \d{1,2}:\d{2}:\d{2} (AM|PM) P[SD]T$`)
}

// docsScreenshots writes the docs' pictures of the page: *screenshot in
// English, and beside it (name.ko.png) in Korean, both at desktop width,
// on a computer in Korea.
func docsScreenshots(t *testing.T, tab *chromium.Tab) {
	t.Helper()
	ext := filepath.Ext(*screenshot)
	tab.SetTimezone("Asia/Seoul")
	for lang, path := range map[string]string{"ko": strings.TrimSuffix(*screenshot, ext) + ".ko" + ext, "en": *screenshot} {
		tab.Click("#lang") // drawn again, in the time zone too
		view{lang: lang, width: 1280}.apply(tab)
		if err := os.WriteFile(path, tab.Screenshot(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tab.SetTimezone(desktopEn.tz)
	tab.Click("#lang")
	desktopEn.apply(tab)
}

// ------------------------------------------------------------ every view

// inEveryView checks the page's present state in every view, and puts the
// tab back in view v.
func inEveryView(t *testing.T, tab *chromium.Tab, v view, state string) {
	t.Helper()
	for _, lang := range []string{"en", "ko"} {
		view{lang: lang, width: checkWidths[0]}.apply(tab)
		// What assistive technology gets does not change with the width.
		for _, problem := range axProblems(t, tab) {
			t.Errorf("%s, %s: %s", state, lang, problem)
		}
		for _, w := range checkWidths {
			cv := view{name: fmt.Sprintf("%s-%d", lang, w), lang: lang, width: w}
			cv.apply(tab)
			for _, problem := range pageProblems(t, tab) {
				t.Errorf("%s, %s: %s", state, cv.name, problem)
			}
			if *shots != "" {
				name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name() + "-" + state + "-" + cv.name + ".png")
				if err := os.WriteFile(filepath.Join(*shots, name), tab.Screenshot(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	v.apply(tab)
}

// pageJS finds, in the page as drawn, what would mislead or lock out a
// person: anything wider than the window, words not in the page's
// language (outside code and text marked with its own language), headings
// out of order.
const pageJS = `(() => {
  const problems = [];
  const W = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > W) problems.push("the page is " + document.documentElement.scrollWidth + " px wide in a " + W + " px window");
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.split(" ")[0] : "");
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest(".visually-hidden")) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > W + 0.5 || r.left < -0.5) problems.push(name(el) + " overflows: " + Math.round(r.left) + "…" + Math.round(r.right) + " px of " + W);
  }
  const lang = document.documentElement.lang;
  // Korean text may name things: products, protocols, identifiers
  // (CamelCase, UPPER_CASE), which are not English words.
  const names = new Set(["kakaoauth", "Cognito", "OpenID", "Connect", "Amplify", "signInWithRedirect", "nonce", "sub", "auth", "kakao", "state", "oauth2", "token", "ms", "Redirect", "me", "link"]);
  const foreign = (w) => lang === "ko" ? !(names.has(w) || /^[A-Z0-9_]+$/.test(w) || /^[A-Z][a-z0-9]+([A-Z][a-z0-9]*)+$/.test(w)) : /[\u3131-\u318E\uAC00-\uD7A3]/.test(w);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest("script, style, template, code")) continue;
    const marked = el.closest("[lang]");
    if (marked && marked.lang !== lang) continue;
    if (!el.getClientRects().length && !el.closest("#announce")) continue;
    const words = lang === "ko" ? (n.textContent.match(/[A-Za-z][A-Za-z0-9_]*/g) || []) : [n.textContent];
    for (const w of words) if (foreign(w)) problems.push("not in " + lang + ": " + JSON.stringify(w) + " in " + name(el) + " «" + n.textContent.trim().slice(0, 80) + "»");
  }
  const h1 = document.querySelectorAll("h1");
  if (h1.length !== 1) problems.push(h1.length + " h1 elements");
  let level = 0;
  for (const h of document.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    if (!h.getClientRects().length) continue;
    const l = Number(h.tagName[1]);
    if (l > level + 1) problems.push(h.tagName + " " + JSON.stringify(h.textContent) + " after h" + level);
    level = l;
  }
  return JSON.stringify(problems.slice(0, 12));
})()`

func pageProblems(t *testing.T, tab *chromium.Tab) []string {
	t.Helper()
	raw, err := tab.Eval(pageJS)
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	if err := json.Unmarshal([]byte(raw), &problems); err != nil {
		t.Fatalf("page check: %v: %s", err, raw)
	}
	return problems
}

// axProblems checks what assistive technology gets: a name for every
// control; the language button's includes the words it shows (WCAG 2.5.3).
func axProblems(t *testing.T, tab *chromium.Tab) []string {
	t.Helper()
	var problems []string
	for _, n := range tab.AXTree() {
		switch n.Role {
		case "button", "link", "textbox", "checkbox", "spinbutton", "combobox":
			if strings.TrimSpace(n.Name) == "" {
				problems = append(problems, "a "+n.Role+" without a name")
			}
		}
	}
	if name, shown := tab.AccessibleName("#lang"), tab.Text("#lang"); !strings.Contains(name, shown) {
		problems = append(problems, fmt.Sprintf("the language button shows %q but is named %q", shown, name))
	}
	return problems
}

// tabOrder tabs through the page from its start and says where the keyboard
// focus went out of the visual order (top to bottom, left to right in a
// row); it returns the ids focused.
func tabOrder(t *testing.T, tab *chromium.Tab) []string {
	t.Helper()
	// The focus on the page itself: the next Tab goes to its first control.
	if _, err := tab.Eval(`document.body.tabIndex = -1, document.body.focus(), document.body.removeAttribute("tabindex"), ""`); err != nil {
		t.Fatal(err)
	}
	type stop struct {
		ID                       string
		Top, Bottom, Left, Right float64
	}
	var stops []stop
	for range 40 {
		tab.Press(chromium.KeyTab)
		raw, _ := tab.Eval(`(() => { const el = document.activeElement; if (!el || el === document.body) return "";
		  const r = el.getBoundingClientRect(); return JSON.stringify({ID: el.id || el.tagName, Top: r.top + scrollY, Bottom: r.bottom + scrollY, Left: r.left, Right: r.right}); })()`)
		if raw == "" {
			break
		}
		var s stop
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			t.Fatal(err)
		}
		if len(stops) > 0 && stops[0].ID == s.ID {
			break
		}
		stops = append(stops, s)
	}
	var ids []string
	for i, s := range stops {
		ids = append(ids, s.ID)
		if i == 0 {
			continue
		}
		p := stops[i-1]
		sameRow := s.Top < p.Bottom-1 && p.Top < s.Bottom-1
		if sameRow && s.Left < p.Right-1 || !sameRow && s.Top < p.Bottom-1 {
			t.Errorf("tab goes from #%s to #%s, which is before it on screen", p.ID, s.ID)
		}
	}
	return ids
}

// ----------------------------------------------------------------- flows

// A first login, its tokens refreshed, the session signed out, the old
// refresh token tried: each button's result is its own, and the session
// says what happened. A keyboard follows the screen, and a screen reader
// hears each result (the status region).
func TestLoginRefreshSignOut(t *testing.T) {
	forViews(t, func(t *testing.T, s *localstack.Main, v view, tab *chromium.Tab) {
		requests := tab.RecordRequests()
		id := int64(demoID)
		if v != desktopEn {
			id = newKakaoID() // a new account typed at the consent page
		}
		inEveryView(t, tab, v, "start")
		if got := tab.Text("#kakao-login"); got != v.say("Log in with Kakao", "카카오 로그인") {
			t.Fatalf("login button %q", got)
		}
		live := false
		for _, n := range tab.AXTree() {
			live = live || n.Role == "status"
		}
		if !live || attr(t, tab, "#announce", "aria-live") != "polite" {
			t.Error("no status region (role status, aria-live polite)")
		}
		// The language button is in the language it offers.
		if got := attr(t, tab, "#lang", "lang"); got != v.say("ko", "en") {
			t.Errorf("the language button's lang is %q", got)
		}
		if got := tabOrder(t, tab); strings.Join(got, " ") != "lang kakao-login login-id-token team-email team-password team-signin" {
			t.Errorf("tab order before a login: %v", got)
		}

		// The double's consent page: Kakao's, with the demo account offered.
		tab.Click("#kakao-login")
		tab.WaitVisible("#consent")
		if !strings.HasPrefix(tab.Location(), s.KakaoURL()+"/oauth/authorize?") {
			t.Fatalf("the login went to %s, not Kakao's authorize page", tab.Location())
		}
		if got, _ := tab.Eval(`document.querySelector("#account-id").value`); got != "4242" {
			t.Fatalf("consent page offers account %q", got)
		}
		if id != demoID {
			tab.Type("#account-id", strconv.FormatInt(id, 10))
		}
		tab.Click("#consent")
		idle(t, s, tab)
		sub := tab.Text("#sub")
		m, ok := mapping(t, s, id)
		if !ok || m.Sub != sub || m.Status != kakaoauth.StatusActive {
			t.Fatalf("page shows sub %q; mapping %+v", sub, m)
		}
		email := kakaofake.DemoUser.Email
		if id != demoID {
			email = fmt.Sprintf("user%d@example.com", id)
		}
		expect(t, tab, map[string]string{
			"#status": "200", "#error": "", "#username": kakaoauth.Username(id),
			"#status-label":  v.say("Broker: POST /auth/kakao", "브로커: POST /auth/kakao"),
			"#error-message": v.say("Signed in: the broker answered with Cognito tokens.", "로그인했습니다: 브로커가 Cognito 토큰으로 응답했습니다."),
			"#user-kind":     v.say("new user: created by this login", "새 사용자: 이번 로그인에서 생성됨"),
			"#mode":          v.say("Kakao access token", "카카오 액세스 토큰"),
			"#session-state": v.say("active", "활성"),
			"#claim-sub":     sub, "#claim-kakao-id": strconv.FormatInt(id, 10), "#claim-email": email, "#claim-email-verified": "true",
			"#signature":   v.say("verified against the pool's JWKS", "사용자 풀 JWKS로 확인됨"),
			"#kakao-login": v.say("Log in again", "다시 로그인"),
		})
		if got := attr(t, tab, "#account-status", "data-value"); got != "active" {
			t.Errorf("account status %q", got)
		}
		for _, sel := range []string{"#token-id", "#token-access", "#token-refresh"} {
			if got := tab.Text(sel); !shortened.MatchString(got) {
				t.Errorf("%s shows %q, want the token shortened", sel, got)
			}
		}
		exp, err := strconv.ParseInt(tab.Text("#claim-exp"), 10, 64)
		if err != nil {
			t.Fatalf("exp %q", tab.Text("#claim-exp"))
		}
		if got, want := tab.Text("#claim-exp-time"), "("+expTime(v, exp)+")"; got != want {
			t.Errorf("exp shown as %q, want %q", got, want)
		}
		if got := tab.Text("#login-outcome .outcome-at"); !clock(v).MatchString(got) {
			t.Errorf("login time %q", got)
		}
		hops := tab.Text("#hops")
		for _, h := range []string{v.say("Kakao: authorize + consent", "카카오: 인가 + 동의"), v.say("Broker: POST /auth/kakao200", "브로커: POST /auth/kakao200"),
			v.say("Cognito ID token ↔ pool JWKSverified", "Cognito ID 토큰 ↔ 사용자 풀 JWKS확인됨")} {
			if !strings.Contains(hops, h) {
				t.Errorf("hops %q lack %q", hops, h)
			}
		}
		if !regexp.MustCompile(v.say(`\d+ ms`, `\d+ms`)).MatchString(hops) {
			t.Errorf("hops %q show no times", hops)
		}
		// The access-token path: the broker asked Kakao which app the token is of.
		if s.Double().Hits("/v1/user/access_token_info") == 0 {
			t.Error("the broker never called access_token_info")
		}
		tab.WaitText("#announce", contains(v.say("Login: Signed in", "로그인: 로그인했습니다")))
		if got := tabOrder(t, tab); strings.Join(got, " ") != "lang kakao-login login-id-token team-email team-password team-signin refresh signout me credentials unlink" {
			t.Errorf("tab order after a login: %v", got)
		}
		inEveryView(t, tab, v, "logged-in")

		// The refresh, from the browser: the JavaScript client asks Cognito.
		tab.Click("#refresh")
		idle(t, s, tab)
		expect(t, tab, map[string]string{
			"#refresh-outcome .outcome-text": v.say("Tokens refreshed with REFRESH_TOKEN_AUTH, from the browser (the JavaScript client).",
				"브라우저에서 REFRESH_TOKEN_AUTH로 토큰을 갱신했습니다 (JavaScript 클라이언트)."),
			"#status": "200", // the login's, as before
		})
		if got := attr(t, tab, "#refresh-outcome", "data-state"); got != "ok" {
			t.Errorf("refresh outcome %q", got)
		}
		tab.WaitText("#hops", contains(v.say("Cognito: REFRESH_TOKEN_AUTHOK", "Cognito: REFRESH_TOKEN_AUTH성공")))
		// The refreshed ID token is verified again, for the same user.
		tab.WaitText("#hops", func(h string) bool {
			return strings.Count(h, v.say("Cognito ID token ↔ pool JWKSverified", "Cognito ID 토큰 ↔ 사용자 풀 JWKS확인됨")) == 2
		})
		if got := tab.Text("#claim-sub"); got != sub {
			t.Errorf("refreshed ID token sub %q, want %q", got, sub)
		}
		tab.WaitText("#announce", contains(v.say("Refresh: Tokens refreshed", "갱신: 브라우저에서 REFRESH_TOKEN_AUTH로 토큰을 갱신했습니다")))

		// The app's own API: GET /me with the (refreshed) ID token.
		tab.Click("#me")
		idle(t, s, tab)
		expect(t, tab, map[string]string{
			"#me-outcome .outcome-text": v.say("Your API accepted the ID token and answered for its user.", "내 API가 ID 토큰을 받아들이고 그 사용자로 응답했습니다."),
			"#me-sub":                   sub, "#me-kakao-id": strconv.FormatInt(id, 10),
		})
		tab.WaitText("#hops", contains(v.say("Your API: GET /me200", "내 API: GET /me200")))
		tab.WaitText("#announce", contains(v.say("Call my API: Your API accepted", "내 API 호출: 내 API가 ID 토큰을")))
		idToken := meCall(t, s, requests())

		// AWS credentials from the identity pool, and whose they are.
		tab.Click("#credentials")
		idle(t, s, tab)
		expect(t, tab, map[string]string{
			"#credentials-outcome .outcome-text": v.say("The identity pool gave AWS credentials, and STS says whose they are.",
				"자격 증명 풀이 AWS 자격 증명을 주었고, STS가 그 주인을 확인했습니다."),
		})
		credentialsShown(t, s, tab, requests(), idToken)
		if *screenshot != "" && v == desktopEn {
			docsScreenshots(t, tab)
		}
		inEveryView(t, tab, v, "api-and-credentials")

		// The sign-out, from the browser: the client's RevokeToken; the
		// page then tries the old refresh token, which Cognito refuses.
		tab.Click("#signout")
		idle(t, s, tab)
		expect(t, tab, map[string]string{
			"#session-state": v.say("signed out: Cognito revoked the refresh token", "로그아웃됨: Cognito가 리프레시 토큰을 폐기함"),
			"#signout-outcome .outcome-text": v.say("Signed out: Cognito revoked the refresh token (RevokeToken). The old refresh token is now refused (NotAuthorizedException).",
				"로그아웃했습니다: Cognito가 리프레시 토큰을 폐기했습니다 (RevokeToken). 이전 리프레시 토큰은 이제 거부됩니다 (NotAuthorizedException)."),
		})
		tab.WaitText("#announce", contains(v.say("Sign out: Signed out: Cognito revoked", "로그아웃: 로그아웃했습니다: Cognito가")))
		if attr(t, tab, "#session-state", "data-state") != "signedOut" || !disabled(t, tab, "#signout") || disabled(t, tab, "#refresh") ||
			!disabled(t, tab, "#me") || !disabled(t, tab, "#credentials") {
			t.Errorf("after the sign-out: session %q, sign-out disabled %t, refresh disabled %t, /me disabled %t, credentials disabled %t",
				attr(t, tab, "#session-state", "data-state"), disabled(t, tab, "#signout"), disabled(t, tab, "#refresh"),
				disabled(t, tab, "#me"), disabled(t, tab, "#credentials"))
		}
		// Cognito itself, asked by the test: the revoked refresh token is refused.
		revokedRefused(t, s, requests())
		inEveryView(t, tab, v, "signed-out")

		// The old refresh token no longer works: the refresh's own outcome
		// says so; the login's answer (200) stays the login's.
		tab.Click("#refresh")
		idle(t, s, tab)
		tab.WaitText("#refresh-outcome .outcome-code", equals("SessionExpired"))
		expect(t, tab, map[string]string{
			// The client's SessionExpiredError, with its userMessage.
			"#refresh-outcome .outcome-text":   v.say("Your session has ended. Please sign in again.", "로그인이 만료되었습니다. 다시 로그인해 주세요."),
			"#refresh-outcome .outcome-detail": v.say("Cognito said: NotAuthorizedException: Refresh Token has been revoked", "Cognito 원문: NotAuthorizedException: Refresh Token has been revoked"),
			"#error":                           "",
			"#status":                          "200",
			"#session-state":                   v.say("signed out: Cognito revoked the refresh token", "로그아웃됨: Cognito가 리프레시 토큰을 폐기함"),
		})
		if got := tab.Text("#refresh-outcome"); strings.Contains(got, "200") || strings.Contains(got, "HTTP") {
			t.Errorf("the refresh's outcome %q carries another answer's status", got)
		}
		if got := attr(t, tab, "#signout-outcome", "data-state"); got != "ok" {
			t.Errorf("the sign-out's outcome became %q", got)
		}
		if got := tab.Text("#refresh-outcome .outcome-at"); !clock(v).MatchString(got) {
			t.Errorf("refresh time %q", got)
		}
		tab.WaitText("#announce", contains("SessionExpired"))
		inEveryView(t, tab, v, "refresh-refused")

		// Signed in again: the same user, a new session; the old session's
		// outcomes are gone with it.
		login(t, s, tab, "#kakao-login", id)
		expect(t, tab, map[string]string{
			"#sub": sub, "#user-kind": v.say("existing user: signed in again", "기존 사용자: 다시 로그인함"), "#session-state": v.say("active", "활성"),
		})
		if h, _ := tab.Eval(`String(document.querySelector("#refresh-outcome").hidden && document.querySelector("#signout-outcome").hidden)`); h != "true" {
			t.Error("the last session's outcomes are still shown")
		}

		// Every request to the page's backend says it is the page's, and
		// every POST is JSON; the login API and Cognito get no such header
		// (a deployed API's CORS would have to allow it). The session's
		// tokens went from the browser to Cognito, never through the
		// page's backend.
		var backend, broker int
		for _, r := range requests() {
			switch {
			case strings.HasPrefix(r.URL, s.APIURL()+"/tryit/api/refresh"), strings.HasPrefix(r.URL, s.APIURL()+"/tryit/api/signout"):
				t.Errorf("the page's backend refreshed or signed out: %s %s", r.Method, r.URL)
			case strings.HasPrefix(r.URL, s.APIURL()+"/tryit/api/"):
				backend++
				if r.Headers[tryit.PageHeader] != "1" || r.Method == http.MethodPost && !strings.HasPrefix(r.Headers["Content-Type"], "application/json") {
					t.Errorf("%s %s with headers %v", r.Method, r.URL, r.Headers)
				}
			case r.URL == s.APIURL()+"/auth/kakao":
				broker++
				if _, ok := r.Headers[tryit.PageHeader]; ok || r.Headers["Content-Type"] != "application/json" {
					t.Errorf("POST /auth/kakao with headers %v", r.Headers)
				}
			case strings.HasPrefix(r.URL, s.MotoURL()) && r.Method == http.MethodPost:
				if _, ok := r.Headers[tryit.PageHeader]; ok {
					t.Errorf("Cognito got the page's header: %s", r.Headers["X-Amz-Target"])
				}
			}
		}
		if backend < 8 || broker != 2 {
			t.Errorf("%d requests to the backend, %d to the broker", backend, broker)
		}
	})
}

// Log in with an OpenID Connect ID token (and the page's nonce).
func TestIDTokenLogin(t *testing.T) {
	forViews(t, func(t *testing.T, s *localstack.Main, v view, tab *chromium.Tab) {
		id := newKakaoID()
		before := s.Double().Hits("/v1/user/access_token_info")
		requests := tab.RecordRequests()
		tab.Click("#login-id-token")
		tab.WaitVisible("#consent")
		loc := tab.Location()
		for _, p := range []string{"scope=openid", "nonce=", "state="} {
			if !strings.Contains(loc, p) {
				t.Fatalf("authorize request %s lacks %s", loc, p)
			}
		}
		authorize, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		hashed := authorize.Query().Get("nonce")
		tab.Type("#account-id", strconv.FormatInt(id, 10))
		tab.Click("#consent")
		idle(t, s, tab)
		sub := tab.Text("#sub")
		if m, ok := mapping(t, s, id); !ok || m.Sub != sub {
			t.Fatalf("mapping %+v, page sub %s", m, sub)
		}
		// Kakao got the nonce's SHA-256 (lowercase hex), the broker the raw
		// nonce: what the stack accepts by default.
		raw := brokerNonce(t, s, requests())
		if sum := sha256.Sum256([]byte(raw)); len(raw) < 16 || hashed != hex.EncodeToString(sum[:]) {
			t.Errorf("Kakao got nonce %q, the broker %q: want the raw nonce (16 characters or more) and its hex SHA-256", hashed, raw)
		}
		expect(t, tab, map[string]string{
			"#mode":      v.say("Kakao ID token (OIDC, hashed nonce)", "카카오 ID 토큰 (OIDC, 해시한 nonce)"),
			"#signature": v.say("verified against the pool's JWKS", "사용자 풀 JWKS로 확인됨"),
		})
		// The broker verified the Kakao ID token itself (its signature, aud
		// and the page's nonce): it never asked Kakao about an access token.
		if n := s.Double().Hits("/v1/user/access_token_info") - before; n != 0 {
			t.Errorf("an ID-token login called access_token_info %d times", n)
		}
	})
}

// Unlink at Kakao: the double calls the stack's unlink webhook, which
// queues it for the worker; the page watches the mapping's status change,
// and the session ends with it. The next Kakao login (a fresh consent)
// re-links the account: the same Cognito user, which the page says.
func TestUnlinkThenRelink(t *testing.T) {
	forViews(t, func(t *testing.T, s *localstack.Main, v view, tab *chromium.Tab) {
		id, sub := firstLogin(t, s, tab)
		if disabled(t, tab, "#unlink") {
			t.Fatal("unlink is disabled for an active account")
		}

		tab.Click("#unlink")
		idle(t, s, tab)
		tab.WaitTrue("the unlink, landed", `document.querySelector("#account-status").dataset.value === "unlinked"`)
		expect(t, tab, map[string]string{
			"#unlink-outcome .outcome-text": v.say("The account is unlinked: its Cognito user is disabled. Log in again to re-link it.",
				"계정 연결이 끊겼습니다: Cognito 사용자가 사용 중지되었습니다. 다시 로그인하면 다시 연결됩니다."),
			"#session-state": v.say("ended by the unlink: the stack disabled the Cognito user and revoked its tokens",
				"연결 끊기로 종료됨: 스택이 Cognito 사용자를 사용 중지하고 토큰을 폐기함"),
		})
		if got := tab.Text("#account-status"); !strings.HasPrefix(got, v.say("unlinked (since ", "연결 끊김 (")) {
			t.Errorf("account status %q", got)
		}
		if attr(t, tab, "#session-state", "data-state") != "unlinked" || !disabled(t, tab, "#unlink") || !disabled(t, tab, "#signout") {
			t.Errorf("after the unlink: session %q, unlink disabled %t, sign-out disabled %t",
				attr(t, tab, "#session-state", "data-state"), disabled(t, tab, "#unlink"), disabled(t, tab, "#signout"))
		}
		hops := tab.Text("#hops")
		if !strings.Contains(hops, v.say("Kakao: unlink → webhookcallback 200", "카카오: 연결 끊기 → 웹훅웹훅 응답 200")) ||
			!strings.Contains(hops, v.say("Unlink visible in the mapping", "연결 끊기가 매핑에 반영됨")) {
			t.Errorf("hops %q", hops)
		}
		if m, _ := mapping(t, s, id); m.Status != kakaoauth.StatusUnlinked {
			t.Fatalf("mapping status %q after the unlink", m.Status)
		}
		inEveryView(t, tab, v, "unlinked")

		// The stack revoked the session: the refresh token is refused, and
		// the session stays what the unlink made it.
		tab.Click("#refresh")
		idle(t, s, tab)
		tab.WaitText("#refresh-outcome .outcome-code", equals("SessionExpired"))
		if got := attr(t, tab, "#session-state", "data-state"); got != "unlinked" {
			t.Errorf("session %q after a refused refresh", got)
		}

		// The return: re-linked, the same sub, the account active again.
		login(t, s, tab, "#kakao-login", id)
		expect(t, tab, map[string]string{
			"#status": "200", "#error": "", "#sub": sub,
			"#user-kind":     v.say("re-linked: the same Cognito user as before the unlink (same sub)", "다시 연결됨: 연결 끊기 전과 같은 Cognito 사용자 (sub 그대로)"),
			"#session-state": v.say("active", "활성"),
		})
		tab.WaitTrue("the account, active", `document.querySelector("#account-status").dataset.value === "active"`)
		if disabled(t, tab, "#unlink") {
			t.Error("unlink is disabled for the re-linked account")
		}
		if m, _ := mapping(t, s, id); m.Status != kakaoauth.StatusActive || m.Sub != sub || m.RelinkedAt.IsZero() {
			t.Fatalf("mapping after the return %+v", m)
		}
		inEveryView(t, tab, v, "relinked")

		// Once more: a plain return now, not a re-link.
		login(t, s, tab, "#kakao-login", id)
		if got := attr(t, tab, "#user-kind", "data-kind"); got != "returning" {
			t.Errorf("the login after the re-link is %q", got)
		}
	})
}

// The account's Cognito user was deleted behind the broker's back: the
// next login creates a new one, and the page shows both subs.
func TestRecreatedUser(t *testing.T) {
	forViews(t, func(t *testing.T, s *localstack.Main, v view, tab *chromium.Tab) {
		id, old := firstLogin(t, s, tab)
		if err := s.Deps().Users().DeleteUser(context.Background(), kakaoauth.Username(id)); err != nil {
			t.Fatal(err)
		}
		login(t, s, tab, "#kakao-login", id)
		sub := tab.Text("#sub")
		if sub == "" || sub == old {
			t.Fatalf("sub %q after the recreation, was %q", sub, old)
		}
		expect(t, tab, map[string]string{
			"#user-kind":    v.say("recreated: a new Cognito user (new sub) in place of the deleted one", "다시 생성됨: 삭제된 사용자 대신 새 Cognito 사용자 (새 sub)"),
			"#previous-sub": old,
		})
		if m, _ := mapping(t, s, id); m.Sub != sub || len(m.PreviousSubs) == 0 || m.PreviousSubs[len(m.PreviousSubs)-1] != old {
			t.Errorf("mapping %+v", m)
		}
		inEveryView(t, tab, v, "recreated")
	})
}

// Cancel at the consent page: Kakao's access_denied, in the page's words
// and Kakao's, and nothing sent on.
func TestCancelAtConsent(t *testing.T) {
	forViews(t, func(t *testing.T, s *localstack.Main, v view, tab *chromium.Tab) {
		exchanges := s.Double().Hits("/oauth/token")
		tab.Click("#kakao-login")
		tab.WaitVisible("#cancel")
		tab.Click("#cancel")
		idle(t, s, tab)
		tab.WaitText("#error", equals("access_denied"))
		expect(t, tab, map[string]string{
			"#error-message":                 v.say("You cancelled at Kakao's consent page: nothing was sent to the broker.", "카카오 동의 화면에서 취소했습니다: 브로커에는 아무것도 보내지 않았습니다."),
			"#login-outcome .outcome-detail": v.say("Kakao said: User denied access", "카카오 원문: User denied access"),
			"#status-label":                  v.say("Kakao: authorize + consent (includes you)", "카카오: 인가 + 동의 (사용자 시간 포함)"),
			"#status":                        "",
			"#sub":                           "",
		})
		if hidden, _ := tab.Eval(`String(document.querySelector("#user").hidden)`); hidden != "true" {
			t.Error("a cancelled login shows a user")
		}
		if tab.Location() != s.APIURL()+"/" {
			t.Errorf("location %s: the callback URL should be replaced", tab.Location())
		}
		if n := s.Double().Hits("/oauth/token") - exchanges; n != 0 {
			t.Errorf("a cancelled login exchanged a code (%d calls)", n)
		}
		inEveryView(t, tab, v, "cancelled")
	})
}

// An answer whose state is not the one this page sent is refused before
// its code is used: the double's token endpoint is never called.
func TestStateMismatchIsRefused(t *testing.T) {
	s := stack(t)
	tab := open(t, s, phoneKo)
	exchanges := s.Double().Hits("/oauth/token")
	tab.Click("#kakao-login") // a login is pending, with its own state
	tab.WaitVisible("#consent")
	tab.Navigate(s.APIURL() + "/callback?code=forged-code&state=forged-state")
	tab.WaitText("#error", equals("StateMismatch"))
	if got := tab.Text("#error-message"); got != "돌아온 state가 이 페이지가 보낸 값과 다릅니다: 응답을 거부합니다." {
		t.Errorf("message %q", got)
	}
	// And a callback with no login pending at all.
	tab.Navigate(s.APIURL() + "/callback?code=forged-code&state=")
	tab.WaitText("#error", equals("StateMismatch"))
	if n := s.Double().Hits("/oauth/token") - exchanges; n != 0 {
		t.Errorf("the forged code was exchanged (%d calls)", n)
	}
	if got := tab.Text("#sub"); got != "" {
		t.Errorf("sub %q", got)
	}
}

// Kakao is down: the page shows the broker's KakaoUnavailable in the
// reader's language (errors.go's words, from /tryit/api/messages), and nothing was half-done (no
// Cognito user, no mapping), so the next login, once Kakao is back, is the
// account's first.
func TestKakaoOutage(t *testing.T) {
	forViews(t, func(t *testing.T, s *localstack.Main, v view, tab *chromium.Tab) {
		id := newKakaoID()
		if err := s.Double().SetFault(kakaofake.Fault{Path: "/v1/user/access_token_info", Status: http.StatusInternalServerError, Count: 1000}); err != nil {
			t.Fatal(err)
		}
		login(t, s, tab, "#kakao-login", id)
		if err := s.Double().SetFault(kakaofake.Fault{Path: "/v1/user/access_token_info", Count: 0}); err != nil {
			t.Fatal(err)
		}
		tab.WaitText("#error", equals("KakaoUnavailable"))
		expect(t, tab, map[string]string{
			"#status":        "502",
			"#error-message": v.say(kakaoauth.OutcomeOf("KakaoUnavailable").Message, kakaoauth.OutcomeOf("KakaoUnavailable").MessageKo),
			"#status-label":  v.say("Broker: POST /auth/kakao", "브로커: POST /auth/kakao"),
		})
		if _, ok := mapping(t, s, id); ok {
			t.Error("a failed login left a mapping")
		}
		var notFound *kakaoauth.NotFound
		if _, err := s.Deps().Users().GetUser(context.Background(), kakaoauth.Username(id)); !errors.As(err, &notFound) {
			t.Errorf("a failed login left a Cognito user (%v)", err)
		}
		inEveryView(t, tab, v, "kakao-down")

		login(t, s, tab, "#kakao-login", id)
		tab.WaitText("#sub", func(s string) bool { return s != "" })
		if got := attr(t, tab, "#user-kind", "data-kind"); got != "new" {
			t.Errorf("after the outage: %q", got)
		}
		expect(t, tab, map[string]string{"#error": "", "#status": "200"})
	})
}

// The consent page: a new Kakao id is a new account (its own email, not
// the last one's), Enter agrees, Cancel and Agree are in the tab order
// they are on screen; an email that belongs to another account's user is
// the broker's AccountConflict, in the page's language.
func TestConsentPage(t *testing.T) {
	forViews(t, func(t *testing.T, s *localstack.Main, v view, tab *chromium.Tab) {
		known := kakaofake.User{ID: newKakaoID(), Email: fmt.Sprintf("known%d@example.com", lastID.Load()), IsEmailValid: true, IsEmailVerified: true, Nickname: "known"}
		if err := s.Double().AddUser(known); err != nil {
			t.Fatal(err)
		}
		tab.Click("#kakao-login")
		tab.WaitVisible("#consent")
		value := func(sel string) string {
			s, _ := tab.Eval(fmt.Sprintf(`String(document.querySelector(%q).type === "checkbox" ? document.querySelector(%q).checked : document.querySelector(%q).value)`, sel, sel, sel))
			return s
		}
		if value("#account-email") != kakaofake.DemoUser.Email {
			t.Fatalf("offered email %q", value("#account-email"))
		}
		// A known account's id fills in that account.
		tab.Type("#account-id", strconv.FormatInt(known.ID, 10))
		if value("#account-email") != known.Email || value("#account-nickname") != "known" {
			t.Errorf("known account %d: email %q nickname %q", known.ID, value("#account-email"), value("#account-nickname"))
		}
		// A new id is a new account: never the last account's email.
		id := newKakaoID()
		tab.Type("#account-id", strconv.FormatInt(id, 10))
		if want := fmt.Sprintf("user%d@example.com", id); value("#account-email") != want || value("#consent-email") != "true" || value("#account-nickname") != fmt.Sprintf("user%d", id) {
			t.Errorf("new account %d: email %q (consent %s), nickname %q; want %s", id, value("#account-email"), value("#consent-email"), value("#account-nickname"), want)
		}
		// Cancel comes first on screen and in the tab order, then Agree.
		tab.Focus("#consent-email")
		tab.Press(chromium.KeyTab)
		first, _ := tab.Eval(`document.activeElement.id`)
		tab.Press(chromium.KeyTab)
		second, _ := tab.Eval(`document.activeElement.id`)
		if first != "cancel" || second != "consent" {
			t.Errorf("tab order after the last field: %s, %s", first, second)
		}
		if left, _ := tab.Eval(`String(document.querySelector("#cancel").getBoundingClientRect().left < document.querySelector("#consent").getBoundingClientRect().left)`); left != "true" {
			t.Error("Cancel is not shown before Agree")
		}
		if overflow, _ := tab.Eval(`String(document.documentElement.scrollWidth > document.documentElement.clientWidth)`); overflow != "false" {
			t.Error("the consent page is wider than the window")
		}
		if *shots != "" {
			if err := os.WriteFile(filepath.Join(*shots, strings.ReplaceAll(t.Name(), "/", "-")+"-consent.png"), tab.Screenshot(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// Enter in a field agrees.
		tab.Focus("#account-id")
		tab.Press(chromium.KeyEnter)
		idle(t, s, tab)
		tab.WaitText("#sub", func(s string) bool { return s != "" })
		if got := tab.Text("#claim-email"); got != fmt.Sprintf("user%d@example.com", id) {
			t.Errorf("the new account logged in with email %q", got)
		}

		// Another account's email, typed in on purpose: a conflict.
		tab.Click("#kakao-login")
		tab.WaitVisible("#consent")
		tab.Type("#account-id", strconv.FormatInt(newKakaoID(), 10))
		tab.Type("#account-email", fmt.Sprintf("user%d@example.com", id))
		tab.Click("#consent")
		idle(t, s, tab)
		tab.WaitText("#error", equals("AccountConflict"))
		expect(t, tab, map[string]string{
			"#status":        "409",
			"#error-message": v.say(kakaoauth.OutcomeOf("AccountConflict").Message, kakaoauth.OutcomeOf("AccountConflict").MessageKo),
		})
		inEveryView(t, tab, v, "conflict")
	})
}
