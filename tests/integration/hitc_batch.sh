# hitc_batch.sh - 1,000 commands from stdin in block mode (encrypted and plain): every
# answer arrives, in order, under its own sequence number.
. "$TOP/tests/lib.sh"
. "$TOP/tests/hitc_lib.sh"

start_hit || { fail "hit_server.py starts"; exit 1; }

i=1
while [ $i -le 1000 ]; do echo "XS:ECHO:cmd$i"; i=$((i + 1)); done >"$TMP/cmds"
# Sequence numbers start at 2 and skip 99 (LOGOFF's).
/usr/bin/python3 -c '
seqs = [s for s in range(2, 1100) if s != 99][:1000]
for i, s in enumerate(seqs, 1):
    print("=%d:0/0:ECHO:cmd%d" % (s, i))' >"$TMP/want"

hitc_run --public-key "$TMP/hit_pub.pem" --encrypt --block 100 <"$TMP/cmds"
expect_rc "1,000 encrypted commands from stdin, block 100" 0
grep ':ECHO:' "$TMP/out" >"$TMP/got"
check "1,000 answers in order with their sequence numbers" cmp -s "$TMP/want" "$TMP/got"
check "logon and logoff around them" sh -c "sed -n 2p '$TMP/out' | grep -q '^=1:0/223' && tail -1 '$TMP/out' | grep -q '^=99:0/251'"
check "1,000 commands + LOGOFF arrived encrypted" sh -c "[ \$(grep -c '\"event\": \"command\", \"encrypted\": true' '$TMP/hit.log') -eq 1001 ]"

hitc_run --block 1000 <"$TMP/cmds"
expect_rc "1,000 plain commands, all in one block" 0
grep ':ECHO:' "$TMP/out" >"$TMP/got"
check "plain block: 1,000 answers in order" cmp -s "$TMP/want" "$TMP/got"
