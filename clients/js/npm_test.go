package jsclient_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The package's own checks, as `npm test` and `npm run typecheck` run
// them: its unit tests (node's test runner), the declarations built from
// its JSDoc and a TypeScript app compiled against them. node_modules comes
// from `make test` (npm ci in clients/js).

func node(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("node", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node %v: %v\n%s", args, err, out)
	}
}

func installed(t *testing.T, bin string) string {
	t.Helper()
	p := filepath.Join("node_modules", ".bin", bin)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is not installed in clients/js: run `make tools` (infra/install-tools.sh runs npm ci there): %v", bin, err)
	}
	return p
}

func TestUnit(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("test", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no unit tests: %v", err)
	}
	node(t, append([]string{"--test"}, files...)...)
}

func TestTypes(t *testing.T) {
	t.Parallel()
	tsc := installed(t, "tsc")
	node(t, tsc, "-p", "tsconfig.build.json")
	node(t, tsc, "-p", filepath.Join("test", "types", "tsconfig.json"))
}
