#!/bin/sh
# databox serve's configuration: TLS is required unless plain HTTP is asked for on a
# loopback address; errors name the file and exit 78.
. "$TOP/tests/lib.sh"

printf '[databox]\nlisten = 0.0.0.0:8443\nplain_http = yes\nstate_dir = %s/s\n' "$TMP" >"$TMP/a.ini"
"$SEALBOX" databox serve -n -c "$TMP/a.ini" >"$TMP/o" 2>&1; rc=$?
check "plain HTTP on a public address is refused: exit 78, says why" sh -c "[ $rc = 78 ] && grep -q 'plain_http is only allowed on a loopback listen address' '$TMP/o'"
printf '[databox]\nlisten = 127.0.0.1:8443\nstate_dir = %s/s\n' "$TMP" >"$TMP/b.ini"
"$SEALBOX" databox serve -n -c "$TMP/b.ini" >"$TMP/o" 2>&1; rc=$?
check "no TLS certificate and no plain_http: exit 78, names the keys" sh -c "[ $rc = 78 ] && grep -q 'tls_cert and tls_key are required' '$TMP/o'"
printf '[databox]\nlisten = 127.0.0.1:8443\ntls_cert = %s/none.pem\ntls_key = %s/none.key\n' "$TMP" "$TMP" >"$TMP/c.ini"
"$SEALBOX" databox serve -n -c "$TMP/c.ini" >"$TMP/o" 2>&1; rc=$?
check "a missing certificate file: exit 78, names it" sh -c "[ $rc = 78 ] && grep -q 'none.pem' '$TMP/o'"
printf '[databox]\nlisten = 127.0.0.1:8443\nplain_http = yes\nlog_level = loud\n' >"$TMP/d.ini"
"$SEALBOX" databox serve -n -c "$TMP/d.ini" >"$TMP/o" 2>&1; rc=$?
check "an unknown log_level: exit 78" sh -c "[ $rc = 78 ] && grep -q 'log_level' '$TMP/o'"
"$SEALBOX" databox serve -n -c "$TOP/etc/databox.ini" >"$TMP/o" 2>&1; rc=$?
check "the sample etc/databox.ini is valid" [ $rc = 0 ]
