#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run last: the kernel log and the taint flags show no bug, warning or leak
# from anything the other tests did.
# shellcheck disable=SC3043 # busybox sh, dash and bash have "local"

. "$(dirname "$(readlink -f "$0")")/lib.sh"

BAD_LOG='WARN|BUG|lockdep|KASAN|leak|Call Trace'
# Taint flags that loading out-of-tree, unsigned modules sets: O and E.
EXPECTED_TAINT=$(((1 << 12) | (1 << 13)))

kernel_log_is_clean() {
	local bad

	bad=$(dmesg | grep -E "$BAD_LOG")
	[ -z "$bad" ] || fail "kernel log has: $bad"
}

kernel_is_not_tainted_by_bugs() {
	local taint

	taint=$(cat /proc/sys/kernel/tainted)
	[ $((taint & ~EXPECTED_TAINT)) -eq 0 ] ||
		fail "kernel taint is $taint"
}

ktap_print_header
ktap_set_plan 2
run_check kernel_log_is_clean kernel_log_is_clean
run_check kernel_is_not_tainted_by_bugs kernel_is_not_tainted_by_bugs
ktap_finished
