#!/bin/sh
# lint-layers.sh - fails the build when a file breaks the layering (ARCHITECTURE.md: data
# flows applet -> net, crypto, core):
#  - only crypto/ includes wolfSSL, only net/ includes libevent;
#  - one I/O model: only net/ makes sockets or waits for descriptors (poll, select,
#    epoll_wait, socket, bind, listen, accept, connect). Everything else waits on
#    net/'s loop: net/conn.h connections, net/watch.h for a pipe, pty or stdin,
#    net/fdsock.h for a socket an applet keeps as a descriptor.
# Tests, benchmarks and the build's deps/ folder may do either.
# LINT_ROOT=DIR lints another tree (tests/sh/lint_layers.sh plants violations there).
cd "${LINT_ROOT:-$(dirname "$0")/..}" || exit 1
bad=0
# a call, not a member (a->bind(), wolfSSL_connect(), .select())
io_calls='(^|[^A-Za-z0-9_.>])(poll|ppoll|select|pselect|epoll_wait|epoll_pwait|socket|bind|listen|accept|accept4|connect)[[:space:]]*\('
for f in $(git ls-files -co --exclude-standard -- '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]'); do
	f=${f#./}
	case "$f" in tests/*|bench/*|deps/*|build/*) continue ;; esac
	if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](wolfssl|cyassl)/' "$f"; then
		case "$f" in crypto/*) ;; *) echo "layering: $f includes wolfSSL (only crypto/ may)" >&2; bad=1 ;; esac
	fi
	if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]event2?/' "$f"; then
		case "$f" in net/*) ;; *) echo "layering: $f includes libevent (only net/ may)" >&2; bad=1 ;; esac
	fi
	if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(\.\./)*applets/' "$f"; then
		case "$f" in applets/*|main.c) ;; *) echo "layering: $f includes an applet header" >&2; bad=1 ;; esac
	fi
	case "$f" in net/*) ;; *)
		# comments stripped (line numbers kept): prose may name the calls
		hits=$(sed -e 's,/\*.*\*/,,g' -e 's,//.*,,' "$f" | grep -nE "$io_calls" |
			grep -vE '^[0-9]+:[[:space:]]*(/\*|\*)')
		if [ -n "$hits" ]; then
			printf '%s\n' "$hits" | while IFS= read -r h; do
				call=$(printf '%s' "${h#*:}" | grep -oE "$io_calls" | head -n 1 | sed 's/^[^a-z]*//; s/[[:space:]]*($//')
				echo "layering: $f:${h%%:*}: $call() outside net/ (one I/O model: use net/ - conn.h, watch.h, fdsock.h)" >&2
			done
			bad=1
		fi ;;
	esac
done
exit $bad
