#!/bin/sh
# viewer: the relay's HTTPS path through CONNECT proxies named by https_proxy, with TCP
# to the relay blocked: a real tinyproxy with Basic auth (its ConnectPort allows only the
# relay's HTTPS port), and lib_digest_proxy.py (Digest, checked with hashlib) - right
# credentials work, wrong ones fail with 69 and a clear message.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"

certs || { fail "viewer https proxy: test certificates"; exit 1; }
sp=$(free_port)
start_relay "https_listen = 127.0.0.1:$sp" "tls_cert = $CERTS/server.pem" "tls_key = $CERTS/server.key"
wait_port 127.0.0.1 "$sp" || { fail "tunneld https_listen"; exit 1; }
blocked=127.0.0.1:$(free_port) # nothing listens there
unset https_proxy HTTPS_PROXY http_proxy HTTP_PROXY
no_proxy= NO_PROXY=
export no_proxy NO_PROXY
R="--server $blocked --https-port $sp --http-port 0 --relay-ca $CERTS/ca.pem"

if command -v tinyproxy >/dev/null 2>&1; then
	start_tinyproxy "ConnectPort $sp" || { fail "tinyproxy did not start"; exit 1; }
	https_proxy=http://alice:s3cret@127.0.0.1:$tp
	export https_proxy
	# shellcheck disable=SC2086
	start_master $R --allow-exec --auto-approve
	unset https_proxy
	check "master: registered over HTTPS through tinyproxy and says so" \
		grep -q "path relay-https 127.0.0.1:$sp via proxy 127.0.0.1:$tp\$" "$MERR"
	# shellcheck disable=SC2086
	out=$(https_proxy=http://alice:s3cret@127.0.0.1:$tp "$SEALBOX" viewer-client $R "$SESSION" \
		exec echo via-tinyproxy 2>"$TMP/c.err"); rc=$?
	check "client: exec over HTTPS through tinyproxy (Basic)" [ "$rc" = 0 -a "$out" = via-tinyproxy ]
	check "client prints the path it uses" \
		grep -q "approved; path relay-https 127.0.0.1:$sp via proxy 127.0.0.1:$tp\$" "$TMP/c.err"
	check "tinyproxy carried it (CONNECT to the HTTPS port in its log)" grep -q "CONNECT.*$sp" "$TMP/tinyproxy.log"
	# shellcheck disable=SC2086
	https_proxy=http://alice:wrong@127.0.0.1:$tp "$SEALBOX" viewer-client $R "$SESSION" exec true \
		2>"$TMP/cw.err"; rc=$?
	check "tinyproxy, wrong password: 69, and the error says so" \
		[ "$rc" = 69 ] && grep -q "HTTPS 127.0.0.1:$sp: proxy 127.0.0.1:$tp: proxy authentication failed" "$TMP/cw.err"
else
	skip "viewer https through tinyproxy: tinyproxy not installed"
	start_master $R --allow-exec --auto-approve
fi

bg /usr/bin/python3 "$TOP/tests/integration/lib_digest_proxy.py" "$TMP/dp.port" bob 'p"w' >"$TMP/dp.log" 2>&1
wait_file "$TMP/dp.port" 5 || fail "the Digest proxy did not start"
dp=$(cat "$TMP/dp.port")
# shellcheck disable=SC2086
out=$(https_proxy=http://bob:p%22w@127.0.0.1:$dp "$SEALBOX" viewer-client $R "$SESSION" \
	exec echo via-digest 2>"$TMP/d.err"); rc=$?
check "Digest proxy: exec over HTTPS with the right credentials" holds '[ "$rc" = 0 -a "$out" = via-digest ] && grep -q "path relay-https 127.0.0.1:$sp via proxy 127.0.0.1:$dp\$" "$TMP/d.err"'
check "Digest proxy checked our answer (hashlib) and let it through" grep -q "auth ok 127.0.0.1:$sp" "$TMP/dp.log"
# shellcheck disable=SC2086
https_proxy=http://bob:wrong@127.0.0.1:$dp "$SEALBOX" viewer-client $R "$SESSION" exec true \
	2>"$TMP/dw.err"; rc=$?
check "Digest proxy, wrong password: 69, the error says authentication failed" \
	[ "$rc" = 69 ] && grep -q "proxy 127.0.0.1:$dp: proxy authentication failed (HTTP/1.1 407" "$TMP/dw.err"
check "... after exactly one answer to the challenge" [ "$(grep -c 'auth bad: wrong response' "$TMP/dp.log")" = 1 ]

bg /usr/bin/python3 "$TOP/tests/integration/lib_digest_proxy.py" "$TMP/ds.port" bob pw --sha256 --close --basic-too >"$TMP/ds.log" 2>&1
wait_file "$TMP/ds.port" 5 || fail "the SHA-256 Digest proxy did not start"
ds=$(cat "$TMP/ds.port")
# shellcheck disable=SC2086
out=$(https_proxy=http://bob:pw@127.0.0.1:$ds "$SEALBOX" viewer-client $R "$SESSION" \
	exec echo via-sha256 2>"$TMP/s.err"); rc=$?
check "Digest SHA-256 preferred over Basic; the proxy closes after its 407 (we reconnect)" \
	[ "$rc" = 0 -a "$out" = via-sha256 ] && grep -q "auth ok" "$TMP/ds.log"
finish
