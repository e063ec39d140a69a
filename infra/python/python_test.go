package python

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeRepo is a directory that looks like the repository to envBin, with
// install-tools.sh and the requirements copied in.
func fakeRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module "+module+"\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "infra"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"install-tools.sh", "requirements-run.txt", "requirements-test.txt"} {
		data, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "infra", f), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func executable(t *testing.T, path, script string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// The repository's virtual environment wins, from any directory inside
// the repository; without one, $PYTHON, then PATH; outside it, PATH only.
func TestInterpreterAndTools(t *testing.T) {
	repo := fakeRepo(t)
	bin := t.TempDir()
	executable(t, filepath.Join(bin, "python3"), "#!/bin/sh\n")
	t.Setenv("PATH", bin)
	t.Setenv("PYTHON", "")
	sub := filepath.Join(repo, "infra", "deep")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	if p, err := Interpreter(); err != nil || p != filepath.Join(bin, "python3") {
		t.Fatalf("no environment: %s %v", p, err)
	}
	explicit := filepath.Join(t.TempDir(), "python3.12")
	executable(t, explicit, "#!/bin/sh\n")
	t.Setenv("PYTHON", explicit)
	if p, err := Interpreter(); err != nil || p != explicit {
		t.Fatalf("$PYTHON: %s %v", p, err)
	}
	venv := filepath.Join(repo, ".cache", "python", "bin")
	executable(t, filepath.Join(venv, "python3"), "#!/bin/sh\n")
	executable(t, filepath.Join(venv, "cfn-lint"), "#!/bin/sh\n")
	if p, err := Interpreter(); err != nil || p != filepath.Join(venv, "python3") {
		t.Fatalf("with the environment: %s %v", p, err)
	}
	if p, err := Tool("cfn-lint"); err != nil || p != filepath.Join(venv, "cfn-lint") {
		t.Fatalf("cfn-lint: %s %v", p, err)
	}
	if script, ok := InstallScript(); !ok || script != filepath.Join(repo, "infra", "install-tools.sh") {
		t.Fatalf("install script: %s %v", script, ok)
	}
	_, err := Tool("moto_server")
	var missing *MissingError
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "make tools-run") {
		t.Fatalf("a missing tool: %v", err)
	}
	t.Chdir(t.TempDir()) // outside any repository
	t.Setenv("PYTHON", "")
	if p, err := Interpreter(); err != nil || p != filepath.Join(bin, "python3") {
		t.Fatalf("outside the repository: %s %v", p, err)
	}
	if _, ok := InstallScript(); ok {
		t.Fatal("an install script outside the repository")
	}
}

// farm is a PATH directory with links to every program of PATH but the
// excluded ones.
func farm(t *testing.T, exclude ...string) string {
	t.Helper()
	dir := t.TempDir()
	skip := map[string]bool{}
	for _, e := range exclude {
		skip[e] = true
	}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			target := filepath.Join(d, e.Name())
			if skip[e.Name()] || strings.HasPrefix(e.Name(), "python") {
				continue
			}
			if fi, err := os.Stat(target); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				continue
			}
			if _, err := os.Lstat(filepath.Join(dir, e.Name())); err == nil {
				continue
			}
			_ = os.Symlink(target, filepath.Join(dir, e.Name()))
		}
	}
	return dir
}

func runScript(t *testing.T, repo string, env []string, mode string) (string, int) {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(repo, "infra", "install-tools.sh"), mode)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// install-tools.sh names what is missing and how to get it on this
// system, and never pip-installs into a Python that lacks the pinned
// packages: it makes .cache/python from it (so Homebrew's and Debian 12's
// externally managed Pythons are never touched), and drops that
// environment again when pip fails.
func TestInstallToolsRun(t *testing.T) {
	repo := fakeRepo(t)
	osHint := map[string]string{"darwin": "brew install python"}[runtime.GOOS]
	if osHint == "" {
		osHint = "python3"
		if _, err := exec.LookPath("apt-get"); err == nil {
			osHint = "sudo apt-get install python3 python3-venv"
		}
	}

	out, code := runScript(t, repo, []string{"PATH=" + farm(t), "PYTHON="}, "run")
	if code != 1 || !strings.Contains(out, "Python 3 is missing") || !strings.Contains(out, osHint) {
		t.Fatalf("no python3: exit %d\n%s", code, out)
	}
	out, code = runScript(t, repo, []string{"PATH=" + farm(t, "go"), "GO="}, "run")
	if code != 1 || !strings.Contains(out, "Go is missing") {
		t.Fatalf("no go: exit %d\n%s", code, out)
	}

	// The interpreter make tools-run settled on has moto: used as it is.
	ready, err := Interpreter()
	if err != nil {
		t.Fatal(err)
	}
	out, code = runScript(t, repo, []string{"PYTHON=" + ready}, "run")
	if _, err := os.Stat(filepath.Join(repo, ".cache")); code != 0 || err == nil {
		t.Fatalf("a ready interpreter: exit %d, .cache %v\n%s", code, err, out)
	}

	// An interpreter without moto: a virtual environment of its own, and
	// pip (offline here) failing leaves nothing behind.
	base := filepath.Join(t.TempDir(), "base")
	if out, err := exec.Command(ready, "-m", "venv", "--without-pip", base).CombinedOutput(); err != nil {
		t.Fatalf("making a bare interpreter: %v\n%s", err, out)
	}
	out, code = runScript(t, repo, []string{"PYTHON=" + filepath.Join(base, "bin", "python3"), "PIP_NO_INDEX=1", "PIP_FIND_LINKS="}, "run")
	if code != 1 || !strings.Contains(out, "installing moto[server]==5.2.1 into .cache/python") || !strings.Contains(out, "pip could not install") {
		t.Fatalf("a bare interpreter: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(repo, ".cache", "python")); !os.IsNotExist(err) {
		t.Fatalf("a failed install left .cache/python behind: %v", err)
	}
	if out, _ := exec.Command(filepath.Join(base, "bin", "python3"), "-c", "import moto").CombinedOutput(); !strings.Contains(string(out), "No module named") {
		t.Fatalf("the base interpreter was changed: %s", out)
	}
}
