/* mg_relay.c - the one place that decides whether a recipient is accepted. Default
 * deny: a recipient is taken only for a relay domain (inbound) or from a client
 * network (outbound), so mailgw is never an open relay. */
#include <string.h>
#include <strings.h>

#include "applets/mailgw/mg_policy.h"
#include "applets/mailgw/mg_smtp.h"

int mg_domain_list_match(char *const *v, size_t n, const char *domain)
{
	size_t dl = strlen(domain);

	if (dl == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *e = v[i];
		size_t el = strlen(e);
		if (el == 0)
			continue;
		if (e[0] == '.') {
			/* ".example.com" matches a.example.com, not example.com itself */
			if (dl > el && strcasecmp(domain + dl - el, e) == 0)
				return 1;
		} else if (strcasecmp(domain, e) == 0) {
			return 1;
		}
	}
	return 0;
}

enum mg_relay mg_relay_check(const struct mg_relay_policy *p, const char *client_ip,
			     const char *rcpt)
{
	const char *dom = mg_addr_domain(rcpt);

	/* Address literals are never a relay domain: only trusted clients may use them. */
	if (dom[0] != '[' && mg_domain_list_match(p->domains, p->ndomains, dom))
		return MG_RELAY_INBOUND;
	if (client_ip && mg_cidr_list_match(p->clients, client_ip))
		return MG_RELAY_OUTBOUND;
	return MG_RELAY_DENY;
}
