/* mx.h - MX lookups for mailgw (libevent's evdns resolves A/AAAA/PTR only). One UDP
 * query, retried once, to the first nameserver of /etc/resolv.conf or a given one;
 * nothing blocks the loop. Added by the mailgw branch; owner: net/. */
#ifndef NET_MX_H
#define NET_MX_H

#include <stddef.h>
#include <stdint.h>

struct net_loop;

#define NET_MX_MAX 16

struct net_mx {
	char host[256];   /* exchange name, no trailing dot */
	int pref;
};

enum net_mx_status {
	NET_MX_OK = 0,         /* n records (0: the domain exists but has no MX) */
	NET_MX_NXDOMAIN = 1,   /* the domain does not exist */
	NET_MX_TEMPFAIL = 2,   /* timeout, SERVFAIL, truncated or malformed answer */
};

/* Results sorted by preference (equal preferences keep the server's order). */
typedef void (*net_mx_cb)(enum net_mx_status st, const struct net_mx *mx, size_t n, void *arg);

struct net_mx_req;
/* server: "IP", "IP:PORT" or "[v6]:PORT"; NULL = first nameserver in /etc/resolv.conf (else
 * 127.0.0.1). The callback fires exactly once, from the loop, unless cancelled.
 * Returns NULL if the query cannot even be sent (no callback then). */
struct net_mx_req *net_resolve_mx(struct net_loop *l, const char *domain, const char *server,
				  unsigned long timeout_ms, net_mx_cb cb, void *arg);
void net_mx_cancel(struct net_mx_req *r);

/* Builds the query packet (pure; used by net_resolve_mx). Returns its length or -1. */
int net_mx_query(const char *domain, uint16_t id, uint8_t *out, size_t cap);
/* Parses an answer (pure, fuzzed): checks id and question, collects MX records
 * (compressed names followed with a jump limit), sorts them. Returns 0 with *st set. */
int net_mx_parse(const uint8_t *pkt, size_t len, uint16_t id, struct net_mx *out, size_t max,
		 size_t *n, enum net_mx_status *st);
#endif
