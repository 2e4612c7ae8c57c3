/* vw_servers.h - the relays viewer-master and viewer-client may use: `--server a,b,c` (or
 * `server = a,b,c` in the configuration), each HOST:PORT of a relay's TCP port, tried in
 * the order given; the first that answers serves the request (vw_redirect.h). A name with
 * several addresses is one entry: net/connect.c tries its addresses in turn. */
#ifndef VW_SERVERS_H
#define VW_SERVERS_H

#include <stddef.h>

#define VW_SERVERS_MAX 16
#define VW_SERVER_LEN 280

struct vw_servers {
	int n;
	char s[VW_SERVERS_MAX][VW_SERVER_LEN]; /* "HOST:PORT" each, as given */
};

/* Splits a comma-separated list (spaces around entries are ignored). 0, or -1 with why
 * (an empty or malformed entry, too many). */
int vw_servers_parse(const char *list, struct vw_servers *out, char *why, size_t whylen);
#endif
