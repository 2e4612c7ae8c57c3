#!/bin/sh
# viewer: the relay's HTTPS path. tunneld's TCP port is "blocked" (--server points at a
# port where nothing listens), so both ends fall back to its HTTPS listener (TLS, then the
# HTTP Upgrade), checking its certificate against the test CA; both say so. A wrong CA is
# refused with a certificate error (69); --relay-insecure goes on with a warning; no_proxy
# sends the HTTPS path direct; when every path fails the error lists each reason.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"

certs || { fail "viewer https: test certificates"; exit 1; }
sp=$(free_port)
start_relay "https_listen = 127.0.0.1:$sp" "tls_cert = $CERTS/server.pem" "tls_key = $CERTS/server.key"
wait_port 127.0.0.1 "$sp" || { fail "tunneld https_listen"; exit 1; }
blocked=127.0.0.1:$(free_port) # nothing listens there
unset https_proxy HTTPS_PROXY http_proxy HTTP_PROXY no_proxy NO_PROXY

start_master --server "$blocked" --https-port "$sp" --http-port 0 --relay-ca "$CERTS/ca.pem" --allow-exec --auto-approve
check "master: TCP blocked, registered over HTTPS and says so" \
	grep -q "path relay-https 127.0.0.1:$sp\$" "$MERR"

vh() { "$SEALBOX" viewer-client --server "$blocked" --https-port "$sp" --http-port 0 "$@"; }
out=$(vh --relay-ca "$CERTS/ca.pem" "$SESSION" exec sh -c 'echo via-https; head -c 3000000 /dev/zero | wc -c' 2>"$TMP/c.err"); rc=$?
check "client: exec over the HTTPS path (3 MB of output through TLS)" \
	[ "$rc" = 0 -a "$out" = "via-https
3000000" ]
check "client prints the path it uses" grep -q "approved; path relay-https 127.0.0.1:$sp\$" "$TMP/c.err"
check "tunneld saw master and client on its HTTPS path" \
	sh -c "grep -q 'start master=.*path=https' '$RELAY_LOG' && grep -q 'join id=.*path=https' '$RELAY_LOG'"

printf 'stdin-through-tls\n' | vh --relay-ca "$CERTS/ca.pem" "$SESSION" exec cat >"$TMP/cat.out" 2>"$TMP/cat.err"
check "client: stdin travels up the HTTPS path too" grep -qx "stdin-through-tls" "$TMP/cat.out"

vh --relay-ca "$CERTS/other-ca.pem" "$SESSION" exec echo no 2>"$TMP/ca.err" >"$TMP/ca.out"; rc=$?
check "wrong CA: refused (69) with a certificate error" \
	[ "$rc" = 69 -a ! -s "$TMP/ca.out" ] && grep -q "HTTPS 127.0.0.1:$sp: TLS: certificate verify failed" "$TMP/ca.err"
vh "$SESSION" exec echo no 2>"$TMP/sys.err" >/dev/null; rc=$?
check "system CAs (no --relay-ca): the test CA is not trusted, 69" \
	[ "$rc" = 69 ] && grep -q "certificate verify failed" "$TMP/sys.err"

out=$(vh --relay-ca "$CERTS/other-ca.pem" --relay-insecure "$SESSION" exec echo insecure 2>"$TMP/ins.err"); rc=$?
check "--relay-insecure: goes on, warns, and the path says the certificate was not checked" \
	[ "$rc" = 0 -a "$out" = insecure ] && grep -q "warning: --relay-insecure" "$TMP/ins.err" &&
	grep -q "path relay-https 127.0.0.1:$sp (certificate not checked)" "$TMP/ins.err"

dead=$(free_port)
out=$(https_proxy=http://127.0.0.1:$dead no_proxy=localhost,127.0.0.1 vh --relay-ca "$CERTS/ca.pem" \
	"$SESSION" exec echo no-proxy 2>"$TMP/np.err"); rc=$?
check "no_proxy matches the relay: HTTPS direct, the (dead) proxy is not used" \
	[ "$rc" = 0 -a "$out" = no-proxy ] && grep -q "path relay-https 127.0.0.1:$sp\$" "$TMP/np.err"
https_proxy=http://127.0.0.1:$dead no_proxy=example.org vh --relay-ca "$CERTS/ca.pem" \
	"$SESSION" exec echo no 2>"$TMP/dp.err" >/dev/null; rc=$?
check "no_proxy does not match: the proxy is used (and, dead, named in the error)" \
	[ "$rc" = 69 ] && grep -q "proxy 127.0.0.1:$dead: cannot connect" "$TMP/dp.err"

hp=$(free_port)
"$SEALBOX" viewer-client --server "$blocked" --https-port "$(free_port)" --http-port "$hp" \
	"$SESSION" exec true 2>"$TMP/all.err"; rc=$?
check "every path fails: 69, and the error gives each step's reason" \
	[ "$rc" = 69 ] && grep -q "cannot reach the relay: TCP: cannot connect to $blocked: .*; HTTPS 127.0.0.1:[0-9]*: cannot connect.*; HTTP 127.0.0.1:$hp: cannot connect" "$TMP/all.err"
"$SEALBOX" viewer-client --server "$RELAY" --https-port 99999 "$SESSION" exec true 2>"$TMP/bad.err"; rc=$?
check "a bad --https-port is a usage error (64)" holds '[ "$rc" = 64 ] && grep -q "https-port 99999" "$TMP/bad.err"'
finish
