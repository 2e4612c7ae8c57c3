#!/bin/sh
# demo.sh - `make demo`: a whole remote-support session on loopback.
# tunneld (temporary state), a viewer-master sharing a temporary directory and exposing a
# small web server, and a viewer-client that runs `uname -a`, fetches a file and browses
# the web server through a forward. Everything it starts is stopped at the end.
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/lib.sh"
set +u

if [ -t 1 ]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
step() { printf '$ %s\n' "$*"; }

mkdir -p "$TMP/share" "$TMP/state" "$TMP/technician"
echo "Hello from the appliance's shared directory." >"$TMP/share/README.txt"
head -c 3000000 /dev/urandom >"$TMP/share/firmware.bin"
echo "<h1>appliance status page</h1>" >"$TMP/share/index.html"

rport=$(free_port) hport=$(free_port) lport=$(free_port)
say "1. the relay: tunneld on 127.0.0.1:$rport"
printf '[tunneld]\nlisten = 127.0.0.1:%s\nstate_dir = %s\n' "$rport" "$TMP/state" >"$TMP/tunneld.ini"
"$SEALBOX" tunneld -d -c "$TMP/tunneld.ini" 2>"$TMP/tunneld.log" & _pids="$_pids $!"
wait_port 127.0.0.1 "$rport" || { echo "tunneld did not start"; cat "$TMP/tunneld.log"; exit 1; }

say "2. a web service on the appliance (python3 -m http.server on 127.0.0.1:$hport)"
(cd "$TMP/share" && exec /usr/bin/python3 -m http.server -b 127.0.0.1 "$hport" >/dev/null 2>&1) &
_pids="$_pids $!"
wait_port 127.0.0.1 "$hport"

say "3. the person at the appliance starts viewer-master"
# --lan-listen on loopback: the demo shows the direct path without listening beyond
# this machine (a real appliance listens on its LAN address, the default).
step "viewer-master --server 127.0.0.1:$rport --share $TMP/share --allow-exec --expose web=127.0.0.1:$hport --lan-listen 127.0.0.1:0 --auto-approve"
"$SEALBOX" viewer-master --server 127.0.0.1:$rport --share "$TMP/share" --allow-exec \
	--expose web=127.0.0.1:$hport --lan-listen 127.0.0.1:0 --auto-approve </dev/null >"$TMP/master.out" 2>"$TMP/master.err" &
_pids="$_pids $!"
i=0
while [ $i -lt 100 ] && ! grep -q '^session ' "$TMP/master.out"; do sleep 0.05; i=$((i + 1)); done
session=$(sed -n '1s/^session //p' "$TMP/master.out")
[ -n "$session" ] || { echo "no session number"; cat "$TMP/master.err"; exit 1; }
echo "master: session $session   <- read this number to the technician"

vc() { "$SEALBOX" viewer-client --server 127.0.0.1:$rport "$session" "$@"; }

say "4. the technician runs a command"
step "viewer-client --server 127.0.0.1:$rport $session exec uname -a"
vc exec uname -a 2>"$TMP/c1.err"; rc=$?
sed 's/^/  (client) /' "$TMP/c1.err"
echo "exit code: $rc"
sas=$(sed -n 's/.*SAS \([0-9]*\).*/\1/p' "$TMP/c1.err" | head -1)
echo "SAS shown by the client: $sas; by the master: $(sed -n 's/^join .* SAS //p' "$TMP/master.out" | head -1)"

say "5. the technician fetches a file"
step "viewer-client ... get firmware.bin $TMP/technician/firmware.bin"
vc get firmware.bin "$TMP/technician/firmware.bin" 2>&1 | sed 's/^/  (client) /'
echo "sha256 on the appliance: $(sha256sum <"$TMP/share/firmware.bin" | cut -c1-16)..."
echo "sha256 at the technician: $(sha256sum <"$TMP/technician/firmware.bin" | cut -c1-16)..."

say "6. the technician opens the appliance's web page through a forward"
step "viewer-client ... forward $lport:web &   then   curl http://127.0.0.1:$lport/"
# (not through vc: $! must be the client itself, which stops on SIGINT)
"$SEALBOX" viewer-client --server 127.0.0.1:$rport "$session" forward $lport:web 2>"$TMP/fwd.err" &
fpid=$!; _pids="$_pids $fpid"
wait_port 127.0.0.1 $lport
curl -s --max-time 10 "http://127.0.0.1:$lport/index.html" | sed 's/^/  (curl) /'
kill -INT $fpid; wait $fpid
sed 's/^/  (client) /' "$TMP/fwd.err"

say "7. what the master printed"
sed 's/^/  (master) /' "$TMP/master.out"
say "8. what tunneld logged (no payload, no keys)"
sed 's/^/  (tunneld) /' "$TMP/tunneld.log" | tail -12
say "done: everything is stopped and the temporary files are removed"
