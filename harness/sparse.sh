#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the sparse that the kernel tree accepts, once, and print its path:
#
#   harness/sparse.sh
#
# The 7.x kernel runs sparse only if it understands __typeof_unqual__
# (scripts/checker-valid.sh); without that, "make C=2" prints one warning
# and checks nothing. Debian 12's sparse 0.6.4 does not, so the newest
# sparse source package of Debian's unstable suite is fetched (with a
# private apt configuration, like harness/linux7.sh: apt verifies it
# against the archive's signed index) and its sparse program is built
# into the cache. The result must pass the kernel's own check.

. "$(dirname "$0")/lib.sh"

APT_DIR=$CACHE/apt-sparse
SUITE=unstable
dir=$CACHE/sparse

aptsp() {
	APT_CONFIG=$APT_DIR/apt.conf "$@"
}

"$REPO/harness/linux7.sh" || exit 1

if private_apt "$APT_DIR" deb-src "$SUITE"; then
	ver=$(aptsp apt-cache showsrc sparse 2>/dev/null |
	      sed -n 's/^Version: //p' | sort -V | tail -n 1)
	[ -n "$ver" ] || die "no sparse source package in $SUITE"
elif [ -x "$dir/sparse" ]; then
	ver=$(cat "$dir/.dibs-version")
	log "using the built sparse $ver (no package list)"
else
	die "cannot fetch the package list of $SUITE"
fi

if [ ! -x "$dir/sparse" ] || [ "$(cat "$dir/.dibs-version")" != "$ver" ]; then
	log "building sparse $ver from Debian's source package"
	rm -rf "$dir"
	mkdir -p "$dir/src"
	(cd "$dir" && aptsp apt-get source -q --download-only "sparse=$ver" \
		> fetch.log 2>&1) || {
		cat "$dir/fetch.log" >&2; die "cannot fetch sparse $ver"; }
	tar -xf "$dir"/sparse_*.orig.tar.* -C "$dir/src" --strip-components=1 ||
		die "cannot unpack sparse $ver"
	make -C "$dir/src" -j"$JOBS" sparse > "$dir/build.log" 2>&1 || {
		tail -n 20 "$dir/build.log" >&2; die "cannot build sparse $ver"; }
	cp "$dir/src/sparse" "$dir/sparse"
	echo "$ver" > "$dir/.dibs-version"
fi

# The kernel's own test, with the flags it gives sparse for x86_64.
[ "$(sh "$KSRC/scripts/checker-valid.sh" "$dir/sparse" --arch=x86_64 \
	-mlittle-endian -m64)" = 1 ] ||
	die "the kernel does not accept $dir/sparse"
echo "$dir/sparse"
