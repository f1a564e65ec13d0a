#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Hot-add and hot-remove loopback devices while the ping-pong client is
# attached and ping-pongs run.
# shellcheck disable=SC3043 # busybox sh, dash and bash have "local"

. "$(dirname "$(readlink -f "$0")")/lib.sh"

cleanup() {
	unload_all
}
trap cleanup EXIT

# Fail unless the run on the device is still going and error-free, and has
# made progress since rounds_done was the given number.
still_running() { # device rounds-done-before
	running "$1" || fail "$1: run no longer running" || return 1
	expect_eq "$1 errors" "$(result_of "$1" errors)" 0 || return 1
	wait_for progressed "$1" "$2" || fail "$1: no progress since round $2"
}

progressed() { # device rounds-done-before
	[ "$(result_of "$1" rounds_done)" -gt "$2" ]
}

add_device_with_client() {
	lo_add lo1 || return 1
	[ -e "$PINGPONG/lo1/start" ] && [ -e "$PINGPONG/lo1/results" ] ||
		fail "no $PINGPONG/lo1/{start,results}" || return 1
	expect_eq "lo1 state" "$(result_of lo1 state)" idle
}

# lo runs from here until the end of the script.
add_device_during_traffic() {
	start_run lo "$LONG_RUN" || return 1
	lo_add lo2 || return 1
	[ -e "$PINGPONG/lo2/start" ] || fail "no $PINGPONG/lo2" || return 1
	run_ok lo2 rounds=200 size=4096 && still_running lo 0
}

remove_device_during_traffic() {
	local done_lo aborted

	start_run lo1 "$LONG_RUN" zerocopy=1 || return 1
	running lo1 || fail "lo1 not running" || return 1
	done_lo=$(result_of lo rounds_done)
	aborted=$(log_count "dibs lo1: dibs_pingpong: run aborted after")
	lo_del lo1 || return 1
	[ "$(log_count "dibs lo1: dibs_pingpong: run aborted after")" -gt \
		"$aborted" ] || fail "the aborted run on lo1 was not reported" ||
		return 1
	absent "$PINGPONG/lo1" "$CLASS/lo1" ||
		fail "lo1 stays after its removal" || return 1
	still_running lo "$done_lo" && run_ok lo2 rounds=100 size=65537
}

# A device added again under an old name starts with fresh results.
readd_device() {
	lo_add lo1 || return 1
	expect_eq "lo1 state" "$(result_of lo1 state)" idle &&
		expect_eq "lo1 rounds_done" "$(result_of lo1 rounds_done)" 0 &&
		run_ok lo1 rounds=100 size=1
}

# Remove busy devices one after the other; the rest keep going.
remove_busy_devices_in_turn() {
	local dev other done_lo

	set -- lo3 lo4 lo5
	for dev in "$@"; do
		lo_add "$dev" && start_run "$dev" "$LONG_RUN" || return 1
	done
	while [ $# -gt 0 ]; do
		dev=$1
		shift
		done_lo=$(result_of lo rounds_done)
		lo_del "$dev" || return 1
		absent "$PINGPONG/$dev" || fail "$PINGPONG/$dev stays" || return 1
		still_running lo "$done_lo" || return 1
		for other in "$@"; do
			running "$other" || fail "$other stopped" || return 1
		done
	done
}

# Unloading the driver removes its busy devices; the client stays.
remove_driver_during_traffic() {
	start_run lo1 "$LONG_RUN" || return 1
	timeout 60 rmmod dibs_loopback ||
		fail "rmmod dibs_loopback failed during runs" || return 1
	[ -d "$PINGPONG" ] && [ -z "$(ls "$PINGPONG")" ] ||
		fail "$PINGPONG is missing or not empty" || return 1
	modprobe dibs_loopback && run_ok lo rounds=100 size=4096
}

# A benchmark run on a device that goes away ends after the batch in
# progress: removal waits for that, not for the run (hours at these
# counts). A second run meanwhile is refused.
remove_device_during_bench() {
	local before pid rc

	modprobe dibs_bench && echo 1001 > "$BENCH_PARAMS/reps" ||
		fail "cannot load dibs_bench" || return 1
	before=$(log_count '"row":"env"')
	echo 262144 > "$BENCH/run" 2>/dev/null &
	pid=$!
	wait_for log_grew '"row":"env"' "$before" ||
		fail "the benchmark did not start" || return 1
	expect_write "$BENCH/run" "" EBUSY || return 1
	timeout 60 sh -c "echo lo > $LO_CTL/del_device" ||
		fail "removing lo under a benchmark run took over 60 s" ||
		return 1
	wait "$pid"
	rc=$?
	[ "$rc" -eq 0 ] || fail "the run's write ended with status $rc" ||
		return 1
	[ "$(log_count '{"row":"run","size":0,"error":-19}')" -gt 0 ] ||
		fail "the ended run was not reported" || return 1
	echo 31 > "$BENCH_PARAMS/reps" && lo_add lo
}

log_grew() { # text count-before
	[ "$(log_count "$1")" -gt "$2" ]
}

ktap_print_header
dibs_set_plan 7
if ! load_all; then
	ktap_exit_fail_msg "cannot load the DIBS modules"
fi
run_check add_device_with_client add_device_with_client
run_check add_device_during_traffic add_device_during_traffic
run_check remove_device_during_traffic remove_device_during_traffic
run_check readd_device readd_device
run_check remove_busy_devices_in_turn remove_busy_devices_in_turn
run_check remove_driver_during_traffic remove_driver_during_traffic
run_check remove_device_during_bench remove_device_during_bench
dibs_finished
