#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the DIBS selftests in QEMU on the stock Debian 6.12 kernel with the
# modules of this tree, in one VM booted by harness/vm.sh.
#
#   tools/testing/selftests/dibs/vmtest.sh [-k BUILD_DIR] [-w] [TEST...]
#
# TEST is one of the TEST_PROGS of the Makefile, or of its
# TEST_PROGS_EXTENDED (smcd), with or without ".sh" (default: all
# TEST_PROGS, in the Makefile's order). -k boots the x86_64 kernel built
# in BUILD_DIR with its modules instead (see harness/vm.sh); smcd needs
# that, with the DIBS-era x86_64 KUnit kernel of harness/kunit.sh. -w
# warps the VM's time over idle periods (harness/vm.sh -w), for tests that
# wait for long timers (smcd_idle). A test may name its own time limit in
# a line "# timeout: SECONDS"; the default is the one of "settings".
#
# Each TAP test point is reported as "PASS selftest:<test>:<point>" (or
# FAIL, SKIP) for harness/check.sh. A test that fails without a failing
# test point, times out or never ends fails as "selftest:<test>", and a
# kernel splat in the VM's logs fails "selftest:kernel-log". The exit
# status is non-zero on any failure.

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../../../harness/lib.sh
. "$DIR/../../../../harness/lib.sh"

KTAP=tools/testing/selftests/kselftest/ktap_helpers.sh
work=$BUILD/selftests
failed=0

report() { # PASS|FAIL|SKIP name
	result "$1" "selftest:$2"
	[ "$1" != FAIL ] || failed=1
}

# The kernel's TAP helpers, from the kernel tree of harness/linux7.sh.
ktap_helpers() {
	[ -f "$KSRC/$KTAP" ] || "$REPO/harness/linux7.sh" >&2 ||
		die "no kernel tree for $KTAP"
	echo "$KSRC/$KTAP"
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

mapfile -t all < <(sed -n '/^TEST_PROGS :=/,/^# end/p' "$DIR/Makefile" |
		   grep -o '[a-z_]*\.sh')
[ ${#all[@]} -gt 0 ] || die "no TEST_PROGS in $DIR/Makefile"
mapfile -t extended < <(sed -n 's/^TEST_PROGS_EXTENDED := //p' \
			"$DIR/Makefile" | grep -o '[a-z_]*\.sh')
tests=()
for t in "$@"; do
	t=${t%.sh}.sh
	printf '%s\n' "${all[@]}" "${extended[@]}" | grep -qxF "$t" ||
		die "no test $t"
	tests+=("$t")
done
[ ${#tests[@]} -gt 0 ] || tests=("${all[@]}")

per_test=$(sed -n 's/^timeout=//p' "$DIR/settings")
vm_timeout=120
for t in "${tests[@]}"; do
	own=$(sed -n 's/^# timeout: \([0-9]*\)$/\1/p' "$DIR/$t")
	vm_timeout=$((vm_timeout + ${own:-$per_test}))
done
rm -rf "$work"
mkdir -p "$work/selftests/dibs" "$work/selftests/kselftest"
mapfile -t files < <(sed -n 's/^TEST_FILES := //p' "$DIR/Makefile")
for t in "${all[@]}" "${extended[@]}" "${files[@]}" settings; do
	cp "$DIR/$t" "$work/selftests/dibs/" || exit 1
done
cp "$(ktap_helpers)" "$work/selftests/kselftest/" || exit 1
# The test programs, static: the guest has no C library.
for prog in $(sed -n 's/^TEST_GEN_PROGS_EXTENDED := //p' "$DIR/Makefile"); do
	printf '%s\n' "${tests[@]}" | grep -q "^${prog%_test}" || continue
	gcc -static -O2 -Wall -o "$work/selftests/dibs/$prog" "$DIR/$prog.c" ||
		die "cannot build $prog"
done

cat > "$work/dibs-selftests.sh" <<'EOF'
cd selftests/dibs || exit 1
default=$(sed -n 's/^timeout=//p' settings)
status=0
for t in "$@"; do
	echo "DIBS_SELFTEST_BEGIN $t"
	own=$(sed -n 's/^# timeout: \([0-9]*\)$/\1/p' "./$t")
	# /bin/sh by path: busybox's timeout would run its own "sh".
	timeout "${own:-$default}" /bin/sh "./$t"
	rc=$?
	echo "DIBS_SELFTEST_END $t $rc"
	[ "$rc" -eq 0 ] || status=1
done
exit "$status"
EOF

start=$(date +%s)
"$DIR/../../../../harness/vm.sh" "${vm_args[@]}" \
	-t "$vm_timeout" \
	-o "$work/console.log" -f "$work/selftests" "$work/dibs-selftests.sh" \
	"${tests[@]}"
log "selftests took $(($(date +%s) - start)) s"

while read -r status name; do
	report "$status" "$name"
done < <(awk '
	/^DIBS_SELFTEST_BEGIN / { test = $2; sub(/\.sh$/, "", test); bad = 0 }
	/^DIBS_SELFTEST_END / {
		if ($3 != 0 && !bad)
			print "FAIL", test
		test = ""
	}
	test != "" && /^ok [0-9]+ / {
		print (/# SKIP/ ? "SKIP" : "PASS"), test ":" $3
	}
	test != "" && /^not ok [0-9]+ / { print "FAIL", test ":" $4; bad = 1 }
' "$work/console.log")

tap_failure_details selftest "$work/console.log"
for t in "${tests[@]}"; do
	grep -q "^DIBS_SELFTEST_END $t " "$work/console.log" ||
		report FAIL "${t%.sh}"
done
if find_splats "$work/console.log" > /dev/null ||
   find_splats "$work/console.log.dmesg" > /dev/null; then
	report FAIL kernel-log
else
	report PASS kernel-log
fi
exit "$failed"
