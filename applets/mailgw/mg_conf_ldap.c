/* mg_conf_ldap.c - the checks of mailgw's configuration that concern the ldap backends
 * and the ldap / callout recipient sources (mg_conf.h). */
#include <string.h>

#include "applets/mailgw/mg_conf.h"
#include "core/secret.h"
#include "core/str.h"

static int uses_ldap(const struct mg_conf *c)
{
	for (size_t i = 0; i < c->auth_table.n; i++)
		if (c->auth_table.v[i].kind == MG_AB_LDAP || c->auth_table.v[i].kind == MG_AB_LDAPS)
			return 1;
	for (size_t i = 0; i < c->rcpt_table.n; i++)
		if (c->rcpt_table.v[i].kind == MG_RS_LDAP)
			return 1;
	return 0;
}

int mg_conf_ldap_check(struct mg_conf *c, char *err, size_t errlen)
{
	char why[200];
	char *pw = NULL;

	if (!c->ldap_bind_dn != !c->ldap_bind_password_file) {
		str_fmt(err, errlen, "ldap_bind_dn and ldap_bind_password_file go together");
		return -1;
	}
	if (c->ldap_bind_password_file && uses_ldap(c)) {
		if (!(pw = secret_read(c->ldap_bind_password_file, NULL, NULL, why, sizeof(why)))) {
			str_fmt(err, errlen, "ldap_bind_password_file: %s", why);
			return -1;
		}
		if (strlen(pw) >= sizeof(((struct mg_auth_backend *)0)->bind_pw) || !pw[0]) {
			secret_free_str(pw);
			str_fmt(err, errlen, "ldap_bind_password_file: the password is empty or longer than 255 bytes");
			return -1;
		}
	}
	mg_auth_table_set_bind(&c->auth_table, c->ldap_bind_dn, pw);
	mg_rcpt_table_set_bind(&c->rcpt_table, c->ldap_bind_dn, pw);
	secret_free_str(pw);
	for (size_t i = 0; i < c->rcpt_table.n; i++) {
		const struct mg_rcpt_source *s = &c->rcpt_table.v[i];
		char hop[300];
		if (s->kind != MG_RS_CALLOUT || !s->route || strcmp(s->domain, "*") == 0)
			continue;
		mg_conf_nexthop(c, s->domain, hop, sizeof(hop));
		if (!hop[0]) {
			str_fmt(err, errlen, "rcpt_source %s callout: no next hop for %s (smarthost_map, smarthost, or write callout:HOST[:PORT])",
				s->domain, s->domain);
			return -1;
		}
	}
	return 0;
}
