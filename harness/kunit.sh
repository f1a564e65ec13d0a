#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a KUnit kernel with this project and run its suites under QEMU (TCG).
#
#   harness/kunit.sh [x86_64|s390]
#
# x86_64 runs drivers/dibs/.kunitconfig and drivers/s390/net/.kunitconfig
# (the ISM driver, built with COMPILE_TEST: harness/ism-x86_64.config), s390
# runs drivers/s390/net/.kunitconfig; both with the debug options of
# harness/debug.config on 2 vCPUs. Every test case is reported on its own
# line ("PASS kunit-x86_64:suite.case"), and the console log is scanned for
# splats: one fails the run even if every case passed.

. "$(dirname "$0")/lib.sh"

arch=${1:-x86_64}
case $arch in
x86_64)
	args=(--arch=x86_64 --qemu_args='-smp 2'
	      --kunitconfig=drivers/dibs
	      --kunitconfig=drivers/s390/net
	      --kunitconfig="$REPO/harness/ism-x86_64.config"
	      --kunitconfig="$REPO/harness/debug.config")
	;;
s390)
	args=(--arch=s390 --cross_compile=s390x-linux-gnu-
	      --qemu_args='-smp 2'
	      --kunitconfig=drivers/s390/net
	      --kunitconfig="$REPO/harness/debug.config")
	;;
*)
	die "unknown architecture $arch"
	;;
esac

"$REPO/harness/tree.sh" || exit 1

build_dir=$BUILD/kunit-$arch
json=$BUILD/kunit-$arch.json
mkdir -p "$build_dir"
rm -f "$json" "$build_dir/test.log"

log "kunit.py run --arch=$arch (build in $build_dir)"
(cd "$KSRC" && python3 tools/testing/kunit/kunit.py run "${args[@]}" \
	--build_dir="$build_dir" --jobs="$JOBS" --timeout=1200 --json="$json")
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

if find_splats "$build_dir/test.log"; then
	log "splat in the console log: $build_dir/test.log"
	result FAIL "kunit-$arch:no-splat"
	rc=1
else
	result PASS "kunit-$arch:no-splat"
fi

# kunit.py reboots as soon as the suites are done, long before kmemleak's
# first automatic scan. So boot the same kernel once more with a busybox
# initramfs whose /init, run after the built-in suites, asks kmemleak for a
# scan and prints what it found.
leakcheck() {
	local dir initrd=$build_dir/leakcheck-initrd.cpio.gz
	local log=$build_dir/leakcheck.log

	dir=$(mktemp -d) || return 1
	mkdir -p "$dir/bin"
	cp /bin/busybox "$dir/bin/busybox"
	cat > "$dir/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys
mount -t proc none /proc
mount -t sysfs none /sys
mount -t debugfs none /sys/kernel/debug
# kmemleak ignores objects younger than 5 s; scan twice to be sure.
sleep 6
echo scan > /sys/kernel/debug/kmemleak
echo scan > /sys/kernel/debug/kmemleak
cat /sys/kernel/debug/kmemleak && echo "dibs-leakcheck: done"
reboot -f
INIT
	chmod +x "$dir/init"
	(cd "$dir" && find . | cpio -o -H newc --quiet | gzip) > "$initrd"
	rm -rf "$dir"

	log "leak check: booting the KUnit kernel with an initramfs"
	timeout 900 qemu-system-x86_64 -nodefaults -m 1024 -smp 2 \
		-kernel "$build_dir/arch/x86/boot/bzImage" -initrd "$initrd" \
		-append "console=ttyS0 kunit.enable=1 rdinit=/init panic=-1" \
		-no-reboot -nographic -serial stdio -bios qboot.rom \
		< /dev/null > "$log" 2>&1
	if ! grep -q 'dibs-leakcheck: done' "$log"; then
		log "leak check did not finish: $log"
		return 1
	fi
	if find_splats "$log" || grep -n 'unreferenced object' "$log"; then
		log "leak or splat in $log"
		return 1
	fi
}

if [ "$arch" = x86_64 ]; then
	if leakcheck; then
		result PASS "kunit-$arch:no-leak"
	else
		result FAIL "kunit-$arch:no-leak"
		rc=1
	fi
fi
exit $rc
