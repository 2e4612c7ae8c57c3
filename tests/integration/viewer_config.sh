#!/bin/sh
# viewer: the [viewer] configuration file (-c FILE). With the environment clean and the
# relay's TCP port blocked, the proxy named in the file (a real tinyproxy, Basic auth,
# the password in the file) carries the client to the relay's HTTP port; the file's
# no_proxy sends it direct; the file beats the environment and the command line beats
# the file; a bad key or value fails with file:line and exit 78; a file holding a proxy
# password that every user can read is warned about; the sample etc/viewer.ini is what
# --print-config prints and passes -n.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"
unset https_proxy HTTPS_PROXY http_proxy HTTP_PROXY no_proxy NO_PROXY

# the sample and the check mode need no relay
for a in viewer-master viewer-client; do
	"$SEALBOX" $a --print-config >"$TMP/sample.ini"
	check "$a --print-config is etc/viewer.ini" cmp -s "$TMP/sample.ini" "$TOP/etc/viewer.ini"
	"$SEALBOX" $a -n -c "$TOP/etc/viewer.ini" >"$TMP/n.out" 2>&1; rc=$?
	check "$a -n accepts etc/viewer.ini" holds \
		'[ $rc = 0 ] && grep -q "configuration ok" "$TMP/n.out"'
	printf '[viewer]\nhttps_port = 443\n\nbogus_key = 1\n' >"$TMP/bad.ini"
	"$SEALBOX" $a -n -c "$TMP/bad.ini" >"$TMP/n.out" 2>&1; rc=$?
	check "$a: unknown key exits 78 naming file:line and the key" holds \
		'[ $rc = 78 ] && grep -q "$TMP/bad.ini:4: \[viewer\] bogus_key: unknown key" "$TMP/n.out"'
	printf '[viewer]\nhttp_port = 99999\n' >"$TMP/bad.ini"
	"$SEALBOX" $a -n -c "$TMP/bad.ini" >"$TMP/n.out" 2>&1; rc=$?
	check "$a: bad port exits 78 naming file:line" holds \
		'[ $rc = 78 ] && grep -q "$TMP/bad.ini:2: \[viewer\] http_port:" "$TMP/n.out"'
	"$SEALBOX" $a -n -c "$TMP/missing.ini" >"$TMP/n.out" 2>&1; rc=$?
	check "$a: missing -c file exits 78 naming it" holds \
		'[ $rc = 78 ] && grep -q "$TMP/missing.ini" "$TMP/n.out"'
done
printf '[viewer]\nserver = relay.example:4663\nhttps_proxy = socks5://u:hidden@p:1\n' >"$TMP/bad.ini"
"$SEALBOX" viewer-client -c "$TMP/bad.ini" 1 ls >"$TMP/n.out" 2>&1; rc=$?
check "a proxy URL that is not http:// exits 78 naming its line, without the password" holds \
	'[ $rc = 78 ] && grep -q "$TMP/bad.ini:3: \[viewer\] https_proxy: not a proxy URL" "$TMP/n.out" && ! grep -q hidden "$TMP/n.out"'

command -v tinyproxy >/dev/null 2>&1 || { skip "viewer config proxy: tinyproxy not installed"; exit 0; }
hport=$(free_port)
start_relay "http_listen = 127.0.0.1:$hport"
wait_port 127.0.0.1 "$hport" || { fail "tunneld http_listen"; exit 1; }
start_master --allow-exec --auto-approve
start_tinyproxy || { fail "tinyproxy did not start"; exit 1; }
blocked=127.0.0.1:$(free_port) # the relay's TCP port "blocked": nothing listens there
dead=$(free_port)

# conf FILE LINES...: a [viewer] file only its owner may read
conf() {
	f=$1; shift
	{ echo "[viewer]"; for l in "$@"; do echo "$l"; done; } >"$f"
	chmod 600 "$f"
}
conf "$TMP/px.ini" "server = $blocked" "https_port = 0" "http_port = $hport" \
	"https_proxy = http://alice:s3cret@127.0.0.1:$tp"
out=$("$SEALBOX" viewer-client -c "$TMP/px.ini" "$SESSION" exec echo via-conf 2>"$TMP/c.err"); rc=$?
check "TCP blocked, environment clean: the file's proxy (Basic auth) carries the client" holds \
	'[ "$rc" = 0 -a "$out" = via-conf ] && grep -q "path relay-http 127.0.0.1:$hport via proxy 127.0.0.1:$tp" "$TMP/c.err"'
check "tinyproxy carried it (CONNECT in its log)" grep -q "CONNECT" "$TMP/tinyproxy.log"
check "a file only its owner reads: no password warning" sh -c "! grep -q 'proxy password' '$TMP/c.err'"

conf "$TMP/np.ini" "server = $blocked" "https_port = 0" "http_port = $hport" \
	"https_proxy = http://alice:s3cret@127.0.0.1:$tp" "no_proxy = localhost,127.0.0.0/8"
out=$("$SEALBOX" viewer-client -c "$TMP/np.ini" "$SESSION" exec echo direct 2>"$TMP/np.err"); rc=$?
check "the file's no_proxy: direct HTTP upgrade, no proxy" holds \
	'[ "$rc" = 0 -a "$out" = direct ] && grep -q "path relay-http 127.0.0.1:$hport\$" "$TMP/np.err"'

out=$(https_proxy=http://alice:wrong@127.0.0.1:$tp "$SEALBOX" viewer-client -c "$TMP/px.ini" \
	"$SESSION" exec echo conf-wins 2>"$TMP/e.err"); rc=$?
check "the file's https_proxy wins over the environment's" [ "$rc" = 0 -a "$out" = conf-wins ]
conf "$TMP/none.ini" "server = $blocked" "https_port = 0" "http_port = $hport" "https_proxy = none"
out=$(https_proxy=http://127.0.0.1:$dead "$SEALBOX" viewer-client -c "$TMP/none.ini" \
	"$SESSION" exec echo none 2>"$TMP/none.err"); rc=$?
check "https_proxy = none in the file: direct although the environment names a proxy" holds \
	'[ "$rc" = 0 -a "$out" = none ] && grep -q "path relay-http 127.0.0.1:$hport\$" "$TMP/none.err"'

conf "$TMP/ov.ini" "server = $blocked" "https_port = 0" "http_port = $dead" \
	"https_proxy = http://alice:s3cret@127.0.0.1:$tp"
out=$("$SEALBOX" viewer-client -c "$TMP/ov.ini" --http-port "$hport" "$SESSION" exec echo cli-port 2>"$TMP/ov.err"); rc=$?
check "--http-port on the command line wins over the file's http_port" holds \
	'[ "$rc" = 0 -a "$out" = cli-port ] && grep -q "path relay-http 127.0.0.1:$hport via proxy" "$TMP/ov.err"'
out=$("$SEALBOX" viewer-client -c "$TMP/ov.ini" --server "$RELAY" "$SESSION" exec echo cli-server 2>"$TMP/ov2.err"); rc=$?
check "--server on the command line wins over the file's server" holds \
	'[ "$rc" = 0 -a "$out" = cli-server ] && grep -q "path relay-tcp $RELAY" "$TMP/ov2.err"'

cp "$TMP/px.ini" "$TMP/open.ini"; chmod 644 "$TMP/open.ini"
out=$("$SEALBOX" viewer-client -c "$TMP/open.ini" "$SESSION" exec echo open 2>"$TMP/open.err"); rc=$?
check "a proxy password in a file every user can read: warned about, naming the file" holds \
	'[ "$rc" = 0 -a "$out" = open ] && grep -q "warning: $TMP/open.ini holds a proxy password" "$TMP/open.err"'
check "the warning does not show the password" sh -c "! grep -q s3cret '$TMP/open.err'"

# the master reads the same file: server from it, no --server
conf "$TMP/m.ini" "server = $RELAY"
timeout 3 "$SEALBOX" viewer-master -c "$TMP/m.ini" --no-lan --auto-approve </dev/null >"$TMP/m2.out" 2>"$TMP/m2.err"
check "viewer-master takes server from the file" grep -q '^session [0-9]' "$TMP/m2.out"
finish
