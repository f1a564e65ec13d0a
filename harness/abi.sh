#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ABI identity with upstream DIBS, in the DIBS-era (7.x) tree:
#
#   harness/abi.sh
#
# A client module built against upstream's include/linux/dibs.h must load
# on our dibs.ko. With CONFIG_MODVERSIONS the loader allows that only if
# every symbol the client imports from dibs.ko is exported by ours with
# the CRC the client was built with; the CRC covers the function's type
# and every structure reachable from it. So, in one configuration of the
# 7.x tree (Debian's, with MODVERSIONS, DIBS and SMC enabled):
#
#   1. upstream's drivers/dibs and dibs.h (as the package has them) and
#      ours are built as external modules;
#   2. every symbol upstream's dibs.ko exports must be exported by ours
#      with the same CRC, license and namespace, and no CRC may be 0;
#   3. every structure upstream's dibs.h defines must have the same layout
#      (pahole) in both dibs.ko;
#   4. net/smc of the same tree is built against upstream's header and
#      upstream's dibs.ko, and each dibs symbol recorded in its smc.ko
#      (modprobe --dump-modversions) must match our export: the check the
#      loader makes, done on the files;
#   5. control: ours built with one member added to struct dibs_dmb must
#      differ in CRC, so the comparison is shown to see a change.
#
# The tree is prepared once (modules_prepare, about a minute); the module
# builds are incremental. Prints one line per check and exits non-zero on
# the first difference.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ABI=$BUILD7/abi
TREE=$ABI/tree

fail() {
	echo "abi: $*" >&2
	exit 1
}

# The configuration: Debian's for the 7.x headers (as harness/linux7.sh
# adapted it to our compiler), with symbol versions, DIBS and SMC. BTF is
# left out: it needs a newer pahole than Debian 12 has and is not part of
# the ABI checked here.
prepare_tree() { # headers-dir
	local kdir=$1 cfg
	cfg=$(mktemp) || return 1
	cp "$kdir/.config" "$cfg"
	"$KSRC/scripts/config" --file "$cfg" -e MODVERSIONS \
		-e BASIC_MODVERSIONS -d EXTENDED_MODVERSIONS -d GENDWARFKSYMS \
		-m DIBS -e DIBS_LO -m SMC -d SMC_DIAG -d DEBUG_INFO_BTF \
		-d MODULE_SIG
	if [ -f "$TREE/.dibs-done" ] && cmp -s "$cfg" "$TREE/.dibs-config"; then
		rm -f "$cfg"
		return 0
	fi
	log "abi: preparing a 7.x tree with CONFIG_MODVERSIONS"
	rm -rf "$TREE"
	mkdir -p "$TREE"
	cp "$cfg" "$TREE/.config"
	mv "$cfg" "$TREE/.dibs-config"
	make -C "$KSRC" O="$TREE" ARCH=x86_64 CC=gcc -j"$JOBS" \
		olddefconfig modules_prepare > "$TREE/build.log" 2>&1 || {
		tail -n 20 "$TREE/build.log" >&2
		return 1; }
	grep -qx 'CONFIG_MODVERSIONS=y' "$TREE/.config" ||
		fail "CONFIG_MODVERSIONS did not stay on"
	grep -qx 'CONFIG_DIBS=m' "$TREE/.config" || fail "CONFIG_DIBS is not m"
	# The kernel's own exports, so that the modules' imports resolve.
	# Their CRCs are 0 (Debian builds without symbol versions), and
	# module_layout, which modpost requires of a MODVERSIONS kernel, is
	# missing: neither is what this gate compares.
	cp "$kdir/Module.symvers" "$TREE/Module.symvers"
	printf '0x00000000\tmodule_layout\tvmlinux\tEXPORT_SYMBOL\t\n' \
		>> "$TREE/Module.symvers"
	touch "$TREE/.dibs-done"
}

# An external module directory: Kbuild puts its include/ before the
# kernel's, and builds the listed directories.
make_ext() { # dir subdir...
	local dir=$1 sub
	shift
	mkdir -p "$dir"
	{
		# shellcheck disable=SC2016 # make's $(...), not the shell's
		echo 'NOSTDINC_FLAGS += -I$(abspath $(src))/include'
		for sub; do echo "obj-y += $sub/"; done
	} > "$dir/Kbuild.new"
	if cmp -s "$dir/Kbuild.new" "$dir/Kbuild"; then
		rm "$dir/Kbuild.new"
	else
		mv "$dir/Kbuild.new" "$dir/Kbuild"
	fi
}

# rsync that keeps files whose content did not change, for make.
copy() { # from to
	mkdir -p "$(dirname "$2")"
	rsync -rc --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
		--exclude='*.mod*' --exclude='*.symvers' --exclude=modules.order \
		"$1" "$2"
}

build_ext() { # dir make-arg...
	local dir=$1
	shift
	make -C "$KSRC" O="$TREE" ARCH=x86_64 CC=gcc M="$dir" -j"$JOBS" \
		"$@" modules > "$dir.log" 2>&1 || {
		tail -n 20 "$dir.log" >&2
		fail "cannot build $dir (log: $dir.log)"; }
}

# "crc license namespace" of an export in a Module.symvers.
export_of() { # symvers symbol
	awk -v s="$2" '$2 == s { print $1, $4, $5; exit }' "$1"
}

kdir=$("$REPO/harness/linux7.sh" headers) || exit 1
[ -f "$UPSTREAM7/include/linux/dibs.h" ] ||
	fail "no upstream dibs.h in $UPSTREAM7"
prepare_tree "$kdir" || fail "cannot prepare $TREE"

# 1. Both cores, from the same tree and configuration.
up=$ABI/upstream ours=$ABI/ours ctl=$ABI/control smc=$ABI/smc
make_ext "$up" drivers/dibs
copy "$UPSTREAM7/drivers/dibs/" "$up/drivers/dibs/"
copy "$UPSTREAM7/include/" "$up/include/"
build_ext "$up" CONFIG_DIBS=m CONFIG_DIBS_LO=y
make_ext "$ours" drivers/dibs
copy "$REPO/drivers/dibs/" "$ours/drivers/dibs/"
copy "$REPO/include/" "$ours/include/"
build_ext "$ours" CONFIG_DIBS=m CONFIG_DIBS_LO=m

# 2. The exports.
n=0
while read -r crc sym _ lic ns; do
	[ "$crc" != 0x00000000 ] || fail "upstream's $sym has no CRC"
	[ "$(export_of "$ours/Module.symvers" "$sym")" = "$crc $lic ${ns:-}" ] ||
		fail "$sym: upstream exports '$crc $lic ${ns:-}'," \
		     "ours '$(export_of "$ours/Module.symvers" "$sym")'"
	n=$((n + 1))
done < "$up/Module.symvers"
[ $n -gt 0 ] || fail "upstream's dibs.ko exports nothing"
echo "abi: $n exports of upstream's dibs.ko: same CRC, license, namespace in ours"

# 3. The layouts.
structs=$(sed -n 's/^struct \([a-z_]*\) {$/\1/p' \
	  "$UPSTREAM7/include/linux/dibs.h")
[ -n "$structs" ] || fail "no structures found in upstream's dibs.h"
for s in $structs; do
	a=$(pahole -C "$s" "$up/drivers/dibs/dibs.ko") ||
		fail "pahole cannot read $s"
	[ -n "$a" ] || fail "no $s in upstream's dibs.ko"
	b=$(pahole -C "$s" "$ours/drivers/dibs/dibs.ko")
	[ "$a" = "$b" ] || {
		diff <(echo "$a") <(echo "$b") >&2
		fail "struct $s differs"; }
done
echo "abi: layouts equal:" "${structs//$'\n'/ }"

# 4. Upstream's smc.ko, as the loader would check it against ours.
make_ext "$smc" net/smc
copy "$KSRC/net/smc/" "$smc/net/smc/"
copy "$UPSTREAM7/include/" "$smc/include/"
build_ext "$smc" CONFIG_SMC=m KBUILD_EXTRA_SYMBOLS="$up/Module.symvers" \
	KBUILD_MODPOST_WARN=1
n=0
while read -r crc sym; do
	grep -q "^0x[0-9a-f]*	$sym	" "$up/Module.symvers" || continue
	mine=$(export_of "$ours/Module.symvers" "$sym")
	[ "${mine%% *}" = "$crc" ] ||
		fail "smc.ko wants $sym $crc, our dibs.ko has '${mine:-nothing}'"
	n=$((n + 1))
done < <(modprobe --dump-modversions "$smc/net/smc/smc.ko")
[ $n -gt 0 ] || fail "smc.ko records no dibs symbol versions"
echo "abi: upstream's smc.ko: its $n dibs symbol versions match our dibs.ko"

# 5. The control.
make_ext "$ctl" drivers/dibs
copy "$REPO/drivers/dibs/" "$ctl/drivers/dibs/"
copy "$REPO/include/" "$ctl/include/"
sed -i '/^struct dibs_dmb {$/a\	int abi_control;' "$ctl/include/linux/dibs.h"
grep -q abi_control "$ctl/include/linux/dibs.h" || fail "control not made"
build_ext "$ctl" CONFIG_DIBS=m CONFIG_DIBS_LO=m
n=0
while read -r crc sym _; do
	[ "$(export_of "$ctl/Module.symvers" "$sym" | cut -d' ' -f1)" = "$crc" ] ||
		n=$((n + 1))
done < "$up/Module.symvers"
[ $n -gt 0 ] || fail "control: a changed struct dibs_dmb changed no CRC"
echo "abi: control: one member added to struct dibs_dmb changes $n CRCs"
