#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Load and unload the DIBS core, the loopback device and the ping-pong client
# in every order, also while a ping-pong runs.
# shellcheck disable=SC3043 # busybox sh, dash and bash have "local"

. "$(dirname "$(readlink -f "$0")")/lib.sh"

ABORTED_LO="dibs lo: dibs_pingpong: run aborted after"

cleanup() {
	unload_all
}
trap cleanup EXIT

# The client registers with no device; the device's arrival adds it.
# insmod, because modprobe would bring the loopback device with the core.
client_before_device() {
	unload_all || return 1
	insmod "$(modinfo -n dibs)" && insmod "$(modinfo -n dibs_pingpong)" ||
		fail "insmod of dibs and dibs_pingpong failed" || return 1
	if grep -q '^dibs_loopback ' /proc/modules; then
		fail "insmod dibs loaded dibs_loopback"
		return 1
	fi
	[ -d "$PINGPONG" ] && [ -z "$(ls "$PINGPONG")" ] ||
		fail "$PINGPONG is missing or not empty" || return 1
	modprobe dibs_loopback || fail "modprobe dibs_loopback failed" ||
		return 1
	[ -d "$PINGPONG/lo" ] || fail "no $PINGPONG/lo after loading the device" ||
		return 1
	rmmod dibs_loopback || fail "rmmod dibs_loopback failed" || return 1
	absent "$PINGPONG/lo" || fail "$PINGPONG/lo stays after device removal" ||
		return 1
	rmmod dibs_pingpong dibs || fail "rmmod failed" || return 1
	absent "$PINGPONG" || fail "$PINGPONG stays after rmmod"
}

# modprobe loads the loopback device with the core (a soft dependency), as
# kernels whose loopback device is part of the core module expect; it
# still unloads alone, and loading a client brings it back.
core_brings_loopback() {
	unload_all || return 1
	modprobe dibs || fail "modprobe dibs failed" || return 1
	grep -q '^dibs_loopback ' /proc/modules ||
		fail "modprobe dibs did not load dibs_loopback" || return 1
	[ -e "$CLASS/lo" ] || fail "no $CLASS/lo after modprobe dibs" ||
		return 1
	rmmod dibs_loopback || fail "rmmod dibs_loopback failed" || return 1
	grep -q '^dibs ' /proc/modules || fail "dibs went with dibs_loopback" ||
		return 1
	absent "$CLASS/lo" || fail "$CLASS/lo stays after rmmod" || return 1
	modprobe dibs_pingpong || fail "modprobe dibs_pingpong failed" || return 1
	[ -d "$PINGPONG/lo" ] ||
		fail "modprobe dibs_pingpong did not bring the device back" ||
		return 1
	unload_all
}

# The client finds the existing device when it registers.
device_before_client() {
	unload_all || return 1
	modprobe dibs_loopback || fail "modprobe dibs_loopback failed" ||
		return 1
	[ -e "$CLASS/lo" ] || fail "no $CLASS/lo" || return 1
	modprobe dibs_pingpong || fail "modprobe dibs_pingpong failed" || return 1
	[ -d "$PINGPONG/lo" ] || fail "no $PINGPONG/lo after loading the client" ||
		return 1
	rmmod dibs_pingpong || fail "rmmod dibs_pingpong failed" || return 1
	absent "$PINGPONG" || fail "$PINGPONG stays after rmmod" || return 1
	[ -e "$CLASS/lo" ] || fail "$CLASS/lo went with the client" || return 1
	rmmod dibs_loopback dibs || fail "rmmod failed" || return 1
	absent "$CLASS/lo" || fail "$CLASS/lo stays after rmmod"
}

# The core stays while a device driver or a client uses it.
core_stays_while_used() {
	load_all || return 1
	if rmmod dibs 2>/dev/null; then
		fail "rmmod dibs succeeded under a device and a client"
		return 1
	fi
	rmmod dibs_loopback || fail "rmmod dibs_loopback failed" || return 1
	if rmmod dibs 2>/dev/null; then
		fail "rmmod dibs succeeded under a client"
		return 1
	fi
	rmmod dibs_pingpong dibs || fail "rmmod failed"
}

# Removing the device aborts the run; the client stays usable.
unload_device_during_run() {
	local aborted

	load_all && start_run lo "$LONG_RUN" || return 1
	running lo || fail "run on lo not running" || return 1
	aborted=$(log_count "$ABORTED_LO")
	timeout 60 rmmod dibs_loopback ||
		fail "rmmod dibs_loopback failed during a run" || return 1
	absent "$PINGPONG/lo" || fail "$PINGPONG/lo stays after rmmod" || return 1
	[ "$(log_count "$ABORTED_LO")" -gt "$aborted" ] ||
		fail "the aborted run on lo was not reported" || return 1
	grep -q '^dibs_pingpong ' /proc/modules || fail "client went away" ||
		return 1
	modprobe dibs_loopback || fail "modprobe dibs_loopback failed" ||
		return 1
	run_ok lo rounds=100 size=4096
}

# Unloading the client aborts its run; the device stays usable.
unload_client_during_run() {
	local aborted

	load_all && start_run lo "$LONG_RUN" || return 1
	running lo || fail "run on lo not running" || return 1
	aborted=$(log_count "$ABORTED_LO")
	timeout 60 rmmod dibs_pingpong ||
		fail "rmmod dibs_pingpong failed during a run" || return 1
	absent "$PINGPONG" || fail "$PINGPONG stays after rmmod" || return 1
	[ "$(log_count "$ABORTED_LO")" -gt "$aborted" ] ||
		fail "the aborted run on lo was not reported" || return 1
	[ -e "$CLASS/lo" ] || fail "$CLASS/lo went with the client" || return 1
	modprobe dibs_pingpong || fail "modprobe dibs_pingpong failed" || return 1
	run_ok lo rounds=100 size=4096
}

# Unloading everything in one go while runs go on several devices.
unload_all_during_runs() {
	load_all && lo_add lo1 && lo_add lo2 || return 1
	start_run lo "$LONG_RUN" && start_run lo1 "$LONG_RUN" &&
		start_run lo2 "$LONG_RUN" zerocopy=1 || return 1
	timeout 60 rmmod dibs_pingpong dibs_loopback dibs ||
		fail "rmmod of all modules failed during runs" || return 1
	absent "$PINGPONG" "$LO_CTL" "$CLASS" ||
		fail "debugfs or sysfs entries stay after rmmod"
}

ktap_print_header
dibs_set_plan 7
run_check client_before_device client_before_device
run_check core_brings_loopback core_brings_loopback
run_check device_before_client device_before_client
run_check core_stays_while_used core_stays_while_used
run_check unload_device_during_run unload_device_during_run
run_check unload_client_during_run unload_client_during_run
run_check unload_all_during_runs unload_all_during_runs
dibs_finished
