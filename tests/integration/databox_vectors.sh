#!/bin/sh
# databox crypto against DRACOON's own SDK vectors (../shared/vectors/dracoon, see its
# SOURCES.txt): key pairs unlock (10k and 1.3M iterations, 128-byte salts, Latin-1
# passwords), file keys unwrap to the plain key byte for byte, the file decrypts
# byte-exact, and tampered or corrupted data fails with exit 65 and no output file.
# Only one 1.3M-iteration unlock runs (~1 s each here).
. "$TOP/tests/lib.sh"

VEC=""
for d in "$TOP/../shared/vectors" /work/shared/vectors; do
	[ -d "$d/dracoon" ] && { VEC="$d/dracoon"; break; }
done
if [ -z "$VEC" ]; then
	skip "databox DRACOON vectors: folder ../shared/vectors/dracoon not present"
	exit 0
fi
J="$VEC/java-crypto-sdk/unit"
D="$J/data"
JS="$VEC/js-crypto-sdk/test/keys/javascript"
PW="$D/kp_general/pw.txt"
dbx() { "$SEALBOX" databox crypto "$@"; }
# expect_rc NAME RC MSG_REGEX CMD...: exit code RC and stderr matching MSG_REGEX.
expect_rc() {
	n=$1 want=$2 re=$3; shift 3
	"$@" >"$TMP/o" 2>"$TMP/e"; rc=$?
	if [ "$rc" = "$want" ] && grep -Eq -e "$re" "$TMP/e"; then ok "$n"; else
		fail "$n (exit $rc, want $want; stderr: $(head -c 300 "$TMP/e"))"; fi
}

# ---- key pairs ----
for kp in kp_rsa2048 kp_rsa4096; do
	dbx unlock-keypair --password-file "$PW" --public-key "$D/$kp/public_key.json" \
		"$D/$kp/private_key.json" >"$TMP/o" 2>"$TMP/e"
	check "java $kp (10k iterations) unlocks and matches its public key" \
		grep -q 'matches the public key' "$TMP/o"
done
dbx unlock-keypair --password-file "$PW" "$D/kp_rsa2048/private_key.json" >"$TMP/o" 2>&1
check "java kp_rsa2048 reports its 128-byte salt and 10000 iterations" \
	grep -q '10000 iterations, 128-byte salt' "$TMP/o"

printf 'Invalid-Password' >"$TMP/bad.pw"
expect_rc "wrong password: exit 65, says so" 65 'wrong password' \
	dbx unlock-keypair --password-file "$TMP/bad.pw" "$D/kp_rsa2048/private_key.json"
DATABOX_PASSWORD=Qwer1234! dbx unlock-keypair "$D/kp_rsa4096/private_key.json" >"$TMP/o" 2>&1
check "password from DATABOX_PASSWORD" grep -q 'unlocked RSA-4096' "$TMP/o"
expect_rc "A private key with the RSA-4096 public key is refused" 65 'versions differ' \
	dbx unlock-keypair --password-file "$PW" --public-key "$D/kp_rsa4096/public_key.json" \
	"$D/kp_rsa2048/private_key.json"

# JS SDK: the deterministic 1.3M-iteration vector, and the legacy Latin-1 one.
jspw() { /usr/bin/python3 -c 'import json,sys;sys.stdout.write(json.load(open(sys.argv[1]))["config"]["password"])' "$1"; }
jspw "$JS/kp_rsa4096_2/kp_rsa4096_2.json" >"$TMP/js.pw"
dbx unlock-keypair --password-file "$TMP/js.pw" "$JS/kp_rsa4096_2/kp_rsa4096_2.json" >"$TMP/o" 2>&1
check "js kp_rsa4096_2 (1.3M iterations, 20-byte salt) unlocks, matches its public key" \
	grep -q 'RSA-4096 key pair (RSA-4096; PBKDF2-HMAC-SHA1, 1300000 iterations, 20-byte salt; matches' "$TMP/o"
jspw "$JS/kp_rsa2048_old/kp_rsa2048_old.json" >"$TMP/old.pw"
check "the Latin-1 vector's password file holds UTF-8 (Qwer1234!äö)" \
	sh -c "[ \$(wc -c <'$TMP/old.pw') = 13 ]"
dbx unlock-keypair --password-file "$TMP/old.pw" "$JS/kp_rsa2048_old/kp_rsa2048_old.json" >"$TMP/o" 2>&1
check "js kp_rsa2048_old (Latin-1 password, 128-byte salt) unlocks via the ISO-8859-1 retry" \
	grep -q 'password as ISO-8859-1; matches the public key' "$TMP/o"

# The plain private key of the JS vector has the same modulus as what we unlocked: the
# public half of the encrypted container equals the plain container's public half.
check "js kp_rsa4096_2: encrypted and plain containers carry the same public key" \
	/usr/bin/python3 -c 'import json,sys;d=json.load(open(sys.argv[1]));sys.exit(d["plainUserKeyPairContainer"]["publicKeyContainer"]["publicKey"]!=d["encryptedUserKeyPairContainer"]["publicKeyContainer"]["publicKey"])' "$JS/kp_rsa4096_2/kp_rsa4096_2.json"

# ---- corrupted key containers (made from the vectors at run time) ----
sed 's/"version": "A"/"version": "X"/' "$D/kp_rsa2048/private_key.json" >"$TMP/bad_version.json"
expect_rc "key container with version X: exit 65, names the version" 65 'unknown key pair version "X"' \
	dbx unlock-keypair --password-file "$PW" "$TMP/bad_version.json"
sed 's/BEGIN ENCRYPTED PRIVATE KEY/BEGIN ENCRYPTED PRIVATE KEX/' "$D/kp_rsa2048/private_key.json" >"$TMP/bad_pem.json"
expect_rc "key container with a KEX PEM header: exit 65" 65 'not an "ENCRYPTED PRIVATE KEY" PEM' \
	dbx unlock-keypair --password-file "$PW" "$TMP/bad_pem.json"
sed 's/KEY-----\\nMIIF/KEY-----\\nMIIG/' "$D/kp_rsa2048/private_key.json" >"$TMP/bad_asn1.json"
expect_rc "key container with corrupt DER: exit 65" 65 'PBES2|does not decrypt|PEM' \
	dbx unlock-keypair --password-file "$PW" "$TMP/bad_asn1.json"
printf '{"version": "A", "privateKey": 5}' >"$TMP/bad_type.json"
expect_rc "privateKey that is not a string: exit 65" 65 'no "privateKey" string' \
	dbx unlock-keypair --password-file "$PW" "$TMP/bad_type.json"
expect_rc "missing key file: exit 66" 66 'No such file' \
	dbx unlock-keypair --password-file "$PW" "$TMP/nonexistent.json"

# ---- file keys ----
for fk in fk_rsa2048_aes256gcm:kp_rsa2048 fk_rsa4096_aes256gcm:kp_rsa4096; do
	f=${fk%%:*} k=${fk#*:}
	rm -f "$TMP/pfk.json"
	dbx decrypt-file-key --password-file "$PW" --private-key "$D/$k/private_key.json" \
		--out "$TMP/pfk.json" "$D/$f/enc_file_key.json" 2>"$TMP/e"
	# byte for byte but for the version name: databox writes "AES-256-GCM" where the Java SDK wrote "A"
	sed 's/"version": "A"/"version": "AES-256-GCM"/' "$D/$f/plain_file_key.json" >"$TMP/pfk.want"
	check "java $f unwraps to plain_file_key.json byte for byte (version written as AES-256-GCM)" cmp -s "$TMP/pfk.json" "$TMP/pfk.want"
	check "the plain file key was written 0600" sh -c "[ \"\$(stat -c %a '$TMP/pfk.json')\" = 600 ]"
done
dbx decrypt-file-key --password-file "$PW" --private-key "$D/kp_rsa2048/private_key.json" \
	"$D/fk_rsa2048_aes256gcm/enc_file_key.json" >"$TMP/stdout.json" 2>/dev/null
check "decrypt-file-key prints the plain key on stdout (plus a newline)" \
	sh -c "sed 's/\"version\": \"A\"/\"version\": \"AES-256-GCM\"/' '$D/fk_rsa2048_aes256gcm/plain_file_key.json' >'$TMP/pfk2.want' && head -c -1 '$TMP/stdout.json' | cmp -s - '$TMP/pfk2.want'"
expect_rc "RSA-4096 file key with the A private key: exit 65, version mismatch" 65 'does not fit key pair version A' \
	dbx decrypt-file-key --password-file "$PW" --private-key "$D/kp_rsa2048/private_key.json" \
	"$D/fk_rsa4096_aes256gcm/enc_file_key.json"
/usr/bin/python3 - "$D/fk_rsa2048_aes256gcm/enc_file_key.json" "$TMP/fk_flip.json" <<'EOF'
import base64, json, sys
d = json.load(open(sys.argv[1]))
k = bytearray(base64.b64decode(d["key"])); k[100] ^= 1
d["key"] = base64.b64encode(bytes(k)).decode()
json.dump(d, open(sys.argv[2], "w"))
EOF
expect_rc "a file key with one flipped ciphertext bit does not unwrap: exit 65" 65 'does not decrypt with this private key' \
	dbx decrypt-file-key --password-file "$PW" --private-key "$D/kp_rsa2048/private_key.json" "$TMP/fk_flip.json"
sed 's/"iv": "8O+rDR\/+InRDmWxB"/"iv": "8O+rDR\/+InRDmW"/' "$D/fk_rsa2048_aes256gcm/plain_file_key.json" >"$TMP/fk_bad_iv.json"
expect_rc "plain file key with a 9-byte iv: exit 65" 65 '"iv" is not base64 of 12 bytes' \
	dbx decrypt-file --file-key "$TMP/fk_bad_iv.json" /dev/null "$TMP/never"

# ---- file content ----
base64 -d "$J/files/plain_file.b64" >"$TMP/plain"
base64 -d "$J/files/aes256gcm/enc_file.b64" >"$TMP/enc"
mkdir "$TMP/out"
dbx decrypt-file --file-key "$D/fk_rsa2048_aes256gcm/plain_file_key.json" "$TMP/enc" "$TMP/out/plain" 2>"$TMP/e"
check "java enc_file.b64 decrypts byte-exact (50 bytes)" cmp -s "$TMP/out/plain" "$TMP/plain"
/usr/bin/python3 -c 'import sys;d=bytearray(open(sys.argv[1],"rb").read());d[7]^=0x40;open(sys.argv[2],"wb").write(d)' "$TMP/enc" "$TMP/enc_mod"
expect_rc "tampered ciphertext: exit 65, tag mismatch" 65 'GCM tag mismatch.*no output written' \
	dbx decrypt-file --file-key "$D/fk_rsa2048_aes256gcm/plain_file_key.json" "$TMP/enc_mod" "$TMP/out/tampered"
check "tampered ciphertext leaves no output file and no temporary file" \
	sh -c "[ ! -e '$TMP/out/tampered' ] && [ \$(ls -A '$TMP/out' | wc -l) = 1 ]"
sed 's/"tag": "SsQh5Pws/"tag": "TsQh5Pws/' "$D/fk_rsa2048_aes256gcm/plain_file_key.json" >"$TMP/fk_badtag.json"
expect_rc "wrong tag in the file key: exit 65" 65 'GCM tag mismatch' \
	dbx decrypt-file --file-key "$TMP/fk_badtag.json" "$TMP/enc" "$TMP/out/badtag"
check "wrong tag leaves no output file" [ ! -e "$TMP/out/badtag" ]
head -c 49 "$TMP/enc" >"$TMP/enc_short"
expect_rc "truncated ciphertext: exit 65" 65 'GCM tag mismatch' \
	dbx decrypt-file --file-key "$D/fk_rsa2048_aes256gcm/plain_file_key.json" "$TMP/enc_short" "$TMP/out/short"
echo old >"$TMP/out/keep"
dbx decrypt-file --file-key "$D/fk_rsa2048_aes256gcm/plain_file_key.json" "$TMP/enc_mod" "$TMP/out/keep" 2>/dev/null
check "a failed decryption leaves an existing output file untouched" grep -qx old "$TMP/out/keep"
