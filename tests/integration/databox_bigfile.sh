#!/bin/sh
# applets: databox
# A large file through databox in constant memory on both sides: an encrypted upload
# and download of a sparse file (default 10 GiB), the GCM tag verified by the
# download, the bytes compared, the peak RSS of the client (<= 32 MB) and of the
# server (<= 64 MB) checked. 128 MiB by default (16 times the two chunk buffers); SEALBOX_SLOW=1 makes it 10 GiB
# (about 10 minutes on a quiet machine, much more on a loaded one); DBX_BIG_MB sets the
# size. The server's copy and the downloaded copy take twice the size on disk: a disk
# without that (and 1 GiB to spare) skips, saying so.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/databox_common.inc"

# under SAN=1 the point is the sanitizers, not the memory figure: 32 MiB, RSS not judged
if [ "${SEALBOX_SLOW:-0}" = 1 ]; then MB=${DBX_BIG_MB:-10240}
elif [ "${SAN:-0}" = 1 ]; then MB=${DBX_BIG_MB:-32}
else MB=${DBX_BIG_MB:-128}; fi
# rss_check WHAT KIB LIMIT
rss_check() {
	if [ "${SAN:-0}" = 1 ]; then skip "$1 ($2 KiB): sanitizer build (ASan's shadow memory and quarantine)"
	else check "$1 ($2 KiB)" [ "${2:-999999}" -le "$3" ]; fi
}
free_mb=$(df -Pk "$TMP" | awk 'NR == 2 {print int($4 / 1024)}')
if [ "${free_mb:-0}" -lt $((2 * MB + 1024)) ]; then
	skip "databox $MB MiB round trip in constant memory: $TMP has ${free_mb:-?} MiB free, needs $((2 * MB + 1024))"
	exit 0
fi
certs
port=$(free_port)
dbx_ini "log_level = warn"
dbx_user alice
bg "$SEALBOX" databox serve -d -c "$TMP/db.ini" 2>"$TMP/server.log"
server_pid=$last_pid
wait_port 127.0.0.1 "$port" || { fail "databox serve listens"; exit 1; }
mkdir -p "$TMP/home-alice"
as alice login --server "https://localhost:$port" --ca "$CERTS/ca.pem" --user alice --password-file "$TMP/alice.login" >/dev/null 2>&1
printf 'alice-key-pw\n' >"$TMP/kpw"
as alice keygen --version A --iterations 1000 --key-password-file "$TMP/kpw" >/dev/null 2>&1
as alice room create big --encrypted >/dev/null 2>&1
# sparse input, with a few real bytes so that a misplaced chunk would show
truncate -s "${MB}M" "$TMP/big.bin"
# (4097 MiB: a chunk past 4 GiB, where a 32-bit offset would wrap; only inside the file,
# or the mark itself would make a 128 MiB run a 4 GiB one)
for at in 0 1 4097 $((MB - 1)); do
	[ "$at" -lt "$MB" ] || continue
	printf 'sealbox %s' "$at" | dd of="$TMP/big.bin" bs=1M seek="$at" conv=notrunc 2>/dev/null
done
check "the input is the $MB MiB the run is sized for" [ "$(stat -c %s "$TMP/big.bin")" = $((MB * 1048576)) ]
# peak RSS (KiB) of a command, and its exit code, into $TMP/rss and $TMP/rc
peak() {
	/usr/bin/python3 -c 'import resource,subprocess,sys
r = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=open(sys.argv[1], "w"))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)' "$@"
}
set -- $(peak "$TMP/up.err" env HOME="$TMP/home-alice" XDG_CONFIG_HOME= "$SEALBOX" databox upload "$TMP/big.bin" big)
check "a $MB MiB encrypted upload works" [ "$2" = 0 ]
rss_check "the uploading client's peak RSS stays <= 32 MB" "$1" 32768
set -- $(peak "$TMP/down.err" env HOME="$TMP/home-alice" XDG_CONFIG_HOME= "$SEALBOX" databox download big/big.bin "$TMP/back.bin" --key-password-file "$TMP/kpw")
check "the download verifies the tag and writes the file" [ "$2" = 0 ]
rss_check "the downloading client's peak RSS stays <= 32 MB" "$1" 32768
check "the bytes are the same" cmp -s "$TMP/big.bin" "$TMP/back.bin"
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
rss_check "the server's peak RSS stays <= 64 MB" "$hwm" 65536
rm -f "$TMP/big.bin" "$TMP/back.bin"
