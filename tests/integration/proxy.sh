#!/bin/sh
# proxy.sh - net_connect_via_proxy through real CONNECT proxies on loopback: tinyproxy
# with BasicAuth, and lib_digest_proxy.py (Digest MD5 / SHA-256, checked with hashlib)
# for Digest, since Debian's tinyproxy speaks only Basic. A TLS session to our echo
# server runs through each tunnel and is verified end to end.
. "$(dirname "$0")/../lib.sh"
: "${TOOLS:?run through make test}"
D=$TOOLS/tlsdrv
PY=/usr/bin/python3
certs || { fail "proxy: test certificates"; exit 1; }
C=$CERTS

bg "$D" server 127.0.0.1:0 --cert "$C/server.pem" --key "$C/server.key" >"$TMP/srv.log" 2>&1
wait_log "$TMP/srv.log" listening 5
port=$(awk '/^listening/{print $2}' "$TMP/srv.log")

via() { # via NAME PROXYURL: a verified TLS echo through the proxy
	echo "through $1" | "$D" client localhost "$port" --ca "$C/ca.pem" --verify --proxy "$2" \
		--expect "through $1" >"$TMP/$1.out" 2>&1
}

if command -v tinyproxy >/dev/null 2>&1; then
	if start_tinyproxy; then
		via basic "http://alice:s3cr%65t@127.0.0.1:$tp"
		check "proxy: tinyproxy Basic auth, TLS verified through the tunnel" \
			sh -c "grep -q 'verified=1' $TMP/basic.out && grep -q '^through basic' $TMP/basic.out"
		via basicbad "http://alice:nope@127.0.0.1:$tp"
		check "proxy: tinyproxy refuses a wrong Basic password, error names the status" \
			grep -q 'error: proxy: proxy authentication failed (HTTP/1.[01] 40[17]' "$TMP/basicbad.out"
		via noauth "http://127.0.0.1:$tp"
		check "proxy: no credentials for a proxy that wants them" \
			grep -q 'error: proxy: proxy requires authentication' "$TMP/noauth.out"
	else
		fail "proxy: tinyproxy did not start"; cat "$TMP/tinyproxy.log"
	fi
else
	skip "proxy: tinyproxy Basic auth: tinyproxy not installed (mk/test-packages.txt)"
fi

start_dp() { # start_dp NAME ARGS...: sets $dp to its port
	n=$1; shift
	bg $PY "$TOP/tests/integration/lib_digest_proxy.py" "$TMP/$n.port" "$@" >"$TMP/$n.log" 2>&1
	i=0; while [ ! -s "$TMP/$n.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	dp=$(cat "$TMP/$n.port")
}
start_dp md5 alice 'pa"ss'
via md5 "http://alice:pa%22ss@127.0.0.1:$dp"
check "proxy: Digest MD5 qop=auth (keep-alive 407), TLS through the tunnel" \
	sh -c "grep -q '^through md5' $TMP/md5.out && grep -q 'auth ok localhost:$port' $TMP/md5.log"
via md5bad "http://alice:wrong@127.0.0.1:$dp"
check "proxy: Digest with a wrong password fails after one retry" \
	sh -c "grep -q 'proxy authentication failed' $TMP/md5bad.out && [ \$(grep -c 'auth bad: wrong response' $TMP/md5.log) = 1 ]"
start_dp sha alice pw --sha256 --close --basic-too
via sha "http://alice:pw@127.0.0.1:$dp"
check "proxy: Digest SHA-256 preferred over Basic, proxy closes after 407 (reconnect)" \
	sh -c "grep -q '^through sha' $TMP/sha.out && grep -q 'auth ok' $TMP/sha.log"
# a server-first protocol: its banner arrives in the same packet as the proxy's "200"
bg "$D" server 127.0.0.1:0 --cert "$C/server.pem" --key "$C/server.key" --starttls smtp >"$TMP/smtp.log" 2>&1
wait_log "$TMP/smtp.log" listening 5
sport=$(awk '/^listening/{print $2}' "$TMP/smtp.log")
start_dp early alice pw --early
: | "$D" client localhost "$sport" --plain --proxy "http://alice:pw@127.0.0.1:$dp" \
	--expect '220 tlsdrv' >"$TMP/early.out" 2>&1
check "proxy: bytes that follow the 200 in the same packet are tunnel input" \
	grep -q '^220 tlsdrv ESMTP' "$TMP/early.out"
dead=$(free_port)
via refused "http://127.0.0.1:$dead"
check "proxy: unreachable proxy is a clear error" grep -q "error: proxy 127.0.0.1 port $dead: cannot connect" "$TMP/refused.out"

# Our processes stop cleanly on SIGTERM; under SAN=1 that is when leaks are reported.
stop_all
san_check "no sanitizer reports from tlsdrv" "$TMP"/*
