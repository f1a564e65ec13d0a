#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# SMC-D between two VMs: boot two VMs of the x86_64 KUnit kernel (a
# DIBS-era kernel with SMC, SMC_DIAG and virtio-net; harness/kunit.sh
# builds it) on one DIBS fabric with harness/run-pair.sh, and run
# tools/testing/selftests/dibs/smcd_pair.sh in them, the first as the
# client, the second as the server.
#
#   harness/smcd-pair.sh [-b REPS -s BYTES] BUILD_DIR
#
# With -b, only SMC-D's comparison with TCP runs, REPS times with BYTES
# each way (for
# harness/bench.sh, which reads the rows from the first VM's console log,
# $BUILD/vm/smcd-pair-bench-first/console.log).
#
# Each check of the client is reported as "selftest-smcd-pair:<check>";
# "selftest-smcd-pair:vms" fails if either VM fails (a check of the server
# failed, a VM did not finish, or a kernel splat in either).

. "$(dirname "$0")/lib.sh"

usage() {
	die "usage: $0 [-b REPS -s BYTES] BUILD_DIR"
}

name=smcd-pair
mode= reps= bytes=
while getopts b:s: opt; do
	case $opt in
	b) reps=$OPTARG ;;
	s) bytes=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
if [ -n "$reps" ]; then
	name=smcd-pair-bench mode="bench $reps $bytes"
fi
build_dir=$1
dir=$REPO/tools/testing/selftests/dibs
work=$BUILD/smcd-pair
mkdir -p "$work"

gcc -static -O2 -Wall -o "$work/smcd_test" "$dir/smcd_test.c" ||
	die "cannot build smcd_test"
log "SMC-D between two VMs of $(cat "$build_dir/include/config/kernel.release")"
"$REPO/harness/run-pair.sh" -k "$build_dir" -t 900 -n "$name" \
	-f "$work/smcd_test" "$dir/smcd_pair.sh" "client $mode" "server $mode"
rc=$?

seen=0
while read -r status check; do
	result "$status" "selftest-smcd-pair:$check"
	seen=1
done < <(sed -n -e 's/^ok [0-9]* \([^ ]*\)$/PASS \1/p' \
		-e 's/^not ok [0-9]* \([^ ]*\)$/FAIL \1/p' \
		"$BUILD/vm/$name-first/console.log")
tap_failure_details selftest-smcd-pair "$BUILD/vm/$name-first/console.log"
if [ "$rc" -eq 0 ] && [ "$seen" = 1 ]; then
	result PASS selftest-smcd-pair:vms
else
	result FAIL selftest-smcd-pair:vms
	tail -n 40 "$BUILD/vm/$name-second/console.log" |
		detail selftest-smcd-pair:server
	exit 1
fi
