/* mg_anvil.c - per client address session counts (mg_anvil.h). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applets/mailgw/mg_anvil.h"

#define LOG_EVERY 10   /* seconds between "too many connections" lines per client */

int mg_anvil_key(const char *ip, unsigned char key[MG_ANVIL_KEY])
{
	unsigned char a[16];

	memset(key, 0, MG_ANVIL_KEY);
	if (inet_pton(AF_INET, ip, a) == 1) {
		key[0] = 4;
		memcpy(key + 1, a, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return -1;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (memcmp(a, mapped, 12) == 0) {
		key[0] = 4;
		memcpy(key + 1, a + 12, 4);
		return 0;
	}
	key[0] = 6;
	memcpy(key + 1, a, 8);
	return 0;
}

static size_t bucket(const unsigned char *key)
{
	/* FNV-1a; the table only spreads load, an attacker gains nothing by colliding
	 * (the walk is bounded by the sessions that exist, at most max_connections). */
	unsigned h = 2166136261u;
	for (size_t i = 0; i < MG_ANVIL_KEY; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % MG_ANVIL_BUCKETS;
}

int mg_anvil_take(struct mg_anvil *a, const char *ip, long max, struct mg_anvil_entry **out,
		  int *log, unsigned long *nrefused)
{
	unsigned char key[MG_ANVIL_KEY];
	struct mg_anvil_entry *e;

	*out = NULL;
	*log = 0;
	*nrefused = 0;
	if (max <= 0 || mg_anvil_key(ip, key) < 0)
		return 0;
	size_t h = bucket(key);
	for (e = a->b[h]; e; e = e->next)
		if (memcmp(e->key, key, MG_ANVIL_KEY) == 0)
			break;
	if (e && e->count >= (unsigned long)max) {
		long long now = (long long)time(NULL);
		e->refused++;
		if (now - e->last_log >= LOG_EVERY) {
			*log = 1;
			*nrefused = e->refused;
			e->refused = 0;
			e->last_log = now;
		}
		return -1;
	}
	if (!e) {
		if (!(e = calloc(1, sizeof(*e))))
			return 0;   /* out of memory: do not refuse a client for our failure */
		memcpy(e->key, key, MG_ANVIL_KEY);
		e->next = a->b[h];
		a->b[h] = e;
	}
	e->count++;
	*out = e;
	return 0;
}

void mg_anvil_put(struct mg_anvil *a, struct mg_anvil_entry *e)
{
	if (!e || --e->count > 0)
		return;
	struct mg_anvil_entry **pp = &a->b[bucket(e->key)];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	free(e);
}

void mg_anvil_free(struct mg_anvil *a)
{
	for (size_t i = 0; i < MG_ANVIL_BUCKETS; i++)
		while (a->b[i]) {
			struct mg_anvil_entry *e = a->b[i];
			a->b[i] = e->next;
			free(e);
		}
}
