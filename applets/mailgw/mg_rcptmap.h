/* mg_rcptmap.h - recipient validation for relay_domains ("populate the user list"):
 * `rcpt_source = DOMAIN|* SOURCE` lines, SOURCE one of
 *   file:/PATH        the valid addresses, one a line ('#' comments; a bare local part
 *                     means that local part in DOMAIN; "@domain" takes every address of
 *                     that domain). Read at start and on every SIGHUP (the whole config
 *                     reloads); a file that cannot be read makes the source unavailable.
 *   ldaps://H:P/BASE_DN?ATTR[,ATTR][?SCOPE[?FILTER]], ldap://... (StartTLS)
 *                     an LDAP search for the address (mg_auth_ldap.c, probe mode).
 *   callout[:HOST[:PORT]]
 *                     a RCPT probe at the domain's next hop (smarthost_map / smarthost)
 *                     or at HOST (mg_auth_mail.c, probe mode).
 * The last two are asked on the loop (MG_RCPT_LOOKUP: the session waits), their answers
 * cached (mg_rcptcache.h). Unavailable: 451 4.4.3, or accept with rcpt_unavailable. */
#ifndef MG_RCPTMAP_H
#define MG_RCPTMAP_H

#include <stddef.h>

#include "applets/mailgw/mg_authconf.h"

enum mg_rcpt_kind { MG_RS_FILE = 0, MG_RS_LDAP, MG_RS_CALLOUT };

struct mg_rcpt_source {
	char domain[256];     /* lowercase, or "*" */
	enum mg_rcpt_kind kind;
	struct mg_auth_backend be;   /* ldap: the URL; callout: the host, when given */
	int route;            /* callout without a host: the domain's next hop */
	char path[512];
	char uri[600];
	int available;        /* the file was read */
	char why[160];        /* when not */
	char **addr;          /* sorted, lowercase */
	size_t naddr;
};

struct mg_rcpt_table {
	struct mg_rcpt_source *v;
	size_t n;
};

enum { MG_RCPT_UNKNOWN_SOURCE = 0, MG_RCPT_VALID, MG_RCPT_INVALID, MG_RCPT_UNAVAILABLE, MG_RCPT_LOOKUP };

/* Parses "DOMAIN URI" and loads the file. Returns 0 (also when the file cannot be
 * read: then available = 0), -1 with why for a bad line. */
int mg_rcpt_table_add(struct mg_rcpt_table *t, const char *line, char *why, size_t whylen);
/* Adds the lines of a list (text, len) to s: pure, unit-tested. Returns 0/-1 (memory). */
int mg_rcpt_source_parse(struct mg_rcpt_source *s, const char *text, size_t len);
/* The source for a recipient's domain (exact, else "*"), NULL if none. */
const struct mg_rcpt_source *mg_rcpt_table_find(const struct mg_rcpt_table *t, const char *addr);
/* MG_RCPT_UNKNOWN_SOURCE (no source: not checked), VALID, INVALID or UNAVAILABLE, or
 * MG_RCPT_LOOKUP for an ldap or callout source (the caller asks, mg_rcpt_lookup.c). */
int mg_rcpt_check(const struct mg_rcpt_table *t, const char *addr, const struct mg_rcpt_source **src);
void mg_rcpt_table_free(struct mg_rcpt_table *t);
/* The service account for the ldap sources (mg_auth_table_set_bind). */
void mg_rcpt_table_set_bind(struct mg_rcpt_table *t, const char *dn, const char *pw);
#endif
