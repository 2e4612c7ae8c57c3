/* mg_ldap_filter.c - RFC 4515 filters: escaping a value, and the text form to BER
 * (RFC 4511 4.5.1.7) (mg_ldap_ber.h).
 *
 * The search filter is built as text from the operator's template with the client's
 * value escaped into it, then parsed here: an unescaped '*' or parenthesis can only come
 * from the operator, so "*)(uid=*" as a login stays one literal equality value. */
#include <string.h>

#include "applets/mailgw/mg_ldap_ber.h"
#include "applets/mailgw/mg_ldap_tlv.h"
#include "core/buf.h"
#include "core/encoding.h"

#define MAX_DEPTH 16
#define MAX_SEGS 32

int mg_ldap_escape(char *out, size_t cap, const char *value, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		int esc = c == '*' || c == '(' || c == ')' || c == '\\' || c == 0;
		if (o + (esc ? 3 : 1) >= cap)
			return -1;
		if (esc) {
			out[o++] = '\\';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	if (o >= cap)
		return -1;
	out[o] = '\0';
	return (int)o;
}

struct fp {
	const char *s;
	size_t i;
	int depth;
	const char *why;
	struct buf_writer *w;
};

static int fail(struct fp *f, const char *why)
{
	if (!f->why)
		f->why = why;
	return -1;
}

static int attr_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '.' || c == ';';
}

/* attr op value, up to (not including) the closing parenthesis. */
static int item(struct fp *f)
{
	uint8_t val[MG_LDAP_FILTER_MAX];
	size_t seg_off[MAX_SEGS + 1], nseg = 0, vl = 0;
	size_t a0 = f->i;

	while (attr_char(f->s[f->i]))
		f->i++;
	size_t alen = f->i - a0;
	if (alen == 0)
		return fail(f, "attribute expected");
	uint8_t tag;
	switch (f->s[f->i]) {
	case '=': tag = 0xa3; f->i++; break;
	case '~': tag = 0xa8; break;
	case '>': tag = 0xa5; break;
	case '<': tag = 0xa6; break;
	case ':': return fail(f, "extensible match is not supported");
	default: return fail(f, "'=', '~=', '>=' or '<=' expected");
	}
	if (tag != 0xa3) {
		if (f->s[f->i + 1] != '=')
			return fail(f, "'=' expected");
		f->i += 2;
	}
	seg_off[nseg++] = 0;
	int raw_star_only = f->s[f->i] == '*' && f->s[f->i + 1] == ')';
	for (;;) {
		char c = f->s[f->i];
		if (c == ')')
			break;
		if (c == '\0' || c == '(')
			return fail(f, c ? "unescaped '(' in a value" : "unterminated filter");
		if (vl >= sizeof(val))
			return fail(f, "value too long");
		if (c == '\\') {
			if (!f->s[f->i + 1] || hex_decode(f->s + f->i + 1, 2, val + vl, 1) != 1)
				return fail(f, "bad \\XX escape");
			vl++;
			f->i += 3;
			continue;
		}
		f->i++;
		if (c == '*') {
			if (tag != 0xa3)
				return fail(f, "'*' only with '='");
			if (nseg > MAX_SEGS)
				return fail(f, "too many '*'");
			seg_off[nseg++] = vl;
			continue;
		}
		val[vl++] = (uint8_t)c;
	}
	seg_off[nseg] = vl;
	struct buf_writer *w = f->w;
	if (raw_star_only) {
		mg_ber_put_str(w, 0x87, f->s + a0, alen);   /* present */
		return 0;
	}
	size_t o = mg_ber_open(w, nseg == 1 ? tag : 0xa4);
	mg_ber_put_str(w, 0x04, f->s + a0, alen);
	if (nseg == 1) {
		mg_ber_put_str(w, 0x04, val, vl);
		return mg_ber_close(w, o);
	}
	/* substrings: initial? (*any)* final? ; an empty middle part ("**") is invalid */
	size_t so = mg_ber_open(w, 0x30);
	for (size_t k = 0; k < nseg; k++) {
		size_t b = seg_off[k], e = seg_off[k + 1];
		if (b == e) {
			if (k != 0 && k != nseg - 1)
				return fail(f, "empty substring between '*'");
			continue;
		}
		mg_ber_put_str(w, k == 0 ? 0x80 : k == nseg - 1 ? 0x82 : 0x81, val + b, e - b);
	}
	mg_ber_close(w, so);
	return mg_ber_close(w, o);
}

static int filter(struct fp *f)
{
	if (++f->depth > MAX_DEPTH)
		return fail(f, "filter nested too deeply");
	if (f->s[f->i] != '(')
		return fail(f, "'(' expected");
	f->i++;
	char c = f->s[f->i];
	if (c == '&' || c == '|' || c == '!') {
		f->i++;
		size_t o = mg_ber_open(f->w, c == '&' ? 0xa0 : c == '|' ? 0xa1 : 0xa2);
		int n = 0;
		while (f->s[f->i] == '(') {
			if (filter(f) < 0)
				return -1;
			n++;
			if (c == '!')
				break;
		}
		if (n == 0)
			return fail(f, "empty filter list");
		if (mg_ber_close(f->w, o) < 0)
			return fail(f, "filter too long");
	} else if (item(f) < 0) {
		return -1;
	}
	if (f->s[f->i] != ')')
		return fail(f, "')' expected");
	f->i++;
	f->depth--;
	return 0;
}

int mg_ldap_filter_ber(struct buf_writer *w, const char *text, const char **why)
{
	struct fp f = { text, 0, 0, NULL, w };

	if (strlen(text) > MG_LDAP_FILTER_MAX) {
		*why = "filter too long";
		return -1;
	}
	if (filter(&f) < 0 || text[f.i] != '\0' || w->err) {
		*why = f.why ? f.why : w->err ? "filter too long" : "text after the filter";
		return -1;
	}
	return 0;
}
