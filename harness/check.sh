#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every test and gate of the project, ending with one line
# "N passed, N failed" and a non-zero exit status if anything failed.

. "$(dirname "$0")/lib.sh"

RESULTS=$(mktemp)
export RESULTS
trap 'rm -f "$RESULTS" "$RESULTS.details"' EXIT

failures() { grep -c '^FAIL ' "$RESULTS"; }
recorded() { wc -l < "$RESULTS"; }

# Run one step. A step that fails without recording why counts as one
# failure; one that passes without recording anything counts as one pass.
step() { # name command...
	local name=$1 before lines
	shift
	before=$(failures)
	lines=$(recorded)
	if ! "$@"; then
		[ "$(failures)" -gt "$before" ] || result FAIL "step:$name"
	elif [ "$(recorded)" -eq "$lines" ]; then
		result PASS "step:$name"
	fi
}

# The tests of the ivshmem fabric server (tools/dibs), one result per TAP
# line; its build goes to the cache.
fabric_server() {
	local out=$BUILD/tools-dibs/ rc
	mkdir -p "$out"
	make -s -C "$REPO/tools/dibs" OUTPUT="$out" check > "$out/test.log" 2>&1
	rc=$?
	sed -n -e 's/^ok [0-9]* - /PASS /p' -e 's/^not ok [0-9]* - /FAIL /p' \
		"$out/test.log" | sed 's/  # .*//' |
		while read -r status name; do
			result "$status" "fabric-server:$name"
		done
	[ $rc -eq 0 ] || cat "$out/test.log" >&2
	return $rc
}

step deps "$REPO/harness/deps.sh"
step fabric-server fabric_server
step kunit-x86_64 "$REPO/harness/kunit.sh" x86_64
step kunit-s390 "$REPO/harness/kunit.sh" s390
step gates "$REPO/harness/gates.sh"
step bench-smoke "$REPO/harness/bench.sh" --smoke
step selftests "$REPO/harness/selftests.sh"
step selftests-pair "$REPO/harness/selftests-pair.sh"

echo
if [ -s "$RESULTS.details" ]; then
	log "what the failed checks printed"
	cat "$RESULTS.details"
	echo
fi
grep -E '^(FAIL|SKIP) ' "$RESULTS" || true
passed=$(grep -c '^PASS ' "$RESULTS")
failed=$(failures)
skipped=$(grep -c '^SKIP ' "$RESULTS")
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
