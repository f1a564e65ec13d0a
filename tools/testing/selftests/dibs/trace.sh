#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The DIBS tracepoints, through tracefs as perf and bpftrace use them:
# every event is listed, and with the events on, loading the client, a
# device coming and going and ping-pong runs leave exactly the lines they
# must; with the events off, nothing.
# shellcheck disable=SC3043 # busybox sh, dash and bash have "local"

. "$(dirname "$(readlink -f "$0")")/lib.sh"

TRACEFS=/sys/kernel/tracing
EVENTS="dibs_client_register dibs_client_unregister dibs_dev_add dibs_dev_del
dibs_dmb_register dibs_dmb_unregister dibs_dmb_attach dibs_dmb_detach
dibs_move_error dibs_signal dibs_signal_coalesced dibs_event"
ROUNDS=10
SIZE=100

cleanup() {
	[ -w "$TRACEFS/events/dibs/enable" ] &&
		echo 0 > "$TRACEFS/events/dibs/enable"
	unload_all
}
trap cleanup EXIT

# Lines of event $1 in the trace buffer that contain every further word.
lines() { # event word...
	local event="$1"

	shift
	grep -F " $event: " "$TRACEFS/trace" | awk -v words="$*" '
		BEGIN { n = split(words, w, " ") }
		{ for (i = 1; i <= n; i++) if (index($0, w[i]) == 0) next; c++ }
		END { print c + 0 }'
}

trace_on() {
	echo 0 > "$TRACEFS/tracing_on" &&
		echo > "$TRACEFS/trace" &&
		echo 1 > "$TRACEFS/events/dibs/enable" &&
		echo 1 > "$TRACEFS/tracing_on"
}

# Every event is there, with its format, where perf list and bpftrace -l
# find tracepoints.
events_listed() {
	local event

	for event in $EVENTS; do
		grep -qx "dibs:$event" "$TRACEFS/available_events" ||
			fail "dibs:$event not in available_events" || return 1
		[ -r "$TRACEFS/events/dibs/$event/format" ] ||
			fail "no format of $event" || return 1
	done
	set -- "$TRACEFS"/events/dibs/dibs_*
	expect_eq "events" "$#" "$(echo "$EVENTS" | wc -w)"
}

# The client and a device arrive and leave.
registry_events() {
	unload_all && modprobe dibs_loopback && trace_on || return 1
	modprobe dibs_pingpong && lo_add lo1 && lo_del lo1 &&
		rmmod dibs_pingpong || return 1
	expect_eq client_register "$(lines dibs_client_register \
		client=dibs_pingpong dmbs=0)" 1 &&
	expect_eq dev_add "$(lines dibs_dev_add dev=lo1 fabric_id=0xffff \
		max_dmbs=5000)" 1 &&
	expect_eq dev_del "$(lines dibs_dev_del dev=lo1 dmbs=0)" 1 &&
	expect_eq client_unregister "$(lines dibs_client_unregister \
		client=dibs_pingpong dmbs=0)" 1
}

# A ping-pong registers four DMBs (a data and a control DMB per endpoint)
# and unregisters them, and each round signals each endpoint once.
pingpong_events() { # zerocopy
	local maps=0

	[ "$1" = 1 ] && maps=2
	load_all && trace_on || return 1
	run_ok lo rounds=$ROUNDS size=$SIZE zerocopy="$1" || return 1
	expect_eq "register len=$SIZE" \
		"$(lines dibs_dmb_register dev=lo len=$SIZE)" 2 &&
	expect_eq "register len=64" \
		"$(lines dibs_dmb_register dev=lo len=64)" 2 &&
	expect_eq unregister "$(lines dibs_dmb_unregister dev=lo)" 4 &&
	expect_eq signal "$(lines dibs_signal dev=lo mask=0x0001)" \
		$((2 * ROUNDS)) &&
	expect_eq "signal to nobody" \
		"$(lines dibs_signal dev=lo client=255)" 0 &&
	expect_eq attach "$(lines dibs_dmb_attach dev=lo len=$SIZE)" $maps &&
	expect_eq detach "$(lines dibs_dmb_detach dev=lo)" $maps &&
	expect_eq move_error "$(lines dibs_move_error)" 0
}

# Off again, the events leave nothing.
events_off() {
	load_all && trace_on && echo 0 > "$TRACEFS/events/dibs/enable" ||
		return 1
	run_ok lo rounds=$ROUNDS size=$SIZE || return 1
	expect_eq lines "$(grep -c ' dibs_' "$TRACEFS/trace")" 0
}

ktap_print_header
grep -q " $TRACEFS tracefs " /proc/mounts ||
	mount -t tracefs nodev "$TRACEFS" 2>/dev/null
if [ ! -d "$TRACEFS/events" ]; then
	ktap_skip_all "no tracefs at $TRACEFS"
	exit "$KSFT_SKIP"
fi
if ! load_all; then
	ktap_exit_fail_msg "cannot load the DIBS modules"
fi
if [ ! -d "$TRACEFS/events/dibs" ]; then
	ktap_skip_all "no DIBS events: the kernel has no tracepoints"
	exit "$KSFT_SKIP"
fi
dibs_set_plan 5
run_check events_listed events_listed
run_check registry_events registry_events
run_check pingpong_events_copy pingpong_events 0
run_check pingpong_events_zerocopy pingpong_events 1
run_check events_off events_off
dibs_finished
