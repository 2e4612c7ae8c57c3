/* mg_tlspolicy.c - outbound TLS policy per destination (Postfix smtp_tls_policy_maps
 * levels none/may/encrypt/verify). Keys: a domain, ".parent" for its subdomains, or an
 * IP/CIDR ("[192.0.2.1]") for a next hop. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "applets/mailgw/mg_policy.h"
#include "applets/mailgw/mg_smtp.h"
#include "core/str.h"

static const char *const level_names[] = { "none", "may", "encrypt", "verify" };

const char *mg_tls_level_name(enum mg_tls_level l)
{
	return (unsigned)l < 4 ? level_names[l] : "?";
}

int mg_tls_level_parse(const char *s, enum mg_tls_level *l)
{
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, level_names[i]) == 0) {
			*l = (enum mg_tls_level)i;
			return 0;
		}
	return -1;
}

int mg_tls_policy_add(struct mg_tls_policy *p, const char *line, char *err, size_t errlen)
{
	char key[256], lvl[32];
	struct mg_tls_rule r;
	const char *s = line;

	memset(&r, 0, sizeof(r));
	while (*s == ' ' || *s == '\t')
		s++;
	size_t kl = strcspn(s, " \t");
	if (kl == 0 || kl >= sizeof(key)) {
		str_fmt(err, errlen, "expected 'DESTINATION LEVEL'");
		return -1;
	}
	memcpy(key, s, kl);
	key[kl] = '\0';
	s += kl;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t ll = strcspn(s, " \t");
	if (ll == 0 || ll >= sizeof(lvl) || s[ll + strspn(s + ll, " \t")] != '\0') {
		str_fmt(err, errlen, "expected 'DESTINATION LEVEL'");
		return -1;
	}
	memcpy(lvl, s, ll);
	lvl[ll] = '\0';
	if (mg_tls_level_parse(lvl, &r.level) < 0) {
		str_fmt(err, errlen, "unknown level '%s' (none|may|encrypt|verify)", lvl);
		return -1;
	}
	if (mg_cidr_parse(key, &r.cidr) == 0) {
		r.is_cidr = 1;
	} else {
		const char *d = key[0] == '.' ? key + 1 : key;
		if (mg_domain_valid(d, strlen(d)) < 0 || d[0] == '[') {
			str_fmt(err, errlen, "'%s' is neither a domain nor an IP/CIDR", key);
			return -1;
		}
		for (char *c = key; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		str_copy(r.key, key, sizeof(r.key));
	}
	struct mg_tls_rule *nv = realloc(p->v, (p->n + 1) * sizeof(*nv));
	if (!nv) {
		str_fmt(err, errlen, "out of memory");
		return -1;
	}
	p->v = nv;
	p->v[p->n++] = r;
	return 0;
}

enum mg_tls_level mg_tls_policy_domain(const struct mg_tls_policy *p, const char *domain, int *found)
{
	size_t dl = strlen(domain), best = 0;
	enum mg_tls_level lv = p->def;

	*found = 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct mg_tls_rule *r = &p->v[i];
		if (r->is_cidr)
			continue;
		if (strcasecmp(r->key, domain) == 0) {
			*found = 1;
			return r->level;   /* exact wins over any parent rule */
		}
		size_t kl = strlen(r->key);
		if (r->key[0] == '.' && dl > kl && strcasecmp(domain + dl - kl, r->key) == 0 && kl > best) {
			best = kl;
			lv = r->level;
			*found = 1;
		}
	}
	return lv;
}

enum mg_tls_level mg_tls_policy_final(const struct mg_tls_policy *p, const char *domain,
				      const char *ip)
{
	int found = 0, ipfound = 0, bestbits = -1;
	enum mg_tls_level lv = mg_tls_policy_domain(p, domain, &found), iplv = MG_TLS_NONE;

	for (size_t i = 0; ip && i < p->n; i++) {
		const struct mg_tls_rule *r = &p->v[i];
		if (r->is_cidr && mg_cidr_match(&r->cidr, ip)) {
			/* the most specific prefix wins among IP rules */
			if (r->cidr.bits > bestbits) {
				bestbits = r->cidr.bits;
				iplv = r->level;
				ipfound = 1;
			}
		}
	}
	if (!ipfound)
		return lv;
	if (!found || iplv > lv)
		return iplv;
	return lv;
}

void mg_tls_policy_free(struct mg_tls_policy *p)
{
	free(p->v);
	p->v = NULL;
	p->n = 0;
}
