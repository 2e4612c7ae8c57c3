#!/bin/sh
# Every subcommand of every compiled-in applet answers --help (and -h) with its own usage
# on stdout and exit 0, without needing a configuration, a server or a session.
. "$TOP/tests/lib.sh"

# applet: its subcommands ("a+b" is the two-word "a b"); the applet alone is covered by
# dispatch.sh. viewer-client's commands follow a SESSION number.
subs_of() {
	case "$1" in
	mailgw) echo queue flush delete tls-check ;;
	databox) echo crypto crypto+keygen crypto+encrypt-file serve admin login keygen keypair+reset room \
		ls upload download distribute share share+create share+get upload-share \
		upload-share+put rescue ;;
	viewer-client) echo 7+exec 7+ls 7+get 7+put 7+forward 7+shell 7+watch 7+drop exec get ;;
	esac
}

count=0
for a in $("$SEALBOX" --list); do
	for s in $(subs_of "$a"); do
		words=$(echo "$s" | tr + ' ')
		want=$(echo "$words" | sed 's/^7 //' | cut -d' ' -f1)
		for h in --help -h; do
			# shellcheck disable=SC2086
			"$SEALBOX" "$a" $words $h >"$TMP/o" 2>"$TMP/e" </dev/null; rc=$?
			check "$a $words $h: exit 0, its usage on stdout" \
				sh -c "[ $rc = 0 ] && grep -q '^Usage: $a .*$want' '$TMP/o'" ||
				sed 's/^/    /' "$TMP/e" "$TMP/o" | head -5
			count=$((count + 1))
		done
	done
done
[ $count -gt 0 ] || skip "subcommand --help: no compiled-in applet has subcommands"
