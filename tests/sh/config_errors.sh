#!/bin/sh
# Every daemon applet checks its configuration with -n: a good sample passes
# (exit 0), an unknown key or a bad value fails with "file:line" and exit 78, a missing
# file fails with exit 78 naming the file.
. "$TOP/tests/lib.sh"

compiled=$("$SEALBOX" --list)
has() { printf '%s\n' "$compiled" | grep -qx "$1"; }
for a in tunneld mailgw databox; do
	has "$a" || { skip "$a -n: not compiled in"; continue; }
	sample="$TOP/etc/$a.ini"
	if [ -f "$sample" ]; then
		"$SEALBOX" "$a" -n -c "$sample" >"$TMP/o" 2>&1; rc=$?
		check "$a -n accepts its own sample etc/$a.ini" [ $rc = 0 ]
	fi
	printf '[%s]\n\nno_such_key = 1\n' "$a" >"$TMP/bad.ini"
	"$SEALBOX" "$a" -n -c "$TMP/bad.ini" >"$TMP/o" 2>&1; rc=$?
	check "$a -n: unknown key exits 78" [ $rc = 78 ]
	check "$a -n: unknown key names file:line and key" grep -q "$TMP/bad.ini:3: .*no_such_key" "$TMP/o"
	"$SEALBOX" "$a" -n -c "$TMP/missing.ini" >"$TMP/o" 2>&1; rc=$?
	check "$a -n: missing file exits 78 naming it" sh -c "[ $rc = 78 ] && grep -q '$TMP/missing.ini' '$TMP/o'"
done

# One shared file for several applets: each skips the others' sections.
has tunneld || { skip "shared etc/sealbox.ini: tunneld not compiled in"; exit 0; }
"$SEALBOX" tunneld -n -c "$TOP/etc/sealbox.ini" >"$TMP/o" 2>&1; rc=$?
check "tunneld -n accepts the shared etc/sealbox.ini" [ $rc = 0 ]
printf '[tunneld]\nlisten = 127.0.0.1:0\n[hitc]\nhost = example.invalid\n[mailgw]\nfoo = bar\n' >"$TMP/shared.ini"
"$SEALBOX" tunneld -n -c "$TMP/shared.ini" >"$TMP/o" 2>&1; rc=$?
check "tunneld skips other applets' sections" [ $rc = 0 ]
