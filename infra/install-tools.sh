#!/usr/bin/env bash
# Installs what the local stack and the tests need beyond Go, when missing:
# moto (Python package "moto[server]", exactly the release the layer in
# infra/moto/ext is written for), cfn-lint, Debian's chromium
# (with a Hangul font) for the browser tests, and Node with the Velocity
# engine (velocityjs, from infra/templatecheck/vtl/package-lock.json) that
# renders the API's mapping templates in tests. Idempotent.
set -euo pipefail

need_pip() {
  if ! command -v python3 >/dev/null 2>&1; then
    echo "install-tools: python3 is missing; install it (e.g. apt-get install python3 python3-pip) and run again" >&2
    exit 1
  fi
  if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "install-tools: pip is missing; install it (e.g. apt-get install python3-pip) and run again" >&2
    exit 1
  fi
}

# The moto release infra/moto/ext's patches are written for (RequiredMoto
# in infra/moto/layer.go; a test keeps the two equal). The layer runs under
# $PYTHON (default python3), so moto is installed for that interpreter.
MOTO_VERSION=5.2.1
PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "install-tools: $PYTHON is missing; install Python 3 with pip (e.g. apt-get install python3 python3-pip) and run again" >&2
  exit 1
fi
have_moto=$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || true)
if [ "$have_moto" != "$MOTO_VERSION" ]; then
  if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
    echo "install-tools: pip is missing for $PYTHON; install it (e.g. apt-get install python3-pip) and run again" >&2
    exit 1
  fi
  echo "install-tools: installing moto[server]==$MOTO_VERSION for $PYTHON with pip${have_moto:+ (found moto $have_moto)}"
  "$PYTHON" -m pip install --quiet "moto[server]==$MOTO_VERSION"
  hash -r; command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi
if ! command -v cfn-lint >/dev/null 2>&1; then
  need_pip
  echo "install-tools: installing cfn-lint with pip"
  python3 -m pip install --quiet cfn-lint
  hash -r; command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi

# Debian's chromium for the browser tests (infra/chromium drives it with
# chromedp), and a Hangul font so that the try-it page and the Kakao
# double's consent page render their Korean in it.
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-tools: $* missing and no apt-get here; install it (the browser tests need Chromium at /usr/bin/chromium or \$CHROMIUM)" >&2
    exit 1
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "install-tools: installing $* with apt-get"
  # A fresh machine may have no package lists yet.
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1; then
    $sudo apt-get update -q >/dev/null
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
  fi
}

missing=()
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
if command -v dpkg-query >/dev/null 2>&1 &&
  ! dpkg-query -W -f='${Status}' fonts-nanum 2>/dev/null | grep -q "install ok installed"; then
  missing+=(fonts-nanum)
fi
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# Node and the Velocity engine infra/templatecheck renders the API's
# mapping templates with: exactly the versions package-lock.json pins,
# in the project (node_modules is not committed).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
vtl_dir="$(cd "$(dirname "$0")" && pwd)/templatecheck/vtl"
# The lock file installed last is kept beside node_modules: a changed lock
# installs again.
if [ ! -f "$vtl_dir/node_modules/velocityjs/package.json" ] ||
  ! cmp -s "$vtl_dir/package-lock.json" "$vtl_dir/node_modules/.installed-lock.json"; then
  echo "install-tools: installing velocityjs with npm ci in infra/templatecheck/vtl"
  (cd "$vtl_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null &&
    cp package-lock.json node_modules/.installed-lock.json)
fi
