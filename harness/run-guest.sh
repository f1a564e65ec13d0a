#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What "make run" does inside the VM of harness/vm.sh: load the loopback
# device and the sample client, show the DIBS devices, run verified
# ping-pongs over the loopback device, report them, and unload everything.
# Exits non-zero if any step fails or any run is not complete and verified.

SAMPLE=/sys/kernel/debug/dibs_sample/lo
# One run per line: rounds, payload size, zero-copy.
RUNS='1000 64 0
200 4096 0
20 1048576 0
1000 64 1
20 1048576 1'
# Bound of each run, in tenths of a second.
RUN_TENTHS=1200

die() {
	echo "FAILED: $*"
	exit 1
}

value() { # key
	sed -n "s/^$1: //p" "$SAMPLE/results"
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
pingpong() { # rounds size zerocopy
	mode=copy
	[ "$3" = 1 ] && mode=zero-copy
	echo "rounds=$1 size=$2 zerocopy=$3" > "$SAMPLE/start" ||
		die "cannot start rounds=$1 size=$2 zerocopy=$3"
	i=0
	while [ "$(value state)" = running ]; do
		i=$((i + 1))
		[ "$i" -le "$RUN_TENTHS" ] || die "run did not end in time"
		sleep 0.1
	done
	awk -v mode="$mode" -v size="$(size_text "$2")" \
	    -v rounds="$(value rounds_done)" -v bytes="$(value bytes_verified)" \
	    -v p50="$(value round_ns_p50)" -v p99="$(value round_ns_p99)" \
	    -v total="$(value total_ns)" -v state="$(value state)" 'BEGIN {
		printf "%-9s %8s %7d %12d %9.1f %9.1f %9.1f  %s\n", mode, size,
		       rounds, bytes, p50 / 1000, p99 / 1000,
		       total ? bytes / total * 1000 : 0, state
	}'
	if [ "$(value state)" != "done" ] ||
	   [ "$(value rounds_done)" != "$1" ] ||
	   [ "$(value bytes_verified)" != $((2 * $1 * $2)) ] ||
	   [ "$(value errors)" != 0 ]; then
		die "$(sed 's/$/;/' "$SAMPLE/results" | tr '\n' ' ')"
	fi
}

echo "== kernel $(uname -r), $(nproc) CPUs"
modprobe dibs_loopback || die "modprobe dibs_loopback"
modprobe dibs_sample || die "modprobe dibs_sample"
lsmod | grep '^dibs'

echo
echo "== DIBS devices"
printf '%-8s %-36s  %s\n' device gid fabric_id
for dev in /sys/class/dibs/*; do
	printf '%-8s %-36s  %s\n' "$(basename "$dev")" "$(cat "$dev/gid")" \
		"$(cat "$dev/fabric_id")"
done

echo
echo "== ping-pong over lo: per round A sends to B, B answers, both verify"
printf '%-9s %8s %7s %12s %9s %9s %9s  %s\n' mode size rounds \
	bytes_ok p50_us p99_us MB/s state
echo "$RUNS" | while read -r rounds size zerocopy; do
	pingpong "$rounds" "$size" "$zerocopy" || exit 1
done || exit 1

echo
echo "== unloading"
rmmod dibs_sample dibs_loopback dibs || die "rmmod"
! grep -q '^dibs' /proc/modules || die "modules still loaded"
echo "all runs complete and verified"
