#!/bin/sh
# viewer: when the relay's TCP port is blocked (nothing listens) and its HTTPS path is
# off (--https-port 0; viewer_https*.sh test that one), the client falls back to the
# relay's HTTP Upgrade port through the proxy named by https_proxy - a real tinyproxy
# with Basic auth - and says so; http_proxy names a Digest proxy just as well; no_proxy
# sends it direct; a wrong password fails (69).
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"

command -v tinyproxy >/dev/null 2>&1 || { skip "viewer proxy fallback: tinyproxy not installed"; exit 0; }
hport=$(free_port)
start_relay "http_listen = 127.0.0.1:$hport"
wait_port 127.0.0.1 "$hport" || { fail "tunneld http_listen"; exit 1; }
start_master --allow-exec --auto-approve

start_tinyproxy || { fail "tinyproxy did not start"; exit 1; }

blocked=127.0.0.1:$(free_port) # the relay's TCP port "blocked": nothing listens there
out=$(https_proxy=http://alice:s3cret@127.0.0.1:$tp no_proxy= "$SEALBOX" viewer-client \
	--server "$blocked" --https-port 0 --http-port "$hport" "$SESSION" exec echo via-proxy 2>"$TMP/c.err"); rc=$?
check "TCP blocked: exec works through tinyproxy and the HTTP upgrade" [ "$rc" = 0 -a "$out" = via-proxy ]
check "client prints the path it uses" grep -q "path relay-http 127.0.0.1:$hport via proxy 127.0.0.1:$tp" "$TMP/c.err"
check "tinyproxy carried it (CONNECT in its log)" grep -q "CONNECT" "$TMP/tinyproxy.log"
check "tunneld saw the client on its HTTP path" grep -q "path=http" "$RELAY_LOG"

out=$(https_proxy=http://alice:s3cret@127.0.0.1:$tp no_proxy=127.0.0.1 "$SEALBOX" viewer-client \
	--server "$blocked" --https-port 0 --http-port "$hport" "$SESSION" exec echo direct 2>"$TMP/d.err"); rc=$?
check "no_proxy: direct HTTP upgrade, no proxy" holds '[ "$rc" = 0 -a "$out" = direct ] && grep -q "path relay-http 127.0.0.1:$hport\$" "$TMP/d.err"'

bg /usr/bin/python3 "$TOP/tests/integration/lib_digest_proxy.py" "$TMP/dp.port" bob pw >"$TMP/dp.log" 2>&1
wait_file "$TMP/dp.port" 5 || fail "the Digest proxy did not start"
dp=$(cat "$TMP/dp.port")
out=$(http_proxy=http://bob:pw@127.0.0.1:$dp https_proxy=http://alice:s3cret@127.0.0.1:$tp no_proxy= \
	"$SEALBOX" viewer-client --server "$blocked" --https-port 0 --http-port "$hport" "$SESSION" \
	exec echo via-digest 2>"$TMP/dg.err"); rc=$?
check "http_proxy (before https_proxy) on the HTTP path, Digest auth" holds '[ "$rc" = 0 -a "$out" = via-digest ] && grep -q "path relay-http 127.0.0.1:$hport via proxy 127.0.0.1:$dp\$" "$TMP/dg.err" && grep -q "auth ok" "$TMP/dp.log"'

# a proxy named by an IPv6 literal: the path line shows it as [::1]:PORT (net_join_hostport),
# not as the ambiguous ::1:PORT it once printed
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	bg /usr/bin/python3 "$TOP/tests/integration/lib_digest_proxy.py" "$TMP/dp6.port" bob pw --v6 >"$TMP/dp6.log" 2>&1
	wait_file "$TMP/dp6.port" 5 || fail "the IPv6 proxy did not start"
	dp6=$(cat "$TMP/dp6.port")
	out=$(http_proxy="http://bob:pw@[::1]:$dp6" no_proxy= "$SEALBOX" viewer-client --server "$blocked" \
		--https-port 0 --http-port "$hport" "$SESSION" exec echo via-v6 2>"$TMP/v6.err"); rc=$?
	check "an IPv6 proxy is shown in brackets: via proxy [::1]:$dp6" holds \
		'[ "$rc" = 0 -a "$out" = via-v6 ] && grep -q "path relay-http 127.0.0.1:$hport via proxy \[::1\]:$dp6\$" "$TMP/v6.err"'
else
	skip "IPv6 proxy shown in brackets: no IPv6 loopback here"
fi

https_proxy=http://alice:wrong@127.0.0.1:$tp no_proxy= "$SEALBOX" viewer-client \
	--server "$blocked" --https-port 0 --http-port "$hport" "$SESSION" exec true 2>"$TMP/w.err"; rc=$?
check "wrong proxy password: 69, and the error says so" holds '[ "$rc" = 69 ] && grep -q "proxy authentication failed" "$TMP/w.err"'
finish
