#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare a cached kernel tree: copy in this project's files, replacing
# the kernel's own DIBS and ISM files where it has them, and hook them into
# the kernel's Kconfig and Makefiles. Only files whose content changed are
# copied, so kernel builds stay incremental. Prints nothing on success.
#
#   harness/tree.sh        the 6.12 tree, $KSRC: Debian's linux-source-6.12,
#                          unpacked once (again when the package changes)
#   harness/tree.sh 7      the DIBS-era tree, $KSRC7 (harness/linux7.sh)

. "$(dirname "$0")/lib.sh"

if [ "${1:-}" = 7 ]; then
	"$REPO/harness/linux7.sh" || exit 1
	KSRC=$KSRC7
else
	version=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) ||
		die "linux-source-6.12 is not installed (run harness/deps.sh)"
	stamp=$KSRC/.dibs-source-version
	if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$version" ]; then
		log "unpacking linux-source-6.12 $version into $CACHE"
		rm -rf "$KSRC" "$BUILD"
		mkdir -p "$CACHE"
		tar -C "$CACHE" -xf "$SOURCE_TARBALL" ||
			die "cannot unpack $SOURCE_TARBALL"
		echo "$version" > "$stamp"
	fi
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
sync_file include/trace/events/dibs.h
sync_file include/uapi/linux/dibs_ivshmem.h
sync_dir samples/dibs
sync_dir tools/testing/selftests/dibs
sync_file drivers/s390/net/ism_drv.c
sync_file drivers/s390/net/ism.h
sync_file Documentation/networking/dibs.rst
sync_file Documentation/networking/dibs-ivshmem.rst
sync_file Documentation/ABI/testing/sysfs-class-dibs

# DIBS-era kernels source drivers/dibs/Kconfig from net/Kconfig already.
grep -qxF 'source "drivers/dibs/Kconfig"' "$KSRC/net/Kconfig" ||
	hook_before_last drivers/Kconfig 'source "drivers/dibs/Kconfig"' '^endmenu'
grep -qE '^obj-\$\(CONFIG_DIBS\)[[:space:]]+\+= dibs/$' "$KSRC/drivers/Makefile" ||
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
if [ -f "$REPO/Documentation/networking/dibs-ivshmem.rst" ]; then
	grep -qx '   dibs-ivshmem' "$KSRC/Documentation/networking/index.rst" ||
		sed -i 's/^   dibs$/   dibs\n   dibs-ivshmem/' \
			"$KSRC/Documentation/networking/index.rst"
	grep -qx '   dibs-ivshmem' "$KSRC/Documentation/networking/index.rst" ||
		die "cannot hook dibs-ivshmem.rst into Documentation/networking/index.rst"
fi
# ---- s390 ISM driver (drivers/s390/net/ism*) ---------------------------
# Copy our ISM files, and splice our drivers/s390/net/Kconfig and Makefile
# entries into the kernel's files of that directory in place of the
# kernel's own ISM entries (the old driver, which depends on SMC). The
# spliced lines sit between two marker lines, so that running this again
# only replaces them; a file is rewritten only when its content changes.
ism_dir=drivers/s390/net
ism_begin='# BEGIN DIBS ISM (spliced by harness/tree.sh)'
ism_end='# END DIBS ISM'

for f in "$REPO/$ism_dir"/ism* "$REPO/$ism_dir/.kunitconfig"; do
	[ -f "$f" ] && sync_file "$ism_dir/${f##*/}"
done
# Our files that were renamed or deleted must not linger in the tree.
for f in "$KSRC/$ism_dir"/ism*; do
	[ -e "$REPO/$ism_dir/${f##*/}" ] || rm -f "$f"
done

# Our entries of a file, without its leading comment block.
ism_block() { # repo-relative file
	echo "$ism_begin"
	awk 'body || !/^(#|$)/ { body = 1; print }' "$REPO/$1"
	echo "$ism_end"
}

# Replace $KSRC/$1 by the output of a filter, if that changes it.
ism_rewrite() { # file filter-command...
	local file=$KSRC/$1 tmp
	shift
	tmp=$(mktemp) || die "mktemp failed"
	"$@" < "$file" > "$tmp" || { rm -f "$tmp"; die "cannot splice $file"; }
	if cmp -s "$tmp" "$file"; then
		rm -f "$tmp"
	else
		cat "$tmp" > "$file" && rm -f "$tmp"
	fi
}

# Kconfig: drop the marker block and the kernel's "config ISM" entry, then
# put our entries back in the same menu, before its "endmenu". The menu is
# opened to COMPILE_TEST, so that ISM and its KUnit suite build on x86_64
# too (none of the other drivers of the menu builds without S390).
ism_kconfig() {
	awk -v begin="$ism_begin" -v end="$ism_end" -v block="$1" '
		$0 == begin { skip = 1; next }
		skip && $0 == end { skip = 0; next }
		skip { next }
		$0 == "\tdepends on NETDEVICES && S390" && !menu {
			menu = 1
			print "\tdepends on NETDEVICES && (S390 || COMPILE_TEST)"
			next
		}
		$0 == "config ISM" { old = 1; next }
		old && /^(config|menuconfig|menu|endmenu|if|endif|source|comment)( |$)/ { old = 0 }
		old { next }
		$0 == "endmenu" { while ((getline line < block) > 0) print line }
		{ print }'
}

# Makefile: drop the marker block and the kernel's ISM lines, then append
# our lines.
ism_makefile() {
	awk -v begin="$ism_begin" -v end="$ism_end" '
		$0 == begin { skip = 1; next }
		skip && $0 == end { skip = 0; next }
		skip { next }
		/^ism-y[ \t]*:?=[ \t]*ism_drv\.o$/ { next }
		/^obj-\$\(CONFIG_ISM\)[ \t]*\+=[ \t]*ism\.o$/ { next }
		{ print }'
	cat "$1"
}

if [ -f "$REPO/$ism_dir/Kconfig" ] && [ -f "$REPO/$ism_dir/Makefile" ]; then
	ism_tmp=$(mktemp) || die "mktemp failed"
	ism_block "$ism_dir/Kconfig" > "$ism_tmp"
	ism_rewrite "$ism_dir/Kconfig" ism_kconfig "$ism_tmp"
	grep -qxF "$ism_begin" "$KSRC/$ism_dir/Kconfig" ||
		{ rm -f "$ism_tmp"; die "cannot splice $ism_dir/Kconfig"; }
	ism_block "$ism_dir/Makefile" > "$ism_tmp"
	ism_rewrite "$ism_dir/Makefile" ism_makefile "$ism_tmp"
	rm -f "$ism_tmp"
	# Without S390, drivers/s390/ is not entered: enter its net/ for ISM.
	hook_append drivers/Makefile \
		'obj-$(if $(CONFIG_S390),,$(CONFIG_ISM))	+= s390/net/'
fi
exit 0
