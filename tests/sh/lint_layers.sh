#!/bin/sh
# mk/lint-layers.sh itself: the real tree passes, and a planted violation of each rule
# (one I/O model above all: a socket or a wait outside net/) fails with file and line.
. "$TOP/tests/lib.sh"

sh "$TOP/mk/lint-layers.sh" 2>"$TMP/real.err"; rc=$?
check "the tree passes the layer lint" [ $rc = 0 ]

L="$TMP/tree"
mkdir -p "$L/applets/x" "$L/net" "$L/core" "$L/tests"
plant() { # FILE TEXT: a tree with that one file, linted; exit code and messages kept
	rm -rf "$L/applets/x"/* "$L/net"/* "$L/core"/* "$L/tests"/*
	printf '%s\n' "int f(void)" "{" "$2" "}" >"$L/$1"
	LINT_ROOT="$L" sh "$TOP/mk/lint-layers.sh" 2>"$TMP/lint.err"
}
for call in 'poll(&p, 1, 10);' 'socket(AF_INET, SOCK_STREAM, 0);' 'connect(fd, sa, sl);' \
	'select(n, &r, NULL, NULL, &tv);' 'accept(fd, NULL, NULL);' 'accept4(fd, NULL, NULL, 0);' \
	'bind(fd, sa, sl);' 'listen(fd, 8);' 'epoll_wait(ep, ev, 8, -1);'; do
	name=${call%%(*}
	plant applets/x/x.c "	$call"; rc=$?
	check "lint fails on $name() in an applet" [ $rc = 1 ]
	check "lint names file, line and the rule for $name()" \
		grep -q "^layering: applets/x/x.c:3: $name() outside net/ (one I/O model: use net/" "$TMP/lint.err"
done
plant core/y.c '	int fd = socket(AF_INET6, SOCK_STREAM, 0);'; rc=$?
check "lint fails on socket() in core/" [ $rc = 1 ]
plant net/z.c '	poll(&p, 1, 10); connect(fd, sa, sl);'; rc=$?
check "net/ may poll and connect" [ $rc = 0 ]
plant tests/t.c '	poll(&p, 1, 10);'; rc=$?
check "tests may poll" [ $rc = 0 ]
plant applets/x/x.c '	a->bind(&d, err); wolfSSL_connect(s); x.select(); /* poll(2) says */'; rc=$?
check "members, prefixed names and comments are not calls" [ $rc = 0 ]
plant applets/x/x.c ' * then connect() and poll() (a comment line)'; rc=$?
check "comment lines are not calls" [ $rc = 0 ]
plant applets/x/x.c '#include <event2/event.h>'; rc=$?
check "lint fails on libevent outside net/" [ $rc = 1 ]
plant core/y.c '#include <wolfssl/ssl.h>'; rc=$?
check "lint fails on wolfSSL outside crypto/" [ $rc = 1 ]
