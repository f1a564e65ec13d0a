#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the DIBS selftests; sourced, not run. They need only a POSIX
# shell with "local" (busybox sh, dash and bash have it), modprobe and
# dmesg. The variables are for the tests that source this file.
# shellcheck disable=SC3043,SC2034

DIR=$(dirname "$(readlink -f "$0")")
KTAP_HELPERS=$DIR/../kselftest/ktap_helpers.sh
if [ ! -e "$KTAP_HELPERS" ]; then
	echo "$KTAP_HELPERS file not found [SKIP]"
	exit 4
fi
# shellcheck source=/dev/null
. "$KTAP_HELPERS"

DEBUGFS=/sys/kernel/debug
LO_CTL=$DEBUGFS/dibs_loopback
PINGPONG=$DEBUGFS/dibs_pingpong
BENCH=$DEBUGFS/dibs_bench
BENCH_PARAMS=/sys/module/dibs_bench/parameters
CLASS=/sys/class/dibs
# Bound, in tenths of a second, of every wait for a state change.
WAIT_TENTHS=${WAIT_TENTHS:-600}
# A run that lasts long enough to be interrupted: over a minute even on
# real hardware, most of an hour under QEMU TCG.
LONG_RUN="rounds=1000000 size=65536"

grep -q " $DEBUGFS debugfs " /proc/mounts ||
	mount -t debugfs none "$DEBUGFS"

# Every test ends with a check of what it left in the kernel log and the
# taint flags (dibs_finished), so that none depends on another running
# after it. The lines that mean a bug (one extended regular expression per
# line), and the taint flags that loading out-of-tree, unsigned modules
# sets (O and E).
SPLAT_PATTERNS=$DIR/splat_patterns
EXPECTED_TAINT=$(((1 << 12) | (1 << 13)))
LOG_START=$(dmesg | wc -l)
TAINT_START=$(cat /proc/sys/kernel/tainted)

# Print a diagnostic and fail; for the last command of a check.
fail() {
	ktap_print_msg "$*"
	return 1
}

# Report one check: "ok" if the command succeeds. Unlike
# ktap_test_result, this keeps the arguments as they are.
run_check() { # name command [arg...]
	local name="$1"

	shift
	if "$@"; then
		ktap_test_pass "$name"
	else
		ktap_test_fail "$name"
	fi
}

# Write a line to a file; print "0", or the error name if the write failed.
write_status() { # file text
	local err

	# dd reports the errno of the failed write; shells' echo may not
	# (dash says "I/O error" for all).
	if err=$(printf '%s\n' "$2" | dd of="$1" bs=4096 conv=notrunc 2>&1); then
		echo 0
		return
	fi
	case $err in
	*"Invalid argument"*) echo EINVAL ;;
	*"Device or resource busy"*) echo EBUSY ;;
	*"File exists"*) echo EEXIST ;;
	*"No such device"*) echo ENODEV ;;
	*"Operation not supported"*) echo EOPNOTSUPP ;;
	*"Network is unreachable"*) echo ENETUNREACH ;;
	*"Permission denied"*) echo EACCES ;;
	*) echo "unexpected error: $err" ;;
	esac
}

# Fail unless writing the text to the file fails with the given error.
expect_write() { # file text errno
	local got

	got=$(write_status "$1" "$2")
	[ "$got" = "$3" ] || fail "writing \"$2\" to $1: $got, expected $3"
}

expect_eq() { # what actual expected
	[ "$2" = "$3" ] || fail "$1 is \"$2\", expected \"$3\""
}

# Wait until a command succeeds; bounded by WAIT_TENTHS.
wait_for() { # command [arg...]
	local i=0

	while ! "$@"; do
		i=$((i + 1))
		[ "$i" -le "$WAIT_TENTHS" ] || return 1
		sleep 0.1
	done
}

absent() { # path...
	local path

	for path in "$@"; do
		[ ! -e "$path" ] || return 1
	done
}

# Unload whichever of the modules are loaded, users first.
unload_all() {
	local module

	for module in dibs_sample dibs_bench dibs_pingpong dibs_loopback \
		dibs; do
		if grep -q "^$module " /proc/modules; then
			rmmod "$module" || return 1
		fi
	done
}

# Load the device and the client, in this order, on a clean system.
load_all() {
	unload_all || fail "cannot unload the DIBS modules" || return 1
	modprobe dibs_loopback || fail "modprobe dibs_loopback failed" ||
		return 1
	modprobe dibs_pingpong || fail "modprobe dibs_pingpong failed"
}

lo_add() { # name
	expect_write "$LO_CTL/new_device" "$1" 0
}

lo_del() { # name
	expect_write "$LO_CTL/del_device" "$1" 0
}

# One value of a device's ping-pong client results.
result_of() { # device key
	sed -n "s/^$2: //p" "$PINGPONG/$1/results" 2>/dev/null
}

running() { # device
	[ "$(result_of "$1" state)" = running ]
}

not_running() { # device
	! running "$1"
}

start_run() { # device parameters...
	local dev="$1"

	shift
	expect_write "$PINGPONG/$dev/start" "$*" 0
}

# Start a run and wait for its end; fail unless it ends as done with every
# round verified.
run_ok() { # device parameters...
	local dev="$1" rounds size

	start_run "$@" || return 1
	wait_for not_running "$dev" || fail "$dev: run did not end" || return 1
	shift
	rounds=$(echo "$*" | sed -n 's/.*rounds=\([0-9]*\).*/\1/p')
	size=$(echo "$*" | sed -n 's/.*size=\([0-9]*\).*/\1/p')
	check_done "$dev" "$rounds" "$size"
}

# The results of a finished run are those of a complete, verified run.
check_done() { # device rounds size
	if expect_eq "$1 state" "$(result_of "$1" state)" "done" &&
	   expect_eq "$1 rounds_done" "$(result_of "$1" rounds_done)" "$2" &&
	   expect_eq "$1 bytes_verified" "$(result_of "$1" bytes_verified)" \
		"$((2 * $2 * $3))" &&
	   expect_eq "$1 errors" "$(result_of "$1" errors)" 0 &&
	   expect_eq "$1 last_error" "$(result_of "$1" last_error)" 0 &&
	   check_latencies "$1"; then
		return 0
	fi
	sed 's/^/# /' "$PINGPONG/$1/results"
	return 1
}

# Round times are positive and ordered: min <= p50 <= p99 <= max <= total.
check_latencies() { # device
	local min p50 p99 max total

	min=$(result_of "$1" round_ns_min)
	p50=$(result_of "$1" round_ns_p50)
	p99=$(result_of "$1" round_ns_p99)
	max=$(result_of "$1" round_ns_max)
	total=$(result_of "$1" total_ns)
	if [ "$min" -gt 0 ] && [ "$min" -le "$p50" ] && [ "$p50" -le "$p99" ] &&
	   [ "$p99" -le "$max" ] && [ "$max" -le "$total" ]; then
		return 0
	fi
	fail "$1: round times out of order: $min $p50 $p99 $max $total"
}

# A device's counters (its statistics/ in sysfs), one "name value" line
# each.
counters() { # device
	local f

	for f in "$CLASS/$1/statistics"/*; do
		echo "${f##*/} $(cat "$f")"
	done
}

# How much counter $3 grew from snapshot $1 to snapshot $2 of counters().
grew() { # before after name
	printf '%s\n%s\n' "$1" "$2" | awk -v k="$3" '
		$1 == k { v[n++] = $2 }
		END { if (n == 2) print v[1] - v[0]; else print "missing" }'
}

# Lines of the kernel log that mention the given text.
log_count() { # text
	dmesg | grep -c -F "$1"
}

# The test's plan: its own checks, and the kernel log check.
dibs_set_plan() { # checks
	ktap_set_plan $(($1 + 1))
}

# Nothing the test did left a bug, warning or leak in the kernel log or a
# new taint flag.
kernel_log_clean() {
	local bad taint

	bad=$(dmesg | tail -n +$((LOG_START + 1)) | grep -E -f "$SPLAT_PATTERNS")
	[ -z "$bad" ] || fail "kernel log has: $bad"
	taint=$(cat /proc/sys/kernel/tainted)
	[ $((taint & ~TAINT_START & ~EXPECTED_TAINT)) -eq 0 ] ||
		fail "kernel taint went from $TAINT_START to $taint"
}

# The last check of every test, then the TAP totals and exit status.
dibs_finished() {
	run_check kernel_log_clean kernel_log_clean
	ktap_finished
}
