#!/bin/sh
# viewer: drop put/ls/get through tunneld's file drop. The relay stores only ciphertext
# under opaque names; a tampered chunk fails the get and leaves no file; the quota gives
# a clear error; the drop is gone when the session ends.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"

mkdir -p "$TMP/local"
MARK=SEALBOX_DROP_PLAINTEXT_MARKER_4711
{ i=0; while [ $i -lt 3000 ]; do echo "$MARK line $i"; i=$((i + 1)); done; } >"$TMP/doc.txt"
head -c 200000 /dev/urandom >"$TMP/rand.bin"
head -c 300000 /dev/urandom >"$TMP/big.bin"
start_relay "drop_quota = 400K" "drop_max_size = 400K"
start_master --auto-approve
DROPDIR=$TMP/tstate/drop

vc drop put "$TMP/doc.txt" report.txt 2>"$TMP/e"; rc=$?
check "drop put exits 0" [ "$rc" = 0 ]
check "drop put says it stored it encrypted" grep -q 'drop put: report.txt.*stored encrypted' "$TMP/e"
vc drop put "$TMP/rand.bin" 2>"$TMP/e"; rc=$?
check "drop put without NAME uses the file's name" holds '[ "$rc" = 0 ] && grep -q '\''rand.bin'\'' "$TMP/e"'
check "the relay stores the files" [ "$(find "$DROPDIR" -type f | wc -l)" = 2 ]
check "the stored file does not contain the plaintext" sh -c "! grep -rqa '$MARK' '$DROPDIR'"
check "the stored names do not reveal the names" sh -c "! find '$DROPDIR' | grep -qE 'report|rand'"

out=$(vc drop ls 2>"$TMP/e"); rc=$?
check "drop ls exits 0" [ "$rc" = 0 ]
check "drop ls shows the names and plaintext sizes" sh -c "echo '$out' | grep -qx 'report.txt	$(wc -c <"$TMP/doc.txt")' && echo '$out' | grep -qx 'rand.bin	200000'"

vc drop get report.txt "$TMP/local/report.txt" 2>"$TMP/e"; rc=$?
check "drop get exits 0" [ "$rc" = 0 ]
check "drop get: same sha256" [ "$(sha256sum <"$TMP/doc.txt")" = "$(sha256sum <"$TMP/local/report.txt")" ]
vc drop get rand.bin "$TMP/local/rand.bin" 2>/dev/null
check "drop get of a binary file: same sha256" [ "$(sha256sum <"$TMP/rand.bin")" = "$(sha256sum <"$TMP/local/rand.bin")" ]
vc drop get nosuch "$TMP/local/nosuch" 2>"$TMP/e"; rc=$?
check "drop get of a missing name exits 66" holds '[ "$rc" = 66 ] && grep -q '\''no such file'\'' "$TMP/e"'
check "and leaves no file" [ ! -e "$TMP/local/nosuch" ]

# tamper: flip one byte in the middle of a stored chunk (the relay is not trusted)
f=$(find "$DROPDIR" -type f -size +150k | head -1)
printf 'X' | dd of="$f" bs=1 seek=100000 conv=notrunc 2>/dev/null
vc drop get rand.bin "$TMP/local/tampered.bin" 2>"$TMP/e"; rc=$?
check "drop get of a tampered file exits 65" holds '[ "$rc" = 65 ] && grep -q '\''chunk 4 failed authentication'\'' "$TMP/e"'
# stored layout: 22-byte header, 280-byte sealed meta, then chunks of 32768+16 bytes
CT=32784
rep=$(find "$DROPDIR" -type f -size -150k | head -1)
# chunk 1 of the other file moved into this one (both whole chunks, same length)
dd if="$rep" of="$f" bs=1 skip=302 seek=302 count=$CT conv=notrunc 2>/dev/null
vc drop get rand.bin "$TMP/local/swapped.bin" 2>"$TMP/e"; rc=$?
check "a chunk swapped in from another file fails (65)" holds '[ "$rc" = 65 ] && grep -q '\''chunk 1 failed authentication'\'' "$TMP/e"'
# chunks 1 and 2 of one file swapped
dd if="$rep" of="$TMP/c1" bs=1 skip=302 count=$CT 2>/dev/null
dd if="$rep" of="$rep" bs=1 skip=$((302 + CT)) seek=302 count=$CT conv=notrunc 2>/dev/null
dd if="$TMP/c1" of="$rep" bs=1 seek=$((302 + CT)) conv=notrunc 2>/dev/null
vc drop get report.txt "$TMP/local/reordered.txt" 2>"$TMP/e"; rc=$?
check "reordered chunks fail (65)" holds '[ "$rc" = 65 ] && grep -q '\''chunk 1 failed authentication'\'' "$TMP/e"'
check "a failed drop get leaves no output file" [ -z "$(ls "$TMP/local" | grep -v '^report.txt$' | grep -v '^rand.bin$')" ]

vc drop put "$TMP/big.bin" 2>"$TMP/e"; rc=$?
check "drop put over the quota exits non-zero (73)" [ "$rc" = 73 ]
check "drop put over the quota says so" grep -q 'quota' "$TMP/e"
vc drop put "$TMP/doc.txt" report.txt 2>"$TMP/e"; rc=$?
check "drop put of an existing name is refused (73)" holds '[ "$rc" = 73 ] && grep -q '\''already in the drop'\'' "$TMP/e"'

check "master stays up" kill -0 "$MPID"
finish
MPID=
i=0; while [ $i -lt 50 ] && [ -n "$(find "$DROPDIR" -type f 2>/dev/null)" ]; do sleep 0.1; i=$((i + 1)); done
check "the drop is gone after the session ended" [ -z "$(find "$DROPDIR" -type f 2>/dev/null)" ]
