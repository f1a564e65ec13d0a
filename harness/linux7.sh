#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unpack the newest DIBS-era kernel source (Debian's linux-source-7.x, from
# the trixie-backports suite of the archive this machine already uses) into
# the cache, once, and again only when a newer one appears:
#
#   harness/linux7.sh          prints nothing; the tree is $KSRC7 (lib.sh)
#
# The package is fetched with a private apt configuration under
# $CACHE/apt-7: its own sources list, package lists, cache and status
# file, so the system's apt setup is never touched. The archive URI is the
# one the system's own sources use for Debian; no host name is written
# here. Without network access a tree unpacked earlier is used as it is.

. "$(dirname "$0")/lib.sh"

APT_DIR=$CACHE/apt-7
SUITE=trixie-backports
stamp=$KSRC7/.dibs-source-version

# The URI of the Debian archive (not the security archive) in the
# system's sources.
archive_uri() {
	apt-get indextargets --format '$(REPO_URI) $(LABEL)' 2>/dev/null |
		awk '$2 == "Debian" { print $1; exit }'
}

apt7() {
	APT_CONFIG=$APT_DIR/apt.conf "$@"
}

setup_apt() {
	local uri keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	uri=$(archive_uri)
	[ -n "$uri" ] || { echo "no Debian archive in the apt sources" >&2
			   return 1; }
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" \
		"$APT_DIR/debs"
	touch "$APT_DIR/status"
	echo "deb [signed-by=$keyring] $uri $SUITE main" \
		> "$APT_DIR/sources.list"
	cat > "$APT_DIR/apt.conf" <<-EOF
	Dir::Etc::SourceList "$APT_DIR/sources.list";
	Dir::Etc::SourceParts "/nonexistent";
	Dir::State::Lists "$APT_DIR/lists";
	Dir::State::Status "$APT_DIR/status";
	Dir::Cache "$APT_DIR/cache";
	APT::Sandbox::User "root";
	EOF
	apt7 apt-get update -q > "$APT_DIR/update.log" 2>&1 || {
		cat "$APT_DIR/update.log" >&2; return 1; }
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

if ! setup_apt || ! latest=$(newest_source); then
	[ -f "$stamp" ] || die "cannot find linux-source-7.x in $SUITE"
	log "using the unpacked $(cat "$stamp") (no package list)"
	exit 0
fi
[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$latest" ] && exit 0

pkg=${latest% *}
log "fetching $latest from $SUITE"
rm -f "$APT_DIR"/debs/*.deb
(cd "$APT_DIR/debs" && apt7 apt-get download -q "$pkg" >&2) ||
	die "cannot download $pkg"
rm -rf "$KSRC7" "$BUILD7"
mkdir -p "$KSRC7"
dpkg-deb --fsys-tarfile "$APT_DIR"/debs/"$pkg"_*.deb |
	tar -xO --wildcards './usr/src/linux-source-7.*.tar.xz' |
	tar -xJ -C "$KSRC7" --strip-components=1 ||
	die "cannot unpack $pkg"
rm -f "$APT_DIR"/debs/*.deb
echo "$latest" > "$stamp"
