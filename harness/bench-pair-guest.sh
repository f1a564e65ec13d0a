#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What "make bench" does inside the two VMs of harness/run-pair.sh, one
# role per VM, to compare DIBS over the ivshmem fabric with TCP over the
# virtio-net link between the same two VMs:
#
#   bench-pair-guest.sh first ROUNDS_64B ROUNDS_64K ROUNDS_1M
#	after an untimed warm-up of both paths, run the ping-pong client's
#	ping-pong with the other VM at 64 B, 64 KiB and 1 MiB, copy and
#	zero-copy, each followed by the same rounds over TCP with
#	dibs_tcp_pingpong (tools/dibs), and print one row per run as
#	"dibs-bench-row: {json}", then a last row "done"
#   bench-pair-guest.sh second
#	serve both until the first VM leaves the fabric
#
# The link is private to the two VMs: 10.0.0.1 (first) and 10.0.0.2.

ROLE=$1
TCP_PORT=37300
# Bounds of the waits, in tenths of a second.
RUN_TENTHS=3000
PEER_TENTHS=1200

. ./guest-lib.sh

link_up() { # address
	modprobe virtio_net || die "modprobe virtio_net"
	ip addr add "$1/24" dev eth0 && ip link set eth0 up ||
		die "cannot set up eth0"
}

load_dibs() {
	modprobe dibs_pingpong || die "modprobe dibs_pingpong"
	modprobe dibs_ivshmem || die "modprobe dibs_ivshmem"
	wait_for 100 ivshmem_dev || die "no DIBS device on ivshmem"
	wait_for "$PEER_TENTHS" has_peer || die "the other VM did not show up"
}

# One JSON row from results in the ping-pong client's "key: value" form, on stdin.
row() { # path mode
	awk -v path="$1" -v mode="$2" -F ': ' '
		{ v[$1] = $2 }
		END {
			printf "dibs-bench-row: {\"row\":\"pair\",\"path\":\"%s\"," \
			       "\"mode\":\"%s\",\"state\":\"%s\",\"size\":%.0f," \
			       "\"rounds\":%.0f,\"bytes\":%.0f,\"errors\":%.0f," \
			       "\"total_ns\":%.0f,\"round_ns\":[%.0f,%.0f,%.0f]," \
			       "\"round_ns_p99\":%.0f}\n",
			       path, mode, v["state"], v["size"],
			       v["rounds_done"], v["bytes_verified"], v["errors"],
			       v["total_ns"], v["round_ns_min"],
			       v["round_ns_p50"], v["round_ns_max"],
			       v["round_ns_p99"]
		}'
}

pingpong_done() {
	! grep -q '^state: running' "$PINGPONG/results"
}

dibs_run() { # rounds size zerocopy peer
	mode=copy
	[ "$3" = 1 ] && mode=zerocopy
	echo "rounds=$1 size=$2 zerocopy=$3 peer=$4" > "$PINGPONG/start" &&
		wait_for "$RUN_TENTHS" pingpong_done &&
		row dibs "$mode" < "$PINGPONG/results"
}

tcp_run() { # rounds size
	./dibs_tcp_pingpong -c 10.0.0.2 -p "$TCP_PORT" -r "$1" -z "$2" |
		row tcp copy
}

case $ROLE in
first)
	runs="$2:64 $3:65536 $4:1048576"
	link_up 10.0.0.1
	load_dibs
	peer=$(peer_gid)
	wait_for "$PEER_TENTHS" ping -c 1 -W 1 10.0.0.2 > /dev/null ||
		die "no answer from 10.0.0.2"
	# Warm up both paths (caches, the guests' first-use costs): not timed.
	dibs_run 100 64 0 "$peer" > /dev/null
	tcp_run 100 64 > /dev/null
	errors=0
	for run in $runs; do
		rounds=${run%:*} size=${run#*:}
		for zc in 0 1; do
			dibs_run "$rounds" "$size" "$zc" "$peer" ||
				errors=$((errors + 1))
		done
		tcp_run "$rounds" "$size" || errors=$((errors + 1))
	done
	echo "dibs-bench-row: {\"row\":\"done\",\"errors\":$errors}"
	rmmod dibs_pingpong dibs_ivshmem dibs_loopback dibs || die "rmmod"
	;;
second)
	link_up 10.0.0.2
	./dibs_tcp_pingpong -s -p "$TCP_PORT" &
	load_dibs
	echo "serving $(peer_gid) over $dev and TCP until it leaves"
	wait_for $((PEER_TENTHS * 5)) no_peer || die "the other VM did not leave"
	kill $!
	rmmod dibs_pingpong dibs_ivshmem dibs_loopback dibs || die "rmmod"
	;;
*)
	die "unknown role $ROLE"
	;;
esac
