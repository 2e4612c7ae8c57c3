/* hitc_proto.c - the HITP line grammar: answer lines in, command and LOGON lines out.
 * Answers are split on the first three colons only; the text may hold anything,
 * colons included (times are "12-00-00h", but nothing guarantees it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/hitc/hitc.h"
#include "core/buf.h"
#include "core/secret.h"

/* Reads 1..maxdigits decimal digits; -1 if there is none or too many. */
static int read_number(struct buf_reader *r, int maxdigits, long long *out)
{
	long long v = 0;
	int n = 0;
	while (buf_left(r) > 0 && r->p[r->off] >= '0' && r->p[r->off] <= '9') {
		uint8_t c;
		if (++n > maxdigits)
			return -1;
		buf_get_u8(r, &c);
		v = v * 10 + (c - '0');
	}
	if (n == 0)
		return -1;
	*out = v;
	return 0;
}

static int expect(struct buf_reader *r, uint8_t want)
{
	uint8_t c;
	if (buf_get_u8(r, &c) < 0 || c != want)
		return -1;
	return 0;
}

int hitc_parse_answer(const char *line, size_t len, struct hitc_answer *a)
{
	struct buf_reader r;
	uint8_t kind;
	long long v;

	buf_reader_init(&r, line, len);
	memset(a, 0, sizeof(*a));
	if (buf_get_u8(&r, &kind) < 0)
		return -1;
	/* '=' is the final part; the marker of further parts is not documented (see
	 * docs/hitc.md), so any other punctuation is taken as "more parts follow".
	 * '*', '$' and '#' start commands and encrypted lines, never a plain answer. */
	if (kind < 0x21 || kind > 0x7e || kind == '*' || kind == '$' || kind == '#' ||
	    (kind >= '0' && kind <= '9') || (kind >= 'A' && kind <= 'Z') ||
	    (kind >= 'a' && kind <= 'z'))
		return -1;
	a->kind = (char)kind;
	if (read_number(&r, 18, &a->seq) < 0 || expect(&r, ':') < 0)
		return -1;
	if (read_number(&r, 1, &v) < 0)
		return -1;
	a->severity = (int)v;
	a->number = -1;
	if (buf_left(&r) > 0 && r.p[r.off] == '/') {
		buf_skip(&r, 1);
		if (read_number(&r, 18, &a->number) < 0)
			return -1;
	}
	if (expect(&r, ':') < 0)
		return -1;
	const uint8_t *start = r.p + r.off;
	const uint8_t *colon = memchr(start, ':', buf_left(&r));
	if (!colon)
		return -1;
	size_t elen = (size_t)(colon - start);
	const uint8_t *slash = memchr(start, '/', elen);
	a->entity = (const char *)start;
	if (slash) {
		a->entity_len = (size_t)(slash - start);
		a->field = (const char *)slash + 1;
		a->field_len = elen - a->entity_len - 1;
	} else {
		a->entity_len = elen;
	}
	buf_skip(&r, elen + 1);
	a->text = (const char *)r.p + r.off;
	a->text_len = buf_left(&r);
	return r.err ? -1 : 0;
}

const char *hitc_command_body(const char *cmd)
{
	const char *p = cmd;
	if (*p == '*') {
		p++;
		if (*p < '0' || *p > '9')
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p++ != ':')
			return NULL;
	}
	for (int i = 0; i < 2; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z')))
			return NULL;
	if (p[2] != ':')
		return NULL;
	/* One command is one line: an embedded line break would smuggle in a second,
	 * unnumbered (and, in a `#` session, unencrypted-looking) command. */
	if (strpbrk(p, "\r\n"))
		return NULL;
	return p;
}

struct colbuf {
	char *cols, *vals;
	size_t clen, vlen, ccap, vcap;
	int n, bad;
};

static int append(char **s, size_t *len, size_t *cap, const char *add)
{
	size_t n = strlen(add);
	if (*len + n + 1 > *cap) {
		size_t nc = (*len + n + 1) * 2;
		char *ns = malloc(nc);
		if (!ns)
			return -1;
		if (*s) {
			memcpy(ns, *s, *len);
			secret_wipe(*s, *cap);
			free(*s);
		}
		*s = ns;
		*cap = nc;
	}
	memcpy(*s + *len, add, n + 1);
	*len += n;
	return 0;
}

/* Adds one column; a value that would break the ';' list or the line is refused. */
static void add_col(struct colbuf *b, const char *name, const char *value)
{
	if (b->bad)
		return;
	if (strpbrk(value, ";\r\n")) {
		b->bad = 1;
		return;
	}
	const char *sep = b->n++ ? ";" : "";
	if (append(&b->cols, &b->clen, &b->ccap, sep) < 0 ||
	    append(&b->cols, &b->clen, &b->ccap, name) < 0 ||
	    append(&b->vals, &b->vlen, &b->vcap, sep) < 0 ||
	    append(&b->vals, &b->vlen, &b->vcap, value) < 0)
		b->bad = 1;
}

char *hitc_logon_line_new(long seq, const struct hitc_logon *l, int mask)
{
	struct colbuf b = { 0 };
	char num[32], head[48];
	char *out = NULL;
	const char *hidden = "***";

	add_col(&b, "BNR15", l->bnr);
	add_col(&b, "PIN", mask ? hidden : l->pin);
	snprintf(num, sizeof(num), "%ld", l->meld_wg);
	add_col(&b, "MELD_WG", num);
	if (l->mbn >= 0) {
		snprintf(num, sizeof(num), "%ld", l->mbn);
		add_col(&b, "MBN", num);
	}
	if (l->timeout >= 0) {
		snprintf(num, sizeof(num), "%ld", l->timeout);
		add_col(&b, "TIMEOUT", num);
	}
	if (l->svr_helo)
		add_col(&b, "SVR_HELO", l->svr_helo);
	if (l->rand_cli)
		add_col(&b, "RAND_CLI", mask ? hidden : l->rand_cli);
	if (l->sess_key)
		add_col(&b, "SESS_KEY", mask ? hidden : l->sess_key);
	if (l->enc_sym)
		add_col(&b, "ENC_SYM", l->enc_sym);
	if (!b.bad) {
		snprintf(head, sizeof(head), "*%ld:XS:LOGON/", seq);
		size_t n = strlen(head) + b.clen + 1 + b.vlen + 1;
		out = malloc(n);
		if (out)
			snprintf(out, n, "%s%s:%s", head, b.cols, b.vals);
	}
	if (b.cols) {
		secret_wipe(b.cols, b.ccap);
		free(b.cols);
	}
	if (b.vals) {
		secret_wipe(b.vals, b.vcap);
		free(b.vals);
	}
	return out;
}
