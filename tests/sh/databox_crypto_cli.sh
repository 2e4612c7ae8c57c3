#!/bin/sh
# databox crypto: the command line as a user meets it. Passwords never on argv, usage
# errors 64, missing input 66, uncreatable output 73, a round trip through our own
# commands, stdin input, constant memory on a large file, no half files on failure.
. "$TOP/tests/lib.sh"

dbx() { "$SEALBOX" databox crypto "$@"; }
expect_rc() {
	n=$1 want=$2 re=$3; shift 3
	"$@" >"$TMP/o" 2>"$TMP/e" </dev/null; rc=$?
	if [ "$rc" = "$want" ] && grep -Eq -e "$re" "$TMP/e" "$TMP/o"; then ok "$n"; else
		fail "$n (exit $rc, want $want; output: $(cat "$TMP/o" "$TMP/e" | head -c 300))"; fi
}
unset DATABOX_PASSWORD

expect_rc "databox crypto without a command: exit 64 with usage" 64 'Usage: databox crypto' "$SEALBOX" databox crypto
expect_rc "databox crypto --help: exit 0" 0 'encrypt-file IN OUT' "$SEALBOX" databox crypto --help
expect_rc "unknown crypto command: exit 64, named" 64 'unknown command "frob"' dbx frob
expect_rc "there is no --password option (passwords never on argv): exit 64" 64 "never taken from the command line" \
	dbx keygen --password secret --out "$TMP/k"
expect_rc "keygen --version X: exit 64" 64 'A \(RSA-2048\) or RSA-4096' dbx keygen --version X --out "$TMP/k"
expect_rc "keygen without --out: exit 64" 64 '--out PREFIX' dbx keygen
expect_rc "keygen without a password source and no terminal: fails, says so" 65 'no terminal|no password' \
	setsid "$SEALBOX" databox crypto keygen --version A --iterations 1000 --out "$TMP/k"
check "keygen without a password wrote nothing" [ ! -e "$TMP/k.private.json" ]
: >"$TMP/empty.pw"
expect_rc "keygen with an empty password: refused" 65 'empty password' \
	dbx keygen --version A --iterations 1000 --password-file "$TMP/empty.pw" --out "$TMP/k"
expect_rc "keygen --iterations below 1000: exit 64" 64 'iterations' \
	dbx keygen --version A --iterations 10 --out "$TMP/k"

printf 'pw-one\n' >"$TMP/pw"
DATABOX_PASSWORD=pw-one dbx keygen --version A --iterations 1000 --out "$TMP/a" >"$TMP/o" 2>&1
check "keygen --version A with DATABOX_PASSWORD" grep -q 'A key pair: ' "$TMP/o"
check "keygen: private key file 0600, public 0644" \
	sh -c "[ \"\$(stat -c %a '$TMP/a.private.json')\" = 600 ] && [ \"\$(stat -c %a '$TMP/a.public.json')\" = 644 ]"
check "keygen: the password is nowhere in the key files" sh -c "! grep -q pw-one '$TMP/a.private.json' '$TMP/a.public.json'"
expect_rc "unlock with the password file (first line, newline cut)" 0 'unlocked A key pair' \
	dbx unlock-keypair --password-file "$TMP/pw" --public-key "$TMP/a.public.json" "$TMP/a.private.json"
printf 'pw-two\n' >"$TMP/pw2"
expect_rc "unlock with the wrong password: exit 65, 'wrong password'" 65 'wrong password' \
	dbx unlock-keypair --password-file "$TMP/pw2" "$TMP/a.private.json"
expect_rc "--password-file wins over DATABOX_PASSWORD" 65 'wrong password' \
	env DATABOX_PASSWORD=pw-one "$SEALBOX" databox crypto unlock-keypair --password-file "$TMP/pw2" "$TMP/a.private.json"
expect_rc "unlock-keypair on a public key file: exit 65" 65 'holds no private key' \
	dbx unlock-keypair --password-file "$TMP/pw" "$TMP/a.public.json"
expect_rc "unlock-keypair on a missing file: exit 66" 66 'No such file' \
	dbx unlock-keypair --password-file "$TMP/pw" "$TMP/none.json"
printf 'not json' >"$TMP/junk.json"
expect_rc "unlock-keypair on junk: exit 65, invalid JSON" 65 'invalid JSON' \
	dbx unlock-keypair --password-file "$TMP/pw" "$TMP/junk.json"

# round trip through our own commands, options after the positional arguments
head -c 3000000 /dev/urandom >"$TMP/big"
dbx encrypt-file "$TMP/big" "$TMP/big.enc" --file-key-out "$TMP/fk.json" 2>"$TMP/e"
check "encrypt-file: same length out" sh -c "[ \$(wc -c <'$TMP/big.enc') = 3000000 ] && ! cmp -s '$TMP/big' '$TMP/big.enc'"
dbx encrypt-file-key --public-key "$TMP/a.public.json" --out "$TMP/efk.json" "$TMP/fk.json" 2>"$TMP/e"
check "encrypt-file-key --out writes a file key" grep -q '"version": "A"' "$TMP/efk.json"
dbx decrypt-file-key --private-key "$TMP/a.private.json" --password-file "$TMP/pw" "$TMP/efk.json" >"$TMP/fk2.json" 2>"$TMP/e"
check "decrypt-file-key gives back the plain key" sh -c "head -c -1 '$TMP/fk2.json' | cmp -s - '$TMP/fk.json'"
dbx decrypt-file --file-key "$TMP/fk2.json" - "$TMP/big.dec" <"$TMP/big.enc" 2>"$TMP/e"
check "decrypt-file from stdin (-) round-trips 3 MB" cmp -s "$TMP/big" "$TMP/big.dec"

expect_rc "encrypt-file without --file-key-out: exit 64" 64 'file-key-out' dbx encrypt-file "$TMP/big" "$TMP/x"
expect_rc "encrypt-file of a missing input: exit 66" 66 'No such file' \
	dbx encrypt-file "$TMP/nothere" "$TMP/x" --file-key-out "$TMP/xk"
expect_rc "encrypt-file into a missing directory: exit 73" 73 'No such file' \
	dbx encrypt-file "$TMP/big" "$TMP/no/dir/x" --file-key-out "$TMP/xk"
check "nothing was written for the failed encryptions" sh -c "[ ! -e '$TMP/x' ] && [ ! -e '$TMP/xk' ]"
expect_rc "decrypt-file with a missing file key: exit 66" 66 'No such file' \
	dbx decrypt-file --file-key "$TMP/none.json" "$TMP/big.enc" "$TMP/x"
sed 's/"tag": ".*"/"tag": null/' "$TMP/fk.json" >"$TMP/notag.json"
expect_rc "decrypt-file with a tag-less (unfinished) file key: exit 65" 65 'has no tag' \
	dbx decrypt-file --file-key "$TMP/notag.json" "$TMP/big.enc" "$TMP/x"
check "no output for the tag-less key" [ ! -e "$TMP/x" ]

# Constant memory: 256 MiB through encrypt and decrypt with a small peak RSS. ASan's
# shadow memory and its quarantine of freed blocks add ~10 MB whatever the file size, so
# a sanitizer build gets that headroom; the plain build checks the real figure.
lim=16384
[ "${SAN:-0}" = 1 ] && lim=40960
if [ -r /proc/self/status ]; then
	head -c 268435456 /dev/zero >"$TMP/huge"
	rss() { /usr/bin/python3 -c 'import resource,subprocess,sys;r=subprocess.run(sys.argv[1:]).returncode;print(r, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"; }
	set -- $(rss "$SEALBOX" databox crypto encrypt-file "$TMP/huge" "$TMP/huge.enc" --file-key-out "$TMP/hk.json")
	check "encrypt-file of 256 MiB succeeds with peak RSS under $((lim / 1024)) MB (was ${2} KB)" sh -c "[ $1 = 0 ] && [ $2 -lt $lim ]"
	rm -f "$TMP/huge"
	set -- $(rss "$SEALBOX" databox crypto decrypt-file --file-key "$TMP/hk.json" "$TMP/huge.enc" "$TMP/huge.dec")
	check "decrypt-file of 256 MiB succeeds with peak RSS under $((lim / 1024)) MB (was ${2} KB)" sh -c "[ $1 = 0 ] && [ $2 -lt $lim ]"
	check "the 256 MiB round trip is exact" sh -c "[ \$(wc -c <'$TMP/huge.dec') = 268435456 ] && [ -z \"\$(tr -d '\\000' <'$TMP/huge.dec' | head -c 1)\" ]"
	rm -f "$TMP/huge.enc" "$TMP/huge.dec"
fi
