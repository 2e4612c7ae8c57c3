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
	MG_AB_NKINDS
};

struct mg_auth_backend {
	char domain[256];       /* lowercase, "*" for every other domain */
	enum mg_auth_kind kind;
	char host[256];         /* or the socket path */
	int port;
	char uri[600];          /* as written, for logs */
};

struct mg_auth_table {
	struct mg_auth_backend *v;
	size_t n;
};

const char *mg_auth_kind_name(enum mg_auth_kind k);
/* Parses "DOMAIN URI" and appends it. Returns 0, -1 with why. */
int mg_auth_table_add(struct mg_auth_table *t, const char *line, char *why, size_t whylen);
/* The backend for a login: the domain after the last '@' (case-insensitive), else the
 * "*" entry. A login without '@' uses "*". NULL when none matches. */
const struct mg_auth_backend *mg_auth_table_find(const struct mg_auth_table *t, const char *login);
/* 1 when the hop to this backend carries the password in plaintext (dovecot over TCP
 * to an address that is not loopback). */
int mg_auth_backend_plaintext(const struct mg_auth_backend *b);
void mg_auth_table_free(struct mg_auth_table *t);
#endif
