#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a KUnit kernel with this project and run its suites under QEMU (TCG).
#
#   harness/kunit.sh [x86_64]
#
# x86_64 runs drivers/dibs/.kunitconfig with the debug options of
# harness/debug.config on 2 vCPUs. Every test case is reported on its own
# line ("PASS kunit-x86_64:suite.case"), and the console log is scanned for
# splats: one fails the run even if every case passed.

. "$(dirname "$0")/lib.sh"

arch=${1:-x86_64}
case $arch in
x86_64)
	args=(--arch=x86_64 --qemu_args='-smp 2'
	      --kunitconfig=drivers/dibs
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
exit $rc
