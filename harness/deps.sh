#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, idempotently, the Debian packages the harness needs. Needs root
# when something is missing; does nothing when all are installed.

. "$(dirname "$0")/lib.sh"

packages=(
	make gcc perl python3 bc flex bison libelf-dev libssl-dev dwarves cpio
	kmod rsync xz-utils ccache
	linux-source-6.12
	qemu-system-x86 qemu-system-misc gcc-s390x-linux-gnu busybox-static
	libc6-dev libc6-dev-s390x-cross
	sparse coccinelle python3-sphinx gnuplot-nox
)

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || echo "$p"
	done
}

install() {
	[ "$(id -u)" = 0 ] || die "missing packages ($*); run as root"
	log "installing $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "$@" >&2 || die "apt-get install failed"
}

updated=
todo=$(missing "${packages[@]}")
if [ -n "$todo" ]; then
	apt-get update -q >&2 || die "apt-get update failed"
	updated=1
	# shellcheck disable=SC2086
	install $todo
fi

krel=$(debian_krel)
if [ -z "$krel" ] && [ -z "$updated" ]; then
	apt-get update -q >&2 || die "apt-get update failed"
	krel=$(debian_krel)
fi
[ -n "$krel" ] || die "no linux-headers-6.12.*+deb12-amd64 package found"
todo=$(missing "linux-headers-$krel")
[ -z "$todo" ] || install $todo
exit 0
