#!/bin/sh
# viewer: a 1 GiB file each way through the relay arrives bit-exact (sha256sum of both
# ends), with the client's memory bounded (the master streams it under flow control).
# A > 4 GiB sparse file stays sparse and arrives with the right size and checksum.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"

size_mb=1024
[ "${SAN:-0}" = 1 ] && size_mb=64 # sanitizers are ~10x slower; the logic is the same
mkdir -p "$TMP/share" "$TMP/local"
head -c $((size_mb * 1024 * 1024)) /dev/urandom >"$TMP/share/big.bin"
start_relay
start_master --share "$TMP/share" --auto-approve

start=$(date +%s)
# Under ASan freed blocks sit in its quarantine (256 MB by default), so the RSS of a
# client that allocates and frees a buffer per chunk grows with the transfer although
# its live memory does not; a small quarantine keeps the check about live memory.
q=""
[ "${SAN:-0}" = 1 ] && q="quarantine_size_mb=4"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}$q" \
/usr/bin/time -f '%M' -o "$TMP/rss" "$SEALBOX" viewer-client --server "$RELAY" "$SESSION" \
	get big.bin "$TMP/local/big.bin" 2>"$TMP/e"; rc=$?
secs=$(($(date +%s) - start))
check "get of $size_mb MiB exits 0 (${secs}s)" [ "$rc" = 0 ]
a=$(sha256sum <"$TMP/share/big.bin"); b=$(sha256sum <"$TMP/local/big.bin")
check "get: sha256sum equal on both ends" [ "$a" = "$b" ]
rss=$(tail -1 "$TMP/rss")
check "client memory stays small while receiving ${size_mb} MiB (max RSS ${rss} KiB)" [ "$rss" -lt 40000 ]
rm -f "$TMP/share/big.bin"

vc put "$TMP/local/big.bin" back.bin 2>"$TMP/e"; rc=$?
check "put of $size_mb MiB exits 0" [ "$rc" = 0 ]
c=$(sha256sum <"$TMP/share/back.bin")
check "put: sha256sum equal on both ends" [ "$a" = "$c" ]
rm -f "$TMP/share/back.bin" "$TMP/local/big.bin"

# > 4 GiB sparse: holes travel as counts, the copy is sparse too, offsets past 4 GiB hold
truncate -s 5G "$TMP/share/sparse.img"
printf 'BEGIN' | dd of="$TMP/share/sparse.img" conv=notrunc 2>/dev/null
printf 'PAST4G' | dd of="$TMP/share/sparse.img" bs=1 seek=$((4 * 1024 * 1024 * 1024 + 12345)) conv=notrunc 2>/dev/null
printf 'END' | dd of="$TMP/share/sparse.img" bs=1 seek=$((5 * 1024 * 1024 * 1024 - 3)) conv=notrunc 2>/dev/null
start=$(date +%s)
vc get sparse.img "$TMP/local/sparse.img" 2>"$TMP/e"; rc=$?
secs=$(($(date +%s) - start))
check "get of a 5 GiB sparse file exits 0 (${secs}s)" [ "$rc" = 0 ]
check "the copy has the same size" [ "$(stat -c %s "$TMP/local/sparse.img")" = $((5 * 1024 * 1024 * 1024)) ]
check "data past 4 GiB is in place" [ "$(dd if="$TMP/local/sparse.img" bs=1 skip=$((4 * 1024 * 1024 * 1024 + 12345)) count=6 2>/dev/null)" = PAST4G ]
check "first and last bytes are in place" [ "$(head -c 5 "$TMP/local/sparse.img")$(tail -c 3 "$TMP/local/sparse.img")" = BEGINEND ]
check "the copy is sparse (du $(du -k "$TMP/local/sparse.img" | cut -f1) KiB)" [ "$(du -k "$TMP/local/sparse.img" | cut -f1)" -lt 10240 ]
check "the viewer verified the checksum over 5 GiB" grep -q '5368709120 bytes, checksum verified' "$TMP/e"
vc put "$TMP/local/sparse.img" sparse2.img 2>"$TMP/e"; rc=$?
check "put of a 5 GiB sparse file exits 0" [ "$rc" = 0 ]
check "put: size and data past 4 GiB" [ "$(stat -c %s "$TMP/share/sparse2.img")" = $((5 * 1024 * 1024 * 1024)) -a "$(dd if="$TMP/share/sparse2.img" bs=1 skip=$((4 * 1024 * 1024 * 1024 + 12345)) count=6 2>/dev/null)" = PAST4G ]
finish
