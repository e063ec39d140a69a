#!/usr/bin/env bash
# Installs what the local stack and the tests need beyond Go, when missing:
# moto_server (Python package "moto[server]") and cfn-lint. Idempotent.
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

if ! command -v moto_server >/dev/null 2>&1; then
  need_pip
  echo "install-tools: installing moto[server] with pip"
  python3 -m pip install --quiet "moto[server]"
  hash -r; command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi
if ! command -v cfn-lint >/dev/null 2>&1; then
  need_pip
  echo "install-tools: installing cfn-lint with pip"
  python3 -m pip install --quiet cfn-lint
  hash -r; command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi
