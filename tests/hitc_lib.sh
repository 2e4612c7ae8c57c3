# hitc_lib.sh - shared by tests/integration/hitc_*.sh and bench/hitc/run (after lib.sh).
# start_hit [hit_server.py options...]: starts the HIT test server on a free port of
# 127.0.0.1 and sets HIT_PORT and HIT_PID. One RSA key per script: the first server
# generates it ($TMP/hit_key.pem), later ones reuse it. Public key files for hitc:
# $TMP/hit_pub.pem and $TMP/hit_pub.hex. Server events go to $TMP/hit.log (JSON lines).
HIT_BNR=276090000000001
HIT_PIN='Aaaa$900001'
printf '%s\n' "$HIT_PIN" >"$TMP/pin"
chmod 600 "$TMP/pin"

start_hit() {
	_pf="$TMP/hit_port.$$.$(date +%s%N)"
	if [ -f "$TMP/hit_key.pem" ]; then _k="--key"; else _k="--key-out"; fi
	: >"$TMP/hit.log"
	bg /usr/bin/python3 "$TOP/tests/hit_server.py" --port-file "$_pf" "$_k" "$TMP/hit_key.pem" \
		--pub-pem "$TMP/hit_pub.pem" --pub-hex "$TMP/hit_pub.hex" --log "$TMP/hit.log" "$@"
	HIT_PID=$last_pid
	_i=0
	while [ ! -s "$_pf" ] && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
	HIT_PORT=$(cat "$_pf" 2>/dev/null)
	[ -n "$HIT_PORT" ] || { echo "hit_server.py did not start" >&2; return 1; }
}

stop_hit() { kill "$HIT_PID" 2>/dev/null; wait "$HIT_PID" 2>/dev/null; return 0; }

# hitc_run ARGS...: hitc against the running server as the test user; stdout to
# $TMP/out, stderr to $TMP/err, exit code in $rc. stdin is inherited.
hitc_run() {
	"$SEALBOX" hitc --host 127.0.0.1 --port "$HIT_PORT" --bnr "$HIT_BNR" --pin-file "$TMP/pin" --answer-timeout 20 \
		"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

# expect_rc NAME CODE: checks $rc, shows stderr when it differs.
expect_rc() {
	if [ "$rc" = "$2" ]; then ok "$1 (exit $2)"; else fail "$1: exit $rc, want $2"; sed 's/^/    err: /' "$TMP/err" | head -20; sed 's/^/    out: /' "$TMP/out" | head -20; fi
}
# has FILE TEXT: fixed-string search.
has() { grep -qF -- "$2" "$1"; }
