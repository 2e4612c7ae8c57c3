/* tun_http.c - the one HTTP request tunneld understands: GET /sealbox-tunnel with
 * Upgrade: sealbox-tunnel. It is strict and small on purpose: anything else is
 * answered 400/404 and closed; there is no web server here. Fuzzed (fuzz_tunhttp). */
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "tun.h"

/* Does the comma-separated list in v (n bytes) contain token (case-insensitive)? */
static int has_token(const char *v, size_t n, const char *token)
{
	size_t tl = strlen(token), i = 0;
	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
			return 1;
	}
	return 0;
}

int tun_http_check(const char *head, size_t len)
{
	struct buf_reader r;
	int lines = 0, upgrade = 0, connection = 0, other_upgrade = 0;

	if (len > TUN_HTTP_MAX_HEADER)
		return 400;
	buf_reader_init(&r, head, len);
	while (buf_left(&r)) {
		const char *line = head + r.off;
		const char *nl = memchr(line, '\n', buf_left(&r));
		if (!nl)
			return 400;
		size_t l = (size_t)(nl - line);
		buf_skip(&r, l + 1);
		if (l && line[l - 1] == '\r')
			l--;
		if (memchr(line, '\0', l))
			return 400;
		if (++lines > TUN_HTTP_MAX_LINES)
			return 400;
		if (lines == 1) {
			/* "GET /sealbox-tunnel HTTP/1.1" (query string allowed, ignored) */
			static const char get[] = "GET ";
			if (l < 4 || memcmp(line, get, 4) != 0)
				return 400;
			const char *sp = memchr(line + 4, ' ', l - 4);
			if (!sp)
				return 400;
			size_t vl = l - (size_t)(sp + 1 - line);
			if (vl != 8 || (memcmp(sp + 1, "HTTP/1.1", 8) != 0 && memcmp(sp + 1, "HTTP/1.0", 8) != 0))
				return 400;
			size_t pl = (size_t)(sp - (line + 4));
			const char *q = memchr(line + 4, '?', pl);
			if (q)
				pl = (size_t)(q - (line + 4));
			if (pl != 15 || memcmp(line + 4, "/sealbox-tunnel", 15) != 0)
				return 404;
			continue;
		}
		if (l == 0)
			return 400; /* the caller strips the empty line */
		const char *colon = memchr(line, ':', l);
		if (!colon || colon == line || line[0] == ' ' || line[0] == '\t')
			return 400; /* no obsolete line folding either */
		size_t nl_ = (size_t)(colon - line);
		const char *v = colon + 1;
		size_t vn = l - nl_ - 1;
		if (nl_ == 7 && strncasecmp(line, "Upgrade", 7) == 0) {
			if (has_token(v, vn, "sealbox-tunnel"))
				upgrade = 1;
			else
				other_upgrade = 1;
		} else if (nl_ == 10 && strncasecmp(line, "Connection", 10) == 0) {
			if (has_token(v, vn, "upgrade"))
				connection = 1;
		}
	}
	if (lines == 0)
		return 400;
	if (other_upgrade && !upgrade)
		return 400;
	return upgrade && connection ? 101 : 404;
}
