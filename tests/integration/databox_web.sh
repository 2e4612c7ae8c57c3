#!/bin/sh
# databox's web app in a real browser (headless Chromium from Debian, driven by
# Playwright from the web app's pinned npm modules): the share pages for outsiders,
# the security headers, web-verify, no request leaving the origin, DRACOON's vectors
# in the browser, and bytes going browser <-> CLI. The browser trusts the test CA
# through the NSS database of its own fresh HOME (no certificate errors are ignored).
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/databox_common.inc"

W="$TOP/applets/databox/web"
web=${DATABOX_WEB_BUILD:-}
[ -n "$web" ] && [ -f "$web/.well-known/databox-web.json" ] || { skip "databox web: the web app is not built (DATABOX_WEB=0)"; exit 0; }
[ -x /usr/bin/chromium ] || { skip "databox web: /usr/bin/chromium not installed"; exit 0; }
command -v node >/dev/null && [ -d "$W/node_modules/playwright-core" ] || { skip "databox web: node or playwright-core missing"; exit 0; }
command -v certutil >/dev/null || { skip "databox web: certutil (libnss3-tools) not installed"; exit 0; }
certs
port=$(free_port)
# chunks of at most 1,000,000 bytes (no multiple of the page's 512 KiB reads nor of the
# AES block): every upload of a MB or more, the browser's included, is split as the
# server's maxChunkSize says
dbx_ini "web_root = $web" "max_chunk = 1000000"
dbx_user alice --admin; for u in bob carol dave; do dbx_user $u; done
printf 'dave key pw\n' >"$TMP/dave.key"
printf 'dave new key pw\n' >"$TMP/dave2.key"
bg "$SEALBOX" databox serve -d -c "$TMP/db.ini" 2>"$TMP/server.log"
wait_port 127.0.0.1 "$port" || { fail "databox serve listens"; exit 1; }
base="https://localhost:$port"

mkdir -p "$TMP/home-alice" "$TMP/home-bob" "$TMP/home-carol" "$TMP/home-dave"
as alice login --server "$base" --ca "$CERTS/ca.pem" --user alice --password-file "$TMP/alice.login" >/dev/null 2>&1
as bob login --server "$base" --ca "$CERTS/ca.pem" --user bob --password-file "$TMP/bob.login" >/dev/null 2>&1
printf 'alice key pw\n' >"$TMP/alice.key"
as alice keygen --iterations 1000 --key-password-file "$TMP/alice.key" >/dev/null 2>&1
as alice room create vault --encrypted >/dev/null 2>&1
as alice room add-member vault bob --role write >/dev/null 2>&1

# files shared with outsiders: an A share (forge's OAEP) and an RSA-4096 one (WebCrypto's)
head -c 3000000 /dev/urandom >"$TMP/report.bin"
printf 'PLAINTEXT-MARKER-7171' >>"$TMP/report.bin"
head -c 2900000 /dev/urandom >"$TMP/tamper.bin"
head -c 70000 /dev/urandom >"$TMP/small file ä.txt"
for f in report.bin tamper.bin "small file ä.txt"; do as alice upload "$TMP/$f" vault >/dev/null 2>&1; done
printf 'share-pass-123\n' >"$TMP/share.pw"
mk_share() { # FILE VERSION [OPTIONS...] -> the access key
	f=$1; v=$2; shift 2
	as alice share create "vault/$f" --version "$v" --iterations 1000 --key-password-file "$TMP/alice.key" \
		--share-password-file "$TMP/share.pw" "$@" 2>>"$TMP/e" | sed 's|.*/||'
}
s_a=$(mk_share report.bin A --max-downloads 1)
s_4096=$(mk_share "small file ä.txt" RSA-4096)
s_tamper=$(mk_share tamper.bin RSA-4096)
s_exp=$(mk_share report.bin A --expires 3)
u_key=$(as alice upload-share create vault --expires 2h 2>>"$TMP/e" | sed 's|.*/||')
check "the CLI made the shares (32-hex access keys)" sh -c "echo '$s_a $s_4096 $s_tamper $s_exp $u_key' | grep -Eq '^([0-9a-f]{32} ){4}[0-9a-f]{32}$' || { cat '$TMP/e'; false; }"
# the tampered blob: one bit of tamper.bin's ciphertext flipped on the server
tb=$(ls -t "$TMP/state/blobs" | sed -n 2p)
/usr/bin/python3 - "$TMP/state/blobs/$tb" <<'EOT'
import sys
p = sys.argv[1]
with open(p, 'r+b') as f:
    f.seek(1500000); b = f.read(1); f.seek(1500000); f.write(bytes([b[0] ^ 1]))
EOT
# the expired share: wait until the server says so (3 s lifetime)
i=0
while [ $i -lt 250 ] && [ "$(curl -sS --cacert "$CERTS/ca.pem" -o /dev/null -w '%{http_code}' "$base/api/v1/public/shares/downloads/$s_exp")" != 404 ]; do
	sleep 0.1; i=$((i + 1))
done
check "the 3-second share has expired on the server" [ $i -lt 250 ]

# the browser's HOME: an NSS database that trusts the test CA
mkdir -p "$TMP/browser-home/.pki/nssdb"
certutil -N -d "sql:$TMP/browser-home/.pki/nssdb" --empty-password
certutil -A -d "sql:$TMP/browser-home/.pki/nssdb" -n sealbox-test-ca -t "C,," -i "$CERTS/ca.pem"

cat >"$TMP/e2e.json" <<EOT
{ "base": "$base", "tmp": "$TMP", "certs": "$CERTS", "sealbox": "$SEALBOX", "web": "$web",
  "home": "$TMP/browser-home", "vectors": "$TOP/../shared/vectors/dracoon",
  "shares": { "a": "$s_a", "rsa4096": "$s_4096", "tamper": "$s_tamper", "expired": "$s_exp", "upload": "$u_key" } }
EOT
node "$W/test/e2e.mjs" "$TMP/e2e.json"
rc=$?
[ $rc = 0 ] || fail "the browser test script ran to its end (exit $rc)"

# the CLI prints the browser link and takes it
check "share create also prints the browser link /s/KEY" grep -q "^in a browser: $base/s/$s_4096\$" "$TMP/e"
check "upload-share create also prints the browser link /u/KEY" grep -q "^in a browser: $base/u/$u_key\$" "$TMP/e"
"$SEALBOX" databox share get "$base/s/$s_4096" "$TMP/sget.out" --ca "$CERTS/ca.pem" --share-password-file "$TMP/share.pw" >/dev/null 2>&1
check "databox share get takes a browser link /s/KEY" cmp -s "$TMP/sget.out" "$TMP/small file ä.txt"
head -c 5000 /dev/urandom >"$TMP/via-u-link.bin"
"$SEALBOX" databox upload-share put "$base/u/$u_key" "$TMP/via-u-link.bin" --ca "$CERTS/ca.pem" >/dev/null 2>&1
as alice download vault/via-u-link.bin "$TMP/via-u-link.out" --key-password-file "$TMP/alice.key" >/dev/null 2>&1
check "databox upload-share put takes a browser link /u/KEY" cmp -s "$TMP/via-u-link.bin" "$TMP/via-u-link.out"

# after the run: the server's whole state holds no plaintext and no password
check "the server's state holds no plaintext marker" sh -c "! grep -rqa PLAINTEXT-MARKER-7171 '$TMP/state'"
check "the server's state holds no share, key or login password" sh -c "! grep -rqa -e share-pass-123 -e 'alice key pw' -e 'carol key pw' -e app-share-pw-1 -e carol-login-pw '$TMP/state'"
check "web-verify: the server serves the build" sh -c "'$SEALBOX' databox web-verify '$base' --ca '$CERTS/ca.pem' --web-root '$web' >'$TMP/wv' 2>&1"
# a tampered bundle: a copy of the build with one asset changed, served by a second server
cp -r "$web" "$TMP/web2"
js=$(ls "$TMP/web2/assets/"app-*.js)
printf '\n/* injected */' >>"$js"
/usr/bin/python3 - "$TMP/web2" "$js" <<'EOT'
import hashlib, json, sys, os
root, js = sys.argv[1], sys.argv[2]
m = json.load(open(root + '/.well-known/databox-web.json'))
m['files']['/assets/' + os.path.basename(js)] = hashlib.sha256(open(js, 'rb').read()).hexdigest()
json.dump(m, open(root + '/.well-known/databox-web.json', 'w'))
EOT
port2=$(free_port)
sed "s|^listen = .*|listen = 127.0.0.1:$port2|; s|^web_root = .*|web_root = $TMP/web2|; s|^state_dir = .*|state_dir = $TMP/state2|" "$TMP/db.ini" >"$TMP/db2.ini"
bg "$SEALBOX" databox serve -d -c "$TMP/db2.ini" 2>"$TMP/server2.log"
wait_port 127.0.0.1 "$port2" || fail "second server listens"
"$SEALBOX" databox web-verify "https://localhost:$port2" --ca "$CERTS/ca.pem" --web-root "$web" >"$TMP/wv2" 2>&1; rc=$?
check "web-verify: a server with a tampered bundle (and a matching manifest) fails with 65" sh -c "[ $rc = 65 ] && grep -q 'MISMATCH /assets/app-' '$TMP/wv2' && grep -q 'does NOT serve' '$TMP/wv2'"
# web_root = auto: a binary in PREFIX/bin serves PREFIX/share/sealbox/databox-web
mkdir -p "$TMP/prefix/bin" "$TMP/prefix/share/sealbox"
cp "$SEALBOX" "$TMP/prefix/bin/sealbox" && cp -r "$web" "$TMP/prefix/share/sealbox/databox-web"
port4=$(free_port)
sed "s|^listen = .*|listen = 127.0.0.1:$port4|; s|^web_root = .*|web_root = auto|; s|^state_dir = .*|state_dir = $TMP/state4|" "$TMP/db.ini" >"$TMP/db4.ini"
bg "$TMP/prefix/bin/sealbox" databox serve -d -c "$TMP/db4.ini" 2>"$TMP/server4.log"
wait_port 127.0.0.1 "$port4" || fail "fourth server listens"
"$TMP/prefix/bin/sealbox" databox web-verify "https://localhost:$port4" --ca "$CERTS/ca.pem" >"$TMP/wv4" 2>&1; rc=$?
check "web_root = auto finds the web app next to the binary (web-verify, also auto, passes)" [ $rc = 0 ]
# a web_root whose file changed after the build: the server refuses the web app at start
cp -r "$web" "$TMP/web3" && printf x >>"$TMP/web3/sw.js"
port3=$(free_port)
sed "s|^listen = .*|listen = 127.0.0.1:$port3|; s|^web_root = .*|web_root = $TMP/web3|; s|^state_dir = .*|state_dir = $TMP/state3|" "$TMP/db.ini" >"$TMP/db3.ini"
bg "$SEALBOX" databox serve -d -c "$TMP/db3.ini" 2>"$TMP/server3.log"
wait_port 127.0.0.1 "$port3" || fail "third server listens"
code=$(curl -sS --cacert "$CERTS/ca.pem" -o /dev/null -w '%{http_code}' "https://localhost:$port3/s/$s_a")
check "a web_root file that does not match the manifest: no web app (404), the log says why" \
	sh -c "[ '$code' = 404 ] && grep -q 'sw.js does not match the SHA-256 in the manifest' '$TMP/server3.log'"
exit 0
