#!/bin/sh
# musl-libs.sh - (called by mk/deps.sh --musl) libevent, jansson, SQLite and inih built
# with musl-gcc from Debian's source packages into deps/musl-$ARCH/{include,lib}, static
# archives only. Each library has its own stamp (its flags), so a second run is a no-op
# and a changed option rebuilds only that library. Nothing comes from outside Debian.
set -eu
: "${TOP:?}" "${ARCH:?}"
CC=${MUSL_CC:-musl-gcc}            # TRIPLET-gcc (Debian's musl-dev:ARCH) for a target
HOST=${MUSL_HOST:-}                # configure's --host for a target
sfx=${HOST:+-$HOST}                # a target's objects beside the host's
AR=${HOST:+$HOST-}ar
GLIBC_INIH=${GLIBC_INIH:-/usr/lib/$(gcc -dumpmachine)/libinih.a}
prefix="$TOP/deps/musl-$ARCH"
src="$TOP/deps/src"
jobs=$(nproc 2>/dev/null || echo 2)
say() { printf 'deps: %s\n' "$*" >&2; }
mkdir -p "$prefix/include" "$prefix/lib" "$src"
# -Os: none of these four is on a hot path of a router image (wolfSSL is, and keeps its
# assembly); sections let --gc-sections drop what sealbox never calls.
CFLAGS_LIB="-Os -ffunction-sections -fdata-sections"

# unpack PKG: the source tree of Debian's PKG under deps/src (patches applied), on stdout.
unpack() {
	d=$(ls -d "$src/$1"-[0-9]*/ 2>/dev/null | head -n 1 || true)
	if [ -z "$d" ]; then
		dsc=$(ls "$src/$1"_*.dsc 2>/dev/null | head -n 1 || true)
		if [ -z "$dsc" ] || ! (cd "$src" && dpkg-source --no-check -x "$(basename "$dsc")" >/dev/null 2>&1); then
			(cd "$src" && apt-get source -q --download-only "$1" >/dev/null 2>&1) || return 1
			dsc=$(ls "$src/$1"_*.dsc | head -n 1)
			(cd "$src" && dpkg-source --no-check -x "$(basename "$dsc")" >/dev/null 2>&1) || return 1
		fi
		d=$(ls -d "$src/$1"-[0-9]*/ | head -n 1)
	fi
	echo "${d%/}"
}
done_already() { [ -f "$prefix/.stamp-$1" ] && [ "$(cat "$prefix/.stamp-$1")" = "$2" ]; }
mark() { echo "$2" >"$prefix/.stamp-$1"; }

# autotools NAME DEBIAN-SOURCE CONFIGURE-ARGS...: configure, make, install into $prefix.
# Debian's patches touch configure.ac, so it is regenerated first (as dh_autoreconf does).
autotools() {
	name=$1 pkg=$2; shift 2
	f="$* $CFLAGS_LIB"
	done_already "$name" "$f" && return 0
	s=$(unpack "$pkg") || { say "apt-get source $pkg failed"; exit 69; }
	say "building $name with musl-gcc"
	b="$TOP/deps/build-musl-$name${HOST:+-$HOST}"; rm -rf "$b"; mkdir -p "$b"
	[ -f "$s/.sealbox-autoreconf" ] || (cd "$s" && autoreconf -fi >/dev/null 2>&1 && touch .sealbox-autoreconf) ||
		{ say "autoreconf of $name failed"; exit 1; }
	(cd "$b" && CC=$CC CFLAGS="$CFLAGS_LIB" "$s/configure" --prefix="$prefix" ${HOST:+--host=$HOST} "$@" \
		>configure.log 2>&1 && make -j"$jobs" >build.log 2>&1 && make install >install.log 2>&1) ||
		{ say "$name (musl) failed, see $b"; exit 1; }
	mark "$name" "$f"
}
# libevent: the epoll backend, no OpenSSL glue, no samples or regression tests
autotools libevent libevent --disable-shared --enable-static --disable-openssl --disable-samples \
	--disable-libevent-regress --disable-debug-mode
autotools jansson jansson --disable-shared --enable-static

# ---- SQLite: the amalgamation made from Debian's source tree, with what databox can
# live without left out (docs/building.md lists the options and why each is safe). ----
sqlite_opts="-DSQLITE_THREADSAFE=1 -DSQLITE_DEFAULT_MEMSTATUS=0
-DSQLITE_LIKE_DOESNT_MATCH_BLOBS -DSQLITE_MAX_EXPR_DEPTH=0 -DSQLITE_OMIT_DECLTYPE
-DSQLITE_OMIT_DEPRECATED -DSQLITE_OMIT_PROGRESS_CALLBACK -DSQLITE_OMIT_SHARED_CACHE
-DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_AUTHORIZATION -DSQLITE_OMIT_COMPLETE
-DSQLITE_OMIT_GET_TABLE -DSQLITE_OMIT_TCL_VARIABLE -DSQLITE_OMIT_TRACE -DSQLITE_OMIT_UTF16
-DSQLITE_OMIT_EXPLAIN -DSQLITE_OMIT_INTROSPECTION_PRAGMAS -DSQLITE_OMIT_COMPILEOPTION_DIAGS
-DSQLITE_OMIT_DESERIALIZE -DSQLITE_OMIT_JSON -DSQLITE_UNTESTABLE -DSQLITE_DQS=0"
sqlite_opts=$(echo "$sqlite_opts" | tr '\n' ' ')
f="$sqlite_opts $CFLAGS_LIB"
if ! done_already sqlite "$f"; then
	s=$(unpack sqlite3) || { say "apt-get source sqlite3 failed"; exit 69; }
	b="$TOP/deps/build-musl-sqlite"
	if [ ! -f "$b/sqlite3.c" ]; then
		say "making SQLite's amalgamation (tclsh, host gcc)"
		rm -rf "$b"; mkdir -p "$b"
		(cd "$b" && "$s/configure" --disable-tcl >configure.log 2>&1 && make sqlite3.c >amalg.log 2>&1) ||
			{ say "SQLite amalgamation failed, see $b"; exit 1; }
	fi
	say "building SQLite with musl-gcc"
	# shellcheck disable=SC2086
	$CC $CFLAGS_LIB $sqlite_opts -c -o "$b/sqlite3$sfx.o" "$b/sqlite3.c" &&
		$AR rcs "$prefix/lib/libsqlite3.a" "$b/sqlite3$sfx.o" && cp "$b/sqlite3.h" "$prefix/include/" ||
		{ say "SQLite (musl) failed"; exit 1; }
	mark sqlite "$f"
fi

# ---- inih: one C file; Debian builds it with meson, we compile it directly ----
f="-DINI_ALLOW_MULTILINE=1 $CFLAGS_LIB"
if ! done_already inih "$f"; then
	if s=$(unpack libinih) && [ -f "$s/ini.c" ]; then # (an empty tree: a failed unpack)
		say "building inih with musl-gcc"
		# shellcheck disable=SC2086
		$CC $f -c -o "$TOP/deps/build-musl-ini$sfx.o" "$s/ini.c" &&
			$AR rcs "$prefix/lib/libinih.a" "$TOP/deps/build-musl-ini$sfx.o" && cp "$s/ini.h" "$prefix/include/" ||
			{ say "inih (musl) failed"; exit 1; }
		mark inih "$f"
	elif [ -f "$GLIBC_INIH" ] && [ -z "${SEALBOX_STRICT_SOURCES:-}" ]; then
		# The mirror of this project's build machines lacks libinih's source (404): link
		# Debian's binary libinih.a (glibc-built; it needs only fopen64, fgets, malloc...
		# and glibc's ctype table, which mk/musl-glibc-ctype.c provides). Used only then.
		say "apt-get source libinih failed; using Debian's libinih.a with a ctype shim"
		cp "$GLIBC_INIH" "$prefix/lib/libinih.a"
		cp /usr/include/ini.h "$prefix/include/"
		$CC $CFLAGS_LIB -c -o "$TOP/deps/build-musl-ctype$sfx.o" "$TOP/mk/musl-glibc-ctype.c" &&
			$AR rs "$prefix/lib/libinih.a" "$TOP/deps/build-musl-ctype$sfx.o" ||
			{ say "inih fallback (musl) failed"; exit 1; }
		mark inih "$f"
	else
		say "apt-get source libinih failed (the mirror may lack it): no musl build possible"
		exit 69
	fi
fi
touch "$prefix/.sealbox-stamp"
