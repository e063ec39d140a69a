package docs_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	citypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"gopkg.in/yaml.v3"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/localapi"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// The app-integration docs cannot drift from the contract: every endpoint,
// JSON member, Cognito operation and member, error code and client export
// their code uses exists (template.yaml's API, workflow's request and
// answer, errors.go, the AWS SDK's shapes, the JavaScript client), every
// table of messages is the client's, and the body each platform's login
// sends is replayed against the local endpoint.

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m)) }

// platforms are the pages with a login snippet.
var platforms = []string{"ios", "android", "flutter", "react-native", "web"}

func docFiles() []string {
	files := []string{"app-integration.md", filepath.Join("ko", "app-integration.md")}
	for _, p := range platforms {
		files = append(files, filepath.Join("clients", p+".md"))
	}
	return files
}

type codeBlock struct {
	file, lang, text string
}

var fence = regexp.MustCompile("(?ms)^```([a-z]*)\n(.*?)^```$")

func blocks(t *testing.T, file string) []codeBlock {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []codeBlock
	for _, m := range fence.FindAllStringSubmatch(string(raw), -1) {
		out = append(out, codeBlock{file: file, lang: m[1], text: m[2]})
	}
	if len(out) == 0 {
		t.Fatalf("%s has no code", file)
	}
	return out
}

func allBlocks(t *testing.T) []codeBlock {
	t.Helper()
	var out []codeBlock
	for _, f := range docFiles() {
		out = append(out, blocks(t, f)...)
	}
	return out
}

func jsonTags(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		if tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ","); tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	return out
}

// members are the Go field names of AWS SDK shapes: for these JSON
// protocols, the wire's member names.
func members(vs ...any) []string {
	var out []string
	for _, v := range vs {
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			if f := rt.Field(i); f.IsExported() && f.Name != "ResultMetadata" {
				out = append(out, f.Name)
			}
		}
	}
	return out
}

// apiPaths are the API's routes, from template.yaml's definition body.
func apiPaths(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	node := &doc
	for _, key := range []string{"", "Resources", "LoginApi", "Properties", "DefinitionBody", "paths"} {
		if key == "" {
			node = node.Content[0]
			continue
		}
		var next *yaml.Node
		for i := 0; i+1 < len(node.Content); i += 2 {
			if node.Content[i].Value == key {
				next = node.Content[i+1]
			}
		}
		if next == nil {
			t.Fatalf("template.yaml has no %s", key)
		}
		node = next
	}
	var paths []string
	for i := 0; i+1 < len(node.Content); i += 2 {
		paths = append(paths, node.Content[i].Value)
	}
	return paths
}

var (
	endpointRE = regexp.MustCompile(`auth/kakao(?:/[a-z]+)*|(?:[>}1]|Url|URL|apiUrl)/me\b|appendingPathComponent\("me"\)|/me'`)
	snakeRE    = regexp.MustCompile(`["']([a-z]+(?:_[a-z]+)+)["']`)
	claimRE    = regexp.MustCompile(`["']((?:custom|cognito):[a-z_]+)["']`)
	pascalRE   = regexp.MustCompile(`["']([A-Z][A-Za-z]+)["']`)
	upperRE    = regexp.MustCompile(`["']([A-Z]+(?:_[A-Z]+)+)["']`)
	targetRE   = regexp.MustCompile(`(AWSCognitoIdentityProviderService|AWSCognitoIdentityService)\.([A-Z][A-Za-z]+)`)
	singleRE   = regexp.MustCompile(`["'](nonce|sub|username|error|message)["']`)
)

// Words of HTTP and the platforms, not of the contract: methods, the
// header the authorizer reads, the answer's token_type, Android's
// Keystore provider.
var platformWords = []string{"GET", "POST", "Authorization", "Bearer", "AndroidKeyStore"}

// Kakao's own OAuth parameters, which the web page's backend comment and
// exchange use: Kakao's API, not kakaoauth's.
var kakaoOAuth = []string{"grant_type", "authorization_code", "client_id", "redirect_uri", "client_secret", "response_type"}

func TestEndpointsExist(t *testing.T) {
	paths := apiPaths(t)
	seen := 0
	for _, b := range allBlocks(t) {
		for _, m := range endpointRE.FindAllString(b.text, -1) {
			path := "/me"
			if strings.HasPrefix(m, "auth/kakao") {
				path = "/" + m
			}
			seen++
			if !slices.Contains(paths, path) {
				t.Errorf("%s: %s is no route of the API (%v)", b.file, path, paths)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no endpoint found in the docs: the pattern is stale")
	}
}

func TestJSONMembersExist(t *testing.T) {
	fields := slices.Concat(jsonTags(workflow.LoginRequest{}), jsonTags(workflow.LoginResponse{}), jsonTags(localapi.MeAnswer{}),
		[]string{"error", "message"}, kakaoOAuth)
	cognito := slices.Concat(members(cip.InitiateAuthInput{}, cip.InitiateAuthOutput{}, ciptypes.AuthenticationResultType{},
		cip.RevokeTokenInput{}, cip.GlobalSignOutInput{}, ci.GetIdInput{}, ci.GetIdOutput{},
		ci.GetCredentialsForIdentityInput{}, ci.GetCredentialsForIdentityOutput{}, citypes.Credentials{}),
		[]string{"__type"})
	// AuthParameters' key for the refresh token, and the flow's name.
	upper := []string{"REFRESH_TOKEN", string(ciptypes.AuthFlowTypeRefreshTokenAuth)}
	codes := errorCodes(t)
	exceptions := []string{(&ciptypes.NotAuthorizedException{}).ErrorCode(), (&ciptypes.TooManyRequestsException{}).ErrorCode()}
	for _, b := range allBlocks(t) {
		for _, m := range snakeRE.FindAllStringSubmatch(b.text, -1) {
			if !slices.Contains(fields, m[1]) {
				t.Errorf("%s: %q is no member of the API's JSON", b.file, m[1])
			}
		}
		for _, m := range upperRE.FindAllStringSubmatch(b.text, -1) {
			if !slices.Contains(upper, m[1]) {
				t.Errorf("%s: %q is not Cognito's", b.file, m[1])
			}
		}
		for _, m := range pascalRE.FindAllStringSubmatch(b.text, -1) {
			w := m[1]
			if !slices.Contains(cognito, w) && !slices.Contains(codes, w) && !slices.Contains(exceptions, w) && !cognitoOperation(w) && !slices.Contains(platformWords, w) {
				t.Errorf("%s: %q is no Cognito member or operation, error code or header the contract has", b.file, w)
			}
		}
		for _, m := range targetRE.FindAllStringSubmatch(b.text, -1) {
			if !cognitoOperation(m[2]) {
				t.Errorf("%s: %s.%s is no Cognito operation", b.file, m[1], m[2])
			}
		}
	}
}

// cognitoOperation says whether op is an operation of Cognito's user pools
// or identity pools (a method of the SDK's clients).
func cognitoOperation(op string) bool {
	_, a := reflect.TypeOf(&cip.Client{}).MethodByName(op)
	_, b := reflect.TypeOf(&ci.Client{}).MethodByName(op)
	return a || b
}

// errorCodes are every code the API answers (errors.go) and the client's
// own.
func errorCodes(t *testing.T) []string {
	t.Helper()
	var codes []string
	for _, o := range kakaoauth.PublicOutcomes() {
		codes = append(codes, o.Code)
	}
	return append(codes, clientCodes...)
}

// clientCodes are the JavaScript client's own codes (src/errors.js), which
// the native pages' clients use alike.
var clientCodes = []string{"NetworkError", "SessionExpired", "NotSignedIn"}

// jsClient runs node on the client's modules and decodes what it prints.
func jsClient(t *testing.T, script string, out any) {
	t.Helper()
	cmd := exec.Command("node", "--input-type=module", "-e", script)
	cmd.Dir = filepath.Join("..", "clients", "js")
	raw, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("node: %v\n%s%s(clients/js's packages come from make test's install step, make tools)", err, raw, stderr)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("node printed %q: %v", raw, err)
	}
}

type message struct{ Ko, En string }

// The client's messages (src/messages.js) are the one table; every page's
// table is it, code for code, and covers every code there is.
func TestMessageTablesAreTheClients(t *testing.T) {
	var js map[string]map[string]string
	jsClient(t, `import { messages } from './src/messages.js'; console.log(JSON.stringify(messages));`, &js)
	want := map[string]message{}
	for code, en := range js["en"] {
		want[code] = message{Ko: js["ko"][code], En: en}
	}
	codes := errorCodes(t)
	if got := slices.Sorted(maps.Keys(want)); !slices.Equal(got, sortedCopy(codes)) {
		t.Fatalf("the client's messages cover %v, the codes are %v", got, sortedCopy(codes))
	}

	entry := regexp.MustCompile(`["'](\w+)["']\s*(?::|to)\s*\(\s*["'](.+?)["']\s*(?:,|to)\s*["'](.+?)["']\s*\)`)
	for _, p := range []string{"ios", "android", "flutter"} {
		file := filepath.Join("clients", p+".md")
		got := map[string]message{}
		for _, b := range blocks(t, file) {
			if strings.Contains(b.text, "kakaoauthMessages") {
				for _, m := range entry.FindAllStringSubmatch(b.text, -1) {
					got[m[1]] = message{Ko: m[2], En: m[3]}
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s's messages differ from the client's:\n got %v\nwant %v", file, got, want)
		}
	}
	row := regexp.MustCompile("(?m)^\\| `(\\w+)` \\| [^|]+ \\| ([^|]+) \\| ([^|]+) \\| [^|]+ \\|$")
	for _, file := range []string{"app-integration.md", filepath.Join("ko", "app-integration.md")} {
		raw, _ := os.ReadFile(file)
		got := map[string]message{}
		for _, m := range row.FindAllStringSubmatch(string(raw), -1) {
			got[m[1]] = message{Ko: strings.TrimSpace(m[2]), En: strings.TrimSpace(m[3])}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s's error table differs from the client's messages:\n got %v\nwant %v", file, got, want)
		}
	}
}

// Every name the JavaScript snippets import from the package is one of its
// exports.
func TestJavaScriptImportsExist(t *testing.T) {
	var exports map[string][]string
	jsClient(t, `const a = await import('./src/index.js'); const b = await import('./src/amplify.js');
console.log(JSON.stringify({'@kakaoauth/client': Object.keys(a), '@kakaoauth/client/amplify': Object.keys(b)}));`, &exports)
	imp := regexp.MustCompile(`(?s)import \{([^}]*)\} from '(@kakaoauth/client(?:/amplify)?)'`)
	n := 0
	for _, b := range allBlocks(t) {
		if b.lang != "js" {
			continue
		}
		for _, m := range imp.FindAllStringSubmatch(b.text, -1) {
			for _, name := range strings.Split(m[1], ",") {
				if name = strings.TrimSpace(name); name != "" {
					n++
					if !slices.Contains(exports[m[2]], name) {
						t.Errorf("%s imports %s from %s, which does not export it", b.file, name, m[2])
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no import of the client found")
	}
}

// The Korean page carries the English page's code, byte for byte.
func TestKoreanPageHasTheSameCode(t *testing.T) {
	en, ko := blocks(t, "app-integration.md"), blocks(t, filepath.Join("ko", "app-integration.md"))
	if len(en) != len(ko) {
		t.Fatalf("%d code blocks in English, %d in Korean", len(en), len(ko))
	}
	for i := range en {
		if en[i].lang != ko[i].lang || en[i].text != ko[i].text {
			t.Errorf("code block %d differs:\n%s\n---\n%s", i, en[i].text, ko[i].text)
		}
	}
}

// loginBody is the JSON a platform's login snippet sends to /auth/kakao:
// the members its request literal names (the JavaScript pages pass them
// to signInWithKakao, which sends them by these names).
func loginBody(t *testing.T, platform string) []string {
	t.Helper()
	file := filepath.Join("clients", platform+".md")
	js := map[string]string{"accessToken": "access_token", "idToken": "id_token", "nonce": "nonce"}
	call := regexp.MustCompile(`signInWithKakao\(\{([^}]*)\}\)`)
	for _, b := range blocks(t, file) {
		if m := call.FindStringSubmatch(b.text); m != nil && b.lang == "js" {
			var keys []string
			for _, part := range strings.Split(m[1], ",") {
				name, _, _ := strings.Cut(strings.TrimSpace(part), ":")
				if k, ok := js[strings.TrimSpace(name)]; ok {
					keys = append(keys, k)
				} else {
					t.Errorf("%s: signInWithKakao takes no %q", file, name)
				}
			}
			return sortedCopy(keys)
		}
		if strings.Contains(b.text, "auth/kakao") {
			keys := map[string]bool{}
			for _, m := range snakeRE.FindAllStringSubmatch(b.text, -1) {
				if slices.Contains(jsonTags(workflow.LoginRequest{}), m[1]) {
					keys[m[1]] = true
				}
			}
			for _, m := range singleRE.FindAllStringSubmatch(b.text, -1) {
				if m[1] == "nonce" {
					keys["nonce"] = true
				}
			}
			return slices.Sorted(maps.Keys(keys))
		}
	}
	t.Fatalf("%s has no login snippet", file)
	return nil
}

// Every claim name the pages read is in the ID token of a Kakao user the
// local stack logged in.
func TestClaimsExist(t *testing.T) {
	s := localstack.ForTest(t, "../template.yaml")
	status, ans := postJSON(t, s.KakaoURL()+"/_fake/tokens", map[string]any{"user_id": kakaofake.DemoUser.ID})
	if status/100 != 2 {
		t.Fatalf("tokens: %d %v", status, ans)
	}
	status, login := postJSON(t, s.APIURL()+"/auth/kakao", map[string]any{"access_token": ans["access_token"]})
	if status != http.StatusOK {
		t.Fatalf("login: %d %v", status, login)
	}
	checkClaims(t, login["id_token"].(string))
}

func postJSON(t *testing.T, url string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// checkClaims: every claim name the pages read is in a Kakao user's ID token.
func checkClaims(t *testing.T, idToken string) {
	t.Helper()
	parts := strings.Split(idToken, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	for _, b := range allBlocks(t) {
		for _, m := range claimRE.FindAllStringSubmatch(b.text, -1) {
			if _, ok := claims[m[1]]; !ok {
				t.Errorf("%s reads the claim %s, which the ID token lacks (%v)", b.file, m[1], slices.Sorted(maps.Keys(claims)))
			}
		}
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}
