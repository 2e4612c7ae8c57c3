# hitc_options.sh - hitc's command line without a server: exit 64 on a bad command line
# (as every applet), 78 on bad settings, the
# PIN never on argv, help, the ini sample.
. "$TOP/tests/lib.sh"

run() { "$SEALBOX" hitc "$@" >"$TMP/out" 2>"$TMP/err" </dev/null; rc=$?; }
want() { if [ "$rc" = "$2" ]; then ok "$1 (exit $2)"; else fail "$1: exit $rc, want $2"; cat "$TMP/err"; fi; }
printf 'x\n' >"$TMP/pin"

run --help
want "--help" 0
check "--help shows the usage" grep -q '^Usage: hitc .*--host HOST' "$TMP/out"

for opt in "--pin 1234" "--pin=1234" "-p 1234"; do
	# shellcheck disable=SC2086
	run --host 127.0.0.1 --bnr 276090000000001 $opt XS:ECHO:x
	want "PIN on argv refused: $opt" 64
	check "PIN on argv: says where the PIN comes from ($opt)" grep -q 'never taken from the command line' "$TMP/err"
done
run --host 127.0.0.1 --bnr 1 --pin-file "$TMP/pin" --bogus XS:ECHO:x
want "unknown option" 64
run --bnr 1 --pin-file "$TMP/pin" XS:ECHO:x
want "no host" 78
run --host 127.0.0.1 --pin-file "$TMP/pin" XS:ECHO:x
want "no BNR15" 78
run --host 127.0.0.1 --bnr 1 --pin-file "$TMP/pin" --port 70000 XS:ECHO:x
want "port out of range" 78
check "the bad value is named" grep -q "port.*70000" "$TMP/err"
run --host 127.0.0.1 --bnr 1 --pin-file "$TMP/pin" --encrypt XS:ECHO:x
want "--encrypt without --public-key" 78
run --host 127.0.0.1 --bnr 1 --pin-file "$TMP/pin" --public-key "$TMP/nokey" XS:ECHO:x
want "unreadable public key" 78
printf 'n = zz\n' >"$TMP/badkey"
run --host 127.0.0.1 --bnr 1 --pin-file "$TMP/pin" --public-key "$TMP/badkey" XS:ECHO:x
want "malformed public key" 78
run --host 127.0.0.1 --bnr 1 --pin-file "$TMP/pin" --block 0 XS:ECHO:x
want "block 0" 78
run --host 127.0.0.1 --bnr 1 --pin-file "$TMP/pin" --charset ebcdic XS:ECHO:x
want "unknown charset" 78
run --host 127.0.0.1 --bnr 1 --pin-file "$TMP/pin" 'not a command'
want "an argument that is not a command" 64
run --host 127.0.0.1 --bnr 1 --pin-file "$TMP/nopin" XS:ECHO:x
want "unreadable PIN file" 78
printf '[hitc]\nhots = x\n' >"$TMP/bad.ini"
run -c "$TMP/bad.ini" XS:ECHO:x
want "unknown ini key" 78
check "unknown key named with file:line" grep -q 'bad.ini:2.*hots' "$TMP/err"
printf '[hitc]\npin = 1234\n' >"$TMP/pin.ini"
run -c "$TMP/pin.ini" XS:ECHO:x
want "no PIN key in the ini file" 78
run --host 127.0.0.1 --bnr 1 --pin-file "$TMP/pin" --port
want "an option without its value" 64
check "a usage error shows the usage" grep -q '^Usage: hitc ' "$TMP/err"
run --print-config
want "--print-config" 0
check "etc/hitc.ini lists exactly the keys of --print-config" sh -c \
	"grep -o '^[#; ]*[a-z_]* =' '$TOP/etc/hitc.ini' | tr -d '#; =' | sort >'$TMP/k1'; grep -o '^[#; ]*[a-z_]* =' '$TMP/out' | tr -d '#; =' | sort >'$TMP/k2'; [ -s '$TMP/k1' ] && cmp -s '$TMP/k1' '$TMP/k2'"
