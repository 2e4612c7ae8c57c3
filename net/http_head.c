/* http_head.c - see http_head.h. Lines end in LF with an optional CR before it. */
#include <string.h>
#include <strings.h>

#include "net/http_head.h"

int net_http_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* 1 when the comma-separated list [p, p+n) names token (case-insensitive). */
static int list_has(const char *p, size_t n, const char *token)
{
	size_t tl = strlen(token);
	while (n) {
		while (n && (*p == ' ' || *p == '\t' || *p == ',')) {
			p++;
			n--;
		}
		size_t k = 0;
		while (k < n && p[k] != ',')
			k++;
		size_t e = k;
		while (e && (p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		if (e == tl && strncasecmp(p, token, tl) == 0)
			return 1;
		p += k;
		n -= k;
	}
	return 0;
}

static int status_line(const char *p, size_t n, struct net_http_resphead *h)
{
	size_t k = 0;
	/* "HTTP/1.x NNN[ reason]" */
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9' || p[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return -1;
	if (n > 12 && p[12] != ' ')
		return -1;
	h->minor = p[7] - '0';
	h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (h->status < 100 || h->status > 599)
		return -1;
	for (size_t i = 0; i < n && k + 1 < sizeof(h->status_line); i++)
		h->status_line[k++] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
	h->status_line[k] = '\0';
	return 0;
}

static int header_line(const char *p, size_t n, struct net_http_resphead *h, int *keep_alive)
{
	const char *colon = memchr(p, ':', n);
	size_t name = colon ? (size_t)(colon - p) : 0;
	if (!colon || !name)
		return -1;
	for (size_t i = 0; i < name; i++)
		if (!net_http_tchar((unsigned char)p[i]))
			return -1;
	const char *v = colon + 1;
	size_t vn = n - name - 1;
	while (vn && (*v == ' ' || *v == '\t')) {
		v++;
		vn--;
	}
	while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
	if (name == 14 && strncasecmp(p, "content-length", 14) == 0) {
		int64_t cl = 0;
		if (!vn || vn > 18)
			return -1;
		for (size_t i = 0; i < vn; i++) {
			if (v[i] < '0' || v[i] > '9')
				return -1;
			cl = cl * 10 + (v[i] - '0');
		}
		if (h->content_length >= 0 && h->content_length != cl)
			return -1;
		h->content_length = cl;
	} else if (name == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
		h->chunked = 1;
	} else if ((name == 10 && strncasecmp(p, "connection", 10) == 0) ||
		   (name == 16 && strncasecmp(p, "proxy-connection", 16) == 0)) {
		if (list_has(v, vn, "close"))
			h->conn_close = 1;
		if (list_has(v, vn, "keep-alive"))
			*keep_alive = 1;
	} else if (name == 18 && strncasecmp(p, "proxy-authenticate", 18) == 0) {
		struct net_http_challenge ch;
		if (net_http_parse_challenge(v, vn, &ch) == 0 && net_http_challenge_better(&ch, &h->auth))
			h->auth = ch;
	}
	return 0;
}

int net_http_head_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *n)
{
	const char *lf = memchr(buf + *pos, '\n', len - *pos);
	if (!lf)
		return 0;
	size_t end = (size_t)(lf - buf), ln = end - *pos;
	if (ln && buf[end - 1] == '\r')
		ln--;
	const char *p = buf + *pos;
	for (size_t i = 0; i < ln; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return -1;
	*line = p;
	*n = ln;
	*pos = end + 1;
	return 1;
}

long net_http_resphead_parse(const char *buf, size_t len, struct net_http_resphead *h)
{
	size_t pos = 0;
	int line = 0, keep_alive = 0;

	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	if (len > NET_HTTP_RESP_MAX_HEAD)
		len = NET_HTTP_RESP_MAX_HEAD;
	for (;;) {
		const char *p;
		size_t n;
		int r = net_http_head_line(buf, len, &pos, &p, &n);
		if (r <= 0)
			return r < 0 || len >= NET_HTTP_RESP_MAX_HEAD ? -1 : 0;
		if (n == 0) {
			if (line == 0)
				return -1;
			if (h->minor == 0 && !keep_alive)
				h->conn_close = 1;
			return (long)pos;
		}
		if (line == 0 ? status_line(p, n, h) < 0 :
		    (p[0] == ' ' || p[0] == '\t') ? -1 : header_line(p, n, h, &keep_alive) < 0)
			return -1;
		line++;
	}
}
