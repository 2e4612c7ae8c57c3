/* http_head.c - the head of an HTTP response, as a client reads it (see http_head.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/http_head.h"

/* keeps only printable ASCII (the proxy's words end up in messages) */
static void clean_copy(char *out, size_t cap, const char *in, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && in[i] && k + 1 < cap; i++)
		out[k++] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[k] = 0;
}

int net_http_head_parse(const char *head, size_t len, struct net_http_head *h)
{
	const char *p = head, *end = head + len;
	int major, minor, first = 1;

	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[1200];
		if (n && p[n - 1] == '\r')
			n--;
		if (first) {
			clean_copy(h->status_line, sizeof(h->status_line), p, n);
			if (sscanf(h->status_line, "HTTP/%d.%d %3d", &major, &minor, &h->status) != 3 ||
			    h->status < 100 || h->status > 599)
				return -1;
			first = 0;
		} else if (n == 0) {
			break; /* the blank line */
		} else if (n < sizeof(line)) {
			const char *v;
			memcpy(line, p, n);
			line[n] = 0;
			v = strchr(line, ':');
			if (v) {
				size_t k = (size_t)(v - line);
				v++;
				while (*v == ' ' || *v == '\t')
					v++;
				if (k == 18 && strncasecmp(line, "Proxy-Authenticate", k) == 0) {
					struct net_http_challenge ch;
					if (net_http_parse_challenge(v, strlen(v), &ch) == 0 &&
					    net_http_challenge_better(&ch, &h->auth))
						h->auth = ch;
				} else if (k == 14 && strncasecmp(line, "Content-Length", k) == 0) {
					char *e;
					long long cl = strtoll(v, &e, 10);
					if (e == v || cl < 0)
						return -1;
					h->content_length = cl;
				} else if ((k == 10 && strncasecmp(line, "Connection", k) == 0) ||
					   (k == 16 && strncasecmp(line, "Proxy-Connection", k) == 0)) {
					if (strcasestr(v, "close"))
						h->conn_close = 1;
				}
			}
		} /* an over-long header line is nobody we need: skipped */
		if (!nl)
			break;
		p = nl + 1;
	}
	return first ? -1 : 0;
}
