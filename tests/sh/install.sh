#!/bin/sh
# make install DESTDIR=... PREFIX=...: binary, one link per applet, samples, systemd units
# with the paths filled in.
. "$TOP/tests/lib.sh"

make -s -C "$TOP" install SAN="${SAN:-0}" DESTDIR="$TMP/root" PREFIX=/usr SYSCONFDIR=/etc \
	>"$TMP/o" 2>&1; rc=$?
check "make install exits 0" [ $rc = 0 ] || cat "$TMP/o"
check "binary installed executable" [ -x "$TMP/root/usr/bin/sealbox" ]
for a in $("$SEALBOX" --list); do
	check "link $a -> sealbox" [ "$(readlink "$TMP/root/usr/bin/$a")" = sealbox ]
done
n=$(ls "$TOP"/etc/systemd/*.service 2>/dev/null | wc -l)
m=$(ls "$TMP"/root/usr/lib/systemd/system/*.service 2>/dev/null | wc -l)
check "every systemd unit installed ($n)" [ "$n" = "$m" ] && [ "$n" -ge 1 ]
check "units name the installed binary, no placeholders left" sh -c \
	"! grep -l '@BINDIR@\|@SYSCONFDIR@' '$TMP'/root/usr/lib/systemd/system/*.service && grep -q '/usr/bin/' '$TMP'/root/usr/lib/systemd/system/*.service"
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
make -s -C "$TOP" install SAN="${SAN:-0}" DESTDIR="$TMP/root" PREFIX=/usr SYSCONFDIR=/etc >/dev/null 2>&1
for f in "$TMP"/root/etc/sealbox/*.ini; do
	[ -f "$f" ] || continue
	check "reinstall keeps local edits in $(basename "$f")" grep -q '# local edit' "$f"
done
