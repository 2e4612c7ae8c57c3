# hitc_crypto.sh - the encrypted layers against tests/hit_server.py, whose RSA and AES
# come from Python's cryptography (and Python integers for raw RSA), not from sealbox:
# `$` logon without and with SESS_KEY, every ENC_SYM hitc offers, both RSA paddings,
# PEM and hex key files, a wrong SVR_HELO, and -v masking the PIN and the keys.
. "$TOP/tests/lib.sh"
. "$TOP/tests/hitc_lib.sh"

start_hit || { fail "hit_server.py starts"; exit 1; }

# logon_cols: the columns the server decrypted from the last LOGON.
last_logon() { grep '"event": "logon"' "$TMP/hit.log" | tail -1; }
all_cmds_encrypted() { grep '"event": "command"' "$TMP/hit.log" >"$TMP/cmds"; [ -s "$TMP/cmds" ] && ! grep -q '"encrypted": false' "$TMP/cmds"; }

hitc_run --public-key "$TMP/hit_pub.pem" XS:ECHO:plainexchange
expect_rc "encrypted logon without SESS_KEY (PEM key)" 0
check "the server decrypted a \$ LOGON with SVR_HELO and RAND_CLI, no SESS_KEY" sh -c \
	"grep '\"event\": \"logon\"' '$TMP/hit.log' | grep -q '\"encrypted\": true, \"columns\": \\[\"BNR15\", \"PIN\", \"MELD_WG\", \"SVR_HELO\", \"RAND_CLI\"\\], \"sess_key\": null'"
check "without SESS_KEY the exchange stays plain" sh -c "grep '\"event\": \"command\"' '$TMP/hit.log' | grep -q '\"encrypted\": false'"
check "answers printed" grep -qx '=2:0/0:ECHO:plainexchange' "$TMP/out"
rand=$(last_logon | sed 's/.*"rand_cli": "\([0-9A-F]*\)".*/\1/')
[ ${#rand} -eq 64 ] && ok "RAND_CLI has 64 hex digits" || fail "RAND_CLI has 64 hex digits (got '$rand')"

for sym in AES/CBC/PKCS7Padding AES/CBC/PKCS5Padding AES/ECB/PKCS7Padding AES/GCM/NoPadding; do
	: >"$TMP/hit.log"
	hitc_run --public-key "$TMP/hit_pub.pem" --encrypt "$sym" XS:ECHO:geheim RS:TIERHALTER:x
	expect_rc "encrypted session with $sym" 0
	check "$sym: ENC_SYM sent as given, 32-byte SESS_KEY" sh -c "grep '\"event\": \"logon\"' '$TMP/hit.log' | grep -q '\"sess_key\": \"[0-9A-F]\\{64\\}\", \"rand_cli\": \"[0-9A-F]\\{64\\}\", \"enc_sym\": \"$sym\"'"
	check "$sym: every command (LOGOFF included) came as a # line" all_cmds_encrypted
	check "$sym: decrypted answers printed" sh -c "grep -qx '=2:0/0:ECHO:geheim' '$TMP/out' && grep -qx '=3:0/0:TIERHALTER:2 Sätze' '$TMP/out' && grep -q '^=99:0/251' '$TMP/out'"
done

hitc_run --public-key "$TMP/hit_pub.pem" --encrypt XS:ECHO:default
expect_rc "--encrypt without a name uses AES/CBC/PKCS7Padding" 0
check "default ENC_SYM on the wire" sh -c "grep '\"event\": \"logon\"' '$TMP/hit.log' | tail -1 | grep -q '\"enc_sym\": \"AES/CBC/PKCS7Padding\"'"

hitc_run --public-key "$TMP/hit_pub.hex" --encrypt=AES/CBC/PKCS7Padding --sess-key-bytes 16 XS:ECHO:hexkey
expect_rc "public key as 'n = HEX' / 'e = HEX', 16-byte SESS_KEY" 0
check "16-byte SESS_KEY sent" sh -c "grep '\"event\": \"logon\"' '$TMP/hit.log' | tail -1 | grep -q '\"sess_key\": \"[0-9A-F]\\{32\\}\"'"

hitc_run --public-key "$TMP/hit_pub.pem" --encrypt AES/GCM/NoPadding --sess-key-bytes 16 XS:ECHO:x
expect_rc "GCM with a 16-byte key is refused before connecting" 78
hitc_run --public-key "$TMP/hit_pub.pem" --encrypt 2 XS:ECHO:x
expect_rc "numeric legacy ENC_SYM is refused" 78

stop_hit
start_hit --iv zero || fail "hit_server.py restarts"
hitc_run --public-key "$TMP/hit_pub.pem" --encrypt --iv zero XS:ECHO:zeroiv
expect_rc "CBC with a zero IV (iv = zero on both sides)" 0
check "zero-IV session answered" grep -qx '=2:0/0:ECHO:zeroiv' "$TMP/out"

hitc_run --public-key "$TMP/hit_pub.pem" --encrypt XS:ECHO:x
expect_rc "a # answer that does not decrypt (IV layouts differ)" 69
check "undecryptable line named on stderr" grep -Eq 'cannot decrypt an answer line|layer differs' "$TMP/err"

stop_hit
start_hit --rsa-padding pkcs1 || fail "hit_server.py restarts"
hitc_run --public-key "$TMP/hit_pub.pem" --rsa-padding pkcs1 --encrypt XS:ECHO:pkcs1
expect_rc "--rsa-padding pkcs1 against a PKCS#1 v1.5 server" 0
hitc_run --public-key "$TMP/hit_pub.pem" --encrypt XS:ECHO:x
expect_rc "TBC logon against a PKCS#1 server is refused" 65
check "refusal shown" grep -q '^=0:3/230::' "$TMP/out"

stop_hit
start_hit --helo-mismatch || fail "hit_server.py restarts"
hitc_run --public-key "$TMP/hit_pub.pem" --encrypt XS:ECHO:x
expect_rc "wrong SVR_HELO: the server refuses" 65
check "wrong SVR_HELO: the server's answer is shown" grep -qx '=1:3/228:LOGON/SVR_HELO:Challenge stimmt nicht.' "$TMP/out"
check "wrong SVR_HELO: no command was sent" sh -c "! grep -q '\"event\": \"command\"' '$TMP/hit.log'"

stop_hit
start_hit || fail "hit_server.py restarts"
printf 'wrong\n' >"$TMP/badpin"
"$SEALBOX" hitc --host 127.0.0.1 --port "$HIT_PORT" --bnr "$HIT_BNR" --pin-file "$TMP/badpin" \
	--public-key "$TMP/hit_pub.pem" --encrypt XS:ECHO:x >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc "encrypted logon with a wrong PIN: the plain answer is read" 65
check "plain refusal printed" grep -qx '=1:3/227:LOGON/PIN:PIN ist falsch.' "$TMP/out"

: >"$TMP/hit.log"
hitc_run -v --public-key "$TMP/hit_pub.pem" --encrypt XS:ECHO:verbose
expect_rc "-v session" 0
key=$(last_logon | sed 's/.*"sess_key": "\([0-9A-F]*\)".*/\1/')
rand=$(last_logon | sed 's/.*"rand_cli": "\([0-9A-F]*\)".*/\1/')
[ ${#key} -eq 64 ] && ok "-v: SESS_KEY known to the server" || fail "-v: SESS_KEY from the server log ('$key')"
check "-v: the exchange is shown" sh -c "grep -q 'LOGON/BNR15;PIN;MELD_WG;SVR_HELO;RAND_CLI;SESS_KEY;ENC_SYM' '$TMP/err' && grep -q 'ECHO:verbose' '$TMP/err'"
check "-v: the PIN never appears on stderr" sh -c "! grep -qF 'Aaaa\$900001' '$TMP/err'"
check "-v: the PIN's digits never appear either" sh -c "! grep -qF '900001' '$TMP/err'"
check "-v: the SESS_KEY hex never appears on stderr" sh -c "! grep -qiF '$key' '$TMP/err'"
check "-v: RAND_CLI never appears on stderr" sh -c "! grep -qiF '$rand' '$TMP/err'"
check "-v: masked values shown as ***" grep -q ';\*\*\*;' "$TMP/err"
