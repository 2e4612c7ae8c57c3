/* mg_dovecot.c - Dovecot auth protocol client, pure part (mg_dovecot.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/mailgw/mg_dovecot.h"
#include "applets/mailgw/mg_sasl.h"
#include "core/encoding.h"
#include "core/secret.h"
#include "core/str.h"

int mg_dovecot_hello(char *out, size_t cap, long pid)
{
	int n = snprintf(out, cap, "VERSION\t1\t2\nCPID\t%ld\n", pid);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

static int clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20)
			return 0;
	return 1;
}

int mg_dovecot_auth(char *out, size_t cap, unsigned id, const char *login, const char *pass,
		    const char *rip, const char *lip)
{
	uint8_t raw[1 + MG_SASL_LOGIN_MAX + 1 + MG_SASL_PASS_MAX];
	char b64[((sizeof(raw) + 2) / 3) * 4 + 1];
	size_t ul = strlen(login), pl = strlen(pass);
	int n = -1;

	if (ul > MG_SASL_LOGIN_MAX || pl > MG_SASL_PASS_MAX || !clean(rip) || !clean(lip))
		return -1;
	raw[0] = 0;
	memcpy(raw + 1, login, ul);
	raw[1 + ul] = 0;
	memcpy(raw + 2 + ul, pass, pl);
	if (base64_encode(raw, 2 + ul + pl, b64, sizeof(b64)) < 0)
		goto out;
	/* "secured": the client's session is TLS (we only get here after TLS). "nologin":
	 * we only verify, no login process follows. */
	n = snprintf(out, cap, "AUTH\t%u\tPLAIN\tservice=smtp\tsecured\tnologin\tno-penalty%s%s%s%s\tresp=%s\n",
		     id, *rip ? "\trip=" : "", rip, *lip ? "\tlip=" : "", lip, b64);
	if (n < 0 || (size_t)n >= cap)
		n = -1;
out:
	secret_wipe(raw, sizeof(raw));
	secret_wipe(b64, sizeof(b64));
	return n;
}

/* The i-th TAB-separated field of line as (p, len); 0 if there is none. */
static int field(const char *line, size_t len, int i, const char **p, size_t *fl)
{
	size_t s = 0;
	for (int k = 0;; k++) {
		const char *t = memchr(line + s, '\t', len - s);
		size_t e = t ? (size_t)(t - line) : len;
		if (k == i) {
			*p = line + s;
			*fl = e - s;
			return 1;
		}
		if (!t)
			return 0;
		s = e + 1;
	}
}

static int is(const char *p, size_t l, const char *w)
{
	return l == strlen(w) && memcmp(p, w, l) == 0;
}

static int bad(struct mg_dovecot_rx *r, const char *why)
{
	str_copy(r->why, why, sizeof(r->why));
	return MG_DOV_BAD;
}

/* A decimal id field. */
static int id_is(const char *p, size_t l, unsigned want)
{
	unsigned long v = 0;
	if (l == 0 || l > 10)
		return 0;
	for (size_t i = 0; i < l; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v == want;
}

int mg_dovecot_line(struct mg_dovecot_rx *r, const char *line, size_t len)
{
	const char *cmd, *p;
	size_t cl, pl;

	if (len > MG_DOVECOT_LINE_MAX || memchr(line, '\0', len))
		return bad(r, "malformed line");
	field(line, len, 0, &cmd, &cl);
	if (!r->done) {
		if (is(cmd, cl, "VERSION")) {
			if (!field(line, len, 1, &p, &pl) || !is(p, pl, "1"))
				return bad(r, "unsupported protocol version");
			r->version_ok = 1;
		} else if (is(cmd, cl, "MECH")) {
			if (field(line, len, 1, &p, &pl) && is(p, pl, "PLAIN"))
				r->plain = 1;
		} else if (is(cmd, cl, "DONE")) {
			if (!r->version_ok)
				return bad(r, "no VERSION before DONE");
			if (!r->plain)
				return bad(r, "the server does not offer PLAIN");
			r->done = 1;
			return MG_DOV_READY;
		}
		/* SPID, CUID, COOKIE and anything newer: not needed to verify a password */
		return MG_DOV_MORE;
	}
	int ok = is(cmd, cl, "OK"), fail = is(cmd, cl, "FAIL"), cont = is(cmd, cl, "CONT");
	if (!ok && !fail && !cont)
		return MG_DOV_MORE;
	if (!field(line, len, 1, &p, &pl) || !id_is(p, pl, r->id))
		return bad(r, "reply for an unknown request");
	if (cont)
		return bad(r, "unexpected CONT for PLAIN");
	if (ok)
		return MG_DOV_OK;
	int temp = 0;
	for (int i = 2; field(line, len, i, &p, &pl); i++) {
		if (is(p, pl, "temp"))
			temp = 1;
		else if (pl > 7 && memcmp(p, "reason=", 7) == 0) {
			char t[100];
			str_printable(t, sizeof(t), (const char *)p + 7, pl - 7);
			str_copy(r->why, t, sizeof(r->why));
		}
	}
	return temp ? MG_DOV_TEMP : MG_DOV_FAIL;
}
