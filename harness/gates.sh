#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The static gates. Each must report zero findings in this project's files.
#
#   harness/gates.sh [gate...]      (default: all, in this order)
#
#   oot-w1       out-of-tree W=1 build against the stock Debian 6.12 headers
#   oot-7        the same against Debian's DIBS-era (7.x) amd64 headers
#   abi-7        the symbol versions (CRCs) and structure layouts of our
#                dibs.ko equal upstream's, and upstream's smc.ko would load
#                on ours (harness/abi.sh)
#   build-y      W=1 in-tree build with everything =y (the KUnit tree,
#                ISM included)
#   sparse-y     sparse C=2 on that tree (with the sparse of
#                harness/sparse.sh, or $SPARSE if set; a gate fails if
#                sparse did not run)
#   build-m      W=1 build with everything of ours =m, in the configuration
#                of the x86_64 KUnit tree (see prepare_modules_tree())
#   sparse-m     sparse C=2 on that build
#   build-s390-y   W=1 s390 cross build of the s390 directories (the s390
#                  KUnit tree, everything =y)
#   sparse-s390-y  sparse C=2 on that tree
#   build-s390-m   W=1 s390 cross build with everything of ours =m, in
#                  the configuration of the s390 KUnit tree
#   sparse-s390-m  sparse C=2 on that build
#   coccicheck   make coccicheck on every directory of ours: MODE=report,
#                and MODE=patch for the scripts without a report mode
#   checkpatch   checkpatch.pl --strict on every file
#   kernel-doc   kernel-doc -none -Wall on every source and header
#   htmldocs     Documentation/networking built with the kernel's Sphinx
#                setup, and the ABI file validated by get_abi.py
#
# All of them work in the kernel tree of harness/tree.sh (Debian's
# DIBS-era linux-source-7.x with our files and patches/). The build and
# sparse gates of x86_64 reuse the build of harness/kunit.sh x86_64, those
# of s390 that of harness/kunit.sh s390, which must have run before.

. "$(dirname "$0")/lib.sh"

OURS='drivers/dibs|include/linux/dibs\.h|samples/dibs|drivers/s390/net/ism'
OURS+='|tools/testing/selftests/dibs|Documentation/networking/dibs'
OURS+='|Documentation/networking/ism\.rst|sysfs-class-dibs'
# Our directories built by kbuild, relative to a kernel tree: all of them
# in the x86_64 builds (ISM with COMPILE_TEST), ISM's in the s390 ones.
KBUILD_DIRS=(drivers/dibs/ samples/dibs/ drivers/s390/net/)
KBUILD_DIRS_S390=(drivers/s390/net/)

gate_log() { echo "$BUILD/gate-$1.log"; }

# Fail the gate if its log has compiler or checker findings in our files.
judge() { # gate
	local log
	log=$(gate_log "$1")
	if grep -E "($OURS).*(warning|error|WARNING|ERROR|CHECK):" "$log"; then
		result FAIL "gate:$1"
		return 1
	fi
	result PASS "gate:$1"
}

# Run a build step of a gate; a failing command fails the gate.
run() { # gate command...
	local gate=$1
	shift
	if ! "$@" >> "$(gate_log "$gate")" 2>&1; then
		tail -n 30 "$(gate_log "$gate")" >&2
		result FAIL "gate:$gate"
		return 1
	fi
}

# W=1 out-of-tree build of a copy of the checkout against headers.
oot_build() { # gate kdir [make-arg...]
	local gate=$1 kdir=$2 src=$BUILD/$1-src
	shift 2
	mkdir -p "$src"
	rsync -rc --delete --exclude=.git --exclude='*.o' --exclude='*.ko' \
		"$REPO/" "$src/"
	run "$gate" make -C "$src" KDIR="$kdir" W=1 -j"$JOBS" "$@" modules ||
		return 1
	[ -f "$src/drivers/dibs/dibs.ko" ] || {
		result FAIL "gate:$gate"; return 1; }
	judge "$gate"
}

gate_oot-w1() {
	local krel
	krel=$(debian_krel)
	[ -d "/usr/src/linux-headers-$krel" ] || die "no headers for $krel"
	oot_build oot-w1 "/usr/src/linux-headers-$krel"
}

# Against Debian's DIBS-era headers, which ship upstream's dibs.h: ours
# must win (Kbuild puts our include/ first).
gate_oot-7() {
	local kdir
	kdir=$("$REPO/harness/linux7.sh" headers) || {
		result FAIL "gate:oot-7"; return 1; }
	ls "$(dirname "$kdir")"/*/include/linux/dibs.h > /dev/null 2>&1 || {
		echo "$kdir has no dibs.h to shadow ours" >&2
		result FAIL "gate:oot-7"; return 1; }
	oot_build oot-7 "$kdir" CC=gcc
}

gate_abi-7() {
	run abi-7 "$REPO/harness/abi.sh" || return 1
	sed -n 's/^abi: //p' "$(gate_log abi-7)"
	result PASS "gate:abi-7"
}

# make in the kernel tree for an architecture (x86_64, or s390 cross-built).
kmake() { # arch build-dir make-args...
	local arch=$1 out=$2
	shift 2
	[ "$arch" = s390 ] && set -- CROSS_COMPILE=s390x-linux-gnu- "$@"
	make -C "$KSRC" O="$out" ARCH="$arch" -j"$JOBS" "$@"
}

# What the build gates of an architecture build: the directories of its
# KUnit tree (everything =y) and, in that order, of its tree for modules
# (everything of ours =m), the options of that tree, and the modules it
# must have.
gate_arch() { # arch
	case $1 in
	x86_64)
		out_y=$BUILD7/kunit-x86_64
		dirs_y=("${KBUILD_DIRS[@]}") dirs_m=("${KBUILD_DIRS[@]}")
		need_y=(DIBS ISM DIBS_IVSHMEM) need_m=DIBS_IVSHMEM
		opts_m=(-m DIBS -m DIBS_KUNIT_TEST -m DIBS_LO
			-m DIBS_LO_KUNIT_TEST -m DIBS_PINGPONG -m DIBS_BENCH
			-e SAMPLES -m SAMPLE_DIBS
			-m DIBS_IVSHMEM -m DIBS_IVSHMEM_KUNIT_TEST
			-m ISM -m ISM_KUNIT_TEST)
		mods=(drivers/dibs/dibs.ko drivers/dibs/tests/dibs_core_kunit.ko
		      drivers/dibs/dibs_loopback.ko
		      drivers/dibs/tests/dibs_loopback_kunit.ko
		      drivers/dibs/dibs_ivshmem.ko
		      drivers/dibs/tests/dibs_ivshmem_kunit.ko
		      drivers/dibs/tests/dibs_pingpong.ko
		      drivers/dibs/tests/dibs_bench.ko
		      samples/dibs/dibs_sample.ko
		      drivers/s390/net/ism.ko drivers/s390/net/ism_kunit.ko)
		;;
	s390)
		out_y=$BUILD7/kunit-s390
		dirs_y=("${KBUILD_DIRS_S390[@]}")
		dirs_m=(drivers/dibs/ "${KBUILD_DIRS_S390[@]}")
		need_y=(ISM) need_m=ISM
		# The other drivers of drivers/s390/net are not ours.
		opts_m=(-m DIBS -m ISM -m ISM_KUNIT_TEST -d CTCM -d SMSGIUCV)
		mods=(drivers/dibs/dibs.ko drivers/s390/net/ism.ko
		      drivers/s390/net/ism_kunit.ko)
		;;
	esac
}

# W=1 build of our directories in the KUnit tree of harness/kunit.sh.
build_y() { # gate arch
	local gate=$1 arch=$2 sym
	gate_arch "$arch"
	[ -f "$out_y/.config" ] || die "run harness/kunit.sh $arch first"
	for sym in "${need_y[@]}"; do
		grep -q "^CONFIG_$sym=y" "$out_y/.config" ||
			die "$sym is not =y in $out_y"
	done
	run "$gate" kmake "$arch" "$out_y" W=1 "${dirs_y[@]}" ||
		return 1
	judge "$gate"
}

# Set SPARSE to the sparse the kernel accepts (harness/sparse.sh), built
# on first use.
sparse_checker() {
	[ -n "${SPARSE:-}" ] || SPARSE=$("$REPO/harness/sparse.sh")
}

# Fail the gate unless sparse ran: kbuild only warns when it does not
# accept the checker, and then checks nothing.
checked() { # gate
	local log
	log=$(gate_log "$1")
	if grep -q 'specified, but .* is not available' "$log" ||
	   ! grep -q '^  CHECK ' "$log"; then
		echo "sparse did not run (log: $log)" >&2
		result FAIL "gate:$1"
		return 1
	fi
}

sparse_y() { # gate arch
	gate_arch "$2"
	run "$1" sparse_checker || return 1
	run "$1" kmake "$2" "$out_y" C=2 CHECK="$SPARSE" "${dirs_y[@]}" ||
		return 1
	checked "$1" && judge "$1"
}

# The tree our modules are built =m in: the KUnit kernel's configuration
# with everything of ours =m, prepared for modules only, and that
# kernel's Module.symvers without our exports. modpost then checks every
# import of our modules against the kernel they would load on, as a
# build of the whole kernel again would (which took 7 minutes per
# architecture from an empty cache), and an export our modules lack is
# an undefined symbol, not one the built-in copy of ours provides.
modules_tree() { # arch
	echo "$BUILD7/ext-modules-$1"
}

prepare_modules_tree() { # arch
	local arch=$1 out
	out=$(modules_tree "$arch")
	[ -f "$out_y/Module.symvers" ] || die "run harness/kunit.sh $arch first"
	mkdir -p "$out"
	cp "$out_y/.config" "$out/.config"
	"$KSRC/scripts/config" --file "$out/.config" "${opts_m[@]}" &&
	kmake "$arch" "$out" olddefconfig &&
	grep -q "^CONFIG_$need_m=m" "$out/.config" &&
	kmake "$arch" "$out" modules_prepare || return 1
	awk -F '\t' '$2 !~ /(^|_)(dibs|ism)_/' "$out_y/Module.symvers" \
		> "$out/Module.symvers"
}

# Build our directories in the modules tree of an architecture, as external
# modules of that tree (M=, output in MO=), each with the exports of those
# before it; extra make arguments (W=1, C=2) apply to all.
make_modules() { # arch make-arg...
	local arch=$1 out d syms=()
	shift
	out=$(modules_tree "$arch")
	for d in "${dirs_m[@]}"; do
		kmake "$arch" "$out" M="$d" MO="$out/$d" \
			KBUILD_EXTRA_SYMBOLS="${syms[*]}" "$@" modules ||
			return 1
		syms+=("$out/${d}Module.symvers")
	done
}

build_m() { # gate arch
	local gate=$1 arch=$2 out m
	out=$(modules_tree "$arch")
	gate_arch "$arch"
	run "$gate" prepare_modules_tree "$arch" || return 1
	run "$gate" make_modules "$arch" W=1 || return 1
	for m in "${mods[@]}"; do
		[ -f "$out/$m" ] || { echo "missing $m" >&2;
			result FAIL "gate:$gate"; return 1; }
	done
	judge "$gate"
}

sparse_m() { # gate arch
	gate_arch "$2"
	run "$1" sparse_checker || return 1
	run "$1" make_modules "$2" C=2 CHECK="$SPARSE" || return 1
	checked "$1" && judge "$1"
}

gate_build-y() { build_y build-y x86_64; }
gate_sparse-y() { sparse_y sparse-y x86_64; }
gate_build-m() { build_m build-m x86_64; }
gate_sparse-m() { sparse_m sparse-m x86_64; }
gate_build-s390-y() { build_y build-s390-y s390; }
gate_sparse-s390-y() { sparse_y sparse-s390-y s390; }
gate_build-s390-m() { build_m build-s390-m s390; }
gate_sparse-s390-m() { sparse_m sparse-s390-m s390; }

# Every semantic patch of the kernel's scripts/coccinelle must run on every
# directory of ours: one that stops with an error (a script rule whose
# language spatch cannot run, say) would otherwise look like one with no
# findings. coccicheck MODE=report runs the scripts that have a report
# mode; the others (kmalloc_objs.cocci, which turns kcalloc() into
# kzalloc_objs() and so on) only patch, so they run in MODE=patch, where
# any patch they print is a finding. spatch looks for candidate files with
# "git grep" unless told otherwise; the tree is no git repository, so use
# its own grep instead.
gate_coccicheck() {
	local d log scripts ran s diffs
	local -a patch_only
	log=$(gate_log coccicheck)
	diffs=$BUILD/gate-coccicheck.patch
	: > "$diffs"
	scripts=$(find "$KSRC/scripts/coccinelle" -name '*.cocci' | wc -l)
	mapfile -t patch_only < <(grep -L 'virtual[[:space:]]\+report' \
		$(grep -l -r --include='*.cocci' 'virtual[[:space:]]\+patch' \
			"$KSRC/scripts/coccinelle"))
	for d in "${KBUILD_DIRS[@]}"; do
		run coccicheck make -C "$KSRC" coccicheck MODE=report \
			M="${d%/}" J="$JOBS" SPFLAGS=--use-coccigrep || return 1
		for s in "${patch_only[@]}"; do
			make -s -C "$KSRC" coccicheck MODE=patch COCCI="$s" \
				M="${d%/}" J="$JOBS" SPFLAGS=--use-coccigrep \
				2>> "$log" | tee -a "$log" |
				sed -n '/^--- a\//,$p' >> "$diffs"
		done
	done
	ran=$(grep -c -- '--cocci-file ' "$log")
	if [ "$ran" -ne $((scripts * ${#KBUILD_DIRS[@]})) ]; then
		echo "coccicheck ran $ran scripts, expected $scripts for each of" \
		     "${#KBUILD_DIRS[@]} directories" >&2
		result FAIL "gate:coccicheck"
		return 1
	fi
	if grep -n -i -E 'fatal|exception|no ocaml|not a git|error:|failed' \
			"$log"; then
		echo "spatch reported errors (log: $log)" >&2
		result FAIL "gate:coccicheck"
		return 1
	fi
	if [ -s "$diffs" ]; then
		cat "$diffs" >&2
		echo "semantic patches would change our files ($diffs)" >&2
		result FAIL "gate:coccicheck"
		return 1
	fi
	judge coccicheck
}

# Every file of ours, as a path relative to the repository.
our_files() {
	git -C "$REPO" ls-files --cached --others --exclude-standard |
		grep -v -E '^(LICENSES/|\.gitignore$|.*\.(png|svg|json)$)'
}

gate_checkpatch() {
	local f bad=0 log mode
	log=$(gate_log checkpatch)
	while read -r f; do
		[ -f "$REPO/$f" ] || continue
		# A file of patches/ is checked as the patch it is.
		mode=-f
		[[ $f == patches/*.patch ]] && mode=
		(cd "$KSRC" && scripts/checkpatch.pl --strict --no-tree -q \
			--show-types $mode "$REPO/$f") >> "$log" 2>&1 || bad=1
	done < <(our_files)
	if [ $bad -ne 0 ]; then
		cat "$log" >&2
		result FAIL "gate:checkpatch"
		return 1
	fi
	result PASS "gate:checkpatch"
}

gate_kernel-doc() {
	local f log
	log=$(gate_log kernel-doc)
	while read -r f; do
		"$KSRC/scripts/kernel-doc" -none -Wall "$REPO/$f" >> "$log" 2>&1
	done < <(our_files | grep -E '\.[ch]$')
	if [ -s "$log" ]; then
		cat "$log" >&2
		result FAIL "gate:kernel-doc"
		return 1
	fi
	result PASS "gate:kernel-doc"
}

gate_htmldocs() {
	local log
	log=$(gate_log htmldocs)
	run htmldocs make -C "$KSRC" O="$BUILD7/docs" SPHINXDIRS=networking \
		htmldocs || return 1
	(cd "$KSRC" && tools/docs/get_abi.py --dir Documentation/ABI/testing \
		validate) >> "$log" 2>&1
	if grep -E "$OURS" "$log" | grep -i -E "warning|error"; then
		result FAIL "gate:htmldocs"
		return 1
	fi
	local rst
	for rst in "$REPO"/Documentation/networking/{dibs*,ism}.rst; do
		[ -f "$rst" ] || continue
		rst=${rst##*/}
		[ -f "$BUILD7/docs/Documentation/output/networking/${rst%.rst}.html" ] || {
			echo "${rst%.rst}.html was not built" >&2
			result FAIL "gate:htmldocs"; return 1; }
	done
	result PASS "gate:htmldocs"
}

all=(oot-w1 oot-7 abi-7 build-y sparse-y build-m sparse-m build-s390-y sparse-s390-y
     build-s390-m sparse-s390-m coccicheck checkpatch kernel-doc htmldocs)
[ $# -gt 0 ] && all=("$@")

"$REPO/harness/tree.sh" || exit 1
mkdir -p "$BUILD"
rc=0
for g in "${all[@]}"; do
	declare -F "gate_$g" > /dev/null || die "unknown gate $g"
	log "gate $g"
	: > "$(gate_log "$g")"
	"gate_$g" || rc=1
done
exit $rc
