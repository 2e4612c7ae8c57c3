#!/bin/sh
# make install DESTDIR=... PREFIX=...: binary, one link per applet, samples, systemd units
# with the paths filled in.
. "$TOP/tests/lib.sh"

# MAKEVARS (from make test): the configuration under test, e.g. APPLETS="hitc".
inst() { eval make -s -C '"$TOP"' install ${MAKEVARS:-SAN="${SAN:-0}"} DESTDIR='"$TMP/root"' PREFIX=/usr SYSCONFDIR=/etc; }
inst >"$TMP/o" 2>&1; rc=$?
check "make install exits 0" [ $rc = 0 ] || cat "$TMP/o"
check "binary installed executable" [ -x "$TMP/root/usr/bin/sealbox" ]
for a in $("$SEALBOX" --list); do
	check "link $a -> sealbox" [ "$(readlink "$TMP/root/usr/bin/$a")" = sealbox ]
done
# A unit and a manual for each compiled-in applet that has one, none for the others.
units=0
for f in "$TOP"/etc/systemd/sealbox-*.service; do
	a=$(basename "$f" .service); a=${a#sealbox-}
	u="$TMP/root/usr/lib/systemd/system/sealbox-$a.service"
	if "$SEALBOX" --list | grep -qx "$a"; then
		units=$((units + 1))
		check "unit of $a installed" [ -f "$u" ]
		doc=$(sed -n 's|^Documentation=file://||p' "$u")
		check "unit of $a: Documentation= names the installed manual ($doc)" \
			sh -c "[ -n '$doc' ] && cmp -s '$TMP/root$doc' '$TOP/docs/$a.md'"
	else
		check "no unit for $a (not compiled in)" [ ! -e "$u" ]
	fi
done
for a in $("$SEALBOX" --list); do
	m=$a; case "$a" in viewer-*) m=viewer ;; esac
	check "manual of $a installed" [ -f "$TMP/root/usr/share/doc/sealbox/$m.md" ]
done
if [ "$units" -gt 0 ]; then
	check "units name the installed binary, no placeholders left" sh -c \
		"! grep -l '@BINDIR@\|@SYSCONFDIR@\|@DOCDIR@' '$TMP'/root/usr/lib/systemd/system/*.service && grep -q '/usr/bin/' '$TMP'/root/usr/lib/systemd/system/*.service"
fi
for f in "$TOP"/etc/*.ini; do
	[ -f "$f" ] || continue
	check "sample $(basename "$f") installed" cmp -s "$f" "$TMP/root/etc/sealbox/$(basename "$f")"
done
if [ -n "${DATABOX_WEB_BUILD:-}" ]; then
	check "databox's web app installed where web_root = auto finds it, with its manifest" \
		cmp -s "$DATABOX_WEB_BUILD/.well-known/databox-web.json" "$TMP/root/usr/share/sealbox/databox-web/.well-known/databox-web.json"
fi
# A second install keeps a locally edited configuration.
for f in "$TMP"/root/etc/sealbox/*.ini; do [ -f "$f" ] && echo "# local edit" >>"$f"; done
inst >/dev/null 2>&1
for f in "$TMP"/root/etc/sealbox/*.ini; do
	[ -f "$f" ] || continue
	check "reinstall keeps local edits in $(basename "$f")" grep -q '# local edit' "$f"
done
