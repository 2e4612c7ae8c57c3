/* mg_authmem.c - brute-force counters and the positive login cache (mg_authmem.h). */
#include <ctype.h>
#include <string.h>

#include "applets/mailgw/mg_anvil.h"
#include "applets/mailgw/mg_authmem.h"
#include "applets/mailgw/mg_sasl.h"
#include "crypto/crypto.h"

#define PROBE 16

int mg_authmem_init(struct mg_authmem *m)
{
	memset(m, 0, sizeof(*m));
	return cry_random(m->salt, sizeof(m->salt));
}

/* tag = HMAC(salt, kind || data)[0..16) */
static void tag(const struct mg_authmem *m, char kind, const void *data, size_t len, uint8_t out[16])
{
	uint8_t in[1 + MG_SASL_LOGIN_MAX + 1], mac[CRY_SHA256_LEN];
	if (len > sizeof(in) - 1)
		len = sizeof(in) - 1;
	in[0] = (uint8_t)kind;
	memcpy(in + 1, data, len);
	cry_hmac_sha256(m->salt, sizeof(m->salt), in, len + 1, mac);
	memcpy(out, mac, 16);
	cry_wipe(mac, sizeof(mac));
	cry_wipe(in, sizeof(in));
}

static int ip_tag(const struct mg_authmem *m, const char *ip, uint8_t out[16])
{
	unsigned char k[MG_ANVIL_KEY];
	if (!ip || mg_anvil_key(ip, k) < 0)
		return -1;
	tag(m, 'i', k, sizeof(k), out);
	return 0;
}

static int login_tag(const struct mg_authmem *m, const char *login, uint8_t out[16])
{
	char low[MG_SASL_LOGIN_MAX + 1];
	size_t n = 0;
	if (!login || !*login)
		return -1;
	for (; login[n] && n < MG_SASL_LOGIN_MAX; n++)
		low[n] = (char)tolower((unsigned char)login[n]);
	tag(m, 'l', low, n, out);
	cry_wipe(low, sizeof(low));
	return 0;
}

static size_t slot0(const uint8_t *key, size_t nslots)
{
	uint32_t v;
	memcpy(&v, key, sizeof(v));   /* the tag is a MAC: its bytes are uniform */
	return v % nslots;
}

static int stale(const struct mg_authfail *e, const struct mg_authmem_limits *l, long long now)
{
	return e->fails == 0 || (now - e->last > l->lockout && now >= e->locked_until);
}

/* The entry for key, or (create) a free, stale or oldest one in the probe window. */
static struct mg_authfail *find(struct mg_authmem *m, const struct mg_authmem_limits *l,
				const uint8_t key[16], int create, long long now)
{
	size_t s = slot0(key, MG_AUTHMEM_FAIL_SLOTS);
	struct mg_authfail *victim = NULL;

	for (size_t i = 0; i < PROBE; i++) {
		struct mg_authfail *e = &m->f[(s + i) % MG_AUTHMEM_FAIL_SLOTS];
		if (e->fails && cry_memeq(e->key, key, 16)) {
			if (stale(e, l, now)) {
				memset(e, 0, sizeof(*e));
				return create ? (memcpy(e->key, key, 16), e) : NULL;
			}
			return e;
		}
		if (stale(e, l, now)) {
			if (!victim || !stale(victim, l, now))
				victim = e;
		} else if (!victim || (!stale(victim, l, now) && e->last < victim->last)) {
			victim = e;
		}
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->key, key, 16);
	return victim;
}

static int state_of(const struct mg_authfail *e, const struct mg_authmem_limits *l, long long now)
{
	if (!e)
		return MG_AUTHMEM_OK;
	if (e->locked_until > now)
		return MG_AUTHMEM_LOCKED;
	return e->fails >= (unsigned)l->delay_after ? MG_AUTHMEM_DELAY : MG_AUTHMEM_OK;
}

int mg_authmem_check(struct mg_authmem *m, const struct mg_authmem_limits *l, const char *ip,
		     const char *login, long long now)
{
	uint8_t k[16];
	int st = MG_AUTHMEM_OK, s2;

	if (ip_tag(m, ip, k) == 0)
		st = state_of(find(m, l, k, 0, now), l, now);
	if (login_tag(m, login, k) == 0 && (s2 = state_of(find(m, l, k, 0, now), l, now)) > st)
		st = s2;
	return st;
}

static void bump(struct mg_authmem *m, const struct mg_authmem_limits *l, const uint8_t k[16], long long now)
{
	struct mg_authfail *e = find(m, l, k, 1, now);
	e->fails++;
	e->last = now;
	if (e->fails >= (unsigned)l->max)
		e->locked_until = now + l->lockout;
}

void mg_authmem_failed(struct mg_authmem *m, const struct mg_authmem_limits *l, const char *ip,
		       const char *login, long long now)
{
	uint8_t k[16];
	if (ip_tag(m, ip, k) == 0)
		bump(m, l, k, now);
	if (login_tag(m, login, k) == 0)
		bump(m, l, k, now);
}

static void cache_key(const struct mg_authmem *m, const char *login, const char *pass, uint8_t out[32])
{
	uint8_t in[2 + MG_SASL_LOGIN_MAX + MG_SASL_PASS_MAX];
	size_t ul = strnlen(login, MG_SASL_LOGIN_MAX), pl = strnlen(pass, MG_SASL_PASS_MAX);
	in[0] = 'c';
	memcpy(in + 1, login, ul);
	in[1 + ul] = 0;
	memcpy(in + 2 + ul, pass, pl);
	cry_hmac_sha256(m->salt, sizeof(m->salt), in, 2 + ul + pl, out);
	cry_wipe(in, sizeof(in));
}

void mg_authmem_success(struct mg_authmem *m, const struct mg_authmem_limits *l, const char *ip,
			const char *login, const char *pass, long long now)
{
	uint8_t k[16], ck[32];
	struct mg_authfail *e;

	if (ip_tag(m, ip, k) == 0 && (e = find(m, l, k, 0, now)))
		cry_wipe(e, sizeof(*e));
	if (login_tag(m, login, k) == 0 && (e = find(m, l, k, 0, now)))
		cry_wipe(e, sizeof(*e));
	if (l->cache_time <= 0)
		return;
	cache_key(m, login, pass, ck);
	size_t s = slot0(ck, MG_AUTHMEM_CACHE_SLOTS);
	struct mg_authcache *victim = &m->c[s];
	for (size_t i = 0; i < PROBE; i++) {
		struct mg_authcache *c = &m->c[(s + i) % MG_AUTHMEM_CACHE_SLOTS];
		if (c->expires <= now || cry_memeq(c->key, ck, sizeof(ck))) {
			victim = c;
			break;
		}
		if (c->expires < victim->expires)
			victim = c;
	}
	memcpy(victim->key, ck, sizeof(ck));
	victim->expires = now + l->cache_time;
	cry_wipe(ck, sizeof(ck));
}

int mg_authmem_cached(struct mg_authmem *m, const char *login, const char *pass, long long now)
{
	uint8_t ck[32];
	int hit = 0;

	cache_key(m, login, pass, ck);
	size_t s = slot0(ck, MG_AUTHMEM_CACHE_SLOTS);
	for (size_t i = 0; i < PROBE; i++) {
		struct mg_authcache *c = &m->c[(s + i) % MG_AUTHMEM_CACHE_SLOTS];
		if (c->expires && c->expires <= now) {
			cry_wipe(c, sizeof(*c));   /* expired entries go at the first look */
			continue;
		}
		if (c->expires > now && cry_memeq(c->key, ck, sizeof(ck)))
			hit = 1;
	}
	cry_wipe(ck, sizeof(ck));
	return hit;
}

void mg_authmem_wipe(struct mg_authmem *m)
{
	cry_wipe(m, sizeof(*m));
}
