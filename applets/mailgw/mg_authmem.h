/* mg_authmem.h - what mailgw remembers about SMTP AUTH between sessions, in memory only:
 * failure counts per client address (IPv6 by /64) and per login name (brute force:
 * past auth_fail_delay_after the 535 is delayed, past auth_fail_max AUTH is refused
 * for auth_fail_lockout; a success resets both), and a short positive cache so a client
 * that sends ten messages does not cost ten backend logins.
 *
 * Nothing readable is kept: every key is HMAC-SHA256 under a random salt made at start
 * (login names and client addresses as 16-byte tags; the cache key is the tag of login
 * and password together), entries are wiped when they go. Tables are fixed-size, so a
 * flood of names costs no memory: the oldest entry in a probe window is replaced. */
#ifndef MG_AUTHMEM_H
#define MG_AUTHMEM_H

#include <stdint.h>

#define MG_AUTHMEM_FAIL_SLOTS 4096
#define MG_AUTHMEM_CACHE_SLOTS 512

struct mg_authfail {
	uint8_t key[16];
	unsigned fails;
	long long last;          /* seconds: last failure */
	long long locked_until;
};

struct mg_authcache {
	uint8_t key[32];
	long long expires;
};

struct mg_authmem_limits {
	long delay_after, max, lockout, cache_time;
};

struct mg_authmem {
	uint8_t salt[32];
	struct mg_authfail f[MG_AUTHMEM_FAIL_SLOTS];
	struct mg_authcache c[MG_AUTHMEM_CACHE_SLOTS];
};

enum { MG_AUTHMEM_OK = 0, MG_AUTHMEM_DELAY = 1, MG_AUTHMEM_LOCKED = 2 };

/* Caller allocates (it is large); this draws the salt. Returns 0/-1. */
int mg_authmem_init(struct mg_authmem *m);
/* What to do for this client and login now: OK, DELAY (answer a failure late) or
 * LOCKED (refuse without asking the backend). login may be NULL (not known yet). */
int mg_authmem_check(struct mg_authmem *m, const struct mg_authmem_limits *l, const char *ip,
		     const char *login, long long now);
void mg_authmem_failed(struct mg_authmem *m, const struct mg_authmem_limits *l, const char *ip,
		       const char *login, long long now);
/* A verified login: resets both counters and remembers login+pass for cache_time. */
void mg_authmem_success(struct mg_authmem *m, const struct mg_authmem_limits *l, const char *ip,
			const char *login, const char *pass, long long now);
/* 1 when login+pass was verified less than cache_time ago. */
int mg_authmem_cached(struct mg_authmem *m, const char *login, const char *pass, long long now);
/* Wipes everything (the salt too). */
void mg_authmem_wipe(struct mg_authmem *m);
#endif
