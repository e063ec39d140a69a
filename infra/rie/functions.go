package rie

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// Function is one Lambda of the stack: its logical ID in template.yaml and
// its main package under lambdas/.
type Function struct {
	LogicalID string
	Dir       string // e.g. "validatetoken" for ./lambdas/validatetoken
}

// Package is the function's main package, relative to the module root.
func (f Function) Package() string { return "./lambdas/" + f.Dir }

// MakefileFunctions reads the Makefile's FUNCTIONS list (LogicalId:dir
// pairs, the list `sam build` and `make build` build), so tests run exactly
// what is deployed.
func MakefileFunctions(path string) ([]Function, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var value strings.Builder
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if !in {
			rest, ok := strings.CutPrefix(line, "FUNCTIONS :=")
			if !ok {
				continue
			}
			in, line = true, rest
		}
		cont := strings.HasSuffix(line, `\`)
		value.WriteString(strings.TrimSuffix(line, `\`) + " ")
		if !cont {
			break
		}
	}
	if !in {
		return nil, fmt.Errorf("rie: %s has no FUNCTIONS := list", path)
	}
	var fns []Function
	for _, pair := range strings.Fields(value.String()) {
		id, dir, ok := strings.Cut(pair, ":")
		if !ok || id == "" || dir == "" {
			return nil, fmt.Errorf("rie: %s: FUNCTIONS entry %q is not LogicalId:dir", path, pair)
		}
		fns = append(fns, Function{LogicalID: id, Dir: dir})
	}
	return fns, nil
}
