/* mg_capa.c - POP3/IMAP command classification before TLS and capability filtering.
 * Every byte here comes from a client or a backend, so it is bounded and fuzzed. */
#include <string.h>

#include "applets/mailgw/mg_capa.h"

const char mg_pop3_greeting[] = "+OK mailgw POP3 ready, STLS required\r\n";
const char mg_pop3_capa_reply[] = "+OK Capability list follows\r\nCAPA\r\nSTLS\r\n.\r\n";
const char mg_imap_greeting[] =
	"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] mailgw IMAP ready, STARTTLS required\r\n";
const char mg_imap_capa_line[] = "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n";

static int upc(int c) { return (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c; }

/* The first word of s[0..len) (up to a space) equals word, case-insensitively. */
static int word_is(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word), n = 0;
	while (n < len && s[n] != ' ')
		n++;
	if (n != wl)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (upc((unsigned char)s[i]) != word[i])
			return 0;
	return 1;
}

enum mg_pre_tls mg_pop3_pre_tls(const char *line, size_t len)
{
	static const char *const login[] = { "USER", "PASS", "APOP", "AUTH", "RPOP" };

	if (word_is(line, len, "CAPA"))
		return MG_PRE_CAPA;
	if (word_is(line, len, "STLS"))
		return len == 4 ? MG_PRE_STARTTLS : MG_PRE_OTHER;
	if (word_is(line, len, "QUIT"))
		return MG_PRE_QUIT;
	if (word_is(line, len, "NOOP"))
		return MG_PRE_NOOP;
	for (size_t i = 0; i < sizeof(login) / sizeof(login[0]); i++)
		if (word_is(line, len, login[i]))
			return MG_PRE_LOGIN;
	return MG_PRE_OTHER;
}

/* RFC 3501 tag = 1*<any ASTRING-CHAR except "+">. */
static int tag_char(int c)
{
	return c > 32 && c < 127 && !strchr("(){%*\"\\+", c);
}

enum mg_pre_tls mg_imap_pre_tls(const char *line, size_t len, char *tag, size_t tagcap)
{
	static const char *const login[] = { "LOGIN", "AUTHENTICATE" };
	size_t t = 0;

	while (t < len && line[t] != ' ')
		t++;
	if (tagcap)
		tag[0] = '\0';
	int ok = t > 0 && t < len && t < MG_IMAP_TAG_MAX && t < tagcap;
	for (size_t i = 0; ok && i < t; i++)
		ok = tag_char((unsigned char)line[i]) && line[i] != ']';
	if (!ok) {
		if (tagcap > 1) {
			tag[0] = '*';
			tag[1] = '\0';
		}
		return MG_PRE_BAD;
	}
	memcpy(tag, line, t);
	tag[t] = '\0';
	const char *c = line + t + 1;
	size_t cl = len - t - 1;
	if (word_is(c, cl, "CAPABILITY"))
		return MG_PRE_CAPA;
	if (word_is(c, cl, "STARTTLS"))
		return cl == 8 ? MG_PRE_STARTTLS : MG_PRE_OTHER;
	if (word_is(c, cl, "LOGOUT"))
		return MG_PRE_QUIT;
	if (word_is(c, cl, "NOOP"))
		return MG_PRE_NOOP;
	for (size_t i = 0; i < sizeof(login) / sizeof(login[0]); i++)
		if (word_is(c, cl, login[i]))
			return MG_PRE_LOGIN;
	return MG_PRE_OTHER;
}

int mg_pop3_greeting_ok(const char *line, size_t len)
{
	return len >= 3 && memcmp(line, "+OK", 3) == 0 && (len == 3 || line[3] == ' ');
}

int mg_imap_greeting_ok(const char *line, size_t len)
{
	return len >= 4 && line[0] == '*' && line[1] == ' ' && upc(line[2]) == 'O' &&
	       upc(line[3]) == 'K' && (len == 4 || line[4] == ' ');
}

static int dropped_capa(const char *w, size_t n)
{
	static const char *const drop[] = { "STARTTLS", "LOGINDISABLED", "STLS" };
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
		size_t dl = strlen(drop[i]);
		if (n != dl)
			continue;
		size_t k = 0;
		while (k < n && upc((unsigned char)w[k]) == drop[i][k])
			k++;
		if (k == n)
			return 1;
	}
	return 0;
}

/* Copies the capability words in in[from..to) dropping the unwanted ones. */
static int copy_capas(const char *in, size_t from, size_t to, char *out, size_t cap, size_t *o)
{
	size_t i = from;
	int first = 1;

	while (i < to) {
		size_t s = i;
		while (i < to && in[i] != ' ')
			i++;
		if (i > s && !dropped_capa(in + s, i - s)) {
			size_t need = (i - s) + (first ? 0 : 1);
			if (*o + need >= cap)
				return -1;
			if (!first)
				out[(*o)++] = ' ';
			memcpy(out + *o, in + s, i - s);
			*o += i - s;
			first = 0;
		}
		while (i < to && in[i] == ' ')
			i++;
	}
	return 0;
}

static int find_ci(const char *in, size_t len, const char *pat)
{
	size_t pl = strlen(pat);
	for (size_t i = 0; i + pl <= len; i++) {
		size_t k = 0;
		while (k < pl && upc((unsigned char)in[i + k]) == pat[k])
			k++;
		if (k == pl)
			return (int)i;
	}
	return -1;
}

int mg_imap_capa_filter(const char *in, size_t len, char *out, size_t cap)
{
	size_t o = 0, start, end;
	int at;

	if (cap == 0 || len > 65536)
		return -1;
	if (len >= 13 && find_ci(in, 13, "* CAPABILITY ") == 0) {
		start = 13;
		end = len;
	} else if ((at = find_ci(in, len, "[CAPABILITY ")) >= 0) {
		start = (size_t)at + 12;
		const char *rb = memchr(in + start, ']', len - start);
		if (!rb)
			goto copy;
		end = (size_t)(rb - in);
	} else {
		goto copy;
	}
	if (start >= cap)
		return -1;
	memcpy(out, in, start);
	o = start;
	if (copy_capas(in, start, end, out, cap, &o) < 0 || o + (len - end) >= cap)
		return -1;
	memcpy(out + o, in + end, len - end);
	o += len - end;
	out[o] = '\0';
	return (int)o;
copy:
	if (len >= cap)
		return -1;
	memcpy(out, in, len);
	out[len] = '\0';
	return (int)len;
}
