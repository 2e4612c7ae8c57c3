#!/bin/sh
# run.sh - runs every test and prints the closing line "N passed, N failed".
#
# Every test program prints one line per check: "ok - NAME", "not ok - NAME" or
# "skip - NAME: why". A program that exits non-zero without a "not ok" line counts as
# one failure of its own, so a crash is never a silent pass.
#   T=pattern  runs only test files whose path contains pattern (make test T=tls)
#   -j N, J=N  runs N test programs at once (default: the number of cores); each one's
#              lines are printed together when it ends, the counts are summed at the end
# Tests run in parallel must not collide: they take ports from free_port and keep their
# state in their own temporary directory; the shared test PKI is made once, first.
# Environment from the Makefile: SEALBOX, UNIT_TESTS, REPLAY_DIR, SAN.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
export SEALBOX UNIT_TESTS REPLAY_DIR TOP="$top"
export UNIT_DATA="$top/tests/data"
: "${T:=}"
: "${TEST_TIMEOUT:=600}"
export T TEST_TIMEOUT
if [ "${SAN:-0}" = 1 ]; then
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi

# One test program: its lines go to LOG/NAME.log, its block of output to LOG/NAME.out
# (printed under a lock so blocks of parallel tests never interleave) and its counts to
# LOG/NAME.res ("pass fail skip name").
if [ "${1:-}" = --one ]; then
	name=$2; shift 2
	base="$RUN_LOG/$(echo "$name" | tr '/ ' '__')"
	out="$base.log"
	timeout -k 10 "$TEST_TIMEOUT" "$@" >"$out" 2>&1 </dev/null
	rc=$?
	p=$(grep -c '^ok - ' "$out")
	f=$(grep -c '^not ok - ' "$out")
	s=$(grep -c '^skip - ' "$out")
	{
		printf '%s\n' "== $name"
		grep -E '^(not ok|skip) - ' "$out"
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
			echo "not ok - $name exited with status $rc"
			f=1
		fi
		if [ "$f" != 0 ] || [ "$rc" != 0 ]; then
			echo "--- output of $name (last 40 lines, full: $out)"
			tail -n 40 "$out" | sed 's/^/    /'
		fi
	} >"$base.out"
	echo "$p $f $s $name" >"$base.res"
	flock "$RUN_LOG/.print" cat "$base.out"
	exit 0
fi

jobs=${J:-}
while [ $# -gt 0 ]; do
	case "$1" in
	-j) jobs=$2; shift 2 ;;
	-j*) jobs=${1#-j}; shift ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 64 ;;
	esac
done
[ -n "$jobs" ] || jobs=$(nproc 2>/dev/null || echo 1)
case "$jobs" in ''|*[!0-9]*|0) echo "run.sh: -j needs a number >= 1" >&2; exit 64 ;; esac

log=$(mktemp -d /tmp/sealbox-test.XXXXXX)
export RUN_LOG="$log"
export SEALBOX_PORTS="$log/ports"   # the ports handed out in this run (tests/integration/lib_port.py)
list="$log/.list"
: >"$list"
skip=0

# add NAME CMD...: queues a test (one line: the arguments, NUL-free, tab-separated)
add() {
	case "$1" in *"$T"*) ;; *) return 0 ;; esac
	printf '%s' "$1" >>"$list"; shift
	for a in "$@"; do printf '\t%s' "$a" >>"$list"; done
	printf '\n' >>"$list"
}

# A test of an applet that is not compiled in (make APPLETS=hitc test) is one skip line.
# What a test needs: a "# applets: A B" line in the file, else its name's prefix.
compiled=" $("$SEALBOX" --list 2>/dev/null | tr '\n' ' ') "
needs_of() {
	n=$(sed -n 's/^# applets: *//p' "$1" | head -n 1)
	[ -n "$n" ] && { echo "$n"; return; }
	case "$(basename "$1")" in
	databox_*) echo databox ;;
	hitc_*) echo hitc ;;
	mailgw_*) echo mailgw ;;
	tunnel*) echo tunneld ;;
	viewer_*) echo viewer-master viewer-client tunneld ;; # tunneld is the relay
	esac
}
missing_applet() {
	for a in $(needs_of "$1"); do
		case "$compiled" in *" $a "*) ;; *) echo "$a"; return 0 ;; esac
	done
	return 1
}

add unit "$UNIT_TESTS"

# Fuzz targets replayed over their checked-in corpora.
for r in "$REPLAY_DIR"/fuzz_*; do
	[ -x "$r" ] || continue
	n=$(basename "$r"); c="tests/fuzz/corpus/${n#fuzz_}"
	[ -d "$c" ] || continue
	add "fuzz-replay/${n#fuzz_}" sh -c "\"$r\" \"$c\" && echo 'ok - replay ${n#fuzz_} corpus'"
done

for t in tests/sh/*.sh tests/integration/*.sh tests/integration/*.py; do
	[ -f "$t" ] || continue
	case "$t" in */lib.sh|*/lib_*.py) continue ;; esac
	case "$t" in *"$T"*) ;; *) continue ;; esac
	if a=$(missing_applet "$t"); then
		echo "skip - $t: applet $a not compiled in"; skip=$((skip + 1)); continue
	fi
	case "$t" in
	*.py) add "$t" /usr/bin/python3 "$t" ;;
	*) add "$t" sh "$t" ;;
	esac
done

# The test PKI once, before tests that use it start side by side.
if grep -q . "$list"; then
	sh tests/data/mkcerts.sh >/dev/null 2>&1 || true
fi
tr '\n' '\0' <"$list" | xargs -0 -r -P "$jobs" -I{} sh -c 'IFS="	"; set -f; set -- $1; sh "$0" --one "$@"' "$top/tests/run.sh" {}

pass=0 fail=0 failed_names=""
for r in "$log"/*.res; do
	[ -f "$r" ] || continue
	read -r p f s n <"$r"
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	[ "$f" != 0 ] && failed_names="$failed_names $n"
done
ran=$(ls "$log"/*.res 2>/dev/null | wc -l)
queued=$(grep -c . "$list")
if [ "$ran" != "$queued" ]; then
	echo "not ok - run.sh: $queued tests queued, $ran reported"
	fail=$((fail + 1))
fi
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "logs in $log"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
