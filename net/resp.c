/* resp.c - RESP2 encoding and a bounded reply parser (resp.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

struct pstate {
	const uint8_t *b;
	size_t len, pos;
	size_t nodes;
};

/* A header line "<type><text>\r\n": its text in [pos, *end). 1, 0 (incomplete), -1. */
static int line(struct pstate *p, size_t *start, size_t *end)
{
	size_t i = p->pos + 1;
	for (; i < p->len && i - p->pos <= RESP_MAX_LINE; i++) {
		if (p->b[i] == '\r') {
			if (i + 1 >= p->len)
				return 0;
			if (p->b[i + 1] != '\n')
				return -1;
			*start = p->pos + 1;
			*end = i;
			p->pos = i + 2;
			return 1;
		}
		if (p->b[i] == '\n')
			return -1;
	}
	return i - p->pos > RESP_MAX_LINE ? -1 : 0;
}

/* A signed decimal of at most 18 digits (no overflow possible). */
static int number(const uint8_t *s, size_t n, long long *out)
{
	int neg = 0;
	long long v = 0;
	if (n && s[0] == '-') {
		neg = 1;
		s++;
		n--;
	}
	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

static int parse_at(struct pstate *p, struct resp_reply *r, int depth)
{
	size_t a, e;
	long long v;
	int rc;

	memset(r, 0, sizeof(*r));
	if (p->pos >= p->len)
		return 0;
	if (++p->nodes > RESP_MAX_NODES)
		return -1;
	uint8_t t = p->b[p->pos];
	if (t != '+' && t != '-' && t != ':' && t != '$' && t != '*')
		return -1;
	if ((rc = line(p, &a, &e)) <= 0)
		return rc;
	switch (t) {
	case '+':
	case '-':
		for (size_t i = a; i < e; i++)
			if (p->b[i] < 0x20 || p->b[i] == 0x7f)
				return -1;
		r->type = t == '+' ? RESP_STATUS : RESP_ERROR;
		if (!(r->s = malloc(e - a + 1)))
			return -1;
		memcpy(r->s, p->b + a, e - a);
		r->s[e - a] = '\0';
		r->len = e - a;
		return 1;
	case ':':
		if (number(p->b + a, e - a, &v) < 0)
			return -1;
		r->type = RESP_INT;
		r->i = v;
		return 1;
	case '$':
		if (number(p->b + a, e - a, &v) < 0 || v < -1 || v > RESP_MAX_BULK)
			return -1;
		if (v == -1) {
			r->type = RESP_NIL;
			return 1;
		}
		if (p->len - p->pos < (size_t)v + 2)
			return 0;
		if (p->b[p->pos + (size_t)v] != '\r' || p->b[p->pos + (size_t)v + 1] != '\n')
			return -1;
		r->type = RESP_BULK;
		if (!(r->s = malloc((size_t)v + 1)))
			return -1;
		memcpy(r->s, p->b + p->pos, (size_t)v);
		r->s[v] = '\0';
		r->len = (size_t)v;
		p->pos += (size_t)v + 2;
		return 1;
	default: /* '*' */
		if (number(p->b + a, e - a, &v) < 0 || v < -1 || v > RESP_MAX_NODES)
			return -1;
		if (v == -1) {
			r->type = RESP_NIL;
			return 1;
		}
		if (depth >= RESP_MAX_DEPTH || p->nodes + (size_t)v > RESP_MAX_NODES)
			return -1;
		/* every element takes at least 3 bytes ("+\r\n"): an array the buffer cannot
		 * hold yet is incomplete before anything is allocated for it */
		if ((size_t)v * 3 > p->len - p->pos)
			return 0;
		r->type = RESP_ARRAY;
		if (v && !(r->el = calloc((size_t)v, sizeof(*r->el))))
			return -1;
		for (size_t i = 0; i < (size_t)v; i++) {
			r->n = i + 1;
			if ((rc = parse_at(p, &r->el[i], depth + 1)) <= 0) {
				resp_free(r);
				return rc;
			}
		}
		r->n = (size_t)v;
		return 1;
	}
}

int resp_parse(const uint8_t *buf, size_t len, struct resp_reply *out, size_t *used)
{
	struct pstate p = { buf, len, 0, 0 };
	int rc = parse_at(&p, out, 0);
	if (rc <= 0) {
		resp_free(out);
		return rc;
	}
	*used = p.pos;
	return 1;
}

void resp_free(struct resp_reply *r)
{
	if (!r)
		return;
	free(r->s);
	for (size_t i = 0; i < r->n && r->el; i++)
		resp_free(&r->el[i]);
	free(r->el);
	memset(r, 0, sizeof(*r));
}

static int put(char **out, size_t *len, size_t *cap, const void *d, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 256;
		while (c < *len + n + 1)
			c *= 2;
		char *g = realloc(*out, c);
		if (!g)
			return -1;
		*out = g;
		*cap = c;
	}
	memcpy(*out + *len, d, n);
	*len += n;
	return 0;
}

int resp_encode(char **out, size_t *outlen, size_t *outcap, int argc, const char *const *argv,
		const size_t *lens)
{
	char h[32];
	int n = snprintf(h, sizeof(h), "*%d\r\n", argc);
	if (put(out, outlen, outcap, h, (size_t)n) < 0)
		return -1;
	for (int i = 0; i < argc; i++) {
		size_t l = lens ? lens[i] : strlen(argv[i]);
		n = snprintf(h, sizeof(h), "$%zu\r\n", l);
		if (put(out, outlen, outcap, h, (size_t)n) < 0 || put(out, outlen, outcap, argv[i], l) < 0 ||
		    put(out, outlen, outcap, "\r\n", 2) < 0)
			return -1;
	}
	return 0;
}

int resp_is(const struct resp_reply *r, const char *s)
{
	return r && (r->type == RESP_STATUS || r->type == RESP_BULK) && r->len == strlen(s) &&
	       memcmp(r->s, s, r->len) == 0;
}
