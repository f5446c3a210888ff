#!/bin/bash
# tests/all.sh - the one command that runs every Shoal test (README "Test it").
#
#   bash tests/all.sh
#
# 1. go vet ./...
# 2. go test -race -timeout 25m -p 2 ./...   (unit tests, the integration tests
#    in tests/ against a noded built from this tree, smbtorture with its pass list)
# 3. every native fuzz target (func FuzzX in a _test.go file, found with grep)
#    for FUZZTIME (default 2s) each; an input that crashes one is saved by Go
#    under that package's testdata/fuzz/FuzzX/ (keep it as a regression case)
# then one closing summary line.  Exit status 0 only if every step passed.
#
# Environment: FUZZTIME (e.g. 10s, 0 skips fuzzing), CI=true (a missing client
# program such as smbclient fails instead of skipping), GOTESTFLAGS (extra
# flags for step 2, e.g. -v or -run=X), and those of tests/testenv
# (SHOAL_TEST_SERVER, ...).  Summaries the integration tests leave in
# tests/out/*/summary.txt (e.g. the smbtorture count) are printed after step 2.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
if ! command -v go >/dev/null; then
	[ -x /usr/local/go/bin/go ] || { echo "all.sh: no go on PATH or in /usr/local/go/bin" >&2; exit 2; }
	export PATH=$PATH:/usr/local/go/bin
fi
FUZZTIME=${FUZZTIME:-2s}
START=$(date +%s)
FAILED=()

step() { printf '\n=== %s  (%s, +%ds)\n' "$1" "$(date +%H:%M:%S)" $(($(date +%s) - START)); }

step "go vet ./..."
if ! go vet ./...; then FAILED+=("go vet"); fi

step "go test -race -timeout 25m -p 2 ./..."
rm -rf "$ROOT/tests/out"
# shellcheck disable=SC2086 # GOTESTFLAGS is a list of flags
if ! go test -race -timeout 25m -p 2 ${GOTESTFLAGS:-} ./...; then FAILED+=("go test"); fi
for s in "$ROOT"/tests/out/*/summary.txt; do
	[ -f "$s" ] && sed 's/^/  /' "$s"
done

FUZZ_OK=0 FUZZ_N=0
if [ "$FUZZTIME" != 0 ]; then
	step "fuzz targets, $FUZZTIME each"
	# "dir name" pairs, one per func Fuzz* in a _test.go file (testdata and
	# hidden directories excluded), sorted for a stable order.
	TARGETS=$(grep -rEo --include='*_test.go' --exclude-dir='testdata' --exclude-dir='.?*' \
		'^func Fuzz[A-Za-z0-9_]*\(' . |
		sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' | sort -u)
	while read -r dir name; do
		[ -n "$dir" ] || continue
		FUZZ_N=$((FUZZ_N + 1))
		printf -- '--- %s %s\n' "$dir" "$name"
		out=$(go test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" "$dir" 2>&1)
		rc=$?
		if [ $rc -ne 0 ] && ! grep -q 'Failing input written' <<<"$out" &&
			grep -q 'context deadline exceeded' <<<"$out"; then
			# Go's fuzzer sometimes reports its own deadline when a worker
			# is slow to stop; with no failing input that is no finding:
			# run the target once more.
			printf '%s\n' "$out" | tail -n 5
			echo "(fuzzer deadline without a failing input: running $name again)"
			out=$(go test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" "$dir" 2>&1)
			rc=$?
			if [ $rc -ne 0 ] && ! grep -q 'Failing input written' <<<"$out" &&
				grep -q 'context deadline exceeded' <<<"$out"; then
				echo "(again only the fuzzer's own deadline, no failing input: counted as passed)"
				rc=0
			fi
		fi
		printf '%s\n' "$out" | tail -n 25
		if [ $rc -eq 0 ]; then
			FUZZ_OK=$((FUZZ_OK + 1))
		else
			FAILED+=("fuzz $name ($dir)")
		fi
	done <<<"$TARGETS"
	[ "$FUZZ_N" -gt 0 ] || echo "no fuzz targets found"
fi

ELAPSED=$(($(date +%s) - START))
echo
if [ ${#FAILED[@]} -eq 0 ]; then
	echo "all.sh: PASS: go vet ok, go test ok, fuzz $FUZZ_OK/$FUZZ_N ok ($((ELAPSED / 60))m$((ELAPSED % 60))s)"
	exit 0
fi
printf -v LIST '%s; ' "${FAILED[@]}"
echo "all.sh: FAIL: ${LIST%; } (fuzz $FUZZ_OK/$FUZZ_N ok; $((ELAPSED / 60))m$((ELAPSED % 60))s)"
exit 1
