#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The sample client (samples/dibs/dibs_sample.c) greets every loopback
# device, the ones there when it loads and the ones added later, through
# one DMB, and lets go of the DMB; the device counts exactly that.
# shellcheck disable=SC3043 # busybox sh, dash and bash have "local"

. "$(dirname "$(readlink -f "$0")")/lib.sh"

# The greeting with its terminating NUL, as the sample moves it.
GREETING="Hello from DIBS"
GREETING_LEN=16

cleanup() {
	unload_all
}
trap cleanup EXIT

counter() { # device name
	cat "$CLASS/$1/statistics/$2"
}

# How many greetings of the device the kernel log has.
greetings() { # device
	local line="dibs $1: dibs_sample: DMB [0-9]+ received \"$GREETING\"\$"

	dmesg | grep -c -E "$line"
}

# The greeting of the device is in the log, and the DMB is gone again.
greeted() { # device count
	[ "$(greetings "$1")" -ge "$2" ] &&
		[ "$(counter "$1" dmb_unregistrations)" -ge 1 ] &&
		[ "$(counter "$1" dmbs)" -eq 0 ]
}

# One DMB registered and unregistered, one signalled move of the greeting.
counts_add_up() { # device before after
	expect_eq moves "$(grew "$2" "$3" moves)" 1 &&
	expect_eq bytes_moved "$(grew "$2" "$3" bytes_moved)" $GREETING_LEN &&
	expect_eq signals_sent "$(grew "$2" "$3" signals_sent)" 1 &&
	expect_eq signals_delivered "$(grew "$2" "$3" signals_delivered)" 1 &&
	expect_eq move_errors "$(grew "$2" "$3" move_errors)" 0 &&
	expect_eq dmb_registrations "$(grew "$2" "$3" dmb_registrations)" 1 &&
	expect_eq dmb_unregistrations \
		"$(grew "$2" "$3" dmb_unregistrations)" 1 &&
	expect_eq dmbs "$(grew "$2" "$3" dmbs)" 0
}

# Loaded after the device: greets it.
greets_existing_device() {
	local before before_log

	before=$(counters lo)
	before_log=$(greetings lo)
	modprobe dibs_sample || fail "modprobe dibs_sample failed" || return 1
	wait_for greeted lo $((before_log + 1)) ||
		fail "no greeting on lo, or its DMB stays" || return 1
	counts_add_up lo "$before" "$(counters lo)"
}

# A device added while it is loaded: greets that one too.
greets_new_device() {
	lo_add lo1 || return 1
	wait_for greeted lo1 1 || fail "no greeting on lo1, or its DMB stays" ||
		return 1
	# A new device counts from zero.
	counts_add_up lo1 "$(counters lo1 | awk '{ print $1, 0 }')" \
		"$(counters lo1)" && lo_del lo1
}

# Unloading leaves no DMB and no client behind.
unloads_clean() {
	rmmod dibs_sample || fail "rmmod dibs_sample failed" || return 1
	expect_eq "dmbs of lo" "$(counter lo dmbs)" 0 &&
		! grep -q '^dibs_sample ' /proc/modules
}

ktap_print_header
dibs_set_plan 3
if ! unload_all || ! modprobe dibs_loopback; then
	ktap_exit_fail_msg "cannot load the DIBS loopback device"
fi
run_check greets_existing_device greets_existing_device
run_check greets_new_device greets_new_device
run_check unloads_clean unloads_clean
dibs_finished
