#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Bad input to the debugfs files of the ping-pong client, of the loopback
# driver and of the benchmark client, and to the benchmark's parameters:
# each write fails with the documented error and changes nothing.
# shellcheck disable=SC3043 # busybox sh, dash and bash have "local"

. "$(dirname "$(readlink -f "$0")")/lib.sh"

cleanup() {
	unload_all
}
trap cleanup EXIT

# "name|input" lines; each input to start must fail with EINVAL. The shell
# adds a newline to each.
BAD_START='empty_line|
missing_value|rounds
not_a_number|rounds=abc size=1
negative|rounds=-1 size=1
trailing_garbage|rounds=10x size=1
unknown_key|rounds=1 size=1 speed=3
rounds_zero|rounds=0 size=64
rounds_over_max|rounds=1000001 size=64
rounds_over_u32|rounds=4294967296 size=64
rounds_missing|size=64
size_zero|rounds=1 size=0
size_over_max|rounds=1 size=1048577
size_missing|rounds=5
zerocopy_two|rounds=1 size=1 zerocopy=2
peer_empty|rounds=1 size=1 peer=
peer_not_a_gid|rounds=1 size=1 peer=lo
peer_short_gid|rounds=1 size=1 peer=00000000-0000-0000-0000-00000000000
peer_long_gid|rounds=1 size=1 peer=00000000-0000-0000-0000-0000000000000'

# "name|input|error" lines: well-formed starts that the device cannot do.
# GID_LO stands for the GID of lo, which has no signal_event().
BAD_PEER='peer_unreachable|rounds=1 size=1 peer=6b1c7a2e-0d2f-4a51-9c1e-3f6a9d0b2c41|ENETUNREACH
peer_itself_no_events|rounds=1 size=1 peer=GID_LO|EOPNOTSUPP'

# "name|input|error" lines for the loopback driver's new_device.
BAD_NEW_DEVICE='empty_name||EINVAL
upper_case|LO9|EINVAL
slash|lo/9|EINVAL
inner_space|lo 9|EINVAL
dot|lo.9|EINVAL
name_too_long|abcdefghijklmnop|EINVAL
duplicate|lo|EEXIST'

# The same for del_device.
BAD_DEL_DEVICE='unknown_name|nope|ENODEV
name_too_long|abcdefghijklmnop|EINVAL'

# "name|input" lines; each write to the benchmark's run file must fail
# with EINVAL (an empty line means "use the parameter").
BAD_BENCH_RUN='not_a_number|abc
zero|0
negative|-1
trailing_garbage|10x
over_max|262145
over_u32|4294967296'

# "name|parameter value" lines; each write must fail with EINVAL.
BAD_BENCH_PARAM='iterations_zero|iterations 0
iterations_over_max|iterations 262145
iterations_not_a_number|iterations abc
reps_zero|reps 0
reps_over_max|reps 1002'

# The write fails with EINVAL, the kernel log says why, nothing starts.
start_rejects() { # input
	local before

	before=$(log_count "dibs_pingpong: lo: ")
	expect_write "$PINGPONG/lo/start" "$1" EINVAL || return 1
	[ "$(log_count "dibs_pingpong: lo: ")" -gt "$before" ] ||
		fail "no kernel log message for \"$1\"" || return 1
	expect_eq "state after \"$1\"" "$(result_of lo state)" idle
}

# The write fails with the error and nothing starts.
start_fails() { # input error
	local input

	input=$(echo "$1" | sed "s/GID_LO/$(cat "$CLASS/lo/gid")/")
	expect_write "$PINGPONG/lo/start" "$input" "$2" &&
		expect_eq "state after \"$input\"" "$(result_of lo state)" idle
}

start_rejects_overlong_input() {
	local input=rounds=1

	for _ in $(seq 20); do
		input="$input size=1"
	done
	start_rejects "$input"
}

start_busy_while_running() {
	lo_add lo1 && start_run lo1 "$LONG_RUN" || return 1
	expect_write "$PINGPONG/lo1/start" "rounds=1 size=1" EBUSY &&
		running lo1 && expect_eq "lo1 rounds" \
			"$(result_of lo1 rounds)" 1000000 || return 1
	lo_del lo1
}

# Refused before anything runs: no benchmark row appears in the log.
bench_run_rejects() { # input
	local before

	modprobe dibs_bench || fail "modprobe dibs_bench failed" || return 1
	before=$(log_count '"row":"env"')
	expect_write "$BENCH/run" "$1" EINVAL || return 1
	expect_eq "benchmark runs after \"$1\"" \
		"$(log_count '"row":"env"')" "$before"
}

# Refused, and the parameter keeps its value.
bench_param_rejects() { # "parameter value"
	local param="${1% *}" before

	modprobe dibs_bench || fail "modprobe dibs_bench failed" || return 1
	before=$(cat "$BENCH_PARAMS/$param")
	expect_write "$BENCH_PARAMS/$param" "${1#* }" EINVAL || return 1
	expect_eq "$param" "$(cat "$BENCH_PARAMS/$param")" "$before"
}

results_is_read_only() {
	[ "$(write_status "$PINGPONG/lo/results" "rounds=1 size=1")" != 0 ] ||
		fail "writing results succeeded" || return 1
	expect_eq "state" "$(result_of lo state)" idle
}

start_is_write_only() {
	if cat "$PINGPONG/lo/start" > /dev/null 2>&1; then
		fail "reading start succeeded"
		return 1
	fi
}

# The write fails with the error and leaves the devices as they were.
lo_ctl_rejects() { # file input error
	local devices

	devices=$(ls "$CLASS")
	expect_write "$LO_CTL/$1" "$2" "$3" &&
		expect_eq "devices after \"$2\"" "$(ls "$CLASS")" "$devices"
}

# The longest valid name works, so name_too_long tests the limit.
lo_ctl_accepts_longest_name() {
	lo_add abcdefghijklmno && [ -e "$CLASS/abcdefghijklmno" ] &&
		lo_del abcdefghijklmno
}

# One check per line of a table: the command gets the input and the error.
table_checks() { # prefix table command [arg...]
	local prefix="$1" table="$2" name input err

	shift 2
	while IFS='|' read -r name input err <&3; do
		run_check "$prefix$name" "$@" "$input" ${err:+"$err"}
	done 3<<-EOF
	$table
	EOF
}

count() { # table
	echo "$1" | wc -l
}

ktap_print_header
dibs_set_plan $(($(count "$BAD_START") + $(count "$BAD_NEW_DEVICE") +
		 $(count "$BAD_DEL_DEVICE") + $(count "$BAD_BENCH_RUN") +
		 $(count "$BAD_PEER") +
		 $(count "$BAD_BENCH_PARAM") + 5))
if ! load_all; then
	ktap_exit_fail_msg "cannot load the DIBS modules"
fi
table_checks start_rejects_ "$BAD_START" start_rejects
table_checks start_fails_ "$BAD_PEER" start_fails
run_check start_rejects_overlong_input start_rejects_overlong_input
run_check start_busy_while_running start_busy_while_running
run_check results_is_read_only results_is_read_only
run_check start_is_write_only start_is_write_only
table_checks new_device_rejects_ "$BAD_NEW_DEVICE" lo_ctl_rejects new_device
table_checks del_device_rejects_ "$BAD_DEL_DEVICE" lo_ctl_rejects del_device
run_check new_device_accepts_longest_name lo_ctl_accepts_longest_name
table_checks bench_run_rejects_ "$BAD_BENCH_RUN" bench_run_rejects
table_checks bench_param_rejects_ "$BAD_BENCH_PARAM" bench_param_rejects
dibs_finished
