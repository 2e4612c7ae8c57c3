/* http_head.h - the head of an HTTP response (status line and the headers a client
 * needs), as the viewer's relay upgrade reads it. */
#ifndef NET_HTTP_HEAD_H
#define NET_HTTP_HEAD_H

#include <stddef.h>

#include "net/http_auth.h"

/* What the head of an HTTP response says (a parser of untrusted input: fuzzed by
 * tests/fuzz/fuzz_http_head.c). */
struct net_http_head {
	int status;
	char status_line[160];   /* printable ASCII only, for messages */
	long long content_length; /* -1: none */
	int conn_close;          /* "Connection: close" / "Proxy-Connection: close" */
	struct net_http_challenge auth; /* the best Proxy-Authenticate challenge we can
	                                   answer (scheme NET_AUTH_NONE: none) */
};
/* Parses head (status line and header lines up to the blank line, len bytes). 0 or -1. */
int net_http_head_parse(const char *head, size_t len, struct net_http_head *h);
#endif
