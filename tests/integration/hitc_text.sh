# hitc_text.sh - character sets and long lines: Latin-1 on the wire shown as UTF-8,
# UTF-8 on the wire, a Latin-1 terminal, characters Latin-1 cannot hold, 100 KiB
# answer lines (plain and encrypted), and max_line.
. "$TOP/tests/lib.sh"
. "$TOP/tests/hitc_lib.sh"

start_hit || { fail "hit_server.py starts"; exit 1; }

hitc_run 'XS:ECHO:Grüße aus Weißenburg'
expect_rc "Latin-1 wire, UTF-8 locally" 0
check "umlauts go out as Latin-1 and come back as UTF-8" grep -qx '=2:0/0:ECHO:Grüße aus Weißenburg' "$TMP/out"

hitc_run --local-charset latin1 "$(printf 'XS:ECHO:Gr\374\337e')"
expect_rc "Latin-1 locally and on the wire" 0
printf '=2:0/0:ECHO:Gr\374\337e\n' >"$TMP/want"
check "Latin-1 bytes pass unchanged" sh -c "sed -n 3p '$TMP/out' | cmp -s - '$TMP/want'"

hitc_run 'XS:ECHO:5 €'
expect_rc "a character Latin-1 cannot hold" 65
check "named on stderr, not sent" sh -c "grep -q 'character set cannot hold' '$TMP/err' && ! grep -q ECHO '$TMP/out'"

hitc_run XS:BIG:102400
expect_rc "a 100 KiB answer line" 0
check "100 KiB line complete (102400 text bytes, UTF-8 end)" sh -c \
	"sed -n 3p '$TMP/out' | /usr/bin/python3 -c 'import sys; l=sys.stdin.buffer.read().rstrip(b\"\\n\").decode(); t=l.split(\":\",3)[3]; sys.exit(0 if len(t)==102400 and t.endswith(\"äöü\") and t.startswith(\"0123456789\") else 1)'"

hitc_run --public-key "$TMP/hit_pub.pem" --encrypt AES/GCM/NoPadding XS:BIG:102400 XS:BIG:300000
expect_rc "100 KiB and 300 KB answer lines, GCM-encrypted" 0
check "encrypted long lines complete" sh -c "[ \$(sed -n 3p '$TMP/out' | wc -c) -gt 102400 ] && [ \$(sed -n 4p '$TMP/out' | wc -c) -gt 300000 ]"

hitc_run --max-line 64k XS:BIG:102400
expect_rc "a line over max_line ends the session" 69
check "max_line named on stderr" grep -q 'longer than max_line' "$TMP/err"

stop_hit
start_hit --charset utf8 || fail "hit_server.py restarts"
hitc_run --charset utf8 'XS:ECHO:Grüße €' RS:TIERHALTER:x
expect_rc "UTF-8 on the wire" 0
check "UTF-8 round trip incl. a character outside Latin-1" grep -qx '=2:0/0:ECHO:Grüße €' "$TMP/out"
check "UTF-8 server text shown" grep -qx '%3:0/0:TIERHALTER/NAME:Müller, Jürgen' "$TMP/out"
hitc_run --charset utf8 --local-charset latin1 RS:TIERHALTER:x
printf '%%2:0/0:TIERHALTER/NAME:M\374ller, J\374rgen\n' >"$TMP/want"
check "UTF-8 wire shown to a Latin-1 terminal" sh -c "sed -n 3p '$TMP/out' | cmp -s - '$TMP/want'"
