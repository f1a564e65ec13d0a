#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a KUnit kernel with this project and run its suites under QEMU (TCG).
#
#   harness/kunit.sh [x86_64|s390|kcsan]
#
# x86_64 builds the DIBS-era tree (harness/linux7.sh), where our files
# replace upstream's DIBS, and runs drivers/dibs/.kunitconfig and
# drivers/s390/net/.kunitconfig (the ISM driver, built with COMPILE_TEST:
# harness/ism-x86_64.config), with SMC-D (harness/smc.config); s390 runs
# drivers/s390/net/.kunitconfig on the 6.12 tree. Both use the debug
# options of harness/debug.config on 2 vCPUs. Every test case is reported
# on its own line ("PASS kunit-x86_64:suite.case"), and the console log is
# scanned for splats: one fails the run even if every case passed. A
# second boot of the same kernel asks kmemleak for a scan after the suites
# ("no-leak"). kcsan ("make stress") builds the x86_64 suites, without
# SMC-D, under KCSAN instead of the KASAN-based debug options, runs the
# race and stress cases DIBS_STRESS_FACTOR (default 10) times longer, and
# lists every data-race report. On x86_64 a third boot runs the SMC-D selftest
# (tools/testing/selftests/dibs/smcd.sh) with the real client.

. "$(dirname "$0")/lib.sh"

arch=${1:-x86_64}
# How much longer the race and stress cases run under KCSAN.
STRESS_FACTOR=${DIBS_STRESS_FACTOR:-10}
case $arch in
x86_64|kcsan)
	args=(--arch=x86_64 --qemu_args='-smp 2'
	      --kunitconfig=drivers/dibs
	      --kunitconfig=drivers/s390/net
	      --kunitconfig="$REPO/harness/ism-x86_64.config")
	if [ "$arch" = kcsan ]; then
		# "make stress": the same suites for longer (stress_factor)
		# under KCSAN instead of KASAN, without SMC-D.
		args+=(--kunitconfig="$REPO/harness/kcsan.config"
		       --kernel_args="dibs_core_test.stress_factor=$STRESS_FACTOR"
		       --kernel_args="dibs_loopback_test.stress_factor=$STRESS_FACTOR")
	else
		args+=(--kunitconfig="$REPO/harness/smc.config"
		       --kunitconfig="$REPO/harness/debug.config")
	fi
	cc= qemu_arch=x86_64 kernel=arch/x86/boot/bzImage
	qemu_args=(-bios qboot.rom)
	tree=7 KSRC=$KSRC7 BUILD=$BUILD7
	;;
s390)
	args=(--arch=s390 --cross_compile=s390x-linux-gnu-
	      --qemu_args='-smp 2'
	      --kunitconfig=drivers/s390/net
	      --kunitconfig="$REPO/harness/debug.config")
	cc=s390x-linux-gnu- qemu_arch=s390x kernel=arch/s390/boot/bzImage
	qemu_args=(-machine s390-ccw-virtio -cpu qemu)
	tree=
	;;
*)
	die "unknown architecture $arch"
	;;
esac

"$REPO/harness/tree.sh" $tree || exit 1

build_dir=$BUILD/kunit-$arch
json=$BUILD/kunit-$arch.json
mkdir -p "$build_dir"
rm -f "$json" "$build_dir/test.log"

# kunit.py asks QEMU for KVM first. On hosts where KVM is present but
# broken, a guest under KVM hangs without a word (the DIBS-era kernel here)
# instead of falling back to TCG, so QEMU is called through a wrapper that
# leaves only TCG, unless DIBS_VM_ACCEL=kvm says KVM works.
qemu_wrapper() {
	local dir=$BUILD/qemu-tcg
	mkdir -p "$dir"
	cat > "$dir/qemu-system-$qemu_arch" <<-EOF
	#!/bin/bash
	# Written by harness/kunit.sh: QEMU without KVM (see there).
	args=()
	while [ \$# -gt 0 ]; do
		if [ "\$1" = -accel ] && [ "\$2" != tcg ]; then
			shift 2
			continue
		fi
		args+=("\$1")
		shift
	done
	exec $(command -v "qemu-system-$qemu_arch") "\${args[@]}"
	EOF
	chmod +x "$dir/qemu-system-$qemu_arch"
	echo "$dir"
}
path=$PATH
[ "${DIBS_VM_ACCEL:-}" = kvm ] || path=$(qemu_wrapper):$PATH

log "kunit.py run --arch=$arch (build in $build_dir)"
(cd "$KSRC" && PATH=$path python3 tools/testing/kunit/kunit.py run \
	"${args[@]}" --build_dir="$build_dir" --jobs="$JOBS" --timeout=1200 \
	--json="$json")
rc=$?

if [ ! -s "$json" ] || [ ! -s "$build_dir/test.log" ]; then
	result FAIL "kunit-$arch:build-and-boot"
	exit 1
fi

python3 - "$json" "$arch" <<'PY' | while read -r status name; do result "$status" "$name"; done
import json, sys

def walk(group, prefix):
    for case in group.get("test_cases", []):
        status = {"PASS": "PASS", "SKIP": "SKIP"}.get(case["status"], "FAIL")
        print(status, prefix + group["name"] + "." + case["name"])
    for sub in group.get("sub_groups", []):
        walk(sub, prefix if group["name"] == "KUnit Test Group"
             else prefix + group["name"] + ".")

walk(json.load(open(sys.argv[1])), "kunit-" + sys.argv[2] + ":")
PY

# Under KCSAN a data race is reported as a block between two lines of
# "=", headed "BUG: KCSAN: data-race in A / B" with A and B the functions
# of the two accesses. Races between two accesses in the kernel's own code
# (our tests reach some, such as the kobject core's bitfields when a
# device reference is dropped during device_del()) are listed but are not
# ours to fix; a race with an access in our code fails the run. The other
# splats are judged on the log without those blocks.
splat_log=$build_dir/test.log
if [ "$arch" = kcsan ]; then
	splat_log=$build_dir/test-without-kcsan.log
	awk '/^=+$/ && !held && !block { held = $0; next }
	     held { if ($0 ~ /^BUG: KCSAN:/) block = 1; else print held
		    held = "" }
	     block { if ($0 ~ /^=+$/) block = 0; next }
	     { print }' "$build_dir/test.log" > "$splat_log"
	our_code='(in |/ )(dibs|ism|lo_test|stale|coalesce|race|stress|bench|sample)_'
	reports=$(grep -c '^BUG: KCSAN:' "$build_dir/test.log")
	ours=$(grep '^BUG: KCSAN:' "$build_dir/test.log" | grep -c -E "$our_code")
	log "KCSAN: $reports data-race reports, $ours with an access in our code" \
	    "(stress factor $STRESS_FACTOR)"
	grep '^BUG: KCSAN:' "$build_dir/test.log" | sort | uniq -c >&2
	if [ "$ours" -gt 0 ]; then
		result FAIL "kunit-$arch:no-data-race-in-our-code"
		rc=1
	else
		result PASS "kunit-$arch:no-data-race-in-our-code"
	fi
fi

if find_splats "$splat_log"; then
	log "splat in the console log: $build_dir/test.log"
	result FAIL "kunit-$arch:no-splat"
	rc=1
else
	result PASS "kunit-$arch:no-splat"
fi
[ "$arch" = kcsan ] && exit $rc

# kunit.py reboots as soon as the suites are done, long before kmemleak's
# first automatic scan. So boot the same kernel once more, with an
# initramfs whose /init (harness/leakcheck-init.c, built static for the
# architecture) runs after the built-in suites, asks kmemleak for a scan and
# prints what it found.
leakcheck() {
	local dir initrd=$build_dir/leakcheck-initrd.cpio
	local log=$build_dir/leakcheck.log

	dir=$(mktemp -d) || return 1
	if ! "${cc}gcc" -static -O2 -Wall -o "$dir/init" \
			"$REPO/harness/leakcheck-init.c"; then
		rm -rf "$dir"
		return 1
	fi
	(cd "$dir" && echo init | cpio -o -H newc --quiet) > "$initrd"
	rm -rf "$dir"

	log "leak check: booting the KUnit kernel with an initramfs"
	timeout 900 "qemu-system-${qemu_arch}" -nodefaults -m 1024 -smp 2 \
		"${qemu_args[@]}" -kernel "$build_dir/$kernel" \
		-initrd "$initrd" \
		-append "console=ttyS0 kunit.enable=1 rdinit=/init panic=-1" \
		-no-reboot -nographic -serial stdio < /dev/null > "$log" 2>&1
	if ! grep -q 'dibs-leakcheck: done' "$log"; then
		log "leak check did not finish: $log"
		return 1
	fi
	# kmemleak's own line is judged by leaks() below.
	if find_splats <(grep -v 'new suspected memory leaks (see' "$log"); then
		log "splat in $log"
		return 1
	fi
	leaks "$log"
}

# Print the kmemleak reports of a log and fail if one of them has a frame of
# our code in its backtrace. The others are kernel objects that no code of
# ours allocated (a kernel of this release leaks one in the s390 scheduler
# topology at boot): they are printed and counted, but do not fail the run.
leaks() { # log
	local syms
	syms=$(mktemp) || return 1
	"${cc}nm" --defined-only "$build_dir"/drivers/dibs/*.o \
		"$build_dir"/drivers/s390/net/ism*.o \
		"$build_dir"/samples/dibs/*.o 2>/dev/null |
		awk '$2 ~ /^[tT]$/ { print $3 }' > "$syms"
	python3 - "$1" "$syms" <<'PY'
import re
import sys

log, syms = sys.argv[1:3]
ours = {s.split(".")[0] for s in open(syms).read().split()}
if not ours:
    sys.exit("no symbols of ours found in the build directory")
blocks, block = [], None
for line in open(log, errors="replace"):
    if "unreferenced object" in line:
        block = [line]
        blocks.append(block)
    elif block is not None and line.startswith(" "):
        block.append(line)
    else:
        block = None
bad = 0
for b in blocks:
    frames = [m.group(1).split(".")[0] for m in
              (re.match(r"\s+([\w.]+)\+0x", line) for line in b) if m]
    mine = [f for f in frames if f in ours]
    print(("leak of ours (" + ", ".join(mine) + "):" if mine
           else "kernel leak, no frame of ours:"))
    sys.stdout.write("".join(b))
    bad += bool(mine)
print(f"{len(blocks)} unreferenced objects, {bad} with a frame of ours")
sys.exit(1 if bad else 0)
PY
	local rc=$?
	rm -f "$syms"
	return $rc
}

if leakcheck; then
	result PASS "kunit-$arch:no-leak"
else
	result FAIL "kunit-$arch:no-leak"
	rc=1
fi

# SMC-D, the real client, on the same kernel: its test points are
# reported as "selftest:smcd:<point>", and those of the boot that waits
# out SMC's link group timer (with time warped) as "selftest:smcd_idle:".
if [ "$arch" = x86_64 ] && [ -z "${DIBS_NO_SMCD:-}" ]; then
	"$REPO/tools/testing/selftests/dibs/vmtest.sh" -k "$build_dir" smcd ||
		rc=1
	"$REPO/tools/testing/selftests/dibs/vmtest.sh" -k "$build_dir" -w \
		smcd_idle || rc=1
fi
exit $rc
