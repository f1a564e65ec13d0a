#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Verified ping-pong runs of the sample client over a loopback device, from
# 1 byte to 1 MiB, with move_data() and with zero-copy writes.
# shellcheck disable=SC3043 # busybox sh, dash and bash have "local"

. "$(dirname "$(readlink -f "$0")")/lib.sh"

SIZES="1 63 4096 65537 1048576"

cleanup() {
	unload_all
}
trap cleanup EXIT

# Fewer rounds for big payloads: every byte is generated and compared twice.
rounds_for() { # size
	if [ "$1" -ge 65536 ]; then
		echo 10
	else
		echo 200
	fi
}

pingpong() { # size zerocopy
	run_ok lo "rounds=$(rounds_for "$1")" "size=$1" "zerocopy=$2" &&
		expect_eq "zerocopy" "$(result_of lo zerocopy)" "$2" &&
		expect_eq "size" "$(result_of lo size)" "$1"
}

# A second run on the same device starts from fresh results.
second_run_resets_results() {
	run_ok lo rounds=50 size=100 && run_ok lo rounds=7 size=3
}

# Runs on two devices at the same time do not disturb each other.
concurrent_runs_on_two_devices() {
	lo_add lo1 || return 1
	start_run lo rounds=2000 size=512 &&
		start_run lo1 rounds=100 size=8192 zerocopy=1 || return 1
	wait_for not_running lo && wait_for not_running lo1 ||
		fail "runs did not end" || return 1
	check_done lo 2000 512 && check_done lo1 100 8192 && lo_del lo1
}

ktap_print_header
ktap_set_plan $((2 * $(echo "$SIZES" | wc -w) + 2))
if ! load_all; then
	ktap_exit_fail_msg "cannot load the DIBS modules"
fi
for size in $SIZES; do
	run_check "size_${size}_copy" pingpong "$size" 0
done
for size in $SIZES; do
	run_check "size_${size}_zerocopy" pingpong "$size" 1
done
run_check second_run_resets_results second_run_resets_results
run_check concurrent_runs_on_two_devices concurrent_runs_on_two_devices
ktap_finished
