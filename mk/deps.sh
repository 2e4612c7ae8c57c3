#!/bin/sh
# deps.sh - install what sealbox needs to build (and, with --test, to test), and build
# a static, trimmed wolfSSL from Debian's *source* package under deps/.
#
# Why a private wolfSSL: Debian's libwolfssl is built without AES-NI (about 130 MB/s
# AES-256-GCM); the same 5.5.4 source built with the assembly options runs ~20x faster.
# The source comes only from Debian's package archive (apt-get source, through a deb-src
# entry this script adds); no third-party source is ever committed to the project.
#
# Usage: mk/deps.sh [--test] [--bench] [--system-wolfssl] [--cross PREFIX] [--musl]
#   --test   also the real peers the tests talk to (mk/test-packages.txt)
#   --bench  also the peers benchmarks compare against (mk/bench-packages.txt)
#   --wolfssl-set fast|small  which wolfSSL build (the Makefile derives it from APPLETS):
#            fast = the assembly and SP tables (any applet with TLS or bulk crypto);
#            small = portable C, generic big-integer maths (hitc alone: one RSA public-key
#            operation and a few AES blocks per session, where speed does not matter)
#   --musl   (make STATIC=1) libevent, jansson, SQLite, inih and wolfSSL built with
#            musl-gcc from Debian's source packages into deps/musl-TRIPLET/ (mk/musl-libs.sh)
# A second run with everything in place is a fast no-op (one dpkg-query, one stamp check).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
want_test=0
want_bench=0
system_wolfssl=0
cross=""
musl=0
wolfset=fast
while [ $# -gt 0 ]; do
	case "$1" in
	--test) want_test=1 ;;
	--bench) want_test=1; want_bench=1 ;;
	--system-wolfssl) system_wolfssl=1 ;;
	--cross) cross="$2"; shift ;;
	--musl) musl=1 ;;
	--wolfssl-set) wolfset="$2"; shift ;;
	*) echo "deps.sh: unknown option: $1" >&2; exit 64 ;;
	esac
	shift
done

say() { printf 'deps: %s\n' "$*" >&2; }

# Packages to build the product.
build_pkgs="gcc make pkg-config dpkg-dev autoconf automake libtool dpkg-dev libevent-dev libinih-dev
libjansson-dev libsqlite3-dev binutils"
# Static musl builds (make STATIC=1): musl-gcc, and tclsh to make SQLite's amalgamation.
# Cross builds and their test runs: Debian's cross compilers and qemu-user-static.
[ "$musl" = 1 ] && build_pkgs="$build_pkgs musl-tools musl-dev tcl"
# A musl cross build: Debian's musl-dev for the target (multiarch, Multi-Arch: same; it
# depends only on musl:ARCH and the cross gcc) installs TRIPLET-gcc, e.g.
# /usr/bin/arm-linux-musleabihf-gcc, a wrapper running the cross gcc with musl's specs.
crossarch=""
if [ -n "$cross" ]; then
	crossarch=$(dpkg-architecture -t "$(${cross}gcc -dumpmachine 2>/dev/null || echo "${cross%-}")" \
		-qDEB_HOST_ARCH 2>/dev/null || true)
	[ "$musl" = 1 ] && [ -n "$crossarch" ] && build_pkgs="$build_pkgs musl-dev:$crossarch"
fi
case "$cross" in
arm-linux-gnueabihf-) build_pkgs="$build_pkgs gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user-static" ;;
aarch64-linux-gnu-) build_pkgs="$build_pkgs gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static" ;;
mipsel-linux-gnu-) build_pkgs="$build_pkgs gcc-mipsel-linux-gnu libc6-dev-mipsel-cross qemu-user-static" ;;
esac
# Packages the test suite talks to (real peers) and the fuzz/sanitizer toolchain.
test_pkgs="openssl clang libclang-rt-14-dev python3 python3-cryptography curl socat
procps psmisc"
[ "$system_wolfssl" = 1 ] && build_pkgs="$build_pkgs libwolfssl-dev"
pkgs="$build_pkgs"
[ "$want_test" = 1 ] && pkgs="$pkgs $test_pkgs"
if [ -f "$top/mk/test-packages.txt" ] && [ "$want_test" = 1 ]; then
	pkgs="$pkgs $(grep -v '^#' "$top/mk/test-packages.txt" | tr '\n' ' ')"
fi
if [ -f "$top/mk/bench-packages.txt" ] && [ "$want_bench" = 1 ]; then
	pkgs="$pkgs $(grep -v '^#' "$top/mk/bench-packages.txt" | tr '\n' ' ')"
fi

missing=""
for p in $pkgs; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$st" in ii*) ;; *) missing="$missing $p" ;; esac
done

apt_updated=0
apt_update() {
	[ "$apt_updated" = 1 ] && return 0
	# A mirror in mid-sync (or a foreign architecture's index) can fail one list while the
	# rest is fine: warn and go on; a package that is really missing fails clearly below.
	apt-get update -q >/dev/null 2>&1 || say "warning: apt-get update reported errors; continuing with the lists it has"
	apt_updated=1
}

if [ -n "$missing" ]; then
	case "$missing" in *":$crossarch"*)
		[ "$(id -u)" = 0 ] && ! dpkg --print-foreign-architectures | grep -qx "$crossarch" &&
			{ dpkg --add-architecture "$crossarch"; apt_updated=0; } ;;
	esac
	if [ "$(id -u)" != 0 ]; then
		say "missing Debian packages:$missing"
		say "run 'make deps' as root (or: apt-get install$missing)"
		exit 69
	fi
	say "installing:$missing"
	apt_update
	# Postfix (a benchmark peer) must not configure or start a system mail service.
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || true
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing \
		>/dev/null || { say "apt-get install failed for:$missing"; exit 69; }
fi

# ---- cross builds: the target's libraries from Debian's binary packages ----
# Multiarch installs (libevent-dev:armhf ...) need the host and target package versions to
# match exactly, which a mirror does not always offer. The target's .deb files are instead
# downloaded (apt-get download, no dependency coupling) and unpacked into a private sysroot
# under deps/; only their static archives are used, so the binary needs nothing but libc
# on the device.
if [ -n "$cross" ]; then
	triplet=$(${cross}gcc -dumpmachine)
	debarch=$(dpkg-architecture -t "$triplet" -qDEB_HOST_ARCH 2>/dev/null)
	sysroot="$top/deps/sysroot-$triplet"
	if [ ! -f "$sysroot/.sealbox-stamp" ]; then
		[ "$(id -u)" = 0 ] || { say "cross sysroot: run 'make deps CROSS=$cross' as root"; exit 69; }
		dpkg --print-foreign-architectures | grep -qx "$debarch" ||
			{ dpkg --add-architecture "$debarch"; apt_updated=0; }
		apt_update
		rm -rf "$sysroot" && mkdir -p "$sysroot/debs"
		say "downloading $debarch libraries into $sysroot"
		(cd "$sysroot/debs" && apt-get download -q \
			libevent-dev:"$debarch" libinih-dev:"$debarch" libjansson-dev:"$debarch" \
			libsqlite3-dev:"$debarch" >/dev/null 2>&1) ||
			{ say "apt-get download of $debarch libraries failed"; exit 69; }
		for d in "$sysroot"/debs/*.deb; do dpkg-deb -x "$d" "$sysroot"; done
		# Static archives only: the device then needs no extra shared libraries.
		find "$sysroot/usr/lib" -name '*.so*' -delete
		touch "$sysroot/.sealbox-stamp"
	else
		touch "$sysroot/.sealbox-stamp" # checked: newer than mk/deps.sh
	fi
fi

[ "$system_wolfssl" = 1 ] && exit 0

ensure_deb_src() {
	# A deb-src entry of our own: Debian 12 images ship only 'deb' lines.
	srcs=/etc/apt/sources.list.d/sealbox-deb-src.sources
	if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ &&
	   ! grep -qs '^deb-src' /etc/apt/sources.list; then
		if [ "$(id -u)" != 0 ]; then
			say "need a deb-src entry for 'apt-get source wolfssl'; run 'make deps' as root"
			exit 69
		fi
		suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
		cat >"$srcs" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
		apt_updated=0
	fi
}

# ---- musl: the four libraries from Debian's source packages ----
cc="${cross}gcc"
arch=$(${cross}gcc -dumpmachine 2>/dev/null || echo unknown)
if [ "$musl" = 1 ]; then
	gnuarch=$arch
	arch=$(echo "$arch" | sed 's/-gnu/-musl/')
	cc=musl-gcc
	[ -n "$cross" ] && cc="$arch-gcc"
	if [ ! -f "$top/deps/musl-$arch/.sealbox-stamp" ]; then
		ensure_deb_src
		apt_update
	fi
	# (GLIBC_INIH: Debian's binary libinih.a for the target, the fallback of a mirror
	# without libinih's source; for a target, from the sysroot downloaded above)
	inih_a="/usr/lib/$gnuarch/libinih.a"
	[ -n "$cross" ] && inih_a="$top/deps/sysroot-$gnuarch/usr/lib/$gnuarch/libinih.a"
	TOP="$top" ARCH="$arch" MUSL_CC="$cc" MUSL_HOST="${cross%-}" GLIBC_INIH="$inih_a" \
		sh "$top/mk/musl-libs.sh" || exit 1
fi

# ---- wolfSSL from Debian's source package ----
common="--enable-static --disable-shared --disable-examples --disable-crypttests
--disable-benchmark --disable-oldtls --enable-tls13 --enable-sni --enable-session-ticket
--enable-keygen --enable-aesgcm --enable-aesgcm-stream --enable-aesctr --enable-pwdbased
--enable-hkdf --enable-curve25519 --enable-ecc --enable-rsapss --enable-opensslextra
--enable-harden --disable-sha3 --disable-dsa"
# SP maths (the per-size code with its tables and unrolled assembly) for RSA-2048 only:
# the private-key size on every hot path (the test and default certificates, viewer's
# per-join key, hitc's peers) and FFDHE-2048. Everything else goes through the generic
# sp_int code (with its x86-64/aarch64 inline assembly), which is constant-time too:
# - P-256: SP's fixed-base table alone is 154 KB. TLS 1.3 key exchange is X25519 (its
#   own assembly; crypto/tls.c offers it as the first key share), so P-256 is one ECDSA
#   verification or an ECDHE with a peer that has no X25519, about 1 ms each;
# - RSA-3072/4096 (about 170 KB of SP code): public-key operations (certificate
#   verification, databox's wrapping for a member's RSA-4096 key) are cheap in sp_int;
#   the private ones (a databox client's unlock) happen once per command, not per request;
# - P-384/P-521 were already left out (tables of 344 KB and 700 KB).
sp="--enable-sp=2048"
# x86-64 static musl images (the router builds) leave --enable-intelasm out: it only adds
# the AVX1/AVX2 assembly of SHA-256/512 (115 KB) and X25519 (56 KB; the C code has 128-bit
# arithmetic), ChaCha20 and Poly1305. The AVX2 AES-GCM and the BMI2/ADX RSA code are
# assembled by --enable-aesni and --enable-sp-asm anyway; SP's C selects its BMI2/ADX
# code by itself, aes.c only with USE_INTEL_SPEEDUP, so aes.c alone is compiled again
# with it after the build (aes_avx=1): AES-256-GCM as fast as with intelasm (4,000+ MB/s
# against 3,200-3,500 for the AES-NI-only code), 175 KB smaller (docs/building.md).
aes_avx=0
case "$arch" in
x86_64-*-musl) tuned="--enable-aesni $sp --enable-sp-asm"; aes_avx=1 ;;
x86_64-*) tuned="--enable-aesni --enable-intelasm $sp --enable-sp-asm" ;;
aarch64-*) tuned="--enable-armasm $sp --enable-sp-asm" ;;
*) tuned="$sp" ;;
esac
# 32-bit targets (armhf, mipsel): without SP's 3072/4096 code the generic sp_int sizes
# itself from the largest SP size, 2048 bits, and RSA-4096 fails (DRACOON containers and
# databox members use RSA-4096 keys; the unit tests caught it under qemu-arm). The 64-bit
# sp_int already covers 4096 bits. (SP_INT_BITS reaches options.h via AM_CFLAGS, so
# sealbox sees the same RsaKey.)
case "$arch" in
arm-*|armv*|mips-*|mipsel-*|i?86-*) tuned="$tuned --with-max-rsa-bits=4096" ;;
esac
# hitc alone: nothing on a hot path; the generic sp_int code instead of SP's per-size
# code and tables, no AES-NI/AVX variants (about 250 KB less, docs/building.md).
# (configure compiles the library with HAVE___UINT128_T=1 and WOLFSSL_SP_X86_64 from
# config.h and its own CFLAGS, not options.h, so sealbox would see 32-bit sp_int digits
# and a smaller RsaKey: heap overflow in wc_InitRsaKey_ex. SP_X86_64 reaches options.h
# through CPPFLAGS; HAVE___UINT128_T does not, the Makefile adds it to WOLF_CFLAGS.)
if [ "$wolfset" = small ]; then
	tuned="--enable-sp=no --enable-sp-math-all --disable-aesni --disable-intelasm"
	aes_avx=0
	case "$arch" in x86_64-*) cppflags_set="-DWOLFSSL_SP_X86_64 -DHAVE___UINT128_T=1" ;; esac
fi
# WC_RSA_NO_PADDING: hitc's raw-RSA logon scheme (see docs/hitc.md).
cppflags="-DWC_RSA_NO_PADDING -DWOLFSSL_AES_DIRECT${cppflags_set:+ $cppflags_set}"
flags=$(echo "$common $tuned CPPFLAGS=$cppflags" | tr '\n' ' ')
[ "$aes_avx" = 1 ] && flags="$flags aes.c:USE_INTEL_SPEEDUP"
suffix=""
[ "$wolfset" = small ] && suffix="-small"
prefix="$top/deps/wolfssl-$arch$suffix"
stamp="$prefix/.sealbox-stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$flags" ]; then
	touch "$stamp" # newer than mk/deps.sh: the Makefile need not ask again
	exit 0
fi

mkdir -p "$top/deps/src"
srcdir=$(ls -d "$top"/deps/src/wolfssl-*/ 2>/dev/null | head -n 1 || true)
if [ -z "$srcdir" ]; then
	ensure_deb_src
	apt_update
	say "fetching wolfSSL source from Debian's archive (apt-get source wolfssl)"
	(cd "$top/deps/src" && apt-get source -q wolfssl >/dev/null 2>&1) ||
		{ say "apt-get source wolfssl failed"; exit 69; }
	srcdir=$(ls -d "$top"/deps/src/wolfssl-*/ | head -n 1)
fi

say "building wolfSSL for $arch in deps/ (one time, a few minutes)"
builddir="$top/deps/build-$arch$suffix"
rm -rf "$builddir" "$prefix"
mkdir -p "$builddir"
(
	cd "$srcdir"
	[ -x configure ] || ./autogen.sh >/dev/null 2>&1
	cd "$builddir"
	hostopt=""
	[ -n "$cross" ] && hostopt="--host=${cross%-}"
	# shellcheck disable=SC2086
	CC="$cc" CFLAGS="-Os -fPIC -ffunction-sections -fdata-sections" \
		"$srcdir/configure" --prefix="$prefix" $hostopt $common $tuned \
		CPPFLAGS="$cppflags" >configure.log 2>&1 ||
		{ say "wolfSSL configure failed, see $builddir/configure.log"; exit 1; }
	make -j"$(nproc)" >build.log 2>&1 || { say "wolfSSL build failed, see $builddir/build.log"; exit 1; }
	if [ "$aes_avx" = 1 ]; then
		# aes.c again with the AVX1/AVX2 GCM dispatch (its assembly is already in
		# aes_gcm_asm.S); every other file keeps the flags above.
		rm -f wolfcrypt/src/src_libwolfssl_la-aes.lo wolfcrypt/src/src_libwolfssl_la-aes.o
		make CPPFLAGS="$cppflags -DUSE_INTEL_SPEEDUP" >>build.log 2>&1 &&
			nm src/.libs/libwolfssl.a 2>/dev/null | grep -q ' U AES_GCM_encrypt_avx2$' ||
			{ say "wolfSSL: aes.c with USE_INTEL_SPEEDUP failed, see $builddir/build.log"; exit 1; }
	fi
	make install >install.log 2>&1
) || exit 1
echo "$flags" >"$stamp"
say "wolfSSL installed in $prefix"
