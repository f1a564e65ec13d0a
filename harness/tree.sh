#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare the cached kernel tree, $KSRC: Debian's newest DIBS-era
# linux-source-7.x (harness/linux7.sh) with this project's files in place
# of upstream's DIBS and ISM files, and with patches/*.patch applied to the
# upstream files that hook ours in (Kconfig and Makefile entries, the
# documentation index, MAINTAINERS). Only files whose content changed are
# written, so kernel builds stay incremental. Prints nothing on success.
#
#   harness/tree.sh

. "$(dirname "$0")/lib.sh"

"$REPO/harness/linux7.sh" || exit 1

sync_dir() { # repo-relative directory
	[ -d "$REPO/$1" ] || return 0
	mkdir -p "$KSRC/$1"
	rsync -rc --delete "$REPO/$1/" "$KSRC/$1/"
}

sync_file() { # repo-relative file
	[ -f "$REPO/$1" ] || return 0
	mkdir -p "$(dirname "$KSRC/$1")"
	rsync -c "$REPO/$1" "$KSRC/$1"
}

sync_dir drivers/dibs
sync_file include/linux/dibs.h
sync_file include/trace/events/dibs.h
sync_file include/uapi/linux/dibs_ivshmem.h
sync_dir samples/dibs
sync_dir tools/testing/selftests/dibs
for f in Documentation/networking/{dibs,dibs-ivshmem,ism}.rst \
	 Documentation/ABI/testing/sysfs-class-dibs; do
	sync_file "$f"
done

# The ISM driver: our files replace upstream's ism_drv.c and ism.h, and
# ours that were renamed or deleted must not linger in the tree.
ism_dir=drivers/s390/net
for f in "$REPO/$ism_dir"/ism* "$REPO/$ism_dir/.kunitconfig"; do
	[ -f "$f" ] && sync_file "$ism_dir/${f##*/}"
done
for f in "$KSRC/$ism_dir"/ism*; do
	[ -e "$REPO/$ism_dir/${f##*/}" ] || rm -f "$f"
done
sync_dir "$ism_dir/tests"

# Upstream's files as upstream has them, with every patch applied in
# order: a patch dropped from patches/ leaves no trace in the tree.
tmp=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT
for f in "${PATCHED_FILES[@]}"; do
	mkdir -p "$tmp/$(dirname "$f")"
	cp "$UPSTREAM7/$f" "$tmp/$f" || die "no upstream copy of $f"
done
for p in "$REPO"/patches/*.patch; do
	[ -f "$p" ] || continue
	patch -s -p1 -d "$tmp" -f --no-backup-if-mismatch -r - < "$p" >&2 ||
		die "cannot apply ${p#"$REPO"/} (are the files it changes in
		     PATCHED_FILES of harness/lib.sh?)"
done
rsync -rc "$tmp/" "$KSRC/"
