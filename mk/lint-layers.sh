#!/bin/sh
# lint-layers.sh - fails the build when a file outside crypto/ includes wolfSSL or a file
# outside net/ includes libevent (ARCHITECTURE.md: data flows applet -> net, crypto, core).
# Tests, benchmarks and the build's deps/ folder may include either.
cd "$(dirname "$0")/.." || exit 1
bad=0
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
done
exit $bad
