#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unpack the newest DIBS-era kernel source (Debian's linux-source-7.x, from
# the trixie-backports suite of the archive this machine already uses) into
# the cache, once, and again only when a newer one appears:
#
#   harness/linux7.sh          prints nothing; the tree is $KSRC (lib.sh),
#                              and upstream's own DIBS files (which
#                              harness/tree.sh replaces in that tree by
#                              ours) and the files patches/ changes are
#                              kept in $UPSTREAM7 as upstream has them
#   harness/linux7.sh headers  also unpacks Debian's matching
#                              linux-headers-7.x...-amd64 into
#                              $CACHE/headers-7, rebuilds their host tools
#                              and prints the directory to build against
#                              (with CC=gcc: the packaged configuration
#                              names gcc-14)
#
# The host tools of that suite's linux-kbuild-7.x (fixdep, modpost,
# objtool, ...) need a newer C library than Debian 12 has, so they are
# built from the source with the headers' configuration and put in place
# of the packaged ones.
#
# The package is fetched with a private apt configuration under
# $CACHE/apt-7: its own sources list, package lists, cache and status
# file, so the system's apt setup is never touched. The archive URI is the
# one the system's own sources use for Debian; no host name is written
# here. Without network access a tree unpacked earlier is used as it is.

. "$(dirname "$0")/lib.sh"

APT_DIR=$CACHE/apt-7
SUITE=trixie-backports
stamp=$KSRC/.dibs-source-version

apt7() {
	APT_CONFIG=$APT_DIR/apt.conf "$@"
}

setup_apt() {
	private_apt "$APT_DIR" deb "$SUITE"
}

# The newest linux-source-7.N package and its version, "name version".
newest_source() {
	local pkg
	pkg=$(apt7 apt-cache pkgnames linux-source-7. 2>/dev/null |
	      grep -E '^linux-source-7\.[0-9]+$' | sort -V | tail -n 1)
	[ -n "$pkg" ] || return 1
	echo "$pkg $(apt7 apt-cache policy "$pkg" |
		     awk '/Candidate:/ { print $2 }')"
}

# Unpack the amd64 headers matching the unpacked source, with the
# packages they need, and replace their host tools; print their directory.
headers() {
	local hdir=$CACHE/headers-7 tools=$BUILD7/kbuild-tools ver pkg deps
	local kdir bin rel missing=0 hstamp

	ver=$(sed -n 's/^linux-source-\(7\.[0-9]*\) \([0-9.]*\).*/\2/p' \
	      "$stamp")
	[ -n "$ver" ] || die "no unpacked linux-source-7.x"
	pkg=linux-headers-$ver+deb13-amd64
	hstamp=$hdir/.dibs-headers
	if [ ! -f "$hstamp" ] || [ "$(cat "$hstamp")" != "$pkg" ]; then
		deps=$(apt7 apt-cache depends "$pkg" 2>/dev/null |
		       sed -n 's/^  Depends: \(linux-\(headers\|kbuild\)-[^ ]*\)$/\1/p')
		[ -n "$deps" ] || die "no package $pkg in $SUITE"
		log "fetching $pkg and $(echo $deps)"
		rm -rf "$hdir" "$tools"
		mkdir -p "$hdir"
		rm -f "$APT_DIR"/debs/*.deb
		# shellcheck disable=SC2086
		(cd "$APT_DIR/debs" &&
		 apt7 apt-get download -q "$pkg" $deps >&2) ||
			die "cannot download $pkg"
		for deb in "$APT_DIR"/debs/*.deb; do
			dpkg-deb -x "$deb" "$hdir" || die "cannot unpack $deb"
		done
		rm -f "$APT_DIR"/debs/*.deb
		# The headers name each other by absolute path.
		sed -i "s|/usr/src/|$hdir/usr/src/|g" "$hdir/usr/src/$pkg/Makefile"
		echo "$pkg" > "$hstamp"
	fi
	kdir=$hdir/usr/src/$pkg
	[ -f "$kdir/.config" ] || die "$pkg has no .config"

	if [ ! -f "$tools/.dibs-done" ]; then
		log "building the host tools of $pkg"
		mkdir -p "$tools"
		cp "$kdir/.config" "$tools/.config"
		make -C "$KSRC" O="$tools" ARCH=x86_64 -j"$JOBS" olddefconfig \
			modules_prepare > "$tools/build.log" 2>&1 || {
			tail -n 20 "$tools/build.log" >&2
			die "cannot build the host tools"; }
		# Every executable of the kbuild package from our build; the
		# package has variants per target ("modpost.real-lsb-64") behind
		# a dispatcher, which ours replaces for x86_64. What building
		# modules does not use (unifdef, extract-cert) goes, so that a
		# use would fail clearly rather than for the C library.
		while read -r bin; do
			rel=${bin#"$hdir"/usr/lib/linux-kbuild-7.*/}
			rel=${rel%.real-*}
			if [ -f "$tools/$rel" ]; then
				cp "$tools/$rel" "$bin"
			else
				rm -f "$bin"
			fi
		done < <(find "$hdir"/usr/lib/linux-kbuild-7.* -type f \
			 -perm -u+x -exec sh -c \
			 'head -c 4 "$1" | grep -q ELF' _ {} \; -print)
		for rel in scripts/basic/fixdep scripts/mod/modpost \
			   tools/objtool/objtool; do
			[ -x "$hdir"/usr/lib/linux-kbuild-7.*/"$rel" ] || {
				echo "no host tool $rel" >&2; missing=1; }
		done
		[ $missing -eq 0 ] || die "host tools missing"
		# The package was configured for its own compiler (gcc 14):
		# take the configuration as the same .config comes out for ours,
		# so that no option it lacks is passed to it.
		cp "$tools/.config" "$kdir/.config"
		cp "$tools/include/config/auto.conf" "$kdir/include/config/"
		cp "$tools/include/generated/autoconf.h" \
			"$kdir/include/generated/"
		touch "$tools/.dibs-done"
	fi
	echo "$kdir"
}

# Upstream's DIBS files, as the package has them (the ABI gate builds
# them next to ours), and the files that patches/ changes.
UPSTREAM_FILES=(drivers/dibs include/linux/dibs.h "${PATCHED_FILES[@]}")

# What $UPSTREAM7 must have been made from.
upstream_stamp() {
	echo "$(cat "$stamp") ${UPSTREAM_FILES[*]}"
}

# Copy them out of a freshly unpacked tree, before tree.sh replaces them.
keep_upstream() { # tree
	local f
	rm -rf "$UPSTREAM7"
	for f in "${UPSTREAM_FILES[@]}"; do
		mkdir -p "$UPSTREAM7/$(dirname "$f")"
		cp -a "$1/$f" "$UPSTREAM7/$f" || return 1
	done
	upstream_stamp > "$UPSTREAM7/.dibs-source-version"
}

# For a tree unpacked before upstream's files (or some of them) were kept:
# take them from the package once more.
fetch_upstream() {
	local pkg tmp
	pkg=$(sed -n 's/^\(linux-source-7\.[0-9]*\) .*/\1/p' "$stamp")
	log "fetching upstream's DIBS files from $pkg"
	tmp=$(mktemp -d) || return 1
	rm -f "$APT_DIR"/debs/*.deb
	(cd "$APT_DIR/debs" && apt7 apt-get download -q "$pkg" >&2) &&
	dpkg-deb --fsys-tarfile "$APT_DIR"/debs/"$pkg"_*.deb |
		tar -xO --wildcards './usr/src/linux-source-7.*.tar.xz' |
		tar -xJ -C "$tmp" --strip-components=1 --wildcards \
			"${UPSTREAM_FILES[@]/#/*/}" &&
	keep_upstream "$tmp"
	local rc=$?
	rm -rf "$tmp"
	rm -f "$APT_DIR"/debs/*.deb
	return $rc
}

# Replace the unpacked tree, and what was built from it, by @1 ("name
# version").
unpack_source() {
	local pkg=${1% *}

	log "fetching $1 from $SUITE"
	rm -f "$APT_DIR"/debs/*.deb
	(cd "$APT_DIR/debs" && apt7 apt-get download -q "$pkg" >&2) ||
		die "cannot download $pkg"
	rm -rf "$KSRC" "$BUILD7"
	mkdir -p "$KSRC"
	dpkg-deb --fsys-tarfile "$APT_DIR"/debs/"$pkg"_*.deb |
		tar -xO --wildcards './usr/src/linux-source-7.*.tar.xz' |
		tar -xJ -C "$KSRC" --strip-components=1 ||
		die "cannot unpack $pkg"
	rm -f "$APT_DIR"/debs/*.deb
	echo "$1" > "$stamp"
	keep_upstream "$KSRC" || die "cannot keep upstream's DIBS files"
}

if setup_apt && latest=$(newest_source); then
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$latest" ] ||
		unpack_source "$latest"
else
	[ -f "$stamp" ] || die "cannot find linux-source-7.x in $SUITE"
	log "using the unpacked $(cat "$stamp") (no package list)"
fi
[ "$(upstream_stamp)" = "$(cat "$UPSTREAM7/.dibs-source-version" 2>/dev/null)" ] ||
	fetch_upstream || die "cannot fetch upstream's files"
[ "${1:-}" = headers ] && headers
exit 0
