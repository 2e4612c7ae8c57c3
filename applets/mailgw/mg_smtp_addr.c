/* mg_smtp_addr.c - RFC 5321 4.1.2 path syntax. Strict on purpose: whatever passes
 * here ends up in queue files, Received: headers and outgoing MAIL/RCPT commands, so
 * no byte outside the grammar (no CR, LF, NUL, space, non-ASCII) may get through. */
#include <arpa/inet.h>
#include <string.h>

#include "applets/mailgw/mg_smtp.h"

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_atext(int c)
{
	return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str] (no trailing '-'). */
static int domain_name_ok(const char *d, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > MG_DOMAIN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)d[i];
		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_alpha(c) && !is_digit(c) && !(c == '-' && label > 0))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && d[len - 1] != '-';
}

/* "[1.2.3.4]" or "[IPv6:...]"; general literals are refused (nothing routes them). */
static int addr_literal_ok(const char *d, size_t len)
{
	char tmp[64];
	unsigned char bin[16];

	if (len < 3 || d[0] != '[' || d[len - 1] != ']' || len - 2 >= sizeof(tmp))
		return 0;
	/* inet_pton stops at a NUL: check every byte first (found by fuzz_smtp_addr) */
	for (size_t i = 1; i + 1 < len; i++)
		if (!is_alpha((unsigned char)d[i]) && !is_digit((unsigned char)d[i]) && d[i] != ':' && d[i] != '.')
			return 0;
	memcpy(tmp, d + 1, len - 2);
	tmp[len - 2] = '\0';
	if (strncmp(tmp, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, tmp + 5, bin) == 1;
	return inet_pton(AF_INET, tmp, bin) == 1;
}

int mg_domain_valid(const char *d, size_t len)
{
	if (len && d[0] == '[')
		return addr_literal_ok(d, len) ? 0 : -1;
	return domain_name_ok(d, len) ? 0 : -1;
}

/* Returns the length of a valid local part at s (Dot-string or Quoted-string), 0 if
 * invalid. Stops at the '@' that follows it. */
static size_t local_part_len(const char *s, size_t len)
{
	size_t i = 0;

	if (len && s[0] == '"') {
		int closed = 0;
		for (i = 1; i < len; i++) {
			int c = (unsigned char)s[i];
			if (c == '\\') {
				if (++i >= len || (unsigned char)s[i] < 32 || (unsigned char)s[i] > 126)
					return 0;
			} else if (c == '"') {
				i++;
				closed = 1;
				break;
			} else if (c < 32 || c > 126) {
				return 0;
			}
		}
		if (!closed)
			return 0;
		return i;
	}
	for (i = 0; i < len && s[i] != '@'; i++) {
		int c = (unsigned char)s[i];
		if (c == '.') {
			if (i == 0 || s[i - 1] == '.')
				return 0;
		} else if (!is_atext(c)) {
			return 0;
		}
	}
	if (i == 0 || s[i - 1] == '.')
		return 0;
	return i;
}

/* Mailbox = Local-part "@" ( Domain / address-literal ). */
static int mailbox_parse(const char *s, size_t len, char *out, size_t outcap)
{
	size_t ll = local_part_len(s, len);

	if (ll == 0 || ll > MG_LOCAL_MAX || ll >= len || s[ll] != '@')
		return -1;
	const char *dom = s + ll + 1;
	size_t dl = len - ll - 1;
	if (mg_domain_valid(dom, dl) < 0 || len > MG_ADDR_MAX || len + 1 > outcap)
		return -1;
	memcpy(out, s, ll + 1);
	for (size_t i = 0; i < dl; i++) {
		char c = dom[i];
		/* Domains compare case-insensitively; keep "IPv6:" as the RFC spells it. */
		if (dom[0] != '[' && c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out[ll + 1 + i] = c;
	}
	out[len] = '\0';
	return 0;
}

int mg_addr_parse(const char *s, size_t len, int null_ok, char *out, size_t outcap)
{
	if (len < 2 || s[0] != '<' || s[len - 1] != '>' || outcap == 0)
		return -1;
	s++;
	len -= 2;
	if (len == 0) {
		if (!null_ok)
			return -1;
		out[0] = '\0';
		return 0;
	}
	/* A source route ("@a,@b:") is accepted and ignored (RFC 5321 4.1.2, C.). */
	if (s[0] == '@') {
		const char *colon = memchr(s, ':', len);
		if (!colon)
			return -1;
		size_t rl = (size_t)(colon - s), start = 0;
		for (size_t i = 0; i <= rl; i++) {
			if (i == rl || s[i] == ',') {
				if (i - start < 2 || s[start] != '@' ||
				    mg_domain_valid(s + start + 1, i - start - 1) < 0)
					return -1;
				start = i + 1;
			}
		}
		len -= rl + 1;
		s = colon + 1;
	}
	return mailbox_parse(s, len, out, outcap);
}

int mg_addr_valid(const char *mailbox)
{
	char tmp[MG_ADDR_MAX + 1];
	size_t len = strlen(mailbox);

	if (len == 0)
		return 0;
	return mailbox_parse(mailbox, len, tmp, sizeof(tmp));
}

const char *mg_addr_domain(const char *mailbox)
{
	const char *at = strrchr(mailbox, '@');
	return at ? at + 1 : "";
}
