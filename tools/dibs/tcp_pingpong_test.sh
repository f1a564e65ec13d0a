#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of dibs_tcp_pingpong, the benchmark's TCP reference, on 127.0.0.1:
# runs complete with every byte counted, a client without a server and a
# server that closes early fail, and bad arguments are refused. Prints TAP.
#
#   tcp_pingpong_test.sh PATH_TO_dibs_tcp_pingpong

prog=$1
port=$((40000 + $$ % 10000))
n=0
failed=0
server=

check() { # name command...
	local name=$1

	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - tcp-pingpong: $name"
	else
		echo "not ok $n - tcp-pingpong: $name"
		failed=1
	fi
}

cleanup() {
	[ -z "$server" ] || kill "$server" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT

value() { # key results
	sed -n "s/^$1: //p" <<< "$2"
}

# A run of ROUNDS rounds of SIZE bytes is done, with 2 * ROUNDS * SIZE
# bytes verified and its latencies in order.
run_ok() { # rounds size
	local out

	out=$("$prog" -c 127.0.0.1 -p "$port" -r "$1" -z "$2") || return 1
	[ "$(value state "$out")" = done ] &&
		[ "$(value rounds_done "$out")" = "$1" ] &&
		[ "$(value bytes_verified "$out")" = $((2 * $1 * $2)) ] &&
		[ "$(value errors "$out")" = 0 ] &&
		[ "$(value round_ns_min "$out")" -le "$(value round_ns_p50 "$out")" ] &&
		[ "$(value round_ns_p50 "$out")" -le "$(value round_ns_p99 "$out")" ] &&
		[ "$(value round_ns_p99 "$out")" -le "$(value round_ns_max "$out")" ]
}

refused() { # args...
	"$prog" "$@" > /dev/null 2>&1
	[ $? -eq 2 ]
}

no_server() {
	! "$prog" -c 127.0.0.1 -p "$port" -r 1 -z 64 > /dev/null 2>&1
}

# Wait up to 10 s for a command to succeed.
wait_until() { # command...
	local i

	for ((i = 0; i < 100; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# A "server" that takes the run and closes: the client reports the failed
# run instead of hanging or claiming it done.
server_closes() {
	local out rc fake ready

	ready=$(mktemp -u)
	"$(dirname "$0")/tcp_closing_server.py" "$port" "$ready" &
	fake=$!
	wait_until test -e "$ready" || { kill "$fake"; return 1; }
	rm -f "$ready"
	out=$("$prog" -c 127.0.0.1 -p "$port" -r 10 -z 64)
	rc=$?
	kill "$fake" 2>/dev/null
	wait "$fake"
	[ "$rc" -eq 1 ] && [ "$(value state "$out")" = failed ] &&
		[ "$(value rounds_done "$out")" = 0 ]
}

check "client without a server fails" no_server
check "server that closes early fails the run" server_closes
"$prog" -s -p "$port" &
server=$!
# Ready once a client can connect.
wait_until "$prog" -c 127.0.0.1 -p "$port" -r 1 -z 64 > /dev/null 2>&1
check "64 B run verified" run_ok 100 64
check "1 MiB run verified" run_ok 3 1048576
check "a second connection is served" run_ok 10 4096
check "no arguments refused" refused
check "server and client at once refused" refused -s -c 127.0.0.1
check "0 rounds refused" refused -c 127.0.0.1 -r 0
check "size over 1 MiB refused" refused -c 127.0.0.1 -z 1048577
check "size not a number refused" refused -c 127.0.0.1 -z 64k
check "bad address refused" refused -c 127.0.0.256
echo "1..$n"
exit $failed
