package doccheck

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/preflight"
)

const root = "../.."

func loadAll(t *testing.T) map[string]*Doc {
	t.Helper()
	files, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]*Doc{}
	for _, f := range files {
		d, err := Load(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		docs[f] = d
	}
	return docs
}

// GitHub's anchors, as its renderer makes them (Korean headings included).
func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Two flows: the broker and Cognito's hosted UI":          "two-flows-the-broker-and-cognitos-hosted-ui",
		"Against a deployed stack: `kakaoauth tryit`":            "against-a-deployed-stack-kakaoauth-tryit",
		"3. Register the stack in the Kakao console":             "3-register-the-stack-in-the-kakao-console",
		"Kakao's unlink callback: `GET` or `POST /kakao/unlink`": "kakaos-unlink-callback-get-or-post-kakaounlink",
		"카카오 앱 설정하기":                                             "카카오-앱-설정하기",
		"`kakaoauth deploy`로 배포하기":                               "kakaoauth-deploy로-배포하기",
		"API Gateway의 로깅 역할":                                     "api-gateway의-로깅-역할",
		"Calls per login, and the ceilings they imply":           "calls-per-login-and-the-ceilings-they-imply",
		"For auditors: `kakaoauth audit`":                        "for-auditors-kakaoauth-audit",
		"[The CLI](operations.md) and `make_run`":                "the-cli-and-make_run",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
	d := Parse("# A\n## Same\n```sh\n# not a heading\n```\n## Same\n")
	if len(d.Headings) != 3 || d.Headings[2].Slug != "same-1" || len(d.Blocks) != 1 {
		t.Fatalf("%+v", d)
	}
}

// Every relative link of README.md, README.ko.md and docs/ names a file of
// the repository, and every anchor a heading of its page. Nothing refers
// to files outside the repository (DESIGN.md included).
func TestLinksAndAnchors(t *testing.T) {
	docs := loadAll(t)
	checked := 0
	for name, d := range docs {
		raw, _ := os.ReadFile(filepath.Join(root, name))
		if strings.Contains(string(raw), "DESIGN.md") {
			t.Errorf("%s refers to DESIGN.md, which is not part of the repository", name)
		}
		for _, l := range d.Links {
			target := l.Target
			if u := strings.ToLower(target); strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "mailto:") {
				continue
			}
			checked++
			file, anchor, _ := strings.Cut(target, "#")
			resolved := name
			if file != "" {
				resolved = path.Clean(path.Join(path.Dir(name), file))
				if strings.HasPrefix(resolved, "../") || path.IsAbs(file) {
					t.Errorf("%s:%d: %s leaves the repository", name, l.Line, target)
					continue
				}
				if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(resolved))); err != nil {
					t.Errorf("%s:%d: %s: no such file", name, l.Line, target)
					continue
				}
			}
			if anchor == "" {
				continue
			}
			dest, ok := docs[resolved]
			if !ok {
				if !strings.HasSuffix(resolved, ".md") {
					t.Errorf("%s:%d: %s: an anchor into a file that is not Markdown", name, l.Line, target)
					continue
				}
				var err error
				if dest, err = Load(filepath.Join(root, filepath.FromSlash(resolved))); err != nil {
					t.Fatal(err)
				}
			}
			if !dest.Anchors()[anchor] {
				t.Errorf("%s:%d: %s: %s has no heading with that anchor", name, l.Line, target, resolved)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d relative links checked: is the parser finding them?", checked)
	}
}

// Each Korean page mirrors its English page: the same headings at the same
// levels in the same order, and the same code blocks, byte for byte, in
// order (so a command changed in one is changed in both).
func TestKoreanPagesMirrorEnglish(t *testing.T) {
	docs := loadAll(t)
	pairs := map[string]string{"README.ko.md": "README.md"}
	for name := range docs {
		if rest, ok := strings.CutPrefix(name, "docs/ko/"); ok {
			pairs[name] = "docs/" + rest
		}
	}
	for _, required := range []string{"docs/ko/quickstart.md", "docs/ko/deploy.md"} {
		if _, ok := pairs[required]; !ok {
			t.Errorf("%s is missing", required)
		}
	}
	for ko, en := range pairs {
		k, e := docs[ko], docs[en]
		if k == nil {
			t.Errorf("%s is missing", ko)
			continue
		}
		if e == nil {
			t.Errorf("%s has no English page %s", ko, en)
			continue
		}
		levels := func(d *Doc) string {
			var s []string
			for _, h := range d.Headings {
				s = append(s, strconv.Itoa(h.Level))
			}
			return strings.Join(s, " ")
		}
		if levels(k) != levels(e) {
			t.Errorf("%s's headings (levels %s) are not %s's (levels %s)", ko, levels(k), en, levels(e))
			for i := range max(len(k.Headings), len(e.Headings)) {
				var a, b string
				if i < len(k.Headings) {
					a = strings.Repeat("#", k.Headings[i].Level) + " " + k.Headings[i].Text
				}
				if i < len(e.Headings) {
					b = strings.Repeat("#", e.Headings[i].Level) + " " + e.Headings[i].Text
				}
				t.Logf("  %-50s | %s", a, b)
			}
		}
		if len(k.Blocks) != len(e.Blocks) {
			t.Errorf("%s has %d code blocks, %s %d", ko, len(k.Blocks), en, len(e.Blocks))
			continue
		}
		for i := range k.Blocks {
			if k.Blocks[i].Info != e.Blocks[i].Info || k.Blocks[i].Text != e.Blocks[i].Text {
				t.Errorf("code block %d: %s:%d differs from %s:%d:\n%s\n---\n%s", i+1, ko, k.Blocks[i].Line, en, e.Blocks[i].Line, k.Blocks[i].Text, e.Blocks[i].Text)
			}
		}
	}
}

var errorRow = regexp.MustCompile("^\\| `([A-Za-z]+)` \\| ([0-9]{3}) \\| ([^|]+) \\| ([^|]+) \\|")

// docs/api.md's error table is errors.go's: every code an app can get,
// with its status and both messages, and nothing else.
func TestErrorTableIsErrorsGo(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if m := errorRow.FindStringSubmatch(line); m != nil {
			if _, dup := rows[m[1]]; dup {
				t.Errorf("docs/api.md lists %s twice", m[1])
			}
			rows[m[1]] = []string{m[2], strings.TrimSpace(m[3]), strings.TrimSpace(m[4])}
		}
	}
	for _, o := range kakaoauth.PublicOutcomes() {
		row, ok := rows[o.Code]
		if !ok {
			t.Errorf("docs/api.md's error table has no row for %s (add: | `%s` | %d | %s | %s | when |)", o.Code, o.Code, o.Status, o.Message, o.MessageKo)
			continue
		}
		if row[0] != strconv.Itoa(o.Status) || row[1] != o.Message || row[2] != o.MessageKo {
			t.Errorf("docs/api.md's %s: %v, errors.go: %d %q %q", o.Code, row, o.Status, o.Message, o.MessageKo)
		}
		if http.StatusText(o.Status) == "" {
			t.Errorf("%s: status %d", o.Code, o.Status)
		}
		delete(rows, o.Code)
	}
	for code := range rows {
		t.Errorf("docs/api.md lists %s, which errors.go does not answer", code)
	}
}

// Every command in the docs that reaches a deployed stack names its
// region (samconfig.toml's region does not reach `aws`, `kakaoauth` or a
// reader's other shells), and every deploy command carries every required
// parameter: `sam deploy --parameter-overrides` replaces the saved ones, and
// `kakaoauth deploy`'s lines are checked by the preflight itself (with no
// saved configuration), as cmd/kakaoauth's test then runs them.
func TestDeployCommandsNameTheirRegionAndParameters(t *testing.T) {
	tpl, err := preflight.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var required []string
	for _, p := range tpl.Parameters {
		if p.Default == nil {
			required = append(required, p.Name)
		}
	}
	env := regexp.MustCompile(`^([A-Z_][A-Z0-9_]*=("[^"]*"|'[^']*'|\S*)\s+)*`)
	remote := regexp.MustCompile(`^(sam (deploy|list|logs|delete|sync|remote)|aws |kakaoauth (deploy|smoke|admin|audit|tryit|bench|pool)\b)`)
	seen := 0
	for name, d := range loadAll(t) {
		for _, b := range d.Blocks {
			if b.Info != "sh" && b.Info != "bash" && b.Info != "shell" {
				continue // output, JSON, ASL: not commands
			}
			regionSet := false
			for _, c := range b.Commands() {
				if strings.Contains(c, "export AWS_REGION=") {
					regionSet = true
				}
				cmd := env.ReplaceAllString(c, "")
				if strings.HasPrefix(cmd, "$ ") {
					cmd = cmd[2:]
				}
				if !remote.MatchString(cmd) {
					continue
				}
				local := strings.Contains(cmd, "--endpoint-url http://127.0.0.1") || strings.Contains(cmd, "--endpoint-url http://localhost") ||
					(strings.HasPrefix(cmd, "kakaoauth ") && !strings.HasPrefix(cmd, "kakaoauth deploy") && !strings.Contains(cmd, "-stack"))
				if local {
					continue
				}
				seen++
				if !regionSet && !regexp.MustCompile(`(^|\s)--?region[ =]\S`).MatchString(cmd) {
					t.Errorf("%s:%d: %q names no region", name, b.Line, c)
				}
				if strings.HasPrefix(cmd, "sam deploy") && strings.Contains(cmd, "--parameter-overrides") {
					for _, p := range required {
						if !strings.Contains(cmd, p+"=") {
							t.Errorf("%s:%d: %q overrides the saved parameters but lacks %s", name, b.Line, c, p)
						}
					}
				}
				if strings.HasPrefix(cmd, "kakaoauth deploy") {
					values := map[string]string{}
					for _, f := range strings.Fields(cmd)[2:] {
						if k, v, ok := strings.Cut(f, "="); ok && !strings.HasPrefix(k, "-") {
							values[k] = v
						}
					}
					if problems := tpl.Check(values); len(problems) > 0 {
						t.Errorf("%s:%d: %q: %v", name, b.Line, c, problems)
					}
				}
			}
		}
	}
	if seen < 10 {
		t.Fatalf("only %d deploy and post-deploy commands found", seen)
	}
}

// The README stays a five-minute read.
func TestReadmeIsShort(t *testing.T) {
	for _, name := range []string{"README.md", "README.ko.md"} {
		raw, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(raw), "\n"); n > 250 {
			t.Errorf("%s has %d lines: keep it to about 250, and move the rest into docs/", name, n)
		}
	}
	// Every page of docs/ says first what it answers.
	for name, d := range loadAll(t) {
		if !strings.HasPrefix(name, "docs/") {
			continue
		}
		raw, _ := os.ReadFile(filepath.Join(root, name))
		lines := strings.Split(string(raw), "\n")
		if len(d.Headings) == 0 || d.Headings[0].Level != 1 || d.Headings[0].Line != 1 {
			t.Errorf("%s does not open with a title", name)
			continue
		}
		first := ""
		for _, l := range lines[1:] {
			if strings.TrimSpace(l) != "" {
				first = l
				break
			}
		}
		if !slices.ContainsFunc([]string{"This answers", "This page answers", "이 문서는"}, func(p string) bool { return strings.HasPrefix(first, p) }) {
			t.Errorf("%s: the first paragraph should say what the page answers (\"This answers: ...\"), not %q", name, first)
		}
	}
}
