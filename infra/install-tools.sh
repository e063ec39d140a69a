#!/usr/bin/env bash
# What the local stack and the tests need beyond Go, installed when missing.
# Idempotent; every refusal names what is missing and how to get it here.
#
#   infra/install-tools.sh run    `make run`: Python 3 with moto (nothing else)
#   infra/install-tools.sh test   `make test`: the above, cfn-lint, Chromium with
#                                 a Hangul font, Node with velocityjs, aws-lambda-rie
#
# Python packages are pinned in infra/requirements-run.txt (moto: the
# release infra/moto/ext's layer is written for, RequiredMoto in
# infra/moto/layer.go; a test keeps the two equal) and
# infra/requirements-test.txt. When the interpreter ($PYTHON, default
# python3 on PATH) already has exactly those, it is used as it is;
# otherwise they go into a virtual environment made from it in
# .cache/python (ignored by git), which the Makefile puts first on PATH and
# infra/python (so infra/moto) prefers, also for `go test` run by hand.
# That also covers a Python that refuses pip installs (PEP 668: Homebrew's,
# Debian 12's). infra/moto runs this script when it finds moto missing.
set -euo pipefail

mode=${1:-test}
case "$mode" in run | test) ;; *)
  echo "usage: $0 run|test" >&2
  exit 2
  ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.cache/python"
os="$(uname -s)"

say() { echo "install-tools: $*" >&2; }
# hint prints how to install something on this OS: hint <macOS> <Debian/Ubuntu> [<other>].
hint() {
  case "$os" in
  Darwin) echo "$1" ;;
  *) if command -v apt-get >/dev/null 2>&1; then echo "$2"; else echo "${3:-$2}"; fi ;;
  esac
}
fail() {
  say "$*"
  exit 1
}

# ------------------------------------------------------------------ Go
if ! command -v "${GO:-go}" >/dev/null 2>&1; then
  fail "Go is missing (1.21 or later; go.mod then fetches the toolchain it names). Install it: $(hint 'brew install go' 'https://go.dev/doc/install (Debian'"'"'s golang package is older than 1.21 before Debian 13)')"
fi

# ------------------------------------------------------------------ Python
# The PATH without our virtual environment: what the machine itself has.
bare_path=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$venv/bin" | paste -sd: -)
base_python=$(PATH="$bare_path" command -v "${PYTHON:-python3}" || true)
if [ -z "$base_python" ]; then
  fail "Python 3 is missing (the local stack runs moto, a Python program). Install it: $(hint 'brew install python' 'sudo apt-get install python3 python3-venv' 'your package manager'"'"'s python3 with its venv module'), then run make again."
fi

reqs=("$root/infra/requirements-run.txt")
[ "$mode" = test ] && reqs+=("$root/infra/requirements-test.txt")

# satisfied <python>: the interpreter has every pinned package at its
# pinned version (and moto's server, which needs its [server] extras).
satisfied() {
  "$1" - "${reqs[@]}" <<'PY' 2>/dev/null
import importlib.metadata as md, re, sys
for path in sys.argv[1:]:
    for line in open(path):
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?==(\S+)", line)
        if not m:
            sys.exit("unpinned requirement " + line)
        if md.version(m.group(1)) != m.group(3):
            sys.exit(1)
import moto.server  # noqa: F401 (flask and the rest of moto[server])
PY
}

if [ -x "$venv/bin/python" ] && satisfied "$venv/bin/python"; then
  : # the virtual environment has them
elif [ ! -d "$venv" ] && satisfied "$base_python"; then
  : # the machine's python3 has them
else
  if [ ! -x "$venv/bin/python" ]; then
    if ! "$base_python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
      fail "$base_python cannot make a virtual environment (no venv/ensurepip module). Install it: $(hint 'brew install python' 'sudo apt-get install python3-venv'), then run make again."
    fi
    rm -rf "$venv"
    "$base_python" -m venv "$venv"
  fi
  say "installing $(cat "${reqs[@]}" | grep -v '^[#-]' | paste -sd' ' -) into .cache/python (a virtual environment: $base_python's own packages stay untouched)"
  if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "${reqs[-1]}"; then
    # A half-made environment would shadow the machine's python3 (the
    # Makefile puts it first on PATH): drop it.
    rm -rf "$venv"
    fail "pip could not install the Python packages (see above); check the connection to PyPI, or your pip configuration (pip config list)."
  fi
fi

[ "$mode" = run ] && exit 0

# ------------------------------------------------------------------ test only
# Installs with the system's package manager: apt-get here (as root or
# with sudo); elsewhere it names what to install.
pkg_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    return 1
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  say "installing $* with apt-get"
  # A fresh machine may have no package lists yet.
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1; then
    $sudo apt-get update -q >/dev/null
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
  fi
}

# A browser for the browser tests (infra/chromium drives it with chromedp)
# and a Hangul font, so that the try-it page's Korean renders.
mac_chrome=""
for app in "/Applications/Chromium.app/Contents/MacOS/Chromium" "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"; do
  [ -x "$app" ] && mac_chrome=$app && break
done
missing=()
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1 && [ -z "$mac_chrome" ]; then
  missing+=(chromium)
fi
if command -v dpkg-query >/dev/null 2>&1 &&
  ! dpkg-query -W -f='${Status}' fonts-nanum 2>/dev/null | grep -q "install ok installed"; then
  missing+=(fonts-nanum)
fi
if [ ${#missing[@]} -gt 0 ] && ! pkg_install "${missing[@]}"; then
  fail "the browser tests need Chromium or Google Chrome. Install one: $(hint 'brew install --cask google-chrome (or chromium)' 'sudo apt-get install chromium fonts-nanum' 'your package manager'"'"'s chromium'), or set CHROMIUM=/path/to/the/browser."
fi

# Node, for the template tests (the Velocity engine infra/templatecheck
# renders the API's mapping templates with), the JavaScript client's tests
# and the Node backend example's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$os" = Darwin ] && command -v brew >/dev/null 2>&1; then
    say "installing node with brew"
    brew install node >/dev/null
  elif ! pkg_install nodejs npm; then
    fail "the template tests need Node.js with npm. Install it: $(hint 'brew install node' 'sudo apt-get install nodejs npm' 'https://nodejs.org')."
  fi
fi
# The npm packages of the tests, each exactly as its package-lock.json pins
# it: velocityjs (the template tests), the JavaScript client's aws-amplify,
# esbuild and typescript (its browser and type tests), and aws-jwt-verify
# (the Node backend example). `make run` needs none of them: the try-it
# page serves the client's modules as they are. The lock file installed
# last is kept beside node_modules: a changed lock installs again.
for dir in infra/templatecheck/vtl clients/js examples/node-backend; do
  if ! cmp -s "$root/$dir/package-lock.json" "$root/$dir/node_modules/.installed-lock.json"; then
    say "installing the npm packages of $dir with npm ci"
    (cd "$root/$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null &&
      cp package-lock.json node_modules/.installed-lock.json)
  fi
done

# The Lambda runtime interface emulator the bootstrap tests run under.
rie_version=$(sed -n 's/^RIE_VERSION := //p' "$root/Makefile")
if ! command -v aws-lambda-rie >/dev/null 2>&1 && [ ! -x "$("${GO:-go}" env GOPATH)/bin/aws-lambda-rie" ]; then
  say "installing aws-lambda-rie with go install"
  "${GO:-go}" install "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$rie_version"
fi
