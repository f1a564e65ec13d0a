#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the DIBS selftests in QEMU on the stock Debian 6.12 kernel with the
# modules of this tree, in one VM booted by harness/vm.sh: installed as
# kselftest installs them, and run by its run_kselftest.sh with the
# per-test time limit of "settings".
#
#   harness/selftests.sh [-k BUILD_DIR] [-w] [TEST...]
#
# TEST is one of the TEST_PROGS of tools/testing/selftests/dibs/Makefile,
# or of its TEST_PROGS_EXTENDED (smcd), with or without ".sh" (default: all
# TEST_PROGS; none depends on another or on their order). -k boots the
# x86_64 kernel built in BUILD_DIR with its modules instead (see
# harness/vm.sh); smcd needs that, with the DIBS-era x86_64 KUnit kernel
# of harness/kunit.sh. -w warps the VM's time over idle periods
# (harness/vm.sh -w), for tests that wait for long timers (smcd_idle). An
# extended test may name a longer time limit in a line "# timeout:
# SECONDS", passed to the runner as its --override-timeout.
#
# Each TAP test point is reported as "PASS selftest:<test>:<point>" (or
# FAIL, SKIP) for harness/check.sh. A test that fails without a failing
# test point, times out or never ends fails as "selftest:<test>", and a
# kernel splat in the VM's logs fails "selftest:kernel-log". The exit
# status is non-zero on any failure.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

work=$BUILD/selftests
failed=0

report() { # PASS|FAIL|SKIP name
	result "$1" "selftest:$2"
	[ "$1" != FAIL ] || failed=1
}

vm_args=()
if [ "${1:-}" = -k ]; then
	[ -n "${2:-}" ] || die "-k needs a kernel build directory"
	vm_args=(-k "$2")
	work=$BUILD/selftests-$(basename "$2")
	shift 2
fi
if [ "${1:-}" = -w ]; then
	vm_args+=(-w)
	work+=-warp
	shift
fi

# Install the selftests as kselftest does (the kernel tree of
# harness/tree.sh has this directory), with the runner and its list.
inst=$work/kselftest
rm -rf "$work"
mkdir -p "$work"
"$REPO/harness/tree.sh" || exit 1
make -s -C "$KSRC/tools/testing/selftests" TARGETS=dibs \
	INSTALL_PATH="$inst" install > "$work/install.log" 2>&1 || {
	cat "$work/install.log" >&2; die "cannot install the selftests"; }
mapfile -t all < <(sed -n 's/^dibs://p' "$inst/kselftest-list.txt")
[ ${#all[@]} -gt 0 ] || die "no dibs tests in $inst/kselftest-list.txt"
# The extended tests (TEST_PROGS_EXTENDED) are installed but not listed.
mapfile -t extended < <(cd "$inst/dibs" && find . -maxdepth 1 -name '*.sh' \
			-perm -u+x -printf '%f\n')

tests=()
for t in "$@"; do
	t=${t%.sh}.sh
	printf '%s\n' "${all[@]}" "${extended[@]}" | grep -qxF "$t" ||
		die "no test $t"
	tests+=("$t")
done
[ ${#tests[@]} -gt 0 ] || tests=("${all[@]}")

# The runner runs what its list names: add the extended tests asked for.
# A test's "# timeout: SECONDS" line overrides the limit of "settings".
per_test=$(sed -n 's/^timeout=//p' "$inst/dibs/settings")
override=
vm_timeout=120
runner_args=()
for t in "${tests[@]}"; do
	grep -qxF "dibs:$t" "$inst/kselftest-list.txt" ||
		echo "dibs:$t" >> "$inst/kselftest-list.txt"
	own=$(sed -n 's/^# timeout: \([0-9]*\)$/\1/p' "$inst/dibs/$t")
	[ -n "$own" ] && [ "$own" -gt "${override:-0}" ] && override=$own
	vm_timeout=$((vm_timeout + ${own:-$per_test}))
	runner_args+=(-t "dibs:$t")
done
[ -n "$override" ] && runner_args=(-o "$override" "${runner_args[@]}")

cat > "$work/dibs-selftests.sh" <<'EOF'
cd kselftest || exit 1
echo DIBS_SELFTESTS_BEGIN
./run_kselftest.sh "$@"
rc=$?
echo "DIBS_SELFTESTS_END $rc"
exit "$rc"
EOF

start=$(date +%s)
"$REPO/harness/vm.sh" "${vm_args[@]}" \
	-t "$vm_timeout" \
	-o "$work/console.log" -f "$inst" "$work/dibs-selftests.sh" \
	"${runner_args[@]}"
log "selftests took $(($(date +%s) - start)) s"

# The runner's TAP has "ok N selftests: dibs: T.sh" for each test, after
# the test's own TAP, every line of which it prefixes with "# ".
sed -n '/^DIBS_SELFTESTS_BEGIN/,/^DIBS_SELFTESTS_END/p' \
	"$work/console.log" > "$work/tap.log"
while read -r status name; do
	report "$status" "$name"
done < <(awk '
	/^# selftests: dibs: / {
		test = $4; sub(/\.sh$/, "", test); bad = 0; points = 0; next
	}
	test != "" && /^# (not )?ok [0-9]+ / {
		points++
		if ($2 == "not") {
			print "FAIL", test ":" $5
			bad = 1
		} else {
			print (/# SKIP/ ? "SKIP" : "PASS"), test ":" $4
		}
		next
	}
	test != "" && /^(not )?ok [0-9]+ selftests: dibs: / {
		if ($1 == "not" && !bad)
			print "FAIL", test
		else if ($1 != "not" && / # SKIP/ && !points)
			print "SKIP", test
		test = ""
	}' "$work/tap.log")

sed 's/^# //' "$work/tap.log" > "$work/tap-unprefixed.log"
tap_failure_details selftest "$work/tap-unprefixed.log"
for t in "${tests[@]}"; do
	grep -qE "^(not )?ok [0-9]+ selftests: dibs: $t( |$)" "$work/tap.log" ||
		report FAIL "${t%.sh}"
done
if find_splats "$work/console.log" > /dev/null ||
   find_splats "$work/console.log.dmesg" > /dev/null; then
	report FAIL kernel-log
else
	report PASS kernel-log
fi
exit "$failed"
