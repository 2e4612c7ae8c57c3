/* mg_ldap_url.c - the LDAP part of a backend URI (mg_authconf.h), laid out as RFC 4516
 * says: "/BASE_DN?ATTR[,ATTR...][?SCOPE[?FILTER]]", each part %XX-decoded. ATTR names
 * the attributes the client's value (login or recipient address) is compared with;
 * FILTER, when given, is ANDed to that comparison. Also: building the search filter for
 * one value (the value escaped, RFC 4515). Pure code. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "applets/mailgw/mg_authconf.h"
#include "applets/mailgw/mg_ldap.h"
#include "applets/mailgw/mg_ldap_ber.h"
#include "core/buf.h"
#include "core/encoding.h"
#include "core/str.h"

/* Decodes p[0..n) into out; a %00 or a bad escape fails. */
static int pct_decode(char *out, size_t cap, const char *p, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)p[i];
		if (c == '%') {
			if (i + 2 >= n || hex_decode(p + i + 1, 2, &c, 1) != 1 || c == 0)
				return -1;
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int attrs_ok(const char *a)
{
	if (!*a || *a == ',')
		return 0;
	for (; *a; a++)
		if (!(isalnum((unsigned char)*a) || *a == '-' || *a == '.' || *a == ';' ||
		      (*a == ',' && a[1] && a[1] != ',')))
			return 0;
	return 1;
}

int mg_ldap_url_parse(struct mg_auth_backend *b, const char *rest, char *why, size_t whylen)
{
	const char *part[5] = { 0 };
	size_t len[5] = { 0 };
	int np = 0;
	char scope[16];

	if (!rest || rest[0] != '/') {
		str_fmt(why, whylen, "'%s': expected /BASE_DN?ATTR after the host", b->uri);
		return -1;
	}
	const char *p = rest + 1;
	while (np < 5) {
		const char *q = strchr(p, '?');
		part[np] = p;
		len[np++] = q ? (size_t)(q - p) : strlen(p);
		if (!q)
			break;
		p = q + 1;
	}
	if (np == 5 || strchr(p, '?')) {
		str_fmt(why, whylen, "'%s': LDAP URL extensions are not supported", b->uri);
		return -1;
	}
	if (np < 2 || pct_decode(b->base, sizeof(b->base), part[0], len[0]) < 0 || !b->base[0] ||
	    pct_decode(b->attrs, sizeof(b->attrs), part[1], len[1]) < 0 || !attrs_ok(b->attrs)) {
		str_fmt(why, whylen, "'%s': expected /BASE_DN?ATTR[,ATTR]: a base DN and the attribute(s) to match", b->uri);
		return -1;
	}
	b->scope = MG_LDAP_SCOPE_SUB;
	if (np > 2 && len[2]) {
		if (pct_decode(scope, sizeof(scope), part[2], len[2]) < 0) {
			str_fmt(why, whylen, "'%s': bad scope", b->uri);
			return -1;
		}
		if (strcasecmp(scope, "base") == 0)
			b->scope = MG_LDAP_SCOPE_BASE;
		else if (strcasecmp(scope, "one") == 0)
			b->scope = MG_LDAP_SCOPE_ONE;
		else if (strcasecmp(scope, "sub") != 0) {
			str_fmt(why, whylen, "'%s': scope is base, one or sub", b->uri);
			return -1;
		}
	}
	b->filter[0] = '\0';
	if (np > 3 && len[3]) {
		if (pct_decode(b->filter, sizeof(b->filter), part[3], len[3]) < 0) {
			str_fmt(why, whylen, "'%s': bad filter encoding", b->uri);
			return -1;
		}
		/* checked now, so that a bad filter is a config error, not a 454 later */
		uint8_t mem[MG_LDAP_FILTER_MAX];
		struct buf_writer w;
		const char *fwhy;
		buf_writer_fixed(&w, mem, sizeof(mem));
		if (mg_ldap_filter_ber(&w, b->filter, &fwhy) < 0) {
			str_fmt(why, whylen, "'%s': filter: %s", b->uri, fwhy);
			return -1;
		}
	}
	return 0;
}

int mg_ldap_build_filter(char *out, size_t cap, const struct mg_auth_backend *b, const char *value)
{
	char esc[3 * 256 + 1], attrs[sizeof(b->attrs)], *save = NULL;
	struct buf_writer w;
	int n = 0;

	if (strlen(value) > 256 || mg_ldap_escape(esc, sizeof(esc), value, strlen(value)) < 0)
		return -1;
	str_copy(attrs, b->attrs, sizeof(attrs));
	for (const char *a = attrs; *a; a++)
		n += *a == ',';
	buf_writer_fixed(&w, out, cap);
	int many = n > 0, extra = b->filter[0] != '\0';
	if (extra)
		buf_put_str(&w, "(&");
	if (many)
		buf_put_str(&w, "(|");
	for (char *a = strtok_r(attrs, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		buf_put_str(&w, "(");
		buf_put_str(&w, a);
		/* Active Directory keeps addresses in proxyAddresses as "smtp:ADDRESS" */
		buf_put_str(&w, strcasecmp(a, "proxyAddresses") == 0 ? "=smtp:" : "=");
		buf_put_str(&w, esc);
		buf_put_str(&w, ")");
	}
	if (many)
		buf_put_str(&w, ")");
	if (extra) {
		buf_put_str(&w, b->filter);
		buf_put_str(&w, ")");
	}
	buf_put_u8(&w, 0);
	return w.err ? -1 : 0;
}
