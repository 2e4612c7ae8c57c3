/* mg_rcptcache.c - the recipient answer cache (mg_rcptcache.h). Four slots per bucket;
 * a full bucket gives up the entry that expires first. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "applets/mailgw/mg_rcptcache.h"
#include "applets/mailgw/mg_rcptmap.h"
#include "applets/mailgw/mg_smtp.h"

#define WAYS 4

struct slot {
	uint64_t src;                 /* hash of the source URI */
	long long expires;            /* 0 = empty */
	int verdict;
	char addr[MG_ADDR_MAX + 1];   /* lowercase */
};

struct mg_rcptcache {
	struct slot s[MG_RCPTCACHE_SLOTS];
};

static uint64_t fnv(const char *p)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	return h;
}

static void lower(char *out, const char *in)
{
	size_t n = 0;
	for (; in[n] && n < MG_ADDR_MAX; n++)
		out[n] = (char)tolower((unsigned char)in[n]);
	out[n] = '\0';
}

struct mg_rcptcache *mg_rcptcache_new(void)
{
	return calloc(1, sizeof(struct mg_rcptcache));
}

void mg_rcptcache_free(struct mg_rcptcache *c)
{
	free(c);
}

void mg_rcptcache_clear(struct mg_rcptcache *c)
{
	if (c)
		memset(c, 0, sizeof(*c));
}

static struct slot *bucket(const struct mg_rcptcache *c, uint64_t src, const char *low)
{
	uint64_t h = fnv(low) ^ (src * 31);
	return (struct slot *)&c->s[(h % (MG_RCPTCACHE_SLOTS / WAYS)) * WAYS];
}

int mg_rcptcache_get(const struct mg_rcptcache *c, const char *source, const char *addr, long long now)
{
	char low[MG_ADDR_MAX + 1];
	uint64_t src = fnv(source);

	if (!c)
		return -1;
	lower(low, addr);
	struct slot *b = bucket(c, src, low);
	for (int i = 0; i < WAYS; i++)
		if (b[i].expires > now && b[i].src == src && strcmp(b[i].addr, low) == 0)
			return b[i].verdict;
	return -1;
}

void mg_rcptcache_put(struct mg_rcptcache *c, const char *source, const char *addr, int verdict,
		      long long now, long secs)
{
	char low[MG_ADDR_MAX + 1];
	uint64_t src = fnv(source);

	if (!c || secs <= 0 || (verdict != MG_RCPT_VALID && verdict != MG_RCPT_INVALID))
		return;
	lower(low, addr);
	struct slot *b = bucket(c, src, low), *v = &b[0];
	for (int i = 0; i < WAYS; i++) {
		if (b[i].expires && b[i].src == src && strcmp(b[i].addr, low) == 0) {
			v = &b[i];
			break;
		}
		if (b[i].expires <= now) {
			v = &b[i];
			break;
		}
		if (b[i].expires < v->expires)
			v = &b[i];
	}
	v->src = src;
	v->expires = now + secs;
	v->verdict = verdict;
	memcpy(v->addr, low, sizeof(low));
}
