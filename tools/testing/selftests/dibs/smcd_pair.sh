#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# SMC-D between two VMs over the DIBS fabric on ivshmem: the guest side of
# harness/smcd-pair.sh, which boots two VMs of a DIBS-era kernel with SMC (the
# x86_64 KUnit kernel), each with an ivshmem-doorbell device on one fabric
# and a virtio-net link between them (10.0.0.1 and 10.0.0.2).
#
#   smcd_pair.sh client    run the checks as TAP, as the client of each
#                          connection
#   smcd_pair.sh server    answer them: one smcd_test -s per connection
#   smcd_pair.sh client|server bench REPS [BYTES]
#                          only the comparison with TCP, REPS times, with
#                          BYTES each way (default 16 MiB)
#
# A TCP connection from one VM to the other is upgraded to SMC-D over the
# ivshmem device: each end proves it in smc_diag and SMC's statistics
# (smcd_test), with every byte verified, received with recv() and with
# splice(). Then the server's DIBS device goes away under an open
# connection: both ends see it aborted, and the client's link group with
# the server goes too (the device reports the peer's device gone; SMC-D
# terminates its link groups with that GID). With the device back, a new
# connection runs. Last, the server unloads SMC while both devices stay:
# SMC-D signals the shutdown of its link group to the peer with the
# device's signal_event(), and the client's link group goes too. A splat
# in either VM's kernel log fails the run (harness/vm.sh).
#
# SMC-D is compared with TCP over the virtio-net link through the same
# program: smcd_test with a plain TCP server, to which the client's SMC
# socket must fall back. The client prints, for each, the seconds its data
# took as "dibs-bench-row: {json}" (harness/bench.sh).
# shellcheck disable=SC3043

ROLE=$1
MODE=${2:-test}
REPS=${3:-1}
SMCD_TEST=./smcd_test
BYTES=$((32 * 1024 * 1024))
# Bytes each way of the comparison with TCP, which is slow in a debug
# kernel under TCG (about 1 MB/s).
CMP_BYTES=$((4 * 1024 * 1024))
[ "$MODE" = bench ] && CMP_BYTES=${4:-$((16 * 1024 * 1024))}
# Bounds of the waits, in tenths of a second.
PEER_TENTHS=1200
n=0
failed=0

say() {
	echo "# $*"
}

check() { # name command...
	local name=$1

	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		failed=1
	fi
}

wait_for() { # tenths command...
	local t=$1

	shift
	while ! "$@"; do
		t=$((t - 1))
		[ "$t" -gt 0 ] || return 1
		sleep 0.1
	done
}

# The ivshmem DIBS device (built in: it probes at boot) and its peers.
ivshmem_dev() {
	dev=$(ls /sys/kernel/debug/dibs_ivshmem 2>/dev/null | head -n 1)
	[ -n "$dev" ] || return 1
	PEERS=/sys/kernel/debug/dibs_ivshmem/$dev/peers
}

has_peer() {
	ivshmem_dev && grep -q ' peer$' "$PEERS"
}

setup() { # address
	ip link set lo up && ip link set eth0 up &&
		ip addr add "$1/24" dev eth0 || return 1
	modprobe smc && modprobe smc_diag || return 1
	wait_for "$PEER_TENTHS" has_peer || { say "no peer on the fabric"; return 1; }
	say "device $dev: $(tr '\n' ' ' < "$PEERS")"
}

# The client of one connection; the server may not listen yet. What it
# printed stays in $out.
client() { # port args...
	local port=$1 i rc

	shift
	for i in $(seq 100); do
		out=$("$SMCD_TEST" -c 10.0.0.2 -p "$port" "$@" 2>&1)
		rc=$?
		case $out in
		*"Connection refused"*) sleep 0.2 ;;
		*) break ;;
		esac
	done
	echo "$out" | while read -r line; do say "$line"; done
	return $rc
}

# The options of smcd_test for a path: TCP is a plain TCP server, to
# which the client falls back.
path_args() { # smcd|tcp
	[ "$1" = smcd ] || echo "-t -m fallback"
}

# One measured connection: SMC-D, or TCP.
measure() { # smcd|tcp port
	local path=$1 port=$2 secs

	# shellcheck disable=SC2046
	client "$port" -n "$CMP_BYTES" $(path_args "$path") || return 1
	secs=$(echo "$out" | sed -n 's/^smcd_test: data_seconds: //p')
	[ -n "$secs" ] || return 1
	echo "dibs-bench-row: {\"row\":\"smcd-pair\",\"path\":\"$path\"," \
	     "\"bytes\":$CMP_BYTES,\"seconds\":$secs}"
}

serve_measure() { # smcd|tcp port
	# shellcheck disable=SC2046
	serve "$2" -n "$CMP_BYTES" $(path_args "$1")
}

# SMC-D, then TCP, REPS times; ports from 37500 on.
compare() { # measure|serve_measure
	local i=0 port=37500

	while [ "$i" -lt "$REPS" ]; do
		check "smcd_between_vms_measured_$i" "$1" smcd $port
		check "tcp_between_vms_measured_$i" "$1" tcp $((port + 1))
		i=$((i + 1))
		port=$((port + 2))
	done
}

lgrs_gone() {
	[ -z "$("$SMCD_TEST" -l)" ]
}

say_lgrs() {
	say "link groups left: $("$SMCD_TEST" -l | tr '\n' ' ')"
}

# The server's device goes away while the connection waits: the client
# reports the connection aborted (status 2), and its link group with the
# server goes.
client_device_gone() {
	client 37403 -n "$BYTES" -w 6
	[ $? -eq 2 ] || return 1
	wait_for 300 lgrs_gone || { say_lgrs; return 1; }
}

# The link group with the server, left idle by the last connection, goes
# when the server's SMC is unloaded (about 10 s after that connection).
client_peer_shutdown() {
	[ -n "$("$SMCD_TEST" -l)" ] || { say "no link group to shut down"; return 1; }
	wait_for 600 lgrs_gone || { say_lgrs; return 1; }
}

serve() { # port args...
	local port=$1

	shift
	"$SMCD_TEST" -s -p "$port" "$@"
}

# Answer a connection and take the DIBS device away under it.
serve_device_gone() {
	local pid rc pci

	"$SMCD_TEST" -s -p 37403 -n "$BYTES" > /tmp/serve.log 2>&1 &
	pid=$!
	wait_for 600 grep -q 'smc_diag:' /tmp/serve.log || return 1
	sleep 1
	pci=$(readlink -f "/sys/bus/pci/devices/$dev")
	echo "$dev" > "$pci/driver/unbind" || return 1
	wait "$pid"
	rc=$?
	cat /tmp/serve.log
	[ "$rc" -eq 2 ] || return 1
	echo "$dev" > /sys/bus/pci/drivers/dibs_ivshmem/bind
}

# Unload SMC once the client has seen its idle link group; the last
# sockets may take a moment to go.
unload_smc() {
	sleep 10
	rmmod smc_diag || return 1
	wait_for 200 rmmod smc 2> /dev/null
}

case $ROLE-$MODE in
client-bench|client-test)
	echo "TAP version 13"
	check vm_ready setup 10.0.0.1
	wait_for "$PEER_TENTHS" ping -c 1 -W 1 10.0.0.2 > /dev/null
	compare measure
	[ "$MODE" = test ] || { echo "1..$n"; exit $failed; }
	check smcd_between_vms_recv client 37401 -n "$BYTES" -r recv
	check smcd_between_vms_splice client 37402 -n "$BYTES" -r splice
	check server_device_gone_mid_connection client_device_gone
	wait_for "$PEER_TENTHS" has_peer
	check device_back_runs client 37404 -n "$BYTES"
	check server_smc_unloaded_peer_shutdown client_peer_shutdown
	echo "1..$n"
	;;
server-bench|server-test)
	check vm_ready setup 10.0.0.2
	compare serve_measure
	[ "$MODE" = test ] || exit $failed
	check serve_recv serve 37401 -n "$BYTES" -r recv
	check serve_splice serve 37402 -n "$BYTES" -r splice
	check serve_device_gone serve_device_gone
	wait_for "$PEER_TENTHS" has_peer
	check serve_device_back serve 37404 -n "$BYTES"
	check unload_smc unload_smc
	;;
*)
	echo "usage: $0 client|server [bench REPS [BYTES]]"
	exit 1
	;;
esac
exit $failed
