#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare the cached kernel tree: unpack Debian's linux-source-6.12 once
# (again only when the package version changes), copy in this project's
# files, and hook them into the kernel's Kconfig and Makefiles. Only files
# whose content changed are copied, so kernel builds stay incremental.
# Prints nothing on success; the tree is $KSRC (see lib.sh).

. "$(dirname "$0")/lib.sh"

version=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) ||
	die "linux-source-6.12 is not installed (run harness/deps.sh)"
stamp=$KSRC/.dibs-source-version

if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$version" ]; then
	log "unpacking linux-source-6.12 $version into $CACHE"
	rm -rf "$KSRC" "$BUILD"
	mkdir -p "$CACHE"
	tar -C "$CACHE" -xf "$SOURCE_TARBALL" || die "cannot unpack $SOURCE_TARBALL"
	echo "$version" > "$stamp"
fi

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

# Insert a line before the last line matching a pattern, unless present.
hook_before_last() { # file line pattern
	grep -qxF "$2" "$KSRC/$1" && return 0
	local n
	n=$(grep -n -E "$3" "$KSRC/$1" | tail -n 1 | cut -d: -f1)
	[ -n "$n" ] || die "cannot hook into $1"
	sed -i "${n}i $2" "$KSRC/$1"
}

hook_append() { # file line
	grep -qxF "$2" "$KSRC/$1" || echo "$2" >> "$KSRC/$1"
}

sync_dir drivers/dibs
sync_file include/linux/dibs.h
sync_dir samples/dibs
sync_dir tools/testing/selftests/dibs
sync_file drivers/s390/net/ism_drv.c
sync_file drivers/s390/net/ism.h
sync_file Documentation/networking/dibs.rst
sync_file Documentation/ABI/testing/sysfs-class-dibs

hook_before_last drivers/Kconfig 'source "drivers/dibs/Kconfig"' '^endmenu'
hook_append drivers/Makefile 'obj-$(CONFIG_DIBS)		+= dibs/'
if [ -d "$REPO/samples/dibs" ]; then
	hook_before_last samples/Kconfig 'source "samples/dibs/Kconfig"' '^endif'
	hook_append samples/Makefile 'obj-$(CONFIG_SAMPLE_DIBS)		+= dibs/'
fi
if [ -f "$REPO/Documentation/networking/dibs.rst" ]; then
	grep -qx '   dibs' "$KSRC/Documentation/networking/index.rst" ||
		sed -i 's/^   dctcp$/   dctcp\n   dibs/' \
			"$KSRC/Documentation/networking/index.rst"
	grep -qx '   dibs' "$KSRC/Documentation/networking/index.rst" ||
		die "cannot hook dibs.rst into Documentation/networking/index.rst"
fi
exit 0
