#!/bin/sh
# mailgw command line: -n config check, strict config errors with file:line, the
# sample etc/mailgw.ini documents every key, usage errors, queue on an empty spool.
. "$TOP/tests/lib.sh"
certs

conf="$TMP/m.ini"
cat > "$conf" <<EOC
[mailgw]
spool = $TMP/spool
relay_domains = example.com
[listener a]
listen = 127.0.0.1:0
mode = smtp
cert = $CERTS/server.pem
key = $CERTS/server.key
EOC
out=$("$SEALBOX" mailgw -n -c "$conf" 2>&1); rc=$?
check "-n accepts a valid config" [ $rc = 0 ]
case $out in *"configuration ok"*) ok "-n says the configuration is ok" ;; *) fail "-n says the configuration is ok: $out" ;; esac

printf '[mailgw]\nspool = %s\nbogus_key = 1\n' "$TMP/s" > "$TMP/bad.ini"
out=$("$SEALBOX" mailgw -n -c "$TMP/bad.ini" 2>&1); rc=$?
check "unknown key: exit 78" [ $rc = 78 ]
case $out in *"bad.ini:3"*bogus_key*) ok "unknown key named with file:line" ;; *) fail "unknown key named with file:line: $out" ;; esac

sed 's/mode = smtp/mode = smtpx/' "$conf" > "$TMP/bad2.ini"
out=$("$SEALBOX" mailgw -n -c "$TMP/bad2.ini" 2>&1); rc=$?
check "unknown listener mode: exit 78" [ $rc = 78 ]
grep -v '^cert' "$conf" > "$TMP/bad3.ini"
out=$("$SEALBOX" mailgw -n -c "$TMP/bad3.ini" 2>&1); rc=$?
case "$rc:$out" in 78:*"cert and key are required"*) ok "listener without certificate refused" ;; *) fail "listener without certificate refused: $rc $out" ;; esac
{ cat "$conf"; printf '[delivery]\ntls_policy = example.com strong\n'; } > "$TMP/bad4.ini"
out=$("$SEALBOX" mailgw -n -c "$TMP/bad4.ini" 2>&1); rc=$?
case "$rc:$out" in 78:*"unknown level"*) ok "bad tls_policy level refused" ;; *) fail "bad tls_policy level refused: $rc $out" ;; esac
sed 's|^relay_domains = example.com|relay_domains = example.com\nrelay_clients = 10.0.0.0/33|' "$conf" > "$TMP/bad5.ini"
out=$("$SEALBOX" mailgw -n -c "$TMP/bad5.ini" 2>&1); rc=$?
case "$rc:$out" in 78:*relay_clients*) ok "bad CIDR refused" ;; *) fail "bad CIDR refused: $rc $out" ;; esac
sed "s|key = $CERTS/server.key|key = $CERTS/other-ca.key|" "$conf" > "$TMP/bad6.ini"
out=$("$SEALBOX" mailgw -n -c "$TMP/bad6.ini" 2>&1); rc=$?
check "-n loads certificates: mismatched key refused (78)" [ $rc = 78 ]

# etc/mailgw.ini documents every key the table knows
missing=""
for k in $("$SEALBOX" mailgw --print-config | sed -n 's/^#\([a-z_]*\) =.*/\1/p'); do
	grep -q "^#$k =" "$TOP/etc/mailgw.ini" || missing="$missing $k"
done
check "etc/mailgw.ini documents every key${missing:+ (missing:$missing)}" [ -z "$missing" ]
for k in listen mode cert key sni require_tls backend; do
	grep -q "^#   $k = " "$TOP/etc/mailgw.ini" || missing="$missing $k"
done
check "etc/mailgw.ini documents every listener key${missing:+ (missing:$missing)}" [ -z "$missing" ]

"$SEALBOX" mailgw -c "$conf" frobnicate >/dev/null 2>&1; rc=$?
check "unknown command: exit 64" [ $rc = 64 ]
"$SEALBOX" mailgw -c "$conf" delete >/dev/null 2>&1; rc=$?
check "delete without ID: exit 64" [ $rc = 64 ]
mkdir -p "$TMP/spool/env"
out=$("$SEALBOX" mailgw -c "$conf" queue 2>&1); rc=$?
case "$rc:$out" in 0:*"0 messages in the queue"*) ok "queue on an empty spool" ;; *) fail "queue on an empty spool: $rc $out" ;; esac
out=$("$SEALBOX" mailgw queue -c "$conf" 2>&1); rc=$?
check "queue -c FILE after the command works too" [ $rc = 0 ]
"$SEALBOX" mailgw -c "$conf" flush >/dev/null 2>&1; rc=$?
check "flush without a running daemon: exit 69" [ $rc = 69 ]
"$SEALBOX" mailgw tls-check 127.0.0.1:1 >/dev/null 2>&1; rc=$?
check "tls-check to a closed port: exit 69" [ $rc = 69 ]
