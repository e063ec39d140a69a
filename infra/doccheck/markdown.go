// Package doccheck reads the project's Markdown (README.md, README.ko.md,
// docs/) the way GitHub renders it, for the tests that keep the docs true:
// every relative link and anchor resolves, the Korean pages mirror the
// English ones, the error table is errors.go's, and the commands work as
// written (this package's tests, and cmd/kakaoauth's, which run them).
package doccheck

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// Doc is what the checks need of a Markdown file.
type Doc struct {
	Path     string
	Headings []Heading
	Blocks   []Block
	Links    []Link
}

// Heading is an ATX heading (# to ######).
type Heading struct {
	Level int
	Text  string // as written, inline Markdown included
	Slug  string // GitHub's anchor for it, duplicates numbered
	Line  int
}

// Block is a fenced code block.
type Block struct {
	Info string // the fence's info string, e.g. "sh"
	Text string // the lines between the fences
	// Test is the name in a `<!-- doc-test: NAME -->` comment on the line
	// before the fence: which test runs the block.
	Test string
	Line int
}

// Link is an inline link or image, [text](target) or ![alt](target).
type Link struct {
	Target string
	Line   int
}

var (
	heading  = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	fence    = regexp.MustCompile("^ {0,3}(```+|~~~+)\\s*([^`\\s]*)")
	docTest  = regexp.MustCompile(`^\s*<!--\s*doc-test:\s*([a-z-]+)\s*-->\s*$`)
	link     = regexp.MustCompile(`!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^()\s]+)(?:\s+"[^"]*")?\)`)
	codeSpan = regexp.MustCompile("`+[^`]*`+")
)

// Load reads and parses a Markdown file.
func Load(path string) (*Doc, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d := Parse(string(data))
	d.Path = path
	return d, nil
}

// Parse reads Markdown text.
func Parse(text string) *Doc {
	d := &Doc{}
	lines := strings.Split(text, "\n")
	seen := map[string]int{}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := fence.FindStringSubmatch(line); m != nil {
			b := Block{Info: m[2], Line: i + 1}
			if i > 0 {
				if t := docTest.FindStringSubmatch(lines[i-1]); t != nil {
					b.Test = t[1]
				}
			}
			indent := len(line) - len(strings.TrimLeft(line, " "))
			var body []string
			for i++; i < len(lines); i++ {
				l := lines[i]
				trimmed := strings.TrimLeft(l, " ")
				if strings.HasPrefix(trimmed, m[1]) && strings.TrimSpace(strings.TrimLeft(trimmed, m[1][:1])) == "" {
					break
				}
				// A fence indented in a list: its lines carry the indent.
				if len(l)-len(trimmed) >= indent {
					l = l[indent:]
				}
				body = append(body, l)
			}
			b.Text = strings.Join(body, "\n")
			d.Blocks = append(d.Blocks, b)
			continue
		}
		if m := heading.FindStringSubmatch(line); m != nil {
			h := Heading{Level: len(m[1]), Text: m[2], Line: i + 1}
			base := Slug(m[2])
			h.Slug = base
			if n := seen[base]; n > 0 {
				h.Slug = fmt.Sprintf("%s-%d", base, n)
			}
			seen[base]++
			d.Headings = append(d.Headings, h)
		}
		// Links outside code spans.
		for _, m := range link.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, ""), -1) {
			d.Links = append(d.Links, Link{Target: m[1], Line: i + 1})
		}
	}
	return d
}

var inlineLink = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)

// Slug is GitHub's anchor for a heading: the rendered text in lower case,
// every character dropped that is not a letter, a mark, a digit, a space,
// a hyphen or an underscore (Korean is letters), spaces made hyphens.
func Slug(text string) string {
	text = inlineLink.ReplaceAllString(text, "$1")
	text = strings.NewReplacer("`", "", "**", "", "<", "", ">", "").Replace(text)
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Anchors are the anchors a document has.
func (d *Doc) Anchors() map[string]bool {
	out := map[string]bool{}
	for _, h := range d.Headings {
		out[h.Slug] = true
	}
	return out
}

// Files are the Markdown files the checks cover, relative to root:
// README.md, README.ko.md and docs/**/*.md.
func Files(root string) ([]string, error) {
	files := []string{"README.md", "README.ko.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && strings.HasSuffix(p, ".md") {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(files[2:])
	return files, err
}

// Commands are the shell commands of a block: one per logical line
// (backslash continuations joined), comments and blank lines dropped.
func (b Block) Commands() []string {
	var out []string
	cur := ""
	for _, line := range strings.Split(b.Text, "\n") {
		t := strings.TrimSpace(line)
		if cur == "" && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if strings.HasSuffix(t, `\`) {
			cur += strings.TrimSuffix(t, `\`) + " "
			continue
		}
		cur += t
		out = append(out, cur)
		cur = ""
	}
	if cur != "" {
		out = append(out, strings.TrimSpace(cur))
	}
	return out
}
