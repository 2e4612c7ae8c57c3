/* http_reqhead.h - a strict parser for HTTP/1.x request heads, run by net/http_conn.c
 * before evhttp sees a request: it decides the body limit (and refuses) while nothing of
 * the body has been read. It accepts only what evhttp reads the same way (one
 * Content-Length of plain digits, no Transfer-Encoding, no folded lines, no control
 * bytes), so the two can never disagree on where a request ends. */
#ifndef NET_HTTP_REQHEAD_H
#define NET_HTTP_REQHEAD_H

#include <stddef.h>
#include <stdint.h>

#define NET_HTTP_MAX_HEAD 16384

struct net_http_reqhead {
	char method[8];
	char target[4096];        /* as sent (not decoded) */
	char authorization[1024]; /* empty when absent (or too long to be a token) */
	uint64_t content_length;  /* 0 when absent */
	int minor;                /* HTTP/1.minor */
	int expect;               /* Expect: 0 absent, 1 all 100-continue, -1 anything else */
	int status;               /* on -1: the status to answer (400, 405, 414, 431, 501) */
};

/* buf[0..len): the start of a connection's input. Returns the length of a complete head
 * (through its empty line), 0 when more bytes are needed (len < NET_HTTP_MAX_HEAD), -1
 * when it must be refused (h->status says how). */
long net_http_reqhead_parse(const char *buf, size_t len, struct net_http_reqhead *h);
/* Whether the header line [p, p+n) (no line end) is an Expect header. */
int net_http_reqhead_is_expect(const char *p, size_t n);
#endif
