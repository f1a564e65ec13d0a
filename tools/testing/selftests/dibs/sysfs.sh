#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The sysfs ABI of DIBS devices, /sys/class/dibs/<device>/{gid,fabric_id}
# (Documentation/ABI/testing/sysfs-class-dibs), on loopback devices.
# shellcheck disable=SC3043 # busybox sh, dash and bash have "local"

. "$(dirname "$(readlink -f "$0")")/lib.sh"

UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
NULL_GID=00000000-0000-0000-0000-000000000000

cleanup() {
	unload_all
}
trap cleanup EXIT

gid_is_uuid() {
	local gid

	gid=$(cat "$CLASS/lo/gid") || return 1
	echo "$gid" | grep -Eq "$UUID_RE" || fail "gid \"$gid\" is not a UUID"
}

gid_is_not_null() {
	local gid

	gid=$(cat "$CLASS/lo/gid") || return 1
	[ "$gid" != "$NULL_GID" ] || fail "gid is null"
}

gids_are_unique() {
	local gid gid1

	lo_add lo1 || return 1
	gid=$(cat "$CLASS/lo/gid") && gid1=$(cat "$CLASS/lo1/gid") || return 1
	lo_del lo1 || return 1
	echo "$gid1" | grep -Eq "$UUID_RE" || fail "gid \"$gid1\" is not a UUID" ||
		return 1
	[ "$gid" != "$gid1" ] || fail "lo and lo1 share gid $gid"
}

fabric_id_is_loopback() {
	expect_eq "fabric_id of lo" "$(cat "$CLASS/lo/fabric_id")" 0xffff
}

# Mode 0444, and even root cannot change a value.
attributes_are_read_only() {
	local attr before

	for attr in gid fabric_id; do
		expect_eq "mode of $attr" "$(stat -c %a "$CLASS/lo/$attr")" 444 ||
			return 1
		before=$(cat "$CLASS/lo/$attr")
		[ "$(write_status "$CLASS/lo/$attr" 0x0001)" != 0 ] ||
			fail "writing $attr succeeded" || return 1
		expect_eq "$attr after a write" "$(cat "$CLASS/lo/$attr")" \
			"$before" || return 1
	done
}

# The class directory follows devices as they come and go.
class_follows_devices() {
	lo_add lo1 || return 1
	[ -e "$CLASS/lo1/gid" ] || fail "no $CLASS/lo1 after adding lo1" ||
		return 1
	lo_del lo1 || return 1
	absent "$CLASS/lo1" || fail "$CLASS/lo1 stays after removing lo1"
}

ktap_print_header
dibs_set_plan 6
if ! load_all; then
	ktap_exit_fail_msg "cannot load the DIBS modules"
fi
run_check gid_is_uuid gid_is_uuid
run_check gid_is_not_null gid_is_not_null
run_check gids_are_unique gids_are_unique
run_check fabric_id_is_loopback fabric_id_is_loopback
run_check attributes_are_read_only attributes_are_read_only
run_check class_follows_devices class_follows_devices
dibs_finished
