#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# DIBS between virtual machines: boot guests of the stock Debian 6.12
# kernel (harness/vm.sh) on one fabric of the ivshmem fabric server
# (tools/dibs), with this tree's modules, and test what one guest sees of
# the others through the dibs_ivshmem device and the ping-pong client:
# ping-pongs both ways and both at once, a peer's client or device going
# away in the middle of a run, module unload in both orders on either
# side, a peer VM killed in the middle of a run and a fresh VM taking its
# place, the fabric server restarting, and bad input to the driver's
# debugfs file.
#
#   harness/selftests-pair.sh
#
# The host drives each guest through pair_agent.sh on a serial port, so
# the tests read as one script. Each check is reported as
# "PASS selftest-pair:<check>" (or FAIL) for harness/check.sh, and each
# guest's kernel log must be free of splats ("selftest-pair:kernel-log-<vm>").
# The exit status is non-zero on any failure.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# The guest's agent, a file of the selftests.
AGENT=$REPO/tools/testing/selftests/dibs/pair_agent.sh

work=$BUILD/selftests-pair
# Bound of each guest's life, of one command, and of a guest's boot.
VM_TIMEOUT=900
CMD_TIMEOUT=150
BOOT_TIMEOUT=300
# A run long enough to be interrupted.
LONG_RUN="1000000 65536 0"
# How such a run ends when the peer's device goes (the device event, or a
# move that finds the peer unreachable first), and when the peer's client
# goes (its refusal, or a move into a DMB it freed first).
PEER_GONE="-104 -101"
PEER_CLIENT_GONE="-108 -2"

failed=0
checks=0
declare -A in_fd out_fd vm_pid
server_pid=

report() { # PASS|FAIL name
	checks=$((checks + 1))
	if [ "$1" = PASS ]; then
		echo "ok $checks $2"
	else
		echo "not ok $checks $2"
		failed=1
	fi
	result "$1" "selftest-pair:$2"
}

check() { # name command...
	local name=$1

	shift
	echo "# $name"
	if "$@"; then
		report PASS "$name"
	else
		report FAIL "$name"
	fi
}

start_server() {
	"$work/server/dibs_fabric_server" -s "$work/fabric.sock" -m 64 -n 4 -v \
		2>> "$work/server.log" &
	server_pid=$!
	for ((i = 0; i < 50; i++)); do
		[ -S "$work/fabric.sock" ] && return 0
		sleep 0.1
	done
	echo "# the fabric server did not start"
	return 1
}

stop_server() {
	[ -n "$server_pid" ] || return 0
	kill "$server_pid"
	wait "$server_pid"
	server_pid=
}

# Boot a guest running the agent.
launch() { # vm
	local d=$work/$1

	rm -rf "$d"
	mkdir -p "$d"
	mkfifo "$d/ctl.in" "$d/ctl.out"
	"$REPO/harness/vm.sh" -t "$VM_TIMEOUT" -n "pair-$1" \
		-o "$d/console.log" -f "$work/selftests" \
		-q -chardev -q "socket,path=$work/fabric.sock,id=fabric" \
		-q -device -q "ivshmem-doorbell,chardev=fabric,vectors=2" \
		-q -chardev -q "pipe,id=ctl,path=$d/ctl" \
		-q -device -q "isa-serial,chardev=ctl,index=2" \
		-q -pidfile -q "$d/qemu.pid" \
		"$AGENT" > "$d/vm.out" 2>&1 &
	vm_pid[$1]=$!
	# Read and write ends both: opening never blocks, QEMU or not.
	exec {in_fd[$1]}<> "$d/ctl.in" {out_fd[$1]}<> "$d/ctl.out"
}

# Wait for a guest's agent.
ready() { # vm
	local line

	while IFS= read -r -t "$BOOT_TIMEOUT" line <&"${out_fd[$1]}"; do
		[ "$line" = DIBS_AGENT_READY ] && return 0
	done
	echo "# $1 did not boot; its log:"
	tail -n 20 "$work/$1/vm.out" | sed 's/^/#   /'
	return 1
}

boot() { # vm
	launch "$1" && ready "$1"
}

# Run a command in a guest; its output, as comments, and its status. The
# agent reads one line per command; the number tells its answer from the
# late answer to a command that timed out.
on() { # vm command...
	local vm=$1 line seq

	shift
	# In a file: on() also runs in subshells, as in $(get ...).
	seq=$(($(cat "$work/seq") + 1))
	echo "$seq" > "$work/seq"
	printf '%s %s\n' "$seq" "${*//$'\n'/ }" >&"${in_fd[$vm]}"
	while IFS= read -r -t "$CMD_TIMEOUT" line <&"${out_fd[$vm]}"; do
		case $line in
		"DIBS_AGENT_RC=$seq "*) return "${line#* }" ;;
		DIBS_AGENT_RC=*) continue ;;
		esac
		printf '#   %s: %s\n' "$vm" "$line"
	done
	echo "# $vm did not answer \"$*\""
	return 255
}

# What a command prints in a guest.
get() { # vm command...
	local out rc

	out=$(on "$@")
	rc=$?
	sed -n 's/^#   [a-z]*: //p' <<< "$out"
	return $rc
}

# Power a guest off and check its kernel log.
halt() { # vm
	printf 'exit\n' >&"${in_fd[$1]}"
	wait "${vm_pid[$1]}"
	if find_splats "$work/$1/console.log" ||
	   find_splats "$work/$1/console.log.dmesg"; then
		report FAIL "kernel-log-$1"
	else
		report PASS "kernel-log-$1"
	fi
}

# Kill a guest as a crash would, without a word to anyone.
kill_vm() { # vm
	kill -KILL "$(cat "$work/$1/qemu.pid")" && wait "${vm_pid[$1]}"
	return 0
}

gid_of() { # vm
	get "$1" 'cat /sys/class/dibs/$(dev)/gid'
}

cleanup() {
	local vm

	for vm in "${!vm_pid[@]}"; do
		[ -f "$work/$vm/qemu.pid" ] &&
			kill -KILL "$(cat "$work/$vm/qemu.pid")" 2>/dev/null
	done
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT

# --- the checks ---

# Each lists the other and itself, with the GIDs of their devices.
peers_listed() {
	local ga gb

	ga=$(gid_of a) && gb=$(gid_of b) || return 1
	on a "grep -q ' $ga [0-9]* self\$' \$IVSHMEM_ROOT/\$(dev)/peers" &&
		on a "[ \"\$(peer_gid)\" = $gb ]" &&
		on b "grep -q ' $gb [0-9]* self\$' \$IVSHMEM_ROOT/\$(dev)/peers" &&
		on b "[ \"\$(peer_gid)\" = $ga ]"
}

peers_read_only() {
	on a 'p=$IVSHMEM_ROOT/$(dev)/peers; before=$(cat $p);
	      ! echo "0 x 1 peer" > $p && [ "$(cat $p)" = "$before" ]'
}

pingpongs() { # from to
	local peer

	peer=$(gid_of "$2") || return 1
	on "$1" "pingpong $peer 200 64 0 && pingpong $peer 20 65536 0 &&
		 pingpong $peer 5 1048576 0 && pingpong $peer 200 64 1 &&
		 pingpong $peer 5 1048576 1"
}

# Both start a run with the other, and both complete.
both_ways_at_once() {
	local ga gb

	ga=$(gid_of a) && gb=$(gid_of b) || return 1
	on a "start $gb 300 4096 0" && on b "start $ga 300 4096 1" &&
		on a "wait_for 1200 is_not state running && is state done" &&
		on b "wait_for 1200 is_not state running && is state done"
}

# A long run from a to b, interrupted by a command on one side; the other
# then checks what it must see.
interrupted() { # vm-acting command check-on-a check-on-b
	local gb

	gb=$(gid_of b) || return 1
	# shellcheck disable=SC2086 # LONG_RUN is three words
	on a "start $gb $LONG_RUN && wait_for 600 is_not rounds_done 0" &&
		on b "wait_for 600 is_not serving none" &&
		on "$1" "$2" &&
		{ [ -z "$3" ] || on a "$3"; } &&
		{ [ -z "$4" ] || on b "$4"; }
}

peer_client_goes() {
	interrupted b "rmmod dibs_pingpong" \
		"wait_for 300 is_not state running &&
		 failed_with $PEER_CLIENT_GONE" "" &&
		on b "modprobe dibs_pingpong && wait_for 300 has_dev" &&
		pingpongs a b
}

peer_device_goes() {
	local old

	old=$(gid_of b) || return 1
	interrupted b "rmmod dibs_ivshmem" \
		"wait_for 300 is_not state running && failed_with $PEER_GONE &&
		 wait_for 300 no_peer" "" &&
		on b "modprobe dibs_ivshmem && wait_for 300 has_dev" &&
		on a "wait_for 300 has_peer && [ \"\$(peer_gid)\" != $old ]" &&
		pingpongs a b
}

# Unload order on the side that runs: client first, then device.
own_client_goes() {
	interrupted a "rmmod dibs_pingpong && rmmod dibs_ivshmem" "" \
		"wait_for 300 is serving none" &&
		on a "load && wait_for 300 has_peer" && pingpongs a b
}

# And device first, then client.
own_device_goes() {
	interrupted a "rmmod dibs_ivshmem && rmmod dibs_pingpong" "" \
		"wait_for 300 is serving none" &&
		on a "load && wait_for 300 has_peer" && pingpongs b a
}

peer_killed() {
	local gb

	gb=$(gid_of b) || return 1
	# shellcheck disable=SC2086
	on a "start $gb $LONG_RUN && wait_for 600 is_not rounds_done 0" &&
		kill_vm b &&
		on a "wait_for 300 is_not state running &&
		      failed_with $PEER_GONE && wait_for 300 no_peer"
}

new_peer_joins() {
	boot c && on c load && on a "wait_for 300 has_peer" &&
		pingpongs a c && pingpongs c a
}

# The guests keep the region and the doorbells they were given; a new
# server starts on the same socket.
server_restarts() {
	stop_server && pingpongs a c && start_server && pingpongs c a
}

unload_all() { # vm
	on "$1" "rmmod dibs_pingpong dibs_ivshmem dibs_loopback dibs &&
		! grep -q '^dibs' /proc/modules"
}

# --- main ---

rm -rf "$work"
mkdir -p "$work/selftests/dibs" "$work/server"
echo 0 > "$work/seq"
cp "$AGENT" "$work/selftests/dibs/"
make -s -C "$REPO/tools/dibs" OUTPUT="$work/server/" > "$work/server/build.log" 2>&1 ||
	die "cannot build the fabric server (log: $work/server/build.log)"

echo "TAP version 13"
start=$(date +%s)
start_server || die "the fabric server did not start"
launch a
launch b
check boot ready a && check boot-peer ready b &&
	check load on a load && check load-peer on b load &&
	check peers-visible on a "wait_for 300 has_peer" ||
	die "the guests did not come up"

check peers-listed peers_listed
check peers-read-only peers_read_only
check pingpong-a-to-b pingpongs a b
check pingpong-b-to-a pingpongs b a
check both-ways-at-once both_ways_at_once
check peer-client-goes-mid-run peer_client_goes
check peer-device-goes-mid-run peer_device_goes
check own-client-then-device-go-mid-run own_client_goes
check own-device-then-client-go-mid-run own_device_goes
check peer-killed-mid-run peer_killed
check new-peer-joins new_peer_joins
check server-restarts server_restarts
check unload-a unload_all a
check unload-c unload_all c
halt a
halt c
stop_server
echo "1..$checks"
log "cross-VM selftests took $(($(date +%s) - start)) s"
exit "$failed"
