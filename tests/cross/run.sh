#!/bin/sh
# tests/cross/run.sh - `make CROSS=... STATIC=1 cross-test`: a cross-built binary under
# qemu-user-static on this machine: the unit tests, then one remote-support session on
# loopback (tunneld, viewer-master, viewer-client exec and get, all three the target's
# binary under qemu). Prints the ok/not ok lines tests/run.sh counts and the summary.
# Environment from the Makefile: SEALBOX, UNIT_TESTS, QEMU (qemu-arm-static ...).
set -u
: "${SEALBOX:?}" "${UNIT_TESTS:?}" "${QEMU:?}"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export TOP UNIT_DATA="$TOP/tests/data"
command -v "$QEMU" >/dev/null 2>&1 || { echo "skip - cross: $QEMU not installed"; exit 0; }
# The binary as the tests call it: a wrapper named sealbox that runs it under qemu.
real=$SEALBOX
SEALBOX=$(mktemp -d /tmp/sealbox-cross.XXXXXX)/sealbox
printf '#!/bin/sh\nexec %s %s "$@"\n' "$QEMU" "$real" >"$SEALBOX"
chmod +x "$SEALBOX"
export SEALBOX
. "$TOP/tests/lib.sh"
trap 'rm -rf "$(dirname "$SEALBOX")"; _cleanup' EXIT INT TERM

pass=0 fail=0
count() { # the ok / not ok lines of a file
	pass=$((pass + $(grep -c '^ok - ' "$1"))); fail=$((fail + $(grep -c '^not ok - ' "$1")))
	grep '^not ok - ' "$1"
}

echo "== unit tests under $QEMU ($(file -b "$real" | cut -d, -f1-2))"
"$QEMU" "$UNIT_TESTS" >"$TMP/unit.out" 2>"$TMP/unit.err"; rc=$?
count "$TMP/unit.out"
[ "$rc" = 0 ] || { echo "not ok - unit tests exited $rc"; tail -5 "$TMP/unit.err"; fail=$((fail + 1)); }
tail -n 1 "$TMP/unit.err"

echo "== remote-support session on loopback under $QEMU"
{
mkdir -p "$TMP/share" "$TMP/state" "$TMP/got"
head -c 1000000 /dev/urandom >"$TMP/share/firmware.bin"
rport=$(free_port)
printf '[tunneld]\nlisten = 127.0.0.1:%s\nstate_dir = %s\n' "$rport" "$TMP/state" >"$TMP/tunneld.ini"
bg "$SEALBOX" tunneld -d -c "$TMP/tunneld.ini" 2>"$TMP/tunneld.log"
check "cross: tunneld listens" wait_port 127.0.0.1 "$rport" 60
bg "$SEALBOX" viewer-master --server 127.0.0.1:$rport --share "$TMP/share" --allow-exec \
	--lan-listen 127.0.0.1:0 --auto-approve </dev/null >"$TMP/master.out" 2>"$TMP/master.err"
i=0
while [ $i -lt 1200 ] && ! grep -q '^session ' "$TMP/master.out"; do sleep 0.05; i=$((i + 1)); done
session=$(sed -n '1s/^session //p' "$TMP/master.out")
check "cross: viewer-master opened a session" [ -n "$session" ] || tail -5 "$TMP/master.err"
out=$("$SEALBOX" viewer-client --server 127.0.0.1:$rport "$session" exec echo hello-from-qemu 2>"$TMP/c1.err")
check "cross: viewer-client exec ran on the master" [ "$out" = hello-from-qemu ] || tail -5 "$TMP/c1.err"
"$SEALBOX" viewer-client --server 127.0.0.1:$rport "$session" get firmware.bin "$TMP/got/fw" 2>"$TMP/c2.err"
check "cross: viewer-client get fetched the file intact" cmp -s "$TMP/share/firmware.bin" "$TMP/got/fw" ||
	tail -5 "$TMP/c2.err"
} >"$TMP/session.out" 2>&1
cat "$TMP/session.out"
count "$TMP/session.out" >/dev/null
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
