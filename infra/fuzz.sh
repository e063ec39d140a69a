#!/usr/bin/env bash
# make fuzz: run every Go fuzz target (func FuzzXxx) of the module, one
# after another, each for FUZZTIME, and print what each did. A finding
# leaves its input in <package>/testdata/fuzz/<target>/ (commit it: from
# then on `make test` runs it as a regression test) and fails the run.
#
#   FUZZTIME=30s          time per target (go test -fuzztime)
#   FUZZMINIMIZETIME=10s  time to minimise each new input or finding
#   FUZZ=Regexp           only targets whose name matches
set -uo pipefail

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-10s}
FUZZ=${FUZZ:-.}

# `go test -list` prints a package's matching names, then "ok <package>".
targets=()
pending=()
while IFS= read -r line; do
	case "$line" in
	Fuzz*) pending+=("$line") ;;
	ok*)
		pkg=$(awk '{print $2}' <<<"$line")
		for t in "${pending[@]}"; do targets+=("$pkg $t"); done
		pending=()
		;;
	esac
done < <($GO test -list '^Fuzz' ./... 2>&1)
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 1
fi

logdir=$(mktemp -d)
summary=()
failed=0
for entry in "${targets[@]}"; do
	pkg=${entry% *}
	t=${entry#* }
	grep -Eq "$FUZZ" <<<"$t" || continue
	echo "== $t ($pkg), $FUZZTIME"
	log="$logdir/$t.log"
	if $GO test -run '^$' -fuzz "^$t\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg" >"$log" 2>&1; then
		result=ok
	else
		result=FINDING
		failed=1
	fi
	tail -n 4 "$log"
	last=$(grep -E '^fuzz: elapsed.*execs:' "$log" | tail -n 1)
	execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
	interesting=$(sed -nE 's/.*new interesting: ([0-9]+) \(total: ([0-9]+)\).*/\1 (corpus \2)/p' <<<"$last")
	if [ "$result" != ok ]; then
		interesting="$(grep -E 'Failing input written to' "$log" | sed -E 's/.*written to //')"
		[ -n "$interesting" ] || interesting="see $log"
	fi
	summary+=("$(printf '%-28s %-10s %-8s %12s  %s' "$t" "$FUZZTIME" "$result" "${execs:-?}" "${interesting:-}")")
done

echo
printf '%-28s %-10s %-8s %12s  %s\n' TARGET TIME RESULT EXECS 'NEW INTERESTING / FINDING'
printf '%s\n' "${summary[@]}"
echo "logs: $logdir"
exit $failed
