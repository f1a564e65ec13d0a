#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest side of the tests between VMs that the host drives: runs the
# commands the host sends on the third serial port (ttyS2), one per line,
# "<number> <command>", each in a subshell with the helpers below, and
# answers with the command's output and a line "DIBS_AGENT_RC=<number>
# <exit status>". The line "exit" ends it, and with it the VM. Not a test
# of its own.
# shellcheck disable=SC3043 # busybox sh, dash and bash have "local"

PORT=/dev/ttyS2
DEBUGFS=/sys/kernel/debug
PINGPONG_ROOT=$DEBUGFS/dibs_pingpong
IVSHMEM_ROOT=$DEBUGFS/dibs_ivshmem

# The name of the ivshmem device, once it is there.
dev() {
	ls "$IVSHMEM_ROOT" 2>/dev/null | head -n 1
}

# The GID of a peer (the first, or the one not equal to $1).
peer_gid() { # [except]
	awk -v not="${1:-}" '$4 == "peer" && $2 != not { print $2; exit }' \
		"$IVSHMEM_ROOT/$(dev)/peers" 2>/dev/null
}

# One value of the ping-pong client's results on the ivshmem device.
value() { # key
	sed -n "s/^$1: //p" "$PINGPONG_ROOT/$(dev)/results"
}

# Seconds since boot, without a process of its own.
uptime_s() {
	local up rest

	read -r up rest < /proc/uptime
	echo "${up%.*}"
}

# Wait until a command succeeds, for about the given tenths of a second
# (counted on the clock: under an emulated CPU each try takes long).
wait_for() { # tenths command...
	local deadline

	deadline=$(($(uptime_s) + ($1 + 9) / 10))
	shift
	while ! "$@"; do
		[ "$(uptime_s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

has_dev() {
	[ -n "$(dev)" ] && [ -d "$PINGPONG_ROOT/$(dev)" ]
}

has_peer() {
	[ -n "$(peer_gid)" ]
}

no_peer() {
	! has_peer
}

# Whether a run ended as failed with one of the errors.
failed_with() { # errno...
	local err

	is state failed || return 1
	err=$(value last_error)
	for e in "$@"; do
		[ "$err" = "$e" ] && return 0
	done
	echo "failed with $err"
	return 1
}

is() { # key value
	[ "$(value "$1")" = "$2" ]
}

is_not() { # key value
	[ "$(value "$1")" != "$2" ]
}

# Start a run with the peer; "start" fails with the write's error.
start() { # peer rounds size zerocopy
	echo "rounds=$2 size=$3 zerocopy=$4 peer=$1" > "$PINGPONG_ROOT/$(dev)/start"
}

# Run with the peer until the run ends, and check that it completed.
pingpong() { # peer rounds size zerocopy
	start "$@" && wait_for 1200 is_not state running || return 1
	if ! is state done || ! is bytes_verified $((2 * $2 * $3)); then
		cat "$PINGPONG_ROOT/$(dev)/results"
		return 1
	fi
}

# Load the client before the device, so that it answers once peers see it.
load() {
	modprobe dibs_pingpong && modprobe dibs_ivshmem && wait_for 300 has_dev
}

stty -F "$PORT" raw -echo || exit 1
exec 3<> "$PORT"
echo DIBS_AGENT_READY >&3
while read -r seq line <&3; do
	[ "$seq" = exit ] && break
	( eval "$line" ) >&3 2>&1 < /dev/null
	echo "DIBS_AGENT_RC=$seq $?" >&3
done
