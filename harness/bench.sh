#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmarks of the loopback data path (drivers/dibs/tests/dibs_bench.c and
# the ping-pong of drivers/dibs/tests/dibs_pingpong.c), in two places:
#
#   - a UML kernel built with kunit.py: it runs as a host process, so its
#     single-CPU figures are at native speed;
#   - the stock Debian kernel in QEMU with 2 vCPUs (harness/vm.sh), with the
#     modules built out of tree, for the 2-CPU scaling figure;
#
# and between two VMs of the stock kernel on the ivshmem fabric
# (harness/run-pair.sh, harness/bench-pair-guest.sh): the client's
# ping-pong over DIBS against the same ping-pong over TCP on the virtio-net
# link between them (tools/dibs/dibs_tcp_pingpong.c);
#
# and SMC-D between two VMs of the x86_64 KUnit kernel (a DIBS-era kernel
# with SMC, and the debug options of make check), against TCP over the
# same link through the same program (harness/smcd-pair.sh -b).
#
#   harness/bench.sh [--smoke]
#
# Prints the table and writes bench/results.json, bench/results.md and
# bench/throughput.svg, and fails if a figure misses its bar. The copy
# rows are also set against those of the last run before devices kept
# statistics (bench/before-statistics.json), to show what counting costs. --smoke runs
# everything with tiny iteration counts, writes its output under
# $BUILD/bench-smoke instead, and fails only if the benchmark cannot be
# built, run or parsed.

. "$(dirname "$0")/lib.sh"

smoke=0
case ${1:-} in
--smoke) smoke=1 ;;
"") ;;
*) die "usage: $0 [--smoke]" ;;
esac

# Rounds of the runs between two VMs: 64 B, 64 KiB, 1 MiB.
if [ "$smoke" = 1 ]; then
	iters=64 reps=3 rounds=20 out=$BUILD/bench-smoke
	pair_rounds="20 5 2"
	smcd_reps=1 smcd_bytes=$((1024 * 1024))
else
	iters=${DIBS_BENCH_ITERATIONS:-65536} reps=${DIBS_BENCH_REPS:-51}
	rounds=${DIBS_BENCH_ROUNDS:-20000} out=$REPO/bench
	pair_rounds=${DIBS_BENCH_PAIR_ROUNDS:-"2000 200 20"}
	smcd_reps=${DIBS_BENCH_SMCD_REPS:-3}
	smcd_bytes=${DIBS_BENCH_SMCD_BYTES:-$((16 * 1024 * 1024))}
fi
work=$BUILD/bench
um_build=$BUILD7/bench-um
mkdir -p "$work" "$out"

# The script that runs in both kernels: the client's ping-pong, then the
# benchmark client. Result rows go to stdout as "dibs-bench-row: {json}".
cat > "$work/guest.sh" <<'GUEST'
#!/bin/sh
iters=$1 reps=$2 rounds=$3
for m in dibs_loopback dibs_pingpong dibs_bench; do
	modprobe "$m" 2>/dev/null
done
row() { echo "dibs-bench-row: $*"; }

dir=/sys/kernel/debug/dibs_pingpong/lo
if echo "rounds=$rounds size=64" > "$dir/start"; then
	while grep -q '^state: running' "$dir/results"; do sleep 1; done
	v() { sed -n "s/^$1: //p" "$dir/results"; }
	ns="$(v round_ns_min),$(v round_ns_p50),$(v round_ns_max)"
	row "{\"row\":\"pingpong\",\"size\":64,\"state\":\"$(v state)\"," \
	    "\"rounds\":$(v rounds_done),\"round_ns\":[$ns]," \
	    "\"round_ns_p99\":$(v round_ns_p99)}"
else
	row '{"row":"pingpong","error":1}'
fi

echo "$reps" > /sys/module/dibs_bench/parameters/reps
echo "$iters" > /sys/kernel/debug/dibs_bench/run
dmesg | sed -n 's/.*dibs_bench: \({.*}\)$/dibs-bench-row: \1/p'
GUEST

# UML: a kernel without debug options, with everything of ours built in.
run_um() {
	local config=$work/bench-um.config log=$work/um.log

	"$REPO/harness/tree.sh" || return 1
	# DIBS-era kernels offer DIBS under NET; kunit.py's UML configuration
	# asks for KUNIT_UML_PCI, which needs KUNIT (no test is built).
	cat > "$config" <<-EOF
	CONFIG_NET=y
	CONFIG_KUNIT=y
	CONFIG_DIBS=y
	CONFIG_DIBS_LO=y
	CONFIG_DEBUG_FS=y
	CONFIG_DIBS_PINGPONG=y
	CONFIG_DIBS_BENCH=y
	CONFIG_BLK_DEV_INITRD=y
	EOF
	log "building the UML kernel in $um_build"
	mkdir -p "$um_build"
	if ! (cd "$KSRC" && python3 tools/testing/kunit/kunit.py build \
			--arch=um --kunitconfig="$config" \
			--build_dir="$um_build" --jobs="$JOBS") \
			> "$work/um-build.log" 2>&1; then
		tail -n 30 "$work/um-build.log" >&2
		echo "UML build failed (log: $work/um-build.log)" >&2
		return 1
	fi

	log "running the benchmark in UML"
	"$REPO/harness/vm.sh" -k "$um_build" -a um -t 1800 -o "$log" \
		"$work/guest.sh" "$iters" "$reps" "$rounds" > /dev/null || return 1
	sed -n 's/^dibs-bench-row: //p' "$log" > "$work/um.rows"
}

# QEMU: the stock kernel with 2 vCPUs and our modules.
run_vm() {
	log "running the benchmark in QEMU (2 vCPUs)"
	"$REPO/harness/vm.sh" -t 3600 -o "$work/vm.log" "$work/guest.sh" \
		"$iters" "$reps" "$rounds" > /dev/null || return 1
	sed -n 's/^dibs-bench-row: //p' "$work/vm.log" > "$work/vm.rows"
}

# Two VMs: DIBS over ivshmem against TCP over virtio-net.
run_pair() {
	local tcp=$work/dibs_tcp_pingpong

	log "running the benchmark between two VMs (QEMU, 2 vCPUs each)"
	gcc -static -O2 -Wall -o "$tcp" "$REPO/tools/dibs/dibs_tcp_pingpong.c" ||
		return 1
	"$REPO/harness/run-pair.sh" -t 1200 -n bench-pair -f "$tcp" \
		-f "$REPO/harness/guest-lib.sh" \
		"$REPO/harness/bench-pair-guest.sh" "first $pair_rounds" second \
		> "$work/pair.log" 2>&1 || { tail -n 30 "$work/pair.log" >&2; return 1; }
	sed -n 's/^dibs-bench-row: //p' "$BUILD/vm/bench-pair-first/console.log" \
		> "$work/pair.rows"
}

# SMC-D between two VMs of the KUnit kernel, which is built if it is not
# up to date.
run_smcd_pair() {
	local kdir=$BUILD7/kunit-x86_64

	log "running SMC-D between two VMs (the x86_64 KUnit kernel)"
	"$REPO/harness/kunit.sh" x86_64 --build-only > "$work/smcd-build.log" 2>&1 ||
		{ tail -n 30 "$work/smcd-build.log" >&2; return 1; }
	"$REPO/harness/smcd-pair.sh" -b "$smcd_reps" -s "$smcd_bytes" "$kdir" \
		> "$work/smcd.log" 2>&1 || { tail -n 30 "$work/smcd.log" >&2; return 1; }
	sed -n 's/^dibs-bench-row: //p' \
		"$BUILD/vm/smcd-pair-bench-first/console.log" > "$work/smcd.rows"
}

machine() {
	local cpu
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	echo "${cpu:-$(uname -m)}, $(nproc) CPUs, host kernel $(uname -r)"
}

start=$(date +%s)
rm -f "$work/um.rows" "$work/vm.rows" "$work/pair.rows" "$work/smcd.rows"
run_um || die "the UML benchmark failed"
run_vm || die "the QEMU benchmark failed"
run_pair || die "the benchmark between two VMs failed"
run_smcd_pair || die "the SMC-D benchmark between two VMs failed"

accel=${DIBS_VM_ACCEL:-$(sed -n 2p "$BUILD/vm/accel" 2>/dev/null)}
"$REPO/harness/bench_report.py" "$work" "$out" "$smoke" \
	"$(date -u '+%Y-%m-%d %H:%M UTC')" "$(machine)" "${accel:-unknown}" \
	"$REPO/bench/before-statistics.json" || die "cannot evaluate the results"
log "benchmark done in $(($(date +%s) - start)) s; results in $out"
