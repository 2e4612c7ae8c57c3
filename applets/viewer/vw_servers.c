/* vw_servers.c - the list of relays to try (vw_servers.h). */
#include <stdio.h>
#include <string.h>

#include "applets/viewer/vw_servers.h"
#include "net/conn.h"

int vw_servers_parse(const char *list, struct vw_servers *out, char *why, size_t whylen)
{
	const char *p = list ? list : "";

	memset(out, 0, sizeof(*out));
	for (;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char host[256];
		int port;

		while (len && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (out->n == VW_SERVERS_MAX) {
			snprintf(why, whylen, "more than %d relays", VW_SERVERS_MAX);
			return -1;
		}
		if (!len || len >= VW_SERVER_LEN) {
			snprintf(why, whylen, "%s relay address in '%.200s'", len ? "an overlong" : "an empty", list ? list : "");
			return -1;
		}
		memcpy(out->s[out->n], p, len);
		out->s[out->n][len] = '\0';
		if (net_split_hostport(out->s[out->n], host, sizeof(host), &port, 0) < 0 || port <= 0) {
			snprintf(why, whylen, "'%s' is not HOST:PORT", out->s[out->n]);
			return -1;
		}
		out->n++;
		if (!e)
			return 0;
		p = e + 1;
	}
}
