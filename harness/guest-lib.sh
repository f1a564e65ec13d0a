# SPDX-License-Identifier: GPL-2.0
#
# What the guest scripts of "make run" and "make bench" (run-guest.sh,
# bench-pair-guest.sh) share; copied into the guest's /root next to them
# (vm.sh -f) and sourced there.

die() {
	echo "FAILED: $*"
	exit 1
}

# Wait until a command succeeds, up to a number of tenths of a second.
wait_for() { # tenths command...
	n=$1
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

# The ivshmem device's directories, once it and the ping-pong client are
# there; it probes asynchronously. Sets dev, PEERS and PINGPONG.
ivshmem_dev() {
	dev=$(ls /sys/kernel/debug/dibs_ivshmem 2>/dev/null | head -n 1)
	[ -n "$dev" ] && [ -d "/sys/kernel/debug/dibs_pingpong/$dev" ] || return 1
	PEERS=/sys/kernel/debug/dibs_ivshmem/$dev/peers
	PINGPONG=/sys/kernel/debug/dibs_pingpong/$dev
}

# The GID of the first peer the device reaches, if any.
peer_gid() {
	awk '$4 == "peer" { print $2; exit }' "$PEERS"
}

has_peer() {
	[ -n "$(peer_gid)" ]
}

no_peer() {
	! has_peer
}
