package tryit

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth"
)

var hangul = regexp.MustCompile(`[\x{AC00}-\x{D7A3}]`)

// The page gets every code's message in both languages from errors.go.
func TestMessagesAreErrorsGo(t *testing.T) {
	f := newFixture(t)
	a := f.call(t, http.MethodGet, MessagesPath, "", "", "")
	codes, _ := a.body["codes"].(map[string]any)
	if a.status != http.StatusOK || len(codes) != len(kakaoauth.PublicOutcomes()) {
		t.Fatalf("%d %v", a.status, a.body)
	}
	for _, o := range kakaoauth.PublicOutcomes() {
		got, _ := codes[o.Code].(map[string]any)
		if got["status"] != float64(o.Status) || got["en"] != o.Message || got["ko"] != o.MessageKo {
			t.Errorf("%s: %v, want %d %q %q", o.Code, got, o.Status, o.Message, o.MessageKo)
		}
	}
}

// pageWords reads the page script's table of words: its keys in English
// and in Korean.
func pageWords(t *testing.T) (script string, en, ko map[string]string) {
	t.Helper()
	raw, err := os.ReadFile("assets/app.js")
	if err != nil {
		t.Fatal(err)
	}
	script = string(raw)
	block := regexp.MustCompile(`(?s)\n    en: \{\n(.*?)\n    \},\n    ko: \{\n(.*?)\n    \},\n  \};`).FindStringSubmatch(script)
	if block == nil {
		t.Fatal("app.js: no messages table (en: {...}, ko: {...})")
	}
	entry := regexp.MustCompile(`(?m)^\s*"([^"]+)": "((?:[^"\\]|\\.)*)",$`)
	read := func(s string) map[string]string {
		m := map[string]string{}
		for _, e := range entry.FindAllStringSubmatch(s, -1) {
			m[e[1]] = e[2]
		}
		return m
	}
	return script, read(block[1]), read(block[2])
}

// The page says everything in both languages: the two halves of its
// table have the same keys, every key the page and its script name
// exists, and every error code this package's backend answers has its
// words.
func TestPageWordsInBothLanguages(t *testing.T) {
	script, en, ko := pageWords(t)
	if len(en) < 100 {
		t.Fatalf("only %d English entries read", len(en))
	}
	for k := range en {
		if _, ok := ko[k]; !ok {
			t.Errorf("%s: no Korean", k)
		}
	}
	for k, v := range ko {
		if _, ok := en[k]; !ok {
			t.Errorf("%s: Korean only", k)
		}
		if v == en[k] && hangul.MatchString(v) {
			t.Errorf("%s: the same Korean in English", k)
		}
	}

	html, err := os.ReadFile("assets/index.html")
	if err != nil {
		t.Fatal(err)
	}
	var used []string
	for _, m := range regexp.MustCompile(`data-i18n="([^"]+)"`).FindAllStringSubmatch(string(html), -1) {
		used = append(used, m[1])
	}
	for _, m := range regexp.MustCompile(`(?:\bt\(|addHop\(|text: |key: |where: )"([a-z]+\.[A-Za-z]+)"`).FindAllStringSubmatch(script, -1) {
		used = append(used, m[1])
	}
	if len(used) < 40 {
		t.Fatalf("only %d keys found in use", len(used))
	}
	for _, k := range used {
		if _, ok := en[k]; !ok {
			t.Errorf("%s is used but has no words", k)
		}
	}

	// Every code the backend's endpoints answer with (writeError's
	// literal codes) is a tryit.<code> entry.
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`writeError\(w, [^,]+, "([A-Za-z]+)"`).FindAllStringSubmatch(string(src), -1) {
			if !slices.Contains(codes, m[1]) {
				codes = append(codes, m[1])
			}
		}
	}
	if len(codes) < 5 {
		t.Fatalf("only %v found", codes)
	}
	for _, c := range codes {
		if _, ok := en["tryit."+c]; !ok {
			t.Errorf("the backend answers %s, which the page has no words for", c)
		}
	}
}
