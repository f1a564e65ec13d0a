#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Verified runs of the ping-pong client over a loopback device, from
# 1 byte to 1 MiB, with move_data() and with zero-copy writes; the device's
# statistics must count exactly what each run did.
# shellcheck disable=SC3043 # busybox sh, dash and bash have "local"

. "$(dirname "$(readlink -f "$0")")/lib.sh"

SIZES="1 63 4096 65537 1048576"
# The client's control message (struct pingpong_msg) and control DMB.
MSG_LEN=8
CTRL_LEN=64

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

# Per round each endpoint moves its payload (unless it writes through
# its zero-copy mapping) and a control message with a signal; per run
# each registers a data and a control DMB and unregisters them, and maps
# the other's data DMB in zero-copy mode. Nothing else may be counted.
counts_add_up() { # before after rounds size zerocopy
	local payload=1 maps=0 bytes

	if [ "$5" = 1 ]; then
		payload=0
		maps=2
	fi
	bytes=$((2 * ($4 + CTRL_LEN)))
	expect_eq moves "$(grew "$1" "$2" moves)" $((2 * $3 * (1 + payload))) &&
	expect_eq bytes_moved "$(grew "$1" "$2" bytes_moved)" \
		$((2 * $3 * (MSG_LEN + payload * $4))) &&
	expect_eq signals_sent "$(grew "$1" "$2" signals_sent)" $((2 * $3)) &&
	expect_eq signals_delivered "$(grew "$1" "$2" signals_delivered)" \
		$((2 * $3)) &&
	expect_eq move_errors "$(grew "$1" "$2" move_errors)" 0 &&
	expect_eq dmb_registrations "$(grew "$1" "$2" dmb_registrations)" 4 &&
	expect_eq dmb_unregistrations "$(grew "$1" "$2" dmb_unregistrations)" 4 &&
	expect_eq dmbs "$(grew "$1" "$2" dmbs)" 0 &&
	expect_eq dmb_bytes "$(grew "$1" "$2" dmb_bytes)" 0 &&
	expect_eq attaches "$(grew "$1" "$2" attaches)" $maps &&
	expect_eq detaches "$(grew "$1" "$2" detaches)" $maps &&
	# The client reports the same for its run.
	expect_eq dev_moves "$(result_of lo dev_moves)" \
		"$(grew "$1" "$2" moves)" &&
	expect_eq dev_signals_delivered "$(result_of lo dev_signals_delivered)" \
		"$(grew "$1" "$2" signals_delivered)" &&
	expect_eq dev_dmb_bytes_registered \
		"$(result_of lo dev_dmb_bytes_registered)" $bytes &&
	expect_eq dev_dmb_bytes_unregistered \
		"$(result_of lo dev_dmb_bytes_unregistered)" $bytes
}

pingpong() { # size zerocopy
	local rounds before

	rounds=$(rounds_for "$1")
	before=$(counters lo)
	run_ok lo "rounds=$rounds" "size=$1" "zerocopy=$2" &&
		expect_eq "zerocopy" "$(result_of lo zerocopy)" "$2" &&
		expect_eq "size" "$(result_of lo size)" "$1" &&
		counts_add_up "$before" "$(counters lo)" "$rounds" "$1" "$2"
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
dibs_set_plan $((2 * $(echo "$SIZES" | wc -w) + 2))
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
dibs_finished
