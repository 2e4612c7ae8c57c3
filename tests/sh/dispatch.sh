#!/bin/sh
# CLI behaviour of the multi-call binary: dispatch by name, --list, --install, --version,
# --help, unknown applets (127) and bad options (64).
. "$TOP/tests/lib.sh"

out=$("$SEALBOX" --list); rc=$?
check "--list exits 0" [ $rc = 0 ]
# What make compiled in (APPLETS from make test; viewer = viewer-client + viewer-master).
want=""
for a in ${APPLETS:-databox hitc mailgw tunneld viewer}; do
	case "$a" in viewer) want="$want viewer-client viewer-master" ;; *) want="$want $a" ;; esac
done
for a in $want; do
	check "--list names $a" sh -c "printf '%s\n' \"\$1\" | grep -qx $a" _ "$out"
done
check "--list names nothing else ($(echo $want))" [ "$(echo $out)" = "$(echo $want | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" ]
first=$(echo "$out" | head -n 1)
last=$(echo "$out" | tail -n 1)

v=$("$SEALBOX" --version)
check "--version names sealbox and wolfSSL" sh -c "printf '%s' \"\$1\" | grep -q '^sealbox [0-9]' && printf '%s' \"\$1\" | grep -qi 'wolfssl [0-9]'" _ "$v"
check "--version lists features" sh -c "printf '%s' \"\$1\" | grep -q '^features: '" _ "$v"

"$SEALBOX" --help >"$TMP/help" 2>&1
check "--help exits 0 and lists applets" grep -q "$first" "$TMP/help"

"$SEALBOX" nosuch >"$TMP/o" 2>"$TMP/e"; rc=$?
check "unknown applet exits 127" [ $rc = 127 ]
check "unknown applet says 'nosuch: applet not found'" grep -qx 'nosuch: applet not found' "$TMP/e"

ln -s "$SEALBOX" "$TMP/frobnicate"
"$TMP/frobnicate" >/dev/null 2>"$TMP/e"; rc=$?
check "unknown name via link exits 127" [ $rc = 127 ]
check "unknown name via link is named" grep -qx 'frobnicate: applet not found' "$TMP/e"

"$SEALBOX" --bogus >/dev/null 2>"$TMP/e"; rc=$?
check "bad option exits 64 with usage on stderr" sh -c "[ $rc = 64 ] && grep -q Usage '$TMP/e'"

"$SEALBOX" >/dev/null 2>"$TMP/e"; rc=$?
check "no arguments exits 64" [ $rc = 64 ]

# Dispatch by argv[0]: a link named after the applet runs it (help goes to stdout, 0).
ln -s "$SEALBOX" "$TMP/$first"
"$TMP/$first" --help >"$TMP/o" 2>&1; rc=$?
check "link named $first runs $first --help" sh -c "[ $rc = 0 ] && grep -q 'Usage: $first' '$TMP/o'"
"$SEALBOX" "$first" --help >"$TMP/o2" 2>&1
check "'sealbox $first --help' equals the link's output" cmp -s "$TMP/o" "$TMP/o2"

for a in $out; do
	"$SEALBOX" "$a" --help >"$TMP/o" 2>&1; rc=$?
	check "$a --help exits 0 with usage" sh -c "[ $rc = 0 ] && grep -q 'Usage' '$TMP/o'"
done

# --install: one link per applet, pointing at the real binary; existing files kept.
mkdir "$TMP/bin"
echo keep >"$TMP/bin/$first"
"$SEALBOX" --install -s "$TMP/bin" >"$TMP/o" 2>"$TMP/e"; rc=$?
check "--install -s exits 0" [ $rc = 0 ]
check "--install kept an existing file" grep -qx keep "$TMP/bin/$first"
check "--install said it skipped it" grep -q "$first exists, skipped" "$TMP/e"
real=$(readlink -f "$SEALBOX")
mkdir "$TMP/sym"
"$SEALBOX" --install -s "$TMP/sym" >/dev/null 2>&1
check "--install -s made symlinks to the binary" sh -c "[ \"\$(readlink -f '$TMP/sym/$last')\" = '$real' ]"
"$TMP/sym/$last" --help >"$TMP/o" 2>&1
check "an installed link dispatches" grep -q "Usage: $last" "$TMP/o"
mkdir "$TMP/hard"
"$SEALBOX" --install "$TMP/hard" >/dev/null 2>&1
check "--install (hard links) made a link per applet" sh -c "[ \$(ls '$TMP/hard' | wc -l) = $(echo "$out" | wc -l) ] && [ '$TMP/hard/$last' -ef '$real' ]"
"$SEALBOX" --install "$TMP/nonexistent/dir" >/dev/null 2>"$TMP/e"; rc=$?
check "--install into a missing directory fails clearly" sh -c "[ $rc != 0 ] && grep -q 'cannot create' '$TMP/e'"
"$SEALBOX" --install >/dev/null 2>&1; rc=$?
check "--install without DIR exits 64" [ $rc = 64 ]
