/* mg_anvil.h - connections at once per client address (Postfix's anvil, in-process):
 * without it one host could hold every slot of max_connections. IPv4 addresses count
 * one by one, IPv6 addresses by /64 (one subscriber's whole prefix is one client).
 * The table is owned by the context; a session holds the entry it took until it ends. */
#ifndef MG_ANVIL_H
#define MG_ANVIL_H

#include <stddef.h>

#define MG_ANVIL_KEY 9   /* family byte + 4 (IPv4) or 8 (IPv6 /64) address bytes */

struct mg_anvil_entry {
	struct mg_anvil_entry *next;
	unsigned char key[MG_ANVIL_KEY];
	unsigned long count;       /* sessions held now */
	unsigned long refused;     /* refused since the last log line */
	long long last_log;        /* when the last "too many" line was written */
};

#define MG_ANVIL_BUCKETS 1024
struct mg_anvil {
	struct mg_anvil_entry *b[MG_ANVIL_BUCKETS];
};

/* The counting key of a textual address: IPv4 (also IPv4-mapped IPv6) whole, IPv6 by
 * /64. Returns 0, -1 if ip is not an address (then nothing is counted). Pure. */
int mg_anvil_key(const char *ip, unsigned char key[MG_ANVIL_KEY]);
/* Takes a slot for ip. Returns 0 and *out (NULL when ip is not an address, or
 * max <= 0: no limit), or -1 when the client already holds max sessions; then *log
 * says whether the caller should log it now (at most once per 10 s and client group)
 * and *nrefused how many were refused since the last line. */
int mg_anvil_take(struct mg_anvil *a, const char *ip, long max, struct mg_anvil_entry **out,
		  int *log, unsigned long *nrefused);
/* Gives the slot back (e may be NULL). */
void mg_anvil_put(struct mg_anvil *a, struct mg_anvil_entry *e);
void mg_anvil_free(struct mg_anvil *a);
#endif
