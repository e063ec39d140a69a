#!/usr/bin/env bash
# make lint's template half: cfn-lint of template.yaml as written, then
# every stack of lint-combos.txt transformed by SAM with its conditions
# resolved and linted, all in one cfn-lint run (its start-up is most of
# its time).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
combos=infra/templatecheck/lint-combos.txt

cfn-lint template.yaml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
names=()
while read -r name params; do
  case "$name" in ''|'#'*) continue ;; esac
  # shellcheck disable=SC2086 # params are Name=Value words
  if ! "$PYTHON" infra/templatecheck/sam_translate.py --resolve-conditions template.yaml $params >"$tmp/$name.json"; then
    echo "lint: SAM transform of the \"$name\" stack failed" >&2
    exit 1
  fi
  names+=("$name")
done <"$combos"
# W2001: parameters that only the resolved-away conditions used.
cfn-lint --ignore-checks W2001 -- "$tmp"/*.json
echo "SAM transform and cfn-lint: ok for ${names[*]}"
