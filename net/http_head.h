/* http_head.h - one strict, bounded parser for HTTP/1.x response heads (status line and
 * headers), for every client path of net/: the databox CLI's client (httpc.c) and a
 * proxy's answer to CONNECT (proxy_conn.c). What a server sends is untrusted input:
 * the parser copies nothing unbounded, accepts one Content-Length of plain digits
 * (repeats must agree), refuses folded lines and control bytes, and tells the caller
 * whether the body is chunked, so no caller reads a body the way the server did not
 * mean it. Fuzzed by tests/fuzz/fuzz_http_head.c. */
#ifndef NET_HTTP_HEAD_H
#define NET_HTTP_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include "net/http_auth.h"

#define NET_HTTP_RESP_MAX_HEAD 16384

struct net_http_resphead {
	int minor;                /* HTTP/1.minor */
	int status;               /* 100..599 */
	char status_line[160];    /* printable ASCII copy, for messages */
	int64_t content_length;   /* -1 when absent */
	int chunked;              /* a Transfer-Encoding was sent (the body is not length-delimited) */
	int conn_close;           /* Connection/Proxy-Connection: close, or HTTP/1.0 without keep-alive */
	struct net_http_challenge auth; /* the best Proxy-Authenticate we can answer; scheme NONE if none */
};

/* buf[0..len): the start of what the server sent after the request. Returns the length
 * of a complete head (through its empty line), 0 when more bytes are needed (only while
 * len < NET_HTTP_RESP_MAX_HEAD), -1 when it is malformed or too large. */
long net_http_resphead_parse(const char *buf, size_t len, struct net_http_resphead *h);
/* The next line of a head in buf[*pos, len): 1 with [*line, *line + *n) (no CR LF) and
 * *pos past it, 0 when no line end is there yet, -1 on a control byte (TAB aside) or DEL
 * in the line. Both head parsers (response and request) split their lines with it. */
int net_http_head_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *n);
/* 1 when c may be part of a header name (RFC 9110 tchar); the request parser uses it too. */
int net_http_tchar(unsigned char c);
#endif
