#!/bin/sh
# run.sh - runs every test and prints the closing line "N passed, N failed".
#
# Every test program prints one line per check: "ok - NAME", "not ok - NAME" or
# "skip - NAME: why". A program that exits non-zero without a "not ok" line counts as
# one failure of its own, so a crash is never a silent pass.
#   T=pattern  runs only test files whose path contains pattern (make test T=tls)
# Environment from the Makefile: SEALBOX, UNIT_TESTS, REPLAY_DIR, SAN.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
export SEALBOX UNIT_TESTS REPLAY_DIR TOP="$top"
export UNIT_DATA="$top/tests/data"
: "${T:=}"
: "${TEST_TIMEOUT:=600}"
if [ "${SAN:-0}" = 1 ]; then
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
log=$(mktemp -d /tmp/sealbox-test.XXXXXX)
pass=0 fail=0 skip=0 failed_names=""

run_one() { # name, command...
	name=$1; shift
	case "$name" in *"$T"*) ;; *) return 0 ;; esac
	out="$log/$(echo "$name" | tr '/ ' '__').log"
	printf '%s\n' "== $name"
	timeout -k 10 "$TEST_TIMEOUT" "$@" >"$out" 2>&1
	rc=$?
	p=$(grep -c '^ok - ' "$out")
	f=$(grep -c '^not ok - ' "$out")
	s=$(grep -c '^skip - ' "$out")
	grep -E '^(not ok|skip) - ' "$out"
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "not ok - $name exited with status $rc"
		f=1
	fi
	if [ "$f" != 0 ] || [ "$rc" != 0 ]; then
		failed_names="$failed_names $name"
		echo "--- output of $name (last 40 lines, full: $out)"
		tail -n 40 "$out" | sed 's/^/    /'
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
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

run_one unit "$UNIT_TESTS"

# Fuzz targets replayed over their checked-in corpora.
for r in "$REPLAY_DIR"/fuzz_*; do
	[ -x "$r" ] || continue
	n=$(basename "$r"); c="tests/fuzz/corpus/${n#fuzz_}"
	[ -d "$c" ] || continue
	run_one "fuzz-replay/${n#fuzz_}" sh -c "\"$r\" \"$c\" && echo 'ok - replay ${n#fuzz_} corpus'"
done

for t in tests/sh/*.sh tests/integration/*.sh tests/integration/*.py; do
	[ -f "$t" ] || continue
	case "$t" in */lib.sh|*/lib_*.py) continue ;; esac
	case "$t" in *"$T"*) ;; *) continue ;; esac
	if a=$(missing_applet "$t"); then
		echo "skip - $t: applet $a not compiled in"; skip=$((skip + 1)); continue
	fi
	case "$t" in
	*.py) run_one "$t" /usr/bin/python3 "$t" ;;
	*) run_one "$t" sh "$t" ;;
	esac
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "logs in $log"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
