# lib.sh - helpers for shell tests. Source it: . "$TOP/tests/lib.sh"
# ok/fail print the lines tests/run.sh counts; every test cleans up its temp dir and
# the daemons it started, even when it fails.
set -u
: "${SEALBOX:?run through make test}"
: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
TMP=$(mktemp -d /tmp/sealbox-t.XXXXXX)
_pids=""
_cleanup() {
	for p in $_pids; do kill "$p" 2>/dev/null; done
	sleep 0.1
	for p in $_pids; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap _cleanup EXIT INT TERM

ok() { echo "ok - $*"; }
fail() { echo "not ok - $*"; }
skip() { echo "skip - $*"; }
# check NAME CMD...: ok if CMD succeeds.
check() { n=$1; shift; if "$@"; then ok "$n"; else fail "$n"; fi; }
# holds 'A && B': one check over several conditions (check runs a single command; in
# `check NAME [ A ] && B` the B would be run but never counted)
holds() { eval "$1"; }
# bg CMD...: start in the background, remember the pid for cleanup; sets $last_pid.
bg() { "$@" & last_pid=$!; _pids="$_pids $last_pid"; }
# stop_all: SIGTERM to every process bg started, and wait for them (under SAN=1 that is
# when leaks are reported).
stop_all() {
	for p in $_pids; do kill "$p" 2>/dev/null; done
	for p in $_pids; do wait "$p" 2>/dev/null; done
}
# san_check NAME FILE...: under make SAN=1 test, ok when no FILE holds an ASan/UBSan
# report; in any other build skip (nothing could report, so it could only pass).
san_check() {
	n=$1; shift
	if [ "${SAN:-0}" != 1 ]; then
		skip "$n: not a sanitizer build (make SAN=1 test)"
	elif grep -l 'Sanitizer\|runtime error:' "$@" >/dev/null 2>&1; then
		fail "$n"; grep -h -A8 'Sanitizer\|runtime error:' "$@" | head -40
	else
		ok "$n"
	fi
}
# wait_log FILE TEXT [SECONDS]: until FILE holds the fixed string TEXT.
wait_log() {
	i=0
	while [ $i -lt $((${3:-10} * 20)) ]; do
		grep -qF -e "$2" "$1" 2>/dev/null && return 0
		sleep 0.05; i=$((i + 1))
	done
	return 1
}
# wait_gone PID [SECONDS]: until the process PID has exited.
wait_gone() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt $((${2:-10} * 20)) ]; do sleep 0.05; i=$((i + 1)); done
	! kill -0 "$1" 2>/dev/null
}
# A TCP port free on 127.0.0.1 that no other test of this run is given (tests/integration/lib_port.py).
free_port() { /usr/bin/python3 "$TOP/tests/integration/lib_port.py"; }

# start_tinyproxy [CONF LINE...]: tinyproxy on loopback with Basic auth alice/s3cret plus
# the given config lines, logging connections to $TMP/tinyproxy.log; sets tp (its port).
# Returns non-zero when it did not start.
start_tinyproxy() {
	tp=$(free_port)
	{
		printf 'Port %s\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nLogLevel Connect\n' "$tp"
		printf 'LogFile "%s"\nPidFile "%s"\nBasicAuth alice s3cret\n' "$TMP/tinyproxy.log" "$TMP/tinyproxy.pid"
		for l in "$@"; do echo "$l"; done
		if [ "$(id -u)" = 0 ]; then printf 'User nobody\nGroup nogroup\n'; fi
	} >"$TMP/tinyproxy.conf"
	# tinyproxy drops to nobody before it opens its log
	touch "$TMP/tinyproxy.log"; chmod 666 "$TMP/tinyproxy.log"; chmod 755 "$TMP"
	bg tinyproxy -d -c "$TMP/tinyproxy.conf"
	wait_port 127.0.0.1 "$tp" 5
}
# wait_port HOST PORT [SECONDS]: until something listens there.
wait_port() {
	i=0
	while [ $i -lt $((${3:-10} * 20)) ]; do
		/usr/bin/python3 -c "import socket,sys;s=socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET);s.settimeout(0.2);s.connect((sys.argv[1],int(sys.argv[2])))" "$1" "$2" 2>/dev/null && return 0
		sleep 0.05; i=$((i + 1))
	done
	return 1
}
# Test certificates (made at run time by tests/data/mkcerts.sh, never committed keys).
certs() { sh "$TOP/tests/data/mkcerts.sh" >/dev/null && CERTS="$TOP/build/test-certs"; }
