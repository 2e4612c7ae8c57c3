/* http_reqhead.c - see http_reqhead.h. Lines end in LF with an optional CR before it,
 * as evhttp reads them (EVBUFFER_EOL_CRLF). */
#include <string.h>
#include <strings.h>

#include "net/http_head.h"
#include "net/http_reqhead.h"

static long refuse(struct net_http_reqhead *h, int status)
{
	h->status = status;
	return -1;
}

/* Copies [p, p+n) without surrounding blanks into out (cap bytes); -1 when too long. */
static int copy_trimmed(const char *p, size_t n, char *out, size_t cap)
{
	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n >= cap)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int request_line(const char *p, size_t n, struct net_http_reqhead *h)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "DELETE", "HEAD" };
	const char *sp1 = memchr(p, ' ', n), *sp2;
	size_t i;

	if (!sp1)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - p));
	if (!sp2 || sp2 == sp1 + 1 || memchr(sp2 + 1, ' ', n - (size_t)(sp2 + 1 - p)))
		return 400;
	if (n - (size_t)(sp2 + 1 - p) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return 400;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if ((size_t)(sp1 - p) == strlen(methods[i]) && memcmp(p, methods[i], (size_t)(sp1 - p)) == 0)
			break;
	if (i == sizeof(methods) / sizeof(methods[0]))
		return 405;
	h->minor = sp2[8] - '0';
	memcpy(h->method, p, (size_t)(sp1 - p));
	h->method[sp1 - p] = '\0';
	if ((size_t)(sp2 - sp1 - 1) >= sizeof(h->target))
		return 414;
	memcpy(h->target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	h->target[sp2 - sp1 - 1] = '\0';
	return 0;
}

static int header_line(const char *p, size_t n, struct net_http_reqhead *h, int *have_cl)
{
	const char *colon = memchr(p, ':', n);
	size_t name = colon ? (size_t)(colon - p) : 0;

	/* checked before the value is located: without a colon there is none (and NULL + 1
	 * is undefined) */
	if (!colon || !name)
		return 400;
	const char *v = colon + 1;
	size_t vn = n - name - 1;
	for (size_t i = 0; i < name; i++)
		if (!net_http_tchar((unsigned char)p[i]))
			return 400;
	if (name == 17 && strncasecmp(p, "transfer-encoding", 17) == 0)
		return 501;
	if (name == 14 && strncasecmp(p, "content-length", 14) == 0) {
		char num[24];
		uint64_t cl = 0;
		if (*have_cl || copy_trimmed(v, vn, num, sizeof(num)) < 0 || !num[0] || strlen(num) > 18)
			return 400;
		for (const char *d = num; *d; d++) {
			if (*d < '0' || *d > '9')
				return 400;
			cl = cl * 10 + (uint64_t)(*d - '0');
		}
		*have_cl = 1;
		h->content_length = cl;
	} else if (net_http_reqhead_is_expect(p, n)) {
		char val[16];
		int cont = copy_trimmed(v, vn, val, sizeof(val)) == 0 && strcasecmp(val, "100-continue") == 0;
		h->expect = cont && h->expect >= 0 ? 1 : -1;
	} else if (name == 13 && strncasecmp(p, "authorization", 13) == 0) {
		if (h->authorization[0] || copy_trimmed(v, vn, h->authorization, sizeof(h->authorization)) < 0)
			h->authorization[0] = '\0';
	}
	return 0;
}

int net_http_reqhead_is_expect(const char *p, size_t n)
{
	return n >= 7 && strncasecmp(p, "expect:", 7) == 0;
}

long net_http_reqhead_parse(const char *buf, size_t len, struct net_http_reqhead *h)
{
	size_t pos = 0;
	int line = 0, have_cl = 0;

	memset(h, 0, sizeof(*h));
	if (len > NET_HTTP_MAX_HEAD)
		len = NET_HTTP_MAX_HEAD;
	for (;;) {
		const char *p;
		size_t n;
		int r = net_http_head_line(buf, len, &pos, &p, &n);
		if (r < 0)
			return refuse(h, 400);
		if (r == 0)
			return len >= NET_HTTP_MAX_HEAD ? refuse(h, 431) : 0;
		if (n == 0) {
			if (line == 0)
				return refuse(h, 400);
			/* evhttp reads no body for HEAD: a length there would be a second request */
			if (strcmp(h->method, "HEAD") == 0 && h->content_length)
				return refuse(h, 400);
			return (long)pos;
		}
		int st;
		if (line == 0)
			st = request_line(p, n, h);
		else if (p[0] == ' ' || p[0] == '\t')
			st = 400; /* obsolete line folding */
		else
			st = header_line(p, n, h, &have_cl);
		if (st)
			return refuse(h, st);
		line++;
	}
}
