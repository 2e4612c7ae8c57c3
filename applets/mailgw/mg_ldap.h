/* mg_ldap.h - what the LDAP backend (mg_auth_ldap.c) and the recipient checks share:
 * the search filter for one value. */
#ifndef MG_LDAP_H
#define MG_LDAP_H

#include <stddef.h>

struct mg_auth_backend;

/* The filter text for value at backend b: "(ATTR=VALUE)", "(|(A1=V)(A2=V))" for several
 * attributes ("smtp:" before the value for proxyAddresses), ANDed with b's own filter;
 * the value RFC 4515-escaped. 0, or -1 when it does not fit. */
int mg_ldap_build_filter(char *out, size_t cap, const struct mg_auth_backend *b, const char *value);
#endif
