/* mg_cidr.c - address/prefix matching for relay_clients, require_tls_clients,
 * etrn_clients and IP rules of the TLS policy. IPv4-mapped IPv6 peers (from a dual
 * stack listener) match their IPv4 entries. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/mailgw/mg_policy.h"
#include "core/str.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Numeric ip -> family 4/6 and bytes; IPv4-mapped IPv6 becomes 4. */
static int ip_parse(const char *ip, int *family, uint8_t *out)
{
	uint8_t b[16];

	if (inet_pton(AF_INET, ip, b) == 1) {
		memcpy(out, b, 4);
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, b) == 1) {
		if (memcmp(b, v4mapped, 12) == 0) {
			memcpy(out, b + 12, 4);
			*family = 4;
		} else {
			memcpy(out, b, 16);
			*family = 6;
		}
		return 0;
	}
	return -1;
}

int mg_cidr_parse(const char *s, struct mg_cidr *c)
{
	char tmp[64];
	long long bits;
	size_t n = strlen(s);

	memset(c, 0, sizeof(*c));
	/* "[192.0.2.1]" as in Postfix tables */
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	char *slash = strchr(tmp, '/');
	if (slash)
		*slash = '\0';
	if (ip_parse(tmp, &c->family, c->addr) < 0)
		return -1;
	int max = c->family == 4 ? 32 : 128;
	c->bits = max;
	if (slash) {
		char *end;
		if (!slash[1])
			return -1;
		bits = strtoll(slash + 1, &end, 10);
		if (*end || bits < 0 || bits > max || slash[1] == '-' || slash[1] == '+')
			return -1;
		c->bits = (int)bits;
	}
	/* Clear host bits so "10.1.2.3/8" means 10.0.0.0/8. */
	for (int i = c->bits; i < max; i++)
		c->addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	return 0;
}

int mg_cidr_match(const struct mg_cidr *c, const char *ip)
{
	uint8_t b[16];
	int fam;

	if (ip_parse(ip, &fam, b) < 0 || fam != c->family)
		return 0;
	int full = c->bits / 8, rest = c->bits % 8;
	if (memcmp(b, c->addr, (size_t)full) != 0)
		return 0;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff00u >> rest);
		if ((b[full] & mask) != (c->addr[full] & mask))
			return 0;
	}
	return 1;
}

int mg_cidr_list_add(struct mg_cidr_list *l, const char *s)
{
	struct mg_cidr c;
	if (mg_cidr_parse(s, &c) < 0)
		return -1;
	struct mg_cidr *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	l->v = nv;
	l->v[l->n++] = c;
	return 0;
}

int mg_cidr_list_add_all(struct mg_cidr_list *l, const char *s, char *err, size_t errlen)
{
	char tok[80];
	size_t i = 0;

	while (s[i]) {
		while (s[i] == ' ' || s[i] == '\t' || s[i] == ',')
			i++;
		size_t st = i;
		while (s[i] && s[i] != ' ' && s[i] != '\t' && s[i] != ',')
			i++;
		if (i == st)
			break;
		if (i - st >= sizeof(tok)) {
			str_fmt(err, errlen, "address too long");
			return -1;
		}
		memcpy(tok, s + st, i - st);
		tok[i - st] = '\0';
		if (mg_cidr_list_add(l, tok) < 0) {
			str_fmt(err, errlen, "'%s' is not an address or CIDR", tok);
			return -1;
		}
	}
	return 0;
}

int mg_cidr_list_match(const struct mg_cidr_list *l, const char *ip)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (mg_cidr_match(&l->v[i], ip))
			return 1;
	return 0;
}

void mg_cidr_list_free(struct mg_cidr_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
