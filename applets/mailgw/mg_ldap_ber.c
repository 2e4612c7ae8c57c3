/* mg_ldap_ber.c - encoding and decoding of the LDAP messages mailgw uses (mg_ldap_ber.h).
 * The filter text parser is in mg_ldap_filter.c. */
#include <limits.h>
#include <string.h>

#include "applets/mailgw/mg_ldap_ber.h"
#include "applets/mailgw/mg_ldap_tlv.h"
#include "core/buf.h"
#include "core/str.h"

/* ---- writing ---- */

size_t mg_ber_open(struct buf_writer *w, uint8_t tag)
{
	buf_put_u8(w, tag);
	size_t o = w->len;
	buf_put_u8(w, 0);
	return o;
}

/* The content was written after the length byte at o: fix the length, moving the
 * content when it needs the long form (minimal lengths, as DER would write them). */
int mg_ber_close(struct buf_writer *w, size_t o)
{
	if (w->err || o >= w->len)
		return -1;
	size_t len = w->len - o - 1;
	if (len < 0x80) {
		w->p[o] = (uint8_t)len;
		return 0;
	}
	unsigned nb = len <= 0xff ? 1 : len <= 0xffff ? 2 : 3;
	if (len > 0xffffff || !buf_put_space(w, nb))
		return -1;
	memmove(w->p + o + 1 + nb, w->p + o + 1, len);
	w->p[o] = (uint8_t)(0x80 | nb);
	for (unsigned i = 0; i < nb; i++)
		w->p[o + 1 + i] = (uint8_t)(len >> (8 * (nb - 1 - i)));
	return 0;
}

int mg_ber_put_str(struct buf_writer *w, uint8_t tag, const void *p, size_t n)
{
	size_t o = mg_ber_open(w, tag);
	buf_put_bytes(w, p, n);
	return mg_ber_close(w, o);
}

static int put_int(struct buf_writer *w, uint8_t tag, long v)
{
	uint8_t b[9];
	int n = 0;
	unsigned long u = (unsigned long)v;

	if (v < 0)
		return -1;
	do {
		b[8 - n++] = (uint8_t)(u & 0xff);
		u >>= 8;
	} while (u && n < 8);
	if (b[9 - n] & 0x80)
		b[8 - n++] = 0;   /* stays non-negative */
	return mg_ber_put_str(w, tag, b + 9 - n, (size_t)n);
}

static size_t msg_open(struct buf_writer *w, int id)
{
	size_t o = mg_ber_open(w, 0x30);
	put_int(w, 0x02, id);
	return o;
}

static int msg_close(struct buf_writer *w, size_t op, size_t msg)
{
	if (mg_ber_close(w, op) < 0 || mg_ber_close(w, msg) < 0 || w->err)
		return -1;
	return 0;
}

int mg_ldap_enc_bind(struct buf_writer *w, int id, const char *dn, const char *pw, size_t pwlen)
{
	size_t m = msg_open(w, id), op = mg_ber_open(w, 0x60);
	put_int(w, 0x02, 3);
	mg_ber_put_str(w, 0x04, dn, strlen(dn));
	mg_ber_put_str(w, 0x80, pw, pwlen);   /* [0] simple */
	return msg_close(w, op, m);
}

int mg_ldap_enc_search(struct buf_writer *w, int id, const char *base, int scope, const uint8_t *filter,
		       size_t flen, int sizelimit, int timelimit)
{
	static const uint8_t no_types_only[] = { 0x01, 0x01, 0x00 };
	size_t m = msg_open(w, id), op = mg_ber_open(w, 0x63);
	mg_ber_put_str(w, 0x04, base, strlen(base));
	put_int(w, 0x0a, scope);
	put_int(w, 0x0a, 0);          /* derefAliases: neverDerefAliases */
	put_int(w, 0x02, sizelimit);
	put_int(w, 0x02, timelimit);
	buf_put_bytes(w, no_types_only, sizeof(no_types_only));
	buf_put_bytes(w, filter, flen);
	size_t at = mg_ber_open(w, 0x30);
	mg_ber_put_str(w, 0x04, "1.1", 3);   /* no attributes, only the DNs */
	mg_ber_close(w, at);
	return msg_close(w, op, m);
}

int mg_ldap_enc_starttls(struct buf_writer *w, int id)
{
	size_t m = msg_open(w, id), op = mg_ber_open(w, 0x77);
	mg_ber_put_str(w, 0x80, MG_LDAP_STARTTLS_OID, strlen(MG_LDAP_STARTTLS_OID));
	return msg_close(w, op, m);
}

int mg_ldap_enc_unbind(struct buf_writer *w, int id)
{
	size_t m = msg_open(w, id);
	buf_put_u8(w, 0x42);   /* [APPLICATION 2] NULL, primitive */
	buf_put_u8(w, 0x00);
	return mg_ber_close(w, m) < 0 || w->err ? -1 : 0;
}

/* ---- reading ---- */

/* A length after the tag: short form, or long form of 1-4 bytes (never indefinite). */
static int get_len(struct buf_reader *r, size_t *len)
{
	uint8_t l;

	if (buf_get_u8(r, &l) < 0)
		return -1;
	if (l < 0x80) {
		*len = l;
		return 0;
	}
	unsigned nb = l & 0x7f;
	if (nb == 0 || nb > 4)
		return -1;
	size_t v = 0;
	for (unsigned i = 0; i < nb; i++) {
		uint8_t b;
		if (buf_get_u8(r, &b) < 0)
			return -1;
		v = (v << 8) | b;
	}
	*len = v;
	return 0;
}

static int get_tlv(struct buf_reader *r, uint8_t *tag, struct buf_reader *sub)
{
	size_t len;

	if (buf_get_u8(r, tag) < 0 || (*tag & 0x1f) == 0x1f || get_len(r, &len) < 0)
		return -1;
	return buf_get_sub(r, len, sub);
}

static int get_int(struct buf_reader *r, uint8_t want, int *v)
{
	struct buf_reader s;
	uint8_t tag, b;
	long long x = 0;

	if (get_tlv(r, &tag, &s) < 0 || tag != want || buf_left(&s) == 0 || buf_left(&s) > 5)
		return -1;
	for (size_t i = 0; buf_get_u8(&s, &b) == 0; i++) {
		if (i == 0 && (b & 0x80))
			return -1;   /* negative */
		x = (x << 8) | b;
	}
	if (x > INT_MAX)
		return -1;
	*v = (int)x;
	return 0;
}

/* An OCTET STRING into out (NUL-terminated): no NUL inside, shorter than cap. */
static int get_str(struct buf_reader *r, uint8_t want, char *out, size_t cap)
{
	struct buf_reader s;
	uint8_t tag;

	if (get_tlv(r, &tag, &s) < 0 || tag != want || buf_left(&s) >= cap)
		return -1;
	size_t n = buf_left(&s);
	const uint8_t *p = buf_get_ptr(&s, n);
	if (n && (!p || memchr(p, 0, n)))
		return -1;
	if (n)
		memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

long mg_ldap_frame(const uint8_t *p, size_t n, size_t max)
{
	struct buf_reader r;
	uint8_t tag;
	size_t len;

	if (n == 0)
		return 0;
	if (p[0] != 0x30)
		return -1;
	buf_reader_init(&r, p, n);
	buf_get_u8(&r, &tag);
	if (get_len(&r, &len) < 0) {
		/* short of bytes, or an indefinite / absurd length? */
		if (n >= 2 && (p[1] == 0x80 || (p[1] & 0x7f) > 4))
			return -1;
		return 0;
	}
	if (len > max || r.off + len > max)
		return -1;
	return (long)(r.off + len);
}

static void printable(char *out, size_t cap, const uint8_t *p, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < cap; i++)
		out[o++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[o] = '\0';
}

/* LDAPResult: resultCode, matchedDN, diagnosticMessage, then optional fields of which
 * only an ExtendedResponse's responseName [10] is kept. */
static int result(struct buf_reader *op, struct mg_ldap_msg *m)
{
	struct buf_reader s;
	uint8_t tag;

	if (get_int(op, 0x0a, &m->code) < 0 || get_str(op, 0x04, m->dn, sizeof(m->dn)) < 0 ||
	    get_tlv(op, &tag, &s) < 0 || tag != 0x04)
		return -1;
	printable(m->diag, sizeof(m->diag), s.p + s.off, buf_left(&s));
	while (buf_left(op)) {
		if (get_tlv(op, &tag, &s) < 0)
			return -1;
		if (tag == 0x8a && buf_left(&s) < sizeof(m->oid))
			printable(m->oid, sizeof(m->oid), s.p + s.off, buf_left(&s));
	}
	return 0;
}

int mg_ldap_decode(const uint8_t *p, size_t n, struct mg_ldap_msg *m, const char **why)
{
	struct buf_reader r, msg, op, s;
	uint8_t tag;

	memset(m, 0, sizeof(*m));
	m->code = -1;
	buf_reader_init(&r, p, n);
	*why = "not an LDAPMessage";
	if (get_tlv(&r, &tag, &msg) < 0 || tag != 0x30 || buf_left(&r) != 0)
		return -1;
	*why = "bad messageID";
	if (get_int(&msg, 0x02, &m->id) < 0)
		return -1;
	*why = "bad protocolOp";
	if (get_tlv(&msg, &tag, &op) < 0 || (tag & 0xc0) != 0x40)
		return -1;
	m->op = tag & 0x1f;
	int constructed = (tag & 0x20) != 0;
	/* controls [0] may follow: not used, but must be well formed */
	while (buf_left(&msg))
		if (get_tlv(&msg, &tag, &s) < 0)
			return -1;
	switch (m->op) {
	case MG_LDAP_BIND_RESP:
	case MG_LDAP_SEARCH_DONE:
	case MG_LDAP_EXT_RESP:
		*why = "bad LDAPResult";
		if (!constructed || result(&op, m) < 0)
			return -1;
		return 0;
	case MG_LDAP_SEARCH_ENTRY:
		*why = "bad SearchResultEntry";
		if (!constructed || get_str(&op, 0x04, m->dn, sizeof(m->dn)) < 0 || get_tlv(&op, &tag, &s) < 0 || tag != 0x30)
			return -1;
		return 0;
	default:
		return 0;   /* references and anything else: the caller decides */
	}
}
