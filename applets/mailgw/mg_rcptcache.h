/* mg_rcptcache.h - the answers of ldap and callout recipient checks, remembered so that
 * the tenth message to a user costs no LDAP search or RCPT probe: "valid" for
 * rcpt_cache_time, "unknown" for rcpt_negative_cache_time. A fixed table (no growth
 * whatever clients send), keyed by the source and the lowercase address; unavailable
 * answers are never cached. Cleared on reload. Pure code. */
#ifndef MG_RCPTCACHE_H
#define MG_RCPTCACHE_H

#define MG_RCPTCACHE_SLOTS 4096

struct mg_rcptcache;

struct mg_rcptcache *mg_rcptcache_new(void);
void mg_rcptcache_free(struct mg_rcptcache *c);
void mg_rcptcache_clear(struct mg_rcptcache *c);
/* MG_RCPT_VALID / MG_RCPT_INVALID while not expired at now, else -1. */
int mg_rcptcache_get(const struct mg_rcptcache *c, const char *source, const char *addr, long long now);
/* Remembers verdict until now + secs (secs <= 0: not at all). */
void mg_rcptcache_put(struct mg_rcptcache *c, const char *source, const char *addr, int verdict,
		      long long now, long secs);
#endif
