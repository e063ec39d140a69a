// Package python finds the Python programs the local stack and the tests
// run (moto_server, python3 with moto, cfn-lint) the way the Makefile does:
// first in the virtual environment infra/install-tools.sh makes in
// .cache/python when the machine's own Python lacks the pinned packages
// (infra/requirements-*.txt) or refuses pip installs, then on PATH. So
// `go test ./...` and `go run ./cmd/kakaoauth local` started by hand find
// what `make` installed.
package python

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Interpreter is the Python that runs the pinned packages (moto's layer
// runs under it): the repository's virtual environment's python3 when it
// exists (install-tools.sh makes it only when the chosen interpreter lacked
// them), else $PYTHON, else python3 from PATH.
func Interpreter() (string, error) {
	if dir := envBin(); dir != "" {
		p := filepath.Join(dir, "python3")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	name := os.Getenv("PYTHON")
	if name == "" {
		name = "python3"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found: install Python 3 (macOS: brew install python; Debian/Ubuntu: sudo apt-get install python3 python3-venv), or set PYTHON", name)
	}
	return p, nil
}

// InstallScript is the repository's infra/install-tools.sh, the one place
// that installs the pinned packages; false outside the repository.
func InstallScript() (string, bool) {
	dir := envBin()
	if dir == "" {
		return "", false
	}
	root := filepath.Dir(filepath.Dir(filepath.Dir(dir))) // <root>/.cache/python/bin
	p := filepath.Join(root, "infra", "install-tools.sh")
	if _, err := os.Stat(p); err != nil {
		return "", false
	}
	return p, true
}

// EnvDir is the virtual environment's place in the repository.
const EnvDir = ".cache/python"

// module is the repository's Go module, whose go.mod marks its root.
const module = "github.com/kakaoauth/kakaoauth"

// Tool is the path of the named program: the repository's virtual
// environment's, else PATH's. Its error says how to install it.
func Tool(name string) (string, error) {
	if dir := envBin(); dir != "" {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", &MissingError{Name: name}
}

// MissingError is a program found neither in the virtual environment nor
// on PATH.
type MissingError struct{ Name string }

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s is not installed: run `make tools-run` (the local stack) or `make tools` (the tests), "+
		"which install the pinned Python packages (into %s when your python3 lacks them)", e.Name, EnvDir)
}

// envBin is <repository root>/.cache/python/bin, found from the working
// directory upwards; "" outside the repository.
func envBin() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			if isModule(string(data)) {
				return filepath.Join(dir, filepath.FromSlash(EnvDir), "bin")
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func isModule(gomod string) bool {
	for _, line := range strings.Split(gomod, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`) == module
		}
	}
	return false
}
