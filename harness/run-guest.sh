#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What "make run" does inside the VMs of harness/vm.sh, one role per VM:
#
#   run-guest.sh lo      load the loopback device and the sample client,
#                        show its greeting; load the ping-pong client, show
#                        the DIBS devices, run verified ping-pongs over the
#                        loopback device, report them, unload
#   run-guest.sh first   with the ivshmem device: wait for the peer VM,
#                        learn its GID from the device, run the same
#                        ping-pongs with it, report them, unload
#   run-guest.sh second  with the ivshmem device: answer the first VM's
#                        runs until it leaves, check that every byte it sent
#                        was verified here, unload
#
# Exits non-zero if any step fails or any run is not complete and verified.

ROLE=${1:-lo}
. ./guest-lib.sh
# One run per line: rounds, payload size, zero-copy.
RUNS='1000 64 0
200 4096 0
20 1048576 0
1000 64 1
20 1048576 1'
# Bound of each run, and of the waits for the other VM, in tenths of a second.
RUN_TENTHS=1200
PEER_TENTHS=1200

value() { # key
	sed -n "s/^$1: //p" "$PINGPONG/results"
}

size_text() { # bytes
	if [ $(($1 % 1048576)) -eq 0 ]; then
		echo "$(($1 / 1048576)) MiB"
	elif [ $(($1 % 1024)) -eq 0 ]; then
		echo "$(($1 / 1024)) KiB"
	else
		echo "$1 B"
	fi
}

# Run one ping-pong and print its line of the report.
pingpong() { # rounds size zerocopy [peer=GID]
	mode=copy
	[ "$3" = 1 ] && mode=zero-copy
	echo "rounds=$1 size=$2 zerocopy=$3 $4" > "$PINGPONG/start" ||
		die "cannot start rounds=$1 size=$2 zerocopy=$3 $4"
	i=0
	while [ "$(value state)" = running ]; do
		i=$((i + 1))
		[ "$i" -le "$RUN_TENTHS" ] || die "run did not end in time"
		sleep 0.1
	done
	awk -v mode="$mode" -v size="$(size_text "$2")" \
	    -v rounds="$(value rounds_done)" -v bytes="$(value bytes_verified)" \
	    -v p50="$(value round_ns_p50)" -v p99="$(value round_ns_p99)" \
	    -v total="$(value total_ns)" -v state="$(value state)" \
	    -v moves="$(value dev_moves)" \
	    -v signals="$(value dev_signals_delivered)" 'BEGIN {
		printf "%-9s %8s %7d %12d %9.1f %9.1f %9.1f %7d %7d  %s\n",
		       mode, size, rounds, bytes, p50 / 1000, p99 / 1000,
		       total ? bytes / total * 1000 : 0, moves, signals, state
	}'
	move_errors=$(sed -n 's/^dev_move_errors_[a-z]*: //p' "$PINGPONG/results" |
		awk '{ n += $1 } END { print n + 0 }')
	if [ "$(value state)" != "done" ] ||
	   [ "$(value rounds_done)" != "$1" ] ||
	   [ "$(value bytes_verified)" != $((2 * $1 * $2)) ] ||
	   [ "$(value errors)" != 0 ] || [ "$move_errors" != 0 ]; then
		die "$(sed 's/$/;/' "$PINGPONG/results" | tr '\n' ' ')"
	fi
}

pingpongs() { # [peer=GID]
	printf '%-9s %8s %7s %12s %9s %9s %9s %7s %7s  %s\n' mode size \
		rounds bytes_ok p50_us p99_us MB/s moves signals state
	echo "$RUNS" | while read -r rounds size zerocopy; do
		pingpong "$rounds" "$size" "$zerocopy" "$1" || exit 1
	done
}

devices() {
	echo
	echo "== DIBS devices"
	printf '%-12s %-36s  %s\n' device gid fabric_id
	for d in /sys/class/dibs/*; do
		printf '%-12s %-36s  %s\n' "$(basename "$d")" \
			"$(cat "$d/gid")" "$(cat "$d/fabric_id")"
	done
}

# The counters of a device (/sys/class/dibs/<device>/statistics/).
statistics() { # device
	echo
	echo "== statistics of $1 (/sys/class/dibs/$1/statistics)"
	for f in /sys/class/dibs/"$1"/statistics/*; do
		echo "$(basename "$f") $(cat "$f")"
	done | awk '{ a[NR] = sprintf("%-24s %12s", $1, $2) }
		END {
			h = int((NR + 1) / 2)
			for (i = 1; i <= h; i++)
				print a[i] (i + h <= NR ? "    " a[i + h] : "")
		}'
}

# The ping-pong client is loaded before the device, so that it answers as
# soon as the other VM can see this one. Loading dibs loads the loopback
# device too (a soft dependency).
load_ivshmem() {
	modprobe dibs_pingpong || die "modprobe dibs_pingpong"
	modprobe dibs_ivshmem || die "modprobe dibs_ivshmem"
	wait_for 100 ivshmem_dev || die "no DIBS device on ivshmem"
	lsmod | grep '^dibs'
	devices
	wait_for "$PEER_TENTHS" has_peer || die "the other VM did not show up"
}

# The greeting of samples/dibs/dibs_sample.c, once it is in the log.
greeting() {
	dmesg | grep -E 'dibs_sample: DMB [0-9]+ received "Hello from DIBS"$'
}

unload() { # modules...
	echo
	echo "== unloading"
	rmmod "$@" || die "rmmod"
	! grep -q '^dibs' /proc/modules || die "modules still loaded"
}

echo "== kernel $(uname -r), $(nproc) CPUs"
case $ROLE in
lo)
	modprobe dibs_loopback || die "modprobe dibs_loopback"
	echo "== the sample client greets itself over lo"
	modprobe dibs_sample || die "modprobe dibs_sample"
	wait_for 100 greeting || die "no greeting from dibs_sample"
	rmmod dibs_sample || die "rmmod dibs_sample"
	echo
	modprobe dibs_pingpong || die "modprobe dibs_pingpong"
	lsmod | grep '^dibs'
	devices
	PINGPONG=/sys/kernel/debug/dibs_pingpong/lo
	echo
	echo "== ping-pong over lo: per round A sends to B, B answers, both verify"
	pingpongs || exit 1
	statistics lo
	unload dibs_pingpong dibs_loopback dibs
	;;
first)
	load_ivshmem
	peer=$(peer_gid)
	echo
	echo "== ping-pong with the other VM ($peer) over $dev"
	pingpongs "peer=$peer" || exit 1
	statistics "$dev"
	unload dibs_pingpong dibs_ivshmem dibs_loopback dibs
	;;
second)
	load_ivshmem
	echo
	echo "== answering $(peer_gid) over $dev until it leaves"
	wait_for $((PEER_TENTHS * 5)) no_peer || die "the other VM did not leave"
	runs=$(echo "$RUNS" | wc -l)
	rounds=$(echo "$RUNS" | awk '{ n += $1 } END { print n }')
	bytes=$(echo "$RUNS" | awk '{ n += $1 * $2 } END { print n }')
	echo "served $(value served_runs) runs, $(value served_rounds) rounds," \
		"$(value served_bytes) bytes verified; now serving $(value serving)"
	if [ "$(value served_runs)" != "$runs" ] ||
	   [ "$(value served_rounds)" != "$rounds" ] ||
	   [ "$(value served_bytes)" != "$bytes" ] ||
	   [ "$(value serving)" != none ]; then
		die "expected $runs runs, $rounds rounds, $bytes bytes"
	fi
	statistics "$dev"
	unload dibs_pingpong dibs_ivshmem dibs_loopback dibs
	;;
*)
	die "unknown role $ROLE"
	;;
esac
echo "all runs complete and verified"
