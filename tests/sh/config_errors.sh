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
# mailgw's own sections ([delivery], [listener NAME]) belong to mailgw too, not to a
# list in the core: tunneld skips them, also in a build without mailgw (main.c's
# absent_sections: a trimmed image shares its sealbox.ini with full builds).
printf '[tunneld]\nlisten = 127.0.0.1:0\n[delivery]\nsmarthost = 127.0.0.1:25\n[listener in]\nlisten = 127.0.0.1:2525\nmode = smtp\n[mailgw]\nhostname = mx.example\n[databox]\nlisten = 127.0.0.1:0\n[viewer]\nserver = 127.0.0.1:1\n[hitc]\nhost = x.invalid\n' >"$TMP/shared2.ini"
"$SEALBOX" tunneld -n -c "$TMP/shared2.ini" >"$TMP/o" 2>&1; rc=$?
check "tunneld skips every other applet's sections ([mailgw] [delivery] [listener NAME] [databox] [viewer] [hitc]), built with them or not" [ $rc = 0 ] || head -3 "$TMP/o"
printf '[tunneld]\nlisten = 127.0.0.1:0\n[listener]\nlisten = *:1\n' >"$TMP/bare.ini"
"$SEALBOX" tunneld -n -c "$TMP/bare.ini" >"$TMP/o" 2>&1; rc=$?
check "a bare [listener] (no NAME) is still an unknown section" [ $rc = 78 ]
if "$SEALBOX" --list | grep -qx mailgw; then
	printf '[mailgw]\nhostname = mx.example\nspool = %s/spool\n[tunneld]\nlisten = *:4663\n[listener in]\nlisten = 127.0.0.1:0\nmode = bogus\n' "$TMP" >"$TMP/shared3.ini"
	"$SEALBOX" mailgw -n -c "$TMP/shared3.ini" >"$TMP/o" 2>&1; rc=$?
	check "mailgw still reads its [listener NAME] in a shared file (a bad mode is found)" sh -c "[ $rc = 78 ] && grep -q 'shared3.ini:8:.*unknown mode' '$TMP/o'"
else
	skip "shared file with mailgw sections: mailgw not compiled in"
fi
printf '[tunneld]\nlisten = 127.0.0.1:0\n[tunnled]\nlisten = *:1\n' >"$TMP/typo.ini"
"$SEALBOX" tunneld -n -c "$TMP/typo.ini" >"$TMP/o" 2>&1; rc=$?
check "a section no applet reads is an error with file:line" sh -c "[ $rc = 78 ] && grep -q \"typo.ini:4: .*unknown section 'tunnled'\" '$TMP/o'"
