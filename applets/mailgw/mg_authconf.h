/* mg_authconf.h - the authentication backend table: `auth_backend = DOMAIN|* URI` lines
 * of [mailgw], parsed at load time. Pure code (tested in test_mg_auth.c). */
#ifndef MG_AUTHCONF_H
#define MG_AUTHCONF_H

#include <stddef.h>

enum mg_auth_kind {
	MG_AB_DOVECOT_UNIX = 0, /* dovecot:/PATH */
	MG_AB_DOVECOT_TCP,      /* dovecot://HOST:PORT (loopback, or auth_allow_plaintext) */
	MG_AB_IMAPS, MG_AB_IMAP, /* implicit TLS / STARTTLS */
	MG_AB_POP3S, MG_AB_POP3, /* implicit TLS / STLS */
	MG_AB_SMTPS, MG_AB_SMTP, /* implicit TLS / STARTTLS, then AUTH PLAIN */
	MG_AB_LDAPS, MG_AB_LDAP, /* implicit TLS / StartTLS: service bind, search, user bind */
	MG_AB_CALLOUT,          /* recipient checks only: a RCPT probe at the next hop */
	MG_AB_NKINDS
};

struct mg_auth_backend {
	char domain[256];       /* lowercase, "*" for every other domain */
	enum mg_auth_kind kind;
	char host[256];         /* or the socket path */
	int port;
	char uri[600];          /* as written, for logs */
	/* ldap, ldaps: ldap[s]://HOST[:PORT]/BASE_DN?ATTR[,ATTR...][?SCOPE[?FILTER]]
	 * (RFC 4516 layout, %XX decoded; mg_ldap_url.c) */
	char base[512];
	char attrs[128];        /* the attributes the value is matched against, ',' between */
	int scope;              /* MG_LDAP_SCOPE_* (default sub) */
	char filter[512];       /* the operator's extra filter, ANDed; "" for none */
	char bind_dn[512];      /* the service account ("" = anonymous search) */
	char bind_pw[256];      /* its password (ldap_bind_password_file), wiped with the table */
};

struct mg_auth_table {
	struct mg_auth_backend *v;
	size_t n;
};

const char *mg_auth_kind_name(enum mg_auth_kind k);
/* Parses a backend URI (no domain) into b (kind, host, port, uri, the LDAP fields).
 * ldap_ok / callout_ok: whether those kinds are allowed here. 0, -1 with why. */
int mg_auth_backend_parse(struct mg_auth_backend *b, const char *uri, int ldap_ok, char *why, size_t whylen);
/* The rest of an LDAP URL after HOST[:PORT]: "/BASE_DN?ATTRS[?SCOPE[?FILTER]]". */
int mg_ldap_url_parse(struct mg_auth_backend *b, const char *rest, char *why, size_t whylen);
/* Parses "DOMAIN URI" and appends it. Returns 0, -1 with why. */
int mg_auth_table_add(struct mg_auth_table *t, const char *line, char *why, size_t whylen);
/* The backend for a login: the domain after the last '@' (case-insensitive), else the
 * "*" entry. A login without '@' uses "*". NULL when none matches. */
const struct mg_auth_backend *mg_auth_table_find(const struct mg_auth_table *t, const char *login);
/* 1 when the hop to this backend carries the password in plaintext (dovecot over TCP
 * to an address that is not loopback). */
int mg_auth_backend_plaintext(const struct mg_auth_backend *b);
/* Sets the service account of every ldap backend (the bind password is copied). */
void mg_auth_table_set_bind(struct mg_auth_table *t, const char *dn, const char *pw);
void mg_auth_table_free(struct mg_auth_table *t);
#endif
