#!/bin/sh
# lint-layers.sh - fails the build when a file breaks the layering (ARCHITECTURE.md: data
# flows applet -> net, crypto, core):
#  - only crypto/ includes wolfSSL, only net/ includes libevent, only applets/ (and
#    main.c) include an applet header;
#  - one I/O model: only net/ makes sockets or waits for descriptors (poll, select,
#    epoll_wait, socket, bind, listen, accept, connect). Everything else waits on
#    net/'s loop: net/conn.h connections, net/watch.h for a pipe, pty or stdin,
#    net/fdsock.h for a socket an applet keeps as a descriptor.
# Tests, benchmarks and the build's deps/ folder may do either.
# LINT_ROOT=DIR lints another tree (tests/sh/lint_layers.sh plants violations there).
# One awk over all files: a process per file is minutes on a loaded machine.
cd "${LINT_ROOT:-$(dirname "$0")/..}" || exit 1
files=$( (git ls-files -co --exclude-standard -- '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]') |
	sed 's,^\./,,' | grep -vE '^(tests|bench|deps|build)/')
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086 # one file name per word: the tree has no blanks in names
awk '
function under(d) { return substr(FILENAME, 1, length(d)) == d }
function once(msg) { if (!(msg in said)) { said[msg] = 1; print "layering: " msg > "/dev/stderr" }; bad = 1 }
/^[ \t]*#[ \t]*include[ \t]*[<"](wolfssl|cyassl)\// {
	if (!under("crypto/")) once(FILENAME " includes wolfSSL (only crypto/ may)")
}
/^[ \t]*#[ \t]*include[ \t]*[<"]event2?\// {
	if (!under("net/")) once(FILENAME " includes libevent (only net/ may)")
}
/^[ \t]*#[ \t]*include[ \t]*"(\.\.\/)*applets\// {
	if (!under("applets/") && FILENAME != "main.c") once(FILENAME " includes an applet header")
}
!under("net/") {
	# comments stripped (prose may name the calls); a call, not a member (a->bind(),
	# x.select()) nor a longer name (wolfSSL_connect())
	line = $0
	gsub(/\/\*.*\*\//, "", line)
	sub(/\/\/.*/, "", line)
	if (line ~ /^[ \t]*(\/\*|\*)/)
		next
	if (match(line, /(^|[^A-Za-z0-9_.>])(poll|ppoll|select|pselect|epoll_wait|epoll_pwait|socket|bind|listen|accept|accept4|connect)[ \t]*\(/)) {
		call = substr(line, RSTART, RLENGTH)
		sub(/^[^a-z]*/, "", call)
		sub(/[ \t]*\($/, "", call)
		once(FILENAME ":" FNR ": " call "() outside net/ (one I/O model: use net/ - conn.h, watch.h, fdsock.h)")
	}
}
END { exit bad }
' $files
