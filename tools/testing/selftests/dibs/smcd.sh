#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# SMC-D, the DIBS client DIBS exists for, over the loopback device: data
# both ways with every byte verified and proven to go through DIBS (see
# smcd_test.c) and counted by the device, with recv() and splice(), with
# zero-copy on and off, a connection that must fall back to TCP, and
# teardown in every order while connections are open. Needs a DIBS-era
# kernel (7.x) whose SMC is built against this DIBS, with smc and smc_diag
# as modules and the loopback device built in or loadable; elsewhere it
# skips.
#
# "smcd.sh idle" (smcd_idle.sh) runs only idle_link_group_freed, which
# waits out a timer of 10 minutes.
# timeout: 300
# shellcheck disable=SC3043

. "$(dirname "$(readlink -f "$0")")/lib.sh"

SMCD_TEST=$DIR/smcd_test
# Bytes each way of a full run, and of a run that is only meant to work.
FULL=$((64 * 1024 * 1024))
SMALL=$((4 * 1024 * 1024))
ZERO_COPY=/sys/module/dibs_loopback/parameters/zero_copy
port=37200

# A run on a port of its own. One in the background takes it in a subshell:
# the caller then moves $port on itself.
smcd_test() {
	port=$((port + 1))
	"$SMCD_TEST" -p "$port" "$@"
}

# Replace the loopback device "lo" by a new one; SMC-D gets del_dev() and
# add_dev() for it.
recreate_lo() {
	echo lo > "$LO_CTL/del_device" &&
	echo lo > "$LO_CTL/new_device" &&
	[ -d "$CLASS/lo" ]
}

# The kernel's last words, for the report of a failed check.
kernel_log_tail() {
	dmesg | tail -n 20 | while read -r line; do
		ktap_print_msg "$line"
	done
}

check_modules() {
	modprobe dibs_loopback 2>/dev/null
	modprobe smc && modprobe smc_diag &&
	[ -d "$CLASS/lo" ] && [ -w "$LO_CTL/del_device" ] ||
		fail "smc, smc_diag or the loopback device lo are missing"
}

# A connection is open and half its data sent when the device goes away:
# SMC-D must abort it (or finish it) and free what it had on the device.
device_removed_under_connection() {
	local pid rc

	smcd_test -n "$FULL" -w 4 > /tmp/smcd-open.log 2>&1 &
	pid=$!
	port=$((port + 1))
	sleep 2
	grep -q waiting /tmp/smcd-open.log ||
		ktap_print_msg "the connection was not open yet"
	echo lo > "$LO_CTL/del_device" || { wait "$pid"; return 1; }
	wait "$pid"
	rc=$?
	ktap_print_msg "$(cat /tmp/smcd-open.log)"
	ktap_print_msg "smcd_test ended with status $rc (2: aborted)"
	[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]
}

readd_and_run() {
	echo lo > "$LO_CTL/new_device" && smcd_test -n "$SMALL"
}

# Traffic in the background while a second loopback device comes and goes:
# SMC-D sees add_dev() and del_dev() of a device it does not use meanwhile.
hotplug_under_traffic() {
	local pid rc

	smcd_test -n "$FULL" > /tmp/smcd-hotplug.log 2>&1 &
	pid=$!
	port=$((port + 1))
	for i in 1 2 3; do
		echo "hp$i" > "$LO_CTL/new_device" &&
		echo "hp$i" > "$LO_CTL/del_device" || break
	done
	wait "$pid"
	rc=$?
	ktap_print_msg "$(cat /tmp/smcd-hotplug.log)"
	[ "$rc" -eq 0 ] && return 0
	kernel_log_tail
	return 1
}

smc_unused() {
	[ "$(cat /sys/module/smc/refcnt)" -eq 0 ]
}

# Unload smc_diag and smc. A socket the last run closed can hold smc for a
# moment after close() returned, while work tears its connection down; a
# reference that stays 20 s is a leak, reported with the SMC sockets and
# link groups left and the kernel's last words.
unload_smc() {
	rmmod smc_diag || return 1
	if ! WAIT_TENTHS=600 wait_for smc_unused; then
		ktap_print_msg "smc still has $(cat /sys/module/smc/refcnt) users"
		ktap_print_msg "sockets:" $(awk '/SMC/ { print $1 "=" $3 }' \
			/proc/net/protocols)
		ktap_print_msg "link groups:" $("$SMCD_TEST" -l)
		kernel_log_tail
		return 1
	fi
	rmmod smc
}

reload_smc() {
	unload_smc && modprobe smc && modprobe smc_diag &&
		smcd_test -n "$SMALL"
}

# SMC goes first, then the device, then both come back.
unload_smc_then_device() {
	unload_smc && recreate_lo &&
		modprobe smc && modprobe smc_diag && smcd_test -n "$SMALL"
}

# SMC-D frees a link group 10 minutes after its last connection closed,
# after signalling a shutdown to the peer GID (which loopback, having no
# signal_event(), skips: a signal to itself would abort every connection of
# the device). With one loopback device the first connection leaves two
# link groups, as the server's end and the client's end each create one,
# and later connections join one of them with both ends (SMC-D matches a
# link group by device and peer GID, not by role). So closing the first
# connection while a second is open leaves one link group idle next to one
# in use: wait out the timer, check that the idle one went and the one in
# use did not, and that the open connection still moves every byte.
LGR_FREE_WAIT=630

idle_link_group_freed() {
	local pid rc lgrs

	smcd_test -n "$SMALL" || return 1
	smcd_test -n "$SMALL" -w $((LGR_FREE_WAIT + 30)) \
		> /tmp/smcd-idle.log 2>&1 &
	pid=$!
	port=$((port + 1))
	wait_for grep -q waiting /tmp/smcd-idle.log
	lgrs=$("$SMCD_TEST" -l)
	ktap_print_msg "link groups with the second connection open:" $lgrs
	if [ "$(echo "$lgrs" | wc -l)" -ne 2 ] ||
	   ! echo "$lgrs" | grep -q ' conns 0$' ||
	   ! echo "$lgrs" | grep -q ' conns 2$'; then
		ktap_print_msg "not one idle link group and one with both ends"
		kill "$pid"
		wait "$pid"
		return 1
	fi
	sleep "$LGR_FREE_WAIT"
	lgrs=$("$SMCD_TEST" -l)
	ktap_print_msg "link groups $LGR_FREE_WAIT s later:" $lgrs
	wait "$pid"
	rc=$?
	ktap_print_msg "$(cat /tmp/smcd-idle.log)"
	[ "$(echo "$lgrs" | wc -l)" -eq 1 ] &&
		echo "$lgrs" | grep -q ' conns 2$' && [ "$rc" -eq 0 ]
}

# A counter of the loopback device, in its statistics directory.
lo_stat() { # name
	cat "$CLASS/lo/statistics/$1"
}

# What the device counted for the two runs of $FULL bytes each way since
# it was created: with zero-copy, SMC-D writes the data through its
# mappings and moves only its connection messages; without, it moves
# every byte.
counted() { # zerocopy|copy
	local moved attaches

	moved=$(lo_stat bytes_moved)
	attaches=$(lo_stat attaches)
	ktap_print_msg "$1: $(lo_stat moves) moves of $moved bytes," \
		"$(lo_stat signals_delivered) signals, $attaches attaches"
	expect_eq move_errors "$(lo_stat move_errors)" 0 || return 1
	[ "$(lo_stat signals_delivered)" -gt 0 ] ||
		fail "no signal delivered" || return 1
	if [ "$1" = zerocopy ]; then
		if [ "$attaches" -eq 0 ] || [ "$moved" -ge "$FULL" ]; then
			fail "the data did not go through the mappings"
		fi
	else
		expect_eq attaches "$attaches" 0 || return 1
		if [ "$moved" -lt $((4 * FULL)) ]; then
			fail "$moved bytes moved, less than the data"
		fi
	fi
}

# SMC-D unregisters every DMB it registered: no device may report DMBs
# left behind (the core and the drivers warn when they find some).
no_dmbs_left() {
	! dmesg | grep -E 'DMBs (still registered|left by clients)|left [0-9]+ DMBs registered'
}

# kmemleak reports objects unreferenced for 5 s that two scans agree on.
no_leak() {
	local kmemleak=$DEBUGFS/kmemleak

	[ -w "$kmemleak" ] || { ktap_print_msg "no kmemleak"; return 0; }
	sleep 6
	echo scan > "$kmemleak" && sleep 1 && echo scan > "$kmemleak"
	if [ -s "$kmemleak" ]; then
		cat "$kmemleak"
		return 1
	fi
}

if [ ! -x "$SMCD_TEST" ]; then
	echo "$SMCD_TEST not built [SKIP]"
	exit "$KSFT_SKIP"
fi
if ! modprobe smc 2>/dev/null || ! modprobe smc_diag 2>/dev/null; then
	echo "no SMC in this kernel [SKIP]"
	exit "$KSFT_SKIP"
fi

# The sockets talk over 127.0.0.1: the network loopback interface (not the
# DIBS device of the same name) must be up, which a bare initramfs leaves
# to us.
ip link set dev lo up 2>/dev/null

ktap_print_header
if [ "${1:-}" = idle ]; then
	dibs_set_plan 4
	run_check modules_present check_modules
	run_check idle_link_group_freed idle_link_group_freed
	run_check no_dmbs_left no_dmbs_left
	run_check no_leak no_leak
	dibs_finished
fi
dibs_set_plan 16

run_check modules_present check_modules
echo 1 > "$ZERO_COPY" && recreate_lo
run_check zero_copy_recv smcd_test -n "$FULL" -r recv
run_check zero_copy_splice smcd_test -n "$FULL" -r splice
run_check zero_copy_counted counted zerocopy
echo 0 > "$ZERO_COPY" && recreate_lo
run_check copy_recv smcd_test -n "$FULL" -r recv
run_check copy_splice smcd_test -n "$FULL" -r splice
run_check copy_counted counted copy
echo 1 > "$ZERO_COPY" && recreate_lo
run_check tcp_peer_falls_back smcd_test -n "$SMALL" -t -m fallback
run_check second_run_same_device smcd_test -n "$SMALL" -r splice
run_check device_removed_under_connection device_removed_under_connection
run_check device_readded_runs readd_and_run
run_check hotplug_under_traffic hotplug_under_traffic
run_check smc_reloaded_runs reload_smc
run_check smc_unloaded_then_device unload_smc_then_device
run_check no_dmbs_left no_dmbs_left
run_check no_leak no_leak

dibs_finished
