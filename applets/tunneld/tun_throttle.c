/* tun_throttle.c - join throttling per source address. Two token buckets per address
 * (all attempts, unknown-number attempts) and a block deadline. The table has a fixed
 * number of entries allocated at start; when it is full the least recently seen entry
 * is reused, so a flood from many addresses costs time, never memory. IPv6 addresses
 * count per /64, since one host usually owns a whole /64. Hash chains use a keyed
 * hash (random seed) so nobody can aim many addresses at one chain. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tun.h"

struct tun_thr_entry {
	uint8_t key[17];            /* family byte + address (v6: /64 prefix, rest zero) */
	uint32_t chain;             /* next in hash chain, index+1 */
	uint32_t prev, next;        /* LRU list, index+1 */
	unsigned long long seen_ms;
	unsigned long long blocked_until;
	long long join_tokens;      /* milli-tokens */
	long long unknown_tokens;
	long long register_tokens;
	unsigned long long join_ms, unknown_ms, register_ms; /* last refill */
};

int tun_throttle_init(struct tun_throttle *t, size_t cap, long join_rate, long unknown_rate,
		      long block_seconds)
{
	memset(t, 0, sizeof(*t));
	t->pool = calloc(cap, sizeof(*t->pool));
	t->buckets = calloc(cap, sizeof(*t->buckets));
	if (!t->pool || !t->buckets || cry_random(t->seed, sizeof(t->seed)) < 0) {
		tun_throttle_free(t);
		return -1;
	}
	t->cap = cap;
	t->register_rate = 10; /* the caller sets its own */
	tun_throttle_set_limits(t, join_rate, unknown_rate, block_seconds);
	return 0;
}

void tun_throttle_free(struct tun_throttle *t)
{
	free(t->pool);
	free(t->buckets);
	t->pool = NULL;
	t->buckets = NULL;
}

void tun_throttle_set_limits(struct tun_throttle *t, long join_rate, long unknown_rate,
			     long block_seconds)
{
	t->join_rate = join_rate;
	t->unknown_rate = unknown_rate;
	t->block_ms = (unsigned long long)block_seconds * 1000;
}

size_t tun_throttle_count(const struct tun_throttle *t)
{
	return t->used;
}

void tun_addr_key(const char *ip, uint8_t key[TUN_ADDR_KEY_LEN])
{
	memset(key, 0, 17);
	if (inet_pton(AF_INET, ip, key + 1) == 1) {
		key[0] = 4;
		return;
	}
	uint8_t a6[16];
	if (inet_pton(AF_INET6, ip, a6) == 1) {
		/* v4-mapped addresses count as the IPv4 address */
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(a6, mapped, 12) == 0) {
			key[0] = 4;
			memcpy(key + 1, a6 + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, a6, 8);
		}
		return;
	}
	key[0] = 0; /* unparsable: all such share one entry */
}

uint32_t tun_addr_hash(const uint8_t seed[16], const uint8_t key[TUN_ADDR_KEY_LEN], uint32_t buckets)
{
	uint8_t h[CRY_SHA256_LEN];
	if (cry_hmac_sha256(seed, 16, key, TUN_ADDR_KEY_LEN, h) < 0)
		return (uint32_t)(key[1] ^ key[2] ^ key[3] ^ key[4]) % buckets;
	return ((uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3]) % buckets;
}

static uint32_t hash_key(const struct tun_throttle *t, const uint8_t key[17])
{
	return tun_addr_hash(t->seed, key, (uint32_t)t->cap);
}

static void lru_unlink(struct tun_throttle *t, uint32_t i)
{
	struct tun_thr_entry *e = &t->pool[i - 1];
	if (e->prev)
		t->pool[e->prev - 1].next = e->next;
	else
		t->lru_head = e->next;
	if (e->next)
		t->pool[e->next - 1].prev = e->prev;
	else
		t->lru_tail = e->prev;
	e->prev = e->next = 0;
}

static void lru_push_front(struct tun_throttle *t, uint32_t i)
{
	struct tun_thr_entry *e = &t->pool[i - 1];
	e->prev = 0;
	e->next = t->lru_head;
	if (t->lru_head)
		t->pool[t->lru_head - 1].prev = i;
	t->lru_head = i;
	if (!t->lru_tail)
		t->lru_tail = i;
}

static void chain_remove(struct tun_throttle *t, uint32_t i)
{
	uint32_t b = hash_key(t, t->pool[i - 1].key);
	uint32_t *pp = &t->buckets[b];
	while (*pp) {
		if (*pp == i) {
			*pp = t->pool[i - 1].chain;
			return;
		}
		pp = &t->pool[*pp - 1].chain;
	}
}

static struct tun_thr_entry *lookup(struct tun_throttle *t, const char *ip, unsigned long long now)
{
	uint8_t key[17];
	tun_addr_key(ip, key);
	uint32_t b = hash_key(t, key), i;

	for (i = t->buckets[b]; i; i = t->pool[i - 1].chain)
		if (memcmp(t->pool[i - 1].key, key, 17) == 0)
			break;
	if (i) {
		lru_unlink(t, i);
		lru_push_front(t, i);
		t->pool[i - 1].seen_ms = now;
		return &t->pool[i - 1];
	}
	if (t->used < t->cap) {
		i = (uint32_t)++t->used;
	} else {
		i = t->lru_tail; /* reuse the least recently seen */
		lru_unlink(t, i);
		chain_remove(t, i);
		t->evictions++;
	}
	struct tun_thr_entry *e = &t->pool[i - 1];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, 17);
	e->join_tokens = (long long)t->join_rate * 1000;
	e->unknown_tokens = (long long)t->unknown_rate * 1000;
	e->register_tokens = (long long)t->register_rate * 1000;
	e->join_ms = e->unknown_ms = e->register_ms = e->seen_ms = now;
	e->chain = t->buckets[b];
	t->buckets[b] = i;
	lru_push_front(t, i);
	return e;
}

/* rate tokens per minute, bucket depth rate: refill by elapsed time. */
void tun_rate_refill(long long *tokens, unsigned long long *last, long rate, unsigned long long now)
{
	if (now > *last) {
		long long add = (long long)((now - *last) * (unsigned long long)rate * 1000 / 60000);
		if (add > 0) {
			*tokens += add;
			*last = now;
		}
	}
	if (*tokens > (long long)rate * 1000)
		*tokens = (long long)rate * 1000;
}

enum tun_verdict tun_throttle_join(struct tun_throttle *t, const char *ip, unsigned long long now_ms)
{
	struct tun_thr_entry *e = lookup(t, ip, now_ms);
	if (e->blocked_until > now_ms)
		return TUN_BLOCKED;
	tun_rate_refill(&e->join_tokens, &e->join_ms, t->join_rate, now_ms);
	if (e->join_tokens < 1000)
		return TUN_THROTTLED;
	e->join_tokens -= 1000;
	return TUN_ALLOW;
}

enum tun_verdict tun_throttle_unknown(struct tun_throttle *t, const char *ip, unsigned long long now_ms)
{
	struct tun_thr_entry *e = lookup(t, ip, now_ms);
	if (e->blocked_until > now_ms)
		return TUN_BLOCKED;
	tun_rate_refill(&e->unknown_tokens, &e->unknown_ms, t->unknown_rate, now_ms);
	if (e->unknown_tokens >= 1000)
		e->unknown_tokens -= 1000;
	if (e->unknown_tokens < 1000) {
		/* that was the last free attempt in this minute: block */
		e->blocked_until = now_ms + t->block_ms;
		return TUN_BLOCKED;
	}
	return TUN_ALLOW;
}

enum tun_verdict tun_throttle_register(struct tun_throttle *t, const char *ip, unsigned long long now_ms)
{
	struct tun_thr_entry *e = lookup(t, ip, now_ms);
	tun_rate_refill(&e->register_tokens, &e->register_ms, t->register_rate, now_ms);
	if (e->register_tokens < 1000)
		return TUN_THROTTLED;
	e->register_tokens -= 1000;
	return TUN_ALLOW;
}
