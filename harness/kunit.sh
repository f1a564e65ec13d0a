#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a KUnit kernel with this project and run its suites under QEMU (TCG).
#
#   harness/kunit.sh [x86_64|s390|kcsan] [--build-only]
#
# Both build the DIBS-era tree of harness/tree.sh, where our files replace
# upstream's DIBS and ISM. x86_64 runs drivers/dibs/.kunitconfig and
# drivers/s390/net/.kunitconfig (the ISM driver, built with COMPILE_TEST:
# harness/ism-x86_64.config), with SMC-D (harness/smc.config); s390 runs
# drivers/s390/net/.kunitconfig, big-endian. Both use the debug
# options of harness/debug.config on 2 vCPUs. Every test case is reported
# on its own line ("PASS kunit-x86_64:suite.case"), and the console log is
# scanned for splats: one fails the run even if every case passed. A
# second boot of the same kernel asks kmemleak for a scan after the suites
# ("no-leak"); on x86_64 it first injects allocation failures
# (harness/fault.config): it runs the *_fault suites, each allocating
# operation with its n-th allocation failing for n = 1, 2, ..., and the
# same sweep over the ping-pong client's start and a benchmark run
# ("kunit-x86_64-fault:"). kcsan ("make stress") builds the x86_64
# suites, without SMC-D, under KCSAN instead of the KASAN-based debug
# options, runs the race and stress cases DIBS_STRESS_FACTOR (default 10)
# times longer, and lists every data-race report. On x86_64 a third boot
# runs the SMC-D selftest (tools/testing/selftests/dibs/smcd.sh) with the
# real client, and a pair of VMs SMC-D between them (harness/smcd-pair.sh).
# --build-only builds the kernel and runs nothing (harness/bench.sh boots
# the x86_64 one for SMC-D between two VMs).

. "$(dirname "$0")/lib.sh"

arch=${1:-x86_64}
build_only=${2:-}
[ -z "$build_only" ] || [ "$build_only" = --build-only ] ||
	die "usage: $0 [x86_64|s390|kcsan] [--build-only]"
# How much longer the race and stress cases run under KCSAN.
STRESS_FACTOR=${DIBS_STRESS_FACTOR:-10}
case $arch in
x86_64|kcsan)
	args=(--arch=x86_64 --qemu_args='-smp 2'
	      --kunitconfig=drivers/dibs
	      --kunitconfig=drivers/s390/net
	      --kunitconfig="$REPO/harness/ism-x86_64.config"
	      --kunitconfig="$REPO/harness/clients.config")
	if [ "$arch" = kcsan ]; then
		# "make stress": the same suites for longer (stress_factor)
		# under KCSAN instead of KASAN, without SMC-D.
		args+=(--kunitconfig="$REPO/harness/kcsan.config"
		       --kernel_args="dibs_core_kunit.stress_factor=$STRESS_FACTOR"
		       --kernel_args="dibs_loopback_kunit.stress_factor=$STRESS_FACTOR")
	else
		args+=(--kunitconfig="$REPO/harness/smc.config"
		       --kunitconfig="$REPO/harness/debug.config"
		       --kunitconfig="$REPO/harness/fault.config")
	fi
	cc= qemu_arch=x86_64
	;;
s390)
	args=(--arch=s390 --cross_compile=s390x-linux-gnu-
	      --qemu_args='-smp 2'
	      --kunitconfig=drivers/s390/net
	      --kunitconfig="$REPO/harness/debug.config"
	      --kconfig_add=CONFIG_MODULES=y)
	cc=s390x-linux-gnu- qemu_arch=s390x
	;;
*)
	die "unknown architecture $arch"
	;;
esac

"$REPO/harness/tree.sh" || exit 1

build_dir=$BUILD7/kunit-$arch
json=$BUILD7/kunit-$arch.json
mkdir -p "$build_dir"

if [ -n "$build_only" ]; then
	# The options of a build: not those of the boot.
	build_args=()
	for a in "${args[@]}"; do
		case $a in --kernel_args=*) ;; *) build_args+=("$a") ;; esac
	done
	log "kunit.py build --arch=$arch (in $build_dir)"
	(cd "$KSRC" && python3 tools/testing/kunit/kunit.py build \
		"${build_args[@]}" --build_dir="$build_dir" --jobs="$JOBS")
	exit
fi

rm -f "$json" "$build_dir/test.log"

# kunit.py asks QEMU for KVM first. On hosts where KVM is present but
# broken, a guest under KVM hangs without a word (the DIBS-era kernel here)
# instead of falling back to TCG, so QEMU is called through a wrapper that
# leaves only TCG, unless DIBS_VM_ACCEL=kvm says KVM works.
qemu_wrapper() {
	local dir=$BUILD7/qemu-tcg
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

# One result line per test case of a kunit.py JSON file; false if a case
# failed, or with "noskip" skipped.
report_json() { # json prefix [noskip]
	"$REPO/harness/kunit_results.py" "$@" |
		while read -r status name; do result "$status" "$name"; done
}

report_json "$json" "kunit-$arch:" || rc=1
tap_failure_details "kunit-$arch" "$build_dir/test.log"

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
	our_code='(in |/ )(dibs|ism|lo_test|stale|coalesce|race|stress|bench|pingpong|sample)_'
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
# first automatic scan. So boot the same kernel once more (harness/vm.sh),
# with an initramfs whose /init (harness/leakcheck-init.c, built static for
# the architecture) runs after the built-in suites, asks kmemleak for a
# scan and prints what it found.
leakcheck() {
	local init=$build_dir/leakcheck-init
	local log=$build_dir/leakcheck.log

	"${cc}gcc" -static -O2 -Wall -o "$init" \
		"$REPO/harness/leakcheck-init.c" || return 1
	log "leak check: booting the KUnit kernel with an initramfs"
	"$REPO/harness/vm.sh" -k "$build_dir" -a "$arch" \
		-i "$init" -t 1500 -o "$log" -n "leakcheck-$arch" \
		-A "kunit.enable=1" || return 1
	if ! grep -q 'dibs-leakcheck: done' "$log"; then
		log "leak check did not finish: $log"
		return 1
	fi
	# kmemleak's own line is judged by leaks() below.
	if find_splats <(grep -v 'new suspected memory leaks (see' "$log" |
			 without_alloc_failure_reports); then
		log "splat in $log"
		return 1
	fi
	leaks "$log"
}

# Injected allocation failures make the page allocator and vmalloc print
# a report with a backtrace, where the caller did not ask for silence:
# drop the "Call Trace:" line of such a report, and only while the
# leak-check boot injects failures. Every other splat line stays.
without_alloc_failure_reports() {
	awk '/dibs-fault: begin$/ { inject = 1 }
	     /dibs-fault: end$/ { inject = 0 }
	     inject && /(page allocation failure: order:|vmalloc error: size)/ {
		report = NR }
	     inject && report && NR - report <= 6 && /Call Trace:/ { next }
	     { print }'
}

# Report the *_fault suites and the ping-pong client's start sweep that the
# leak-check boot ran with allocation failures injected (see
# harness/leakcheck-init.c), and print the failure points they counted.
fault_results() { # log
	local log=$1 dir suite sweep rc=0

	if ! grep -q 'dibs-fault: begin$' "$log" ||
	   ! grep -q 'dibs-fault: end$' "$log"; then
		log "allocation failure injection did not run: $log"
		result FAIL "kunit-$arch-fault:run"
		return 1
	fi
	if ! grep -q '^dibs-fault: results ' "$log"; then
		log "no *_fault suite ran: $log"
		result FAIL "kunit-$arch-fault:suites"
		rc=1
	fi
	dir=$(mktemp -d) || return 1
	for suite in $(sed -n 's/^dibs-fault: results //p' "$log"); do
		awk -v suite="$suite" '
			$0 == "dibs-fault: results " suite { copy = 1; next }
			$0 == "dibs-fault: end " suite { copy = 0 }
			copy && $0 == "KTAP version 1" { copy = 2 }
			copy == 2 { print }' "$log" > "$dir/$suite.ktap"
		grep 'failure points' "$dir/$suite.ktap" |
			sed "s/^[[:space:]#]*/$suite: /" >&2
		if ! (cd "$KSRC" && python3 tools/testing/kunit/kunit.py parse \
			--json="$dir/$suite.json" "$dir/$suite.ktap" > /dev/null) ||
		   [ ! -s "$dir/$suite.json" ]; then
			result FAIL "kunit-$arch-fault:$suite"
			rc=1
		fi
		[ -s "$dir/$suite.json" ] &&
			{ report_json "$dir/$suite.json" "kunit-$arch-fault:" noskip ||
			  rc=1; }
		tap_failure_details "kunit-$arch-fault:$suite" \
			"$dir/$suite.ktap"
	done
	rm -rf "$dir"
	grep -o -E '(pingpong start|bench run)[^,]*: [0-9]+ failure points.*' \
		"$log" >&2
	for sweep in pingpong_start bench_run; do
		if grep -qx "dibs-fault: ok $sweep" "$log"; then
			result PASS "kunit-$arch-fault:$sweep"
		else
			result FAIL "kunit-$arch-fault:$sweep"
			rc=1
		fi
	done
	return $rc
}

# Print the kmemleak reports of a log and fail if one of them has a frame of
# our code in its backtrace. The others are kernel objects that no code of
# ours allocated (a kernel of this release leaks one in the s390 scheduler
# topology at boot): they are printed and counted, but do not fail the run.
leaks() { # log
	local syms
	syms=$(mktemp) || return 1
	"${cc}nm" --defined-only "$build_dir"/drivers/dibs/*.o \
		"$build_dir"/drivers/dibs/tests/*.o \
		"$build_dir"/drivers/s390/net/ism*.o \
		"$build_dir"/samples/dibs/*.o 2>/dev/null |
		awk '$2 ~ /^[tT]$/ { print $3 }' > "$syms"
	"$REPO/harness/kmemleak_report.py" "$1" "$syms"
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
if [ "$arch" = x86_64 ]; then
	fault_results "$build_dir/leakcheck.log" || rc=1
fi

# SMC-D, the real client, on the same kernel: its test points are
# reported as "selftest:smcd:<point>", and those of the boot that waits
# out SMC's link group timer (with time warped) as "selftest:smcd_idle:".
if [ "$arch" = x86_64 ] && [ -z "${DIBS_NO_SMCD:-}" ]; then
	"$REPO/harness/selftests.sh" -k "$build_dir" smcd ||
		rc=1
	"$REPO/harness/selftests.sh" -k "$build_dir" -w \
		smcd_idle || rc=1
	# Between two VMs over the ivshmem fabric, "selftest-smcd-pair:".
	"$REPO/harness/smcd-pair.sh" "$build_dir" || rc=1
fi
exit $rc
