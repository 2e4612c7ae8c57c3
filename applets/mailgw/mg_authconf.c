/* mg_authconf.c - parsing and lookup of the auth_backend table (mg_authconf.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "applets/mailgw/mg_authconf.h"
#include "applets/mailgw/mg_smtp.h"
#include "core/secret.h"
#include "core/str.h"

static const struct {
	const char *scheme;
	enum mg_auth_kind kind;
	int port;
} schemes[] = {
	{ "dovecot://", MG_AB_DOVECOT_TCP, 0 }, { "imaps://", MG_AB_IMAPS, 993 },
	{ "imap://", MG_AB_IMAP, 143 },         { "pop3s://", MG_AB_POP3S, 995 },
	{ "pop3://", MG_AB_POP3, 110 },         { "smtps://", MG_AB_SMTPS, 465 },
	{ "smtp://", MG_AB_SMTP, 587 },         { "ldaps://", MG_AB_LDAPS, 636 },
	{ "ldap://", MG_AB_LDAP, 389 },
};

static const char *const kind_names[MG_AB_NKINDS] = {
	"dovecot", "dovecot", "imaps", "imap", "pop3s", "pop3", "smtps", "smtp", "ldaps", "ldap", "callout",
};

const char *mg_auth_kind_name(enum mg_auth_kind k)
{
	return (unsigned)k < MG_AB_NKINDS ? kind_names[k] : "?";
}

int mg_auth_backend_parse(struct mg_auth_backend *b, const char *uri, int ldap_ok, char *why, size_t whylen)
{
	str_copy(b->uri, uri, sizeof(b->uri));
	if (strncmp(uri, "dovecot:/", 9) == 0 && uri[9] != '/') {
		b->kind = MG_AB_DOVECOT_UNIX;
		if (strlen(uri + 8) >= 108) {
			str_fmt(why, whylen, "socket path too long");
			return -1;
		}
		str_copy(b->host, uri + 8, sizeof(b->host));
		return 0;
	}
	size_t i, n = sizeof(schemes) / sizeof(schemes[0]);
	for (i = 0; i < n; i++)
		if (strncasecmp(uri, schemes[i].scheme, strlen(schemes[i].scheme)) == 0)
			break;
	if (i == n || (!ldap_ok && (schemes[i].kind == MG_AB_LDAP || schemes[i].kind == MG_AB_LDAPS))) {
		str_fmt(why, whylen, "unknown URI '%s' (dovecot:/PATH, dovecot://, imaps://, imap://, pop3s://, pop3://, smtps://, smtp://, ldaps://, ldap://)", uri);
		return -1;
	}
	b->kind = schemes[i].kind;
	int ldap = b->kind == MG_AB_LDAP || b->kind == MG_AB_LDAPS;
	const char *hp = uri + strlen(schemes[i].scheme);
	size_t hl = strlen(hp);
	const char *rest = NULL;
	if (ldap) {
		/* ldap[s]://HOST[:PORT]/BASE_DN?ATTR... */
		rest = strchr(hp, '/');
		if (!rest) {
			str_fmt(why, whylen, "'%s': expected %sHOST[:PORT]/BASE_DN?ATTR", uri, schemes[i].scheme);
			return -1;
		}
		hl = (size_t)(rest - hp);
	} else if (hl && hp[hl - 1] == '/') {
		hl--;
	}
	char hpb[300];
	if (hl == 0 || hl >= sizeof(hpb) || memchr(hp, '/', hl) || memchr(hp, '@', hl)) {
		str_fmt(why, whylen, "'%s': expected %sHOST:PORT", uri, schemes[i].scheme);
		return -1;
	}
	memcpy(hpb, hp, hl);
	hpb[hl] = '\0';
	/* HOST[:PORT] or [v6][:PORT] */
	char *colon = hpb[0] == '[' ? strstr(hpb, "]:") : strrchr(hpb, ':');
	if (colon && hpb[0] == '[')
		colon++;
	b->port = schemes[i].port;
	if (colon) {
		char *end;
		long p = strtol(colon + 1, &end, 10);
		if (*end || p < 1 || p > 65535) {
			str_fmt(why, whylen, "'%s': bad port", uri);
			return -1;
		}
		b->port = (int)p;
		*colon = '\0';
	}
	char *h = hpb;
	size_t l = strlen(h);
	if (h[0] == '[' && l > 2 && h[l - 1] == ']') {
		h[l - 1] = '\0';
		h++;
	}
	if (!*h || b->port == 0) {
		str_fmt(why, whylen, "'%s': host and port required", uri);
		return -1;
	}
	str_copy(b->host, h, sizeof(b->host));
	return ldap ? mg_ldap_url_parse(b, rest, why, whylen) : 0;
}

int mg_auth_table_add(struct mg_auth_table *t, const char *line, char *why, size_t whylen)
{
	struct mg_auth_backend b;
	char dom[256], uri[600], extra[2];

	memset(&b, 0, sizeof(b));
	if (sscanf(line, "%255s %599s %1s", dom, uri, extra) != 2) {
		str_fmt(why, whylen, "expected 'DOMAIN|* URI'");
		return -1;
	}
	for (char *p = dom; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strcmp(dom, "*") != 0 && mg_domain_valid(dom, strlen(dom)) < 0) {
		str_fmt(why, whylen, "'%s' is not a domain or *", dom);
		return -1;
	}
	str_copy(b.domain, dom, sizeof(b.domain));
	if (mg_auth_backend_parse(&b, uri, 1, why, whylen) < 0)
		return -1;
	for (size_t k = 0; k < t->n; k++)
		if (strcmp(t->v[k].domain, b.domain) == 0) {
			str_fmt(why, whylen, "a second backend for '%s'", b.domain);
			return -1;
		}
	struct mg_auth_backend *nv = realloc(t->v, (t->n + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	t->v = nv;
	t->v[t->n++] = b;
	return 0;
}

const struct mg_auth_backend *mg_auth_table_find(const struct mg_auth_table *t, const char *login)
{
	const char *at = strrchr(login, '@');
	const struct mg_auth_backend *star = NULL;

	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].domain, "*") == 0)
			star = &t->v[i];
		else if (at && strcasecmp(t->v[i].domain, at + 1) == 0)
			return &t->v[i];
	}
	return star;
}

int mg_auth_backend_plaintext(const struct mg_auth_backend *b)
{
	if (b->kind != MG_AB_DOVECOT_TCP)
		return 0;
	return !(strncmp(b->host, "127.", 4) == 0 || strcmp(b->host, "::1") == 0 ||
		 strcasecmp(b->host, "localhost") == 0);
}

void mg_auth_table_set_bind(struct mg_auth_table *t, const char *dn, const char *pw)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].kind == MG_AB_LDAP || t->v[i].kind == MG_AB_LDAPS) {
			str_copy(t->v[i].bind_dn, dn ? dn : "", sizeof(t->v[i].bind_dn));
			str_copy(t->v[i].bind_pw, pw ? pw : "", sizeof(t->v[i].bind_pw));
		}
}

void mg_auth_table_free(struct mg_auth_table *t)
{
	if (t->v)
		secret_wipe(t->v, t->n * sizeof(*t->v));
	free(t->v);
	t->v = NULL;
	t->n = 0;
}
