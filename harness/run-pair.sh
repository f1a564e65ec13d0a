#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot two VMs of the stock Debian kernel (or with -k, of the kernel built
# in BUILD_DIR, see harness/vm.sh) on one DIBS fabric and run a script in
# each, at the same time:
#
#   harness/run-pair.sh [-k BUILD_DIR] [-t SECONDS] [-n NAME] [-f PATH]...
#                       SCRIPT ARGS_FIRST ARGS_SECOND
#
# It builds and starts the fabric server of tools/dibs on a UNIX socket;
# each VM gets an ivshmem-doorbell device on the server's region, and the
# two are linked by a virtio-net pair over a UNIX socket (QEMU's stream
# netdev; no traffic leaves the host). harness/vm.sh boots each VM (see
# there), as NAME-first and NAME-second (default NAME: pair), with SCRIPT
# and the words of ARGS_FIRST or ARGS_SECOND as arguments, and each PATH
# copied into the guest's /root (vm.sh -f). The first VM's output is shown
# as it comes, the second's after it. Exits non-zero if either VM fails.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	die "usage: $0 [-k BUILD_DIR] [-t SECONDS] [-n NAME] [-f PATH]..." \
		"SCRIPT ARGS_FIRST ARGS_SECOND"
}

timeout=600
name=pair
vm_args=()
while getopts k:t:n:f: opt; do
	case $opt in
	k) vm_args+=(-k "$OPTARG") ;;
	t) timeout=$OPTARG ;;
	n) name=$OPTARG ;;
	f) vm_args+=(-f "$OPTARG") ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 3 ] || usage
script=$1
read -r -a args_first <<< "$2"
read -r -a args_second <<< "$3"

work=$BUILD/vm/$name
mkdir -p "$work"
server=$BUILD/fabric/dibs_fabric_server
mkdir -p "$(dirname "$server")"
make -s -C "$REPO/tools/dibs" OUTPUT="$(dirname "$server")/" > "$work/server-build.log" 2>&1 ||
	die "cannot build the fabric server (log: $work/server-build.log)"

fabric=$work/fabric.sock
net=$work/net.sock
rm -f "$fabric" "$net"
"$server" -s "$fabric" -m 64 -n 4 -v 2> "$work/server.log" &
server_pid=$!
pids=()
cleanup() {
	kill "${pids[@]}" 2>/dev/null
	kill "$server_pid" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT
for ((i = 0; i < 50; i++)); do
	[ -S "$fabric" ] && break
	kill -0 "$server_pid" 2>/dev/null ||
		die "the fabric server failed: $(cat "$work/server.log")"
	sleep 0.1
done
[ -S "$fabric" ] || die "the fabric server did not start"

vm() { # role on|off mac-suffix args...
	local role=$1 listen=$2 mac=$3

	shift 3
	"$REPO/harness/vm.sh" -t "$timeout" -n "$name-$role" "${vm_args[@]}" \
		-q -chardev -q "socket,path=$fabric,id=fabric" \
		-q -device -q "ivshmem-doorbell,chardev=fabric,vectors=2" \
		-q -netdev -q "stream,id=link,server=$listen,addr.type=unix,addr.path=$net" \
		-q -device -q "virtio-net-pci,netdev=link,mac=52:54:00:d1:b5:$mac" \
		"$script" "$@"
}

# The second VM listens on the link; the first connects once it is there.
vm second on 02 "${args_second[@]}" > "$work/second.out" 2>&1 &
pids+=($!)
second_pid=$!
for ((i = 0; i < 600; i++)); do
	[ -S "$net" ] && break
	kill -0 "$second_pid" 2>/dev/null || break
	sleep 0.1
done
vm first off 01 "${args_first[@]}"
first=$?
wait "$second_pid"
second=$?
pids=()
echo
echo "== the second VM"
cat "$work/second.out"
[ "$first" = 0 ] && [ "$second" = 0 ]
