/* tun_limits.c - limits on top of the per-address throttle (tun_throttle.c): how many
 * connections one source may hold (so one host cannot take every max_connections slot;
 * compare Postfix's anvil), and a register rate for everyone together (each REGISTER
 * burns a number for ever, and an attacker with many IPv6 /64s has a per-source budget
 * in each of them). Sources are counted exactly, not in an evicting table: an entry
 * lives while its source has a connection, so memory follows max_connections. */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tun.h"

#define LIMIT_BUCKETS 4096

struct tun_addr_count {
	uint8_t key[TUN_ADDR_KEY_LEN];
	uint32_t bucket;
	unsigned n;
	struct tun_addr_count *next;
};

int tun_limits_init(struct tun_limits *l, long register_rate_total, unsigned long long now_ms)
{
	memset(l, 0, sizeof(*l));
	l->buckets = calloc(LIMIT_BUCKETS, sizeof(*l->buckets));
	if (!l->buckets || cry_random(l->seed, sizeof(l->seed)) < 0) {
		free(l->buckets);
		l->buckets = NULL;
		return -1;
	}
	l->nbuckets = LIMIT_BUCKETS;
	l->reg_rate = register_rate_total;
	l->reg_tokens = (long long)register_rate_total * 1000;
	l->reg_ms = now_ms;
	return 0;
}

void tun_limits_free(struct tun_limits *l)
{
	for (uint32_t i = 0; l->buckets && i < l->nbuckets; i++)
		for (struct tun_addr_count *e = l->buckets[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	free(l->buckets);
	l->buckets = NULL;
}

struct tun_addr_count *tun_limits_conn_add(struct tun_limits *l, const char *ip, long max)
{
	uint8_t key[TUN_ADDR_KEY_LEN];
	tun_addr_key(ip, key);
	uint32_t b = tun_addr_hash(l->seed, key, l->nbuckets);
	struct tun_addr_count *e;

	for (e = l->buckets[b]; e; e = e->next)
		if (memcmp(e->key, key, sizeof(key)) == 0)
			break;
	if (e) {
		if ((long)e->n >= max)
			return NULL;
		e->n++;
		return e;
	}
	if (max < 1 || !(e = calloc(1, sizeof(*e))))
		return NULL;
	memcpy(e->key, key, sizeof(key));
	e->bucket = b;
	e->n = 1;
	e->next = l->buckets[b];
	l->buckets[b] = e;
	l->sources++;
	return e;
}

void tun_limits_conn_del(struct tun_limits *l, struct tun_addr_count *e)
{
	if (!e || --e->n > 0)
		return;
	struct tun_addr_count **pp = &l->buckets[e->bucket];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	l->sources--;
	free(e);
}

unsigned tun_limits_conn_count(const struct tun_addr_count *e)
{
	return e ? e->n : 0;
}

int tun_limits_register(struct tun_limits *l, unsigned long long now_ms)
{
	tun_rate_refill(&l->reg_tokens, &l->reg_ms, l->reg_rate, now_ms);
	if (l->reg_tokens < 1000)
		return -1;
	l->reg_tokens -= 1000;
	return 0;
}
