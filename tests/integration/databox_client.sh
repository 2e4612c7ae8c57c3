#!/bin/sh
# databox's own client against databox serve on loopback HTTPS: login (config and token
# 0600 under ~/.config/databox), keygen, an encrypted room, upload (the file key is
# shared with the members at once), download by the second user, password loss and
# re-distribution, ls, a tampered blob, and the errors a user sees.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/databox_common.inc"

command -v curl >/dev/null || { skip "databox client: curl not installed"; exit 0; }
certs
port=$(free_port)
# a server taking chunks of at most 700,000 bytes (less than the client's 1 MiB default,
# no multiple of the AES block): uploads go in the chunks its maxChunkSize says
dbx_ini "max_chunk = 700000"
dbx_user alice
dbx_user bob
dbx_user carol --admin
bg "$SEALBOX" databox serve -d -c "$TMP/db.ini" 2>"$TMP/server.log"
server_pid=$last_pid
wait_port 127.0.0.1 "$port" || { fail "databox serve listens"; exit 1; }

mkdir -p "$TMP/home-alice" "$TMP/home-bob"
as alice login --server "https://localhost:$port" --ca "$CERTS/ca.pem" --user alice --password-file "$TMP/alice.login" >"$TMP/o" 2>&1
check "alice logs in" grep -q 'logged in to https://localhost' "$TMP/o"
check "config and token are 0600 under ~/.config/databox" sh -c "[ \"\$(stat -c %a '$TMP/home-alice/.config/databox/token')\" = 600 ] && [ \"\$(stat -c %a '$TMP/home-alice/.config/databox/config.json')\" = 600 ] && [ \"\$(stat -c %a '$TMP/home-alice/.config/databox')\" = 700 ]"
check "the login password is not stored" sh -c "! grep -rq alice-login-pw '$TMP/home-alice'"
as bob login --server "https://localhost:$port" --ca "$CERTS/ca.pem" --user bob --password-file "$TMP/alice.login" >"$TMP/o" 2>&1; rc=$?
check "a wrong login password: exit 77, the server's message" sh -c "[ $rc = 77 ] && grep -q 'wrong user name or password' '$TMP/o'"
as bob login --server "https://localhost:$port" --ca "$CERTS/ca.pem" --user bob --password-file "$TMP/bob.login" >/dev/null 2>&1
as bob login --server "https://localhost:$port" --user bob --password-file "$TMP/bob.login" >"$TMP/o" 2>&1; rc=$?
check "without the CA the server certificate is not trusted" sh -c "[ $rc != 0 ] && grep -qi 'verif\|certificate\|TLS' '$TMP/o'"
as bob login --server "https://localhost:$port" --ca "$CERTS/ca.pem" --user bob --password-file "$TMP/bob.login" >/dev/null 2>&1

printf 'alice key pw\n' >"$TMP/alice.key"
printf 'bob key pw\n' >"$TMP/bob.key"
as alice keygen --version A --iterations 1000 --key-password-file "$TMP/alice.key" >"$TMP/o" 2>&1
check "alice keygen stores an A key pair" grep -q 'A key pair stored' "$TMP/o"
as bob keygen --iterations 1000 --key-password-file "$TMP/bob.key" >"$TMP/o" 2>&1
check "bob keygen stores an RSA-4096 key pair" grep -q 'RSA-4096 key pair stored' "$TMP/o"

as alice room create vault --encrypted >"$TMP/o" 2>&1
check "room create --encrypted" grep -q 'room vault created.*encrypted' "$TMP/o"
as alice room add-member vault bob --role read >"$TMP/o" 2>&1
check "room add-member bob --role read" grep -q 'bob is now read in vault' "$TMP/o"
as alice room add-member vault nobody --role read >"$TMP/o" 2>&1; rc=$?
check "adding an unknown user fails with the server's message" sh -c "[ $rc != 0 ] && grep -q 'no such user: nobody' '$TMP/o'"

head -c 2500000 /dev/urandom >"$TMP/report.bin"
printf 'PLAINTEXT-MARKER-4242' >>"$TMP/report.bin"
as alice upload "$TMP/report.bin" vault >"$TMP/o" 2>&1
check "alice uploads 2.5 MB into the encrypted room" grep -q 'uploaded report.bin to vault (2500021 bytes, encrypted)' "$TMP/o"
check "the upload shared the file key with bob's key at once" grep -q 'file key shared with 1 member key' "$TMP/o"
as bob ls vault >"$TMP/o" 2>&1
check "bob lists the room" grep -q 'file   encrypted read        2500021  report.bin' "$TMP/o"
as bob download vault/report.bin "$TMP/bob.out" --key-password-file "$TMP/bob.key" >"$TMP/o" 2>&1
check "bob downloads and decrypts it byte-exact" cmp -s "$TMP/report.bin" "$TMP/bob.out"
if command -v script >/dev/null; then
	script -qec "env HOME='$TMP/home-bob' XDG_CONFIG_HOME= '$SEALBOX' databox download vault/report.bin '$TMP/tty.out' --key-password-file '$TMP/bob.key'" /dev/null >"$TMP/tty.log" 2>&1
	check "on a terminal the download shows a progress bar up to 100%" sh -c "grep -q '100%' '$TMP/tty.log' && grep -q '#####' '$TMP/tty.log' && cmp -s '$TMP/report.bin' '$TMP/tty.out'"
	grep -q '%' "$TMP/o" && fail "no progress bar when stderr is not a terminal" || ok "no progress bar when stderr is not a terminal"
else
	skip "progress bar: script(1) not installed"
fi
as bob download vault/report.bin "$TMP/bad.out" --key-password-file "$TMP/alice.key" >"$TMP/o" 2>&1; rc=$?
check "a wrong key password: exit 65, 'wrong password', no file" sh -c "[ $rc = 65 ] && grep -q 'wrong password' '$TMP/o' && [ ! -e '$TMP/bad.out' ]"
check "the server never saw the plaintext" sh -c "! grep -rq PLAINTEXT-MARKER-4242 '$TMP/state'"

# password loss: bob makes a new key pair; alice distributes again
printf 'bob new pw\n' >"$TMP/bob2.key"
as bob keypair reset --iterations 1000 --key-password-file "$TMP/bob2.key" >"$TMP/o" 2>&1
check "bob's keypair reset says members must distribute" grep -q 'distribute your file keys again' "$TMP/o"
as bob download vault/report.bin "$TMP/bob2.out" --key-password-file "$TMP/bob2.key" >"$TMP/o" 2>&1; rc=$?
check "until then bob has no file key (exit 66, says so)" sh -c "[ $rc = 66 ] && grep -q 'no file key for you yet' '$TMP/o'"
as alice distribute --key-password-file "$TMP/alice.key" >"$TMP/o" 2>&1
check "alice distributes 1 file key" grep -q 'distributed 1 file key' "$TMP/o"
as bob download vault/report.bin "$TMP/bob2.out" --key-password-file "$TMP/bob2.key" >/dev/null 2>&1
check "bob reads the file with his new key pair" cmp -s "$TMP/report.bin" "$TMP/bob2.out"

# a download share: curl fetches it, `databox crypto` and `databox share get` open it
printf 'share-pass-123\n' >"$TMP/share.pw"
as alice share create vault/report.bin --max-downloads 2 --expires 1d --version A --iterations 1000 \
	--key-password-file "$TMP/alice.key" --share-password-file "$TMP/share.pw" >"$TMP/link" 2>"$TMP/e"
link=$(cat "$TMP/link")
check "share create prints a public link" sh -c "echo '$link' | grep -q '^https://localhost:$port/api/v1/public/shares/downloads/[0-9a-f]\{32\}$'"
curl -sS -f --cacert "$CERTS/ca.pem" -o "$TMP/share.json" "$link"
curl -sS -f --cacert "$CERTS/ca.pem" -o "$TMP/share.enc" "$link/download"
/usr/bin/python3 -c 'import json,sys;d=json.load(open(sys.argv[1]));json.dump({"privateKeyContainer":d["privateKeyContainer"],"publicKeyContainer":d["publicKeyContainer"]},open(sys.argv[2],"w"));json.dump(d["fileKey"],open(sys.argv[3],"w"))' "$TMP/share.json" "$TMP/share.kp.json" "$TMP/share.efk.json"
"$SEALBOX" databox crypto decrypt-file-key --private-key "$TMP/share.kp.json" --password-file "$TMP/share.pw" --out "$TMP/share.fk.json" "$TMP/share.efk.json" 2>"$TMP/e"
"$SEALBOX" databox crypto decrypt-file --file-key "$TMP/share.fk.json" "$TMP/share.enc" "$TMP/share.out" 2>>"$TMP/e"
check "curl fetches the share (no login), databox crypto opens it with the share password" cmp -s "$TMP/report.bin" "$TMP/share.out"
"$SEALBOX" databox share get "$link" "$TMP/share2.out" --ca "$CERTS/ca.pem" --share-password-file "$TMP/alice.key" >"$TMP/o" 2>&1; rc=$?
check "share get with a wrong share password: exit 65, says so, no file" sh -c "[ $rc = 65 ] && grep -q 'wrong share password' '$TMP/o' && [ ! -e '$TMP/share2.out' ]"
"$SEALBOX" databox share get "$link" "$TMP/share2.out" --ca "$CERTS/ca.pem" --share-password-file "$TMP/share.pw" >"$TMP/o" 2>&1
check "databox share get LINK OUT (second of 2 downloads)" cmp -s "$TMP/report.bin" "$TMP/share2.out"
"$SEALBOX" databox share get "$link" "$TMP/share3.out" --ca "$CERTS/ca.pem" --share-password-file "$TMP/share.pw" >"$TMP/o" 2>&1; rc=$?
check "the download limit holds: a third fetch is refused" sh -c "[ $rc = 66 ] && grep -q 'expired or was used up' '$TMP/o' && [ ! -e '$TMP/share3.out' ]"
check "the share password is nowhere in the server's state" sh -c "! grep -rq share-pass-123 '$TMP/state'"
as alice share create vault --share-password-file "$TMP/share.pw" --key-password-file "$TMP/alice.key" >"$TMP/o" 2>&1; rc=$?
check "a share of a room is refused: only files" sh -c "[ $rc = 65 ] && grep -q 'shares are only for files' '$TMP/o'"

# listing and cancelling shares: the share's creator or a room manager; a cancelled link is dead
code() { curl -sS -o /dev/null -w '%{http_code}' --cacert "$CERTS/ca.pem" "$1"; }
as alice share create vault/report.bin --version A --iterations 1000 --key-password-file "$TMP/alice.key" \
	--share-password-file "$TMP/share.pw" >"$TMP/link_a" 2>"$TMP/e"
as bob share create vault/report.bin --version A --iterations 1000 --key-password-file "$TMP/bob2.key" \
	--share-password-file "$TMP/share.pw" >"$TMP/o" 2>&1; rc=$?
check "share create by a reader: refused, names the role it needs" sh -c "[ $rc != 0 ] && grep -q 'write or manage role' '$TMP/o'"
# publishing needs write: bob is promoted for his share, then back to read
as alice room add-member vault bob --role write >/dev/null 2>&1
as bob share create vault/report.bin --version A --iterations 1000 --key-password-file "$TMP/bob2.key" \
	--share-password-file "$TMP/share.pw" >"$TMP/link_b" 2>"$TMP/e"
as alice room add-member vault bob --role read >/dev/null 2>&1
link_a=$(cat "$TMP/link_a"); link_b=$(cat "$TMP/link_b")
as alice share ls >"$TMP/ls_a" 2>&1
id_a=$(awk -F'\t' -v l="$link_a" '$6 == l { print $1 }' "$TMP/ls_a")
id_b=$(awk -F'\t' -v l="$link_b" '$6 == l { print $1 }' "$TMP/ls_a")
check "share ls: the manager sees her share with id, file, downloads, expiry, creator and link" \
	grep -qx "$id_a	report.bin	0 downloads	expires never	by alice	$link_a" "$TMP/ls_a"
check "share ls: the manager sees the member's share in her room too" \
	grep -qx "$id_b	report.bin	0 downloads	expires never	by bob	$link_b" "$TMP/ls_a"
check "share ls: the used-up share shows its limit and expiry" \
	grep -Eq "^[0-9]+	report.bin	2/2 downloads	expires 20[0-9-]+T[0-9:]+Z	by alice	$link\$" "$TMP/ls_a"
as bob share ls >"$TMP/o" 2>&1
check "share ls: the member sees only the share he created" sh -c "[ \$(wc -l <'$TMP/o') = 1 ] && grep -q '	by bob	$link_b\$' '$TMP/o'"
as bob share rm "$id_a" >"$TMP/o" 2>&1; rc=$?
c1=$(code "$link_a")
check "share rm by a reader of someone else's share: exit 77, says who may" \
	sh -c "[ $rc = 77 ] && grep -q 'creator or a room manager' '$TMP/o' && [ $c1 = 200 ]"
as alice share rm "$id_b" >"$TMP/o" 2>&1
c1=$(code "$link_b"); c2=$(code "$link_b/download"); c3=$(code "$link_a")
check "share rm by the room manager cancels the member's share: curl gets 404" \
	sh -c "grep -q 'share $id_b cancelled' '$TMP/o' && [ $c1 = 404 ] && [ $c2 = 404 ]"
check "the other share still works" [ "$c3" = 200 ]
as alice share rm "$id_a" >"$TMP/o" 2>&1
c1=$(code "$link_a"); c2=$(code "$link_a/download")
check "share rm by its creator: curl gets 404 for the link and the download" \
	sh -c "grep -q 'share $id_a cancelled' '$TMP/o' && [ $c1 = 404 ] && [ $c2 = 404 ]"
"$SEALBOX" databox share get "$link_a" "$TMP/share4.out" --ca "$CERTS/ca.pem" --share-password-file "$TMP/share.pw" >"$TMP/o" 2>&1; rc=$?
check "share get of a cancelled share: exit 66, no file" sh -c "[ $rc = 66 ] && [ ! -e '$TMP/share4.out' ]"
as alice share rm "$id_a" >"$TMP/o" 2>&1; rc=$?
check "share rm of a cancelled share: exit 66, no such share" sh -c "[ $rc = 66 ] && grep -q 'no such share' '$TMP/o'"
as alice share ls >"$TMP/o" 2>&1
check "share ls no longer lists cancelled shares" sh -c "! grep -q '$link_a\|$link_b' '$TMP/o'"
as alice share rm abc >"$TMP/o" 2>&1; rc=$?
check "share rm with a bad id: exit 64" [ $rc = 64 ]

# the room rescue key: every member loses the key password, the manager recovers
printf 'rescue-pass-1\n' >"$TMP/rescue.pw"
as alice rescue set-room vault --version A --iterations 1000 --rescue-password-file "$TMP/rescue.pw" \
	--key-password-file "$TMP/alice.key" >"$TMP/o" 2>&1
check "rescue set-room stores the room rescue key and wraps the existing file for it" \
	sh -c "grep -q 'room rescue key set for vault' '$TMP/o' && grep -q 'distributed 1 file key' '$TMP/o'"
printf 'alice new pw\n' >"$TMP/alice2.key"
printf 'bob third pw\n' >"$TMP/bob3.key"
as alice keypair reset --version A --iterations 1000 --key-password-file "$TMP/alice2.key" >/dev/null 2>&1
as bob keypair reset --iterations 1000 --key-password-file "$TMP/bob3.key" >/dev/null 2>&1
as alice distribute --key-password-file "$TMP/alice2.key" >"$TMP/o" 2>&1
check "after both resets no member can serve a key" grep -q 'distributed 0 file keys' "$TMP/o"
as bob rescue distribute vault --rescue-password-file "$TMP/rescue.pw" >"$TMP/o" 2>&1; rc=$?
check "a reader cannot use the room rescue key: exit 77" sh -c "[ $rc = 77 ] && grep -q 'only a room manager' '$TMP/o'"
as alice rescue distribute vault --rescue-password-file "$TMP/share.pw" >"$TMP/o" 2>&1; rc=$?
check "rescue distribute with a wrong rescue password: exit 65" sh -c "[ $rc = 65 ] && grep -q 'wrong rescue password' '$TMP/o'"
as alice rescue distribute vault --rescue-password-file "$TMP/rescue.pw" >"$TMP/o" 2>&1
check "rescue distribute serves both members' new keys" grep -q 'distributed 2 file keys with the room rescue key' "$TMP/o"
as alice download vault/report.bin "$TMP/a3.out" --key-password-file "$TMP/alice2.key" >/dev/null 2>&1
as bob download vault/report.bin "$TMP/b3.out" --key-password-file "$TMP/bob3.key" >/dev/null 2>&1
check "after recovery both read the file again" sh -c "cmp -s '$TMP/report.bin' '$TMP/a3.out' && cmp -s '$TMP/report.bin' '$TMP/b3.out'"
check "the rescue password is nowhere in the server's state" sh -c "! grep -rq rescue-pass-1 '$TMP/state'"

# a tampered blob on the server: the download fails and leaves nothing behind
blob=$(ls "$TMP/state/blobs" | head -1)
/usr/bin/python3 -c 'import sys;f=open(sys.argv[1],"r+b");f.seek(1000);b=f.read(1);f.seek(1000);f.write(bytes([b[0]^1]))' "$TMP/state/blobs/$blob"
mkdir "$TMP/dl"
as bob download vault/report.bin "$TMP/dl/x" --key-password-file "$TMP/bob3.key" >"$TMP/o" 2>&1; rc=$?
check "a tampered blob: exit 65, tag mismatch, no output or temporary file" sh -c "[ $rc = 65 ] && grep -q 'GCM tag mismatch' '$TMP/o' && [ -z \"\$(ls -A '$TMP/dl')\" ]"

as alice upload "$TMP/nothere" vault >"$TMP/o" 2>&1; rc=$?
check "upload of a missing file: exit 66" [ $rc = 66 ]
as alice upload "$TMP/report.bin" novault >"$TMP/o" 2>&1; rc=$?
check "upload into a missing room: exit 66, names it" sh -c "[ $rc = 66 ] && grep -q 'novault: not found' '$TMP/o'"
env HOME="$TMP/nobody" "$SEALBOX" databox ls >"$TMP/o" 2>&1; rc=$?
check "ls before login: exit 78, says to log in" sh -c "[ $rc = 78 ] && grep -q 'databox login' '$TMP/o'"

# an upload share: someone without an account puts a file into the encrypted room
as alice upload-share create vault --max-uploads 1 --expires 2h >"$TMP/ulink" 2>"$TMP/e"
ulink=$(cat "$TMP/ulink")
check "upload-share create prints a public link" sh -c "echo '$ulink' | grep -q '/api/v1/public/shares/uploads/[0-9a-f]\{32\}$'"
curl -sS --cacert "$CERTS/ca.pem" "$ulink" >"$TMP/uinfo.json"
check "curl sees the keys to wrap for: the manager and the room rescue key (not the reader)" \
	/usr/bin/python3 -c 'import json,sys;d=json.load(open(sys.argv[1]));sys.exit(len(d["userUserPublicKeyList"]["items"])!=2 or not d["isEncrypted"])' "$TMP/uinfo.json"
head -c 1500000 /dev/urandom >"$TMP/ext.bin"
env HOME="$TMP/nobody" "$SEALBOX" databox upload-share put "$ulink" "$TMP/ext.bin" --ca "$CERTS/ca.pem" >"$TMP/o" 2>&1
check "upload-share put without an account" grep -q 'uploaded ext.bin (1500000 bytes, encrypted for 2 keys)' "$TMP/o"
env HOME="$TMP/nobody" "$SEALBOX" databox upload-share put "$ulink" "$TMP/ext.bin" --ca "$CERTS/ca.pem" >"$TMP/o" 2>&1; rc=$?
check "the upload limit holds: a second put is refused" sh -c "[ $rc = 66 ] && grep -q 'used up' '$TMP/o'"
as alice upload-share create vault --expires 2h >"$TMP/ulink2" 2>"$TMP/e"
ulink2=$(cat "$TMP/ulink2")
as alice upload-share ls >"$TMP/o" 2>&1
uid1=$(awk -F'\t' -v l="$ulink" '$6 == l { print $1 }' "$TMP/o")
uid2=$(awk -F'\t' -v l="$ulink2" '$6 == l { print $1 }' "$TMP/o")
check "upload-share ls: both upload shares with uploads, limit and expiry" sh -c \
	"grep -Eq '^$uid1	vault	1/1 uploads	expires 20[0-9-]+T[0-9:]+Z	by alice	$ulink\$' '$TMP/o' && grep -Eq '^$uid2	vault	0 uploads	expires 20' '$TMP/o'"
as bob upload-share rm "$uid2" >"$TMP/o" 2>&1; rc=$?
c1=$(code "$ulink2")
check "upload-share rm by a reader: exit 77" sh -c "[ $rc = 77 ] && grep -q 'creator or a room manager' '$TMP/o' && [ $c1 = 200 ]"
as alice upload-share rm "$uid2" >"$TMP/o" 2>&1
c1=$(code "$ulink2")
check "upload-share rm: the link answers 404" sh -c "grep -q 'upload-share $uid2 cancelled' '$TMP/o' && [ $c1 = 404 ]"
env HOME="$TMP/nobody" "$SEALBOX" databox upload-share put "$ulink2" "$TMP/ext.bin" --ca "$CERTS/ca.pem" >"$TMP/o" 2>&1; rc=$?
check "upload-share put into a cancelled upload share: exit 66" [ $rc = 66 ]
as alice download vault/ext.bin "$TMP/ext.out" --key-password-file "$TMP/alice2.key" >/dev/null 2>&1
check "the manager downloads and decrypts the shared-in file" cmp -s "$TMP/ext.bin" "$TMP/ext.out"
as alice distribute --key-password-file "$TMP/alice2.key" >"$TMP/o" 2>&1
as bob download vault/ext.bin "$TMP/ext2.out" --key-password-file "$TMP/bob3.key" >/dev/null 2>&1
check "after distribute the reader reads it too" cmp -s "$TMP/ext.bin" "$TMP/ext2.out"
as alice room create open-room >/dev/null 2>&1
as alice upload-share create open-room >"$TMP/o" 2>&1; rc=$?
check "an upload share into an unencrypted room is refused" sh -c "[ $rc = 65 ] && grep -q 'upload shares are for encrypted rooms' '$TMP/o'"

# the system rescue key: set by an administrator, it reads every encrypted room
mkdir -p "$TMP/home-carol"
printf 'carol key pw\n' >"$TMP/carol.key"
printf 'system-rescue-9\n' >"$TMP/sys.pw"
as carol login --server "https://localhost:$port" --ca "$CERTS/ca.pem" --user carol --password-file "$TMP/carol.login" >/dev/null 2>&1
as carol keygen --version A --iterations 1000 --key-password-file "$TMP/carol.key" >/dev/null 2>&1
as bob rescue set-system --version A --iterations 1000 --rescue-password-file "$TMP/sys.pw" --key-password-file "$TMP/bob3.key" >"$TMP/o" 2>&1; rc=$?
check "only an administrator may set the system rescue key: exit 77" sh -c "[ $rc = 77 ] && grep -q 'only an administrator' '$TMP/o'"
as carol rescue set-system --version A --iterations 1000 --rescue-password-file "$TMP/sys.pw" --key-password-file "$TMP/carol.key" >"$TMP/o" 2>&1
check "the administrator sets the system rescue key" grep -q 'system rescue key set' "$TMP/o"
as alice distribute --key-password-file "$TMP/alice2.key" >"$TMP/o" 2>&1
check "alice wraps the room's files for the system rescue key" grep -q 'distributed 2 file keys' "$TMP/o"
printf 'alice pw four\n' >"$TMP/alice4.key"
as alice keypair reset --version A --iterations 1000 --key-password-file "$TMP/alice4.key" >/dev/null 2>&1
as carol rescue distribute --rescue-password-file "$TMP/sys.pw" >"$TMP/o" 2>&1
check "rescue distribute with the system key serves alice's new key" grep -q 'distributed 2 file keys with the system rescue key' "$TMP/o"
as alice download vault/ext.bin "$TMP/ext4.out" --key-password-file "$TMP/alice4.key" >/dev/null 2>&1
check "alice reads again after recovery through the system rescue key" cmp -s "$TMP/ext.bin" "$TMP/ext4.out"
check "the system rescue password is nowhere in the server's state" sh -c "! grep -rq system-rescue-9 '$TMP/state'"

# SIGHUP reloads: a broken file keeps the server running; a good one applies
printf '[databox]\nbogus = 1\n' >"$TMP/broken.ini"
cp "$TMP/db.ini" "$TMP/db.ini.good"
cp "$TMP/broken.ini" "$TMP/db.ini"
kill -HUP "$server_pid"; wait_log "$TMP/server.log" 'keeping the running configuration'
cp "$TMP/db.ini.good" "$TMP/db.ini"
as alice ls >"$TMP/o" 2>&1; rc=$?
check "SIGHUP with a broken file: the server keeps serving, logs why" sh -c "[ $rc = 0 ] && grep -q 'keeping the running configuration' '$TMP/server.log'"
kill -HUP "$server_pid"; wait_log "$TMP/server.log" 'reloaded'
check "SIGHUP with a good file reloads" grep -q 'reloaded' "$TMP/server.log"

kill "$server_pid"
check "the server stops on SIGTERM" wait_gone "$server_pid" 5
san_check "the server logged no sanitizer report" "$TMP/server.log"
