/* tun.h - tunneld's internal interfaces (docs/tunneld.md, docs/tunnel-protocol.md).
 *
 * tun_conf.c      configuration keyword table
 * tun_numbers.c   session number allocator, persisted in state_dir/issued
 * tun_throttle.c  per-address join throttling in a bounded table
 * tun_limits.c    connections per address, the global register rate
 * tun_drop.c      per-session file drop store on disk
 * tun_http.c      the HTTP Upgrade request parser
 * tun_relay.c     the relay (needs net/); split by concern, see tun_relay.h
 * tunneld.c       main: options, listeners, signals */
#ifndef APPLETS_TUNNELD_TUN_H
#define APPLETS_TUNNELD_TUN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/conf.h"

/* ---- configuration ---- */
struct tun_conf {
	char *listen;          /* TCP frames, "*:4663"; "none" disables */
	char *https_listen;    /* TLS + Upgrade; "none" disables */
	char *http_listen;     /* plain HTTP Upgrade; "none" disables */
	char *tls_cert;
	char *tls_key;
	char *state_dir;
	int log_level;         /* enum log_level */
	char *pidfile;
	char *user;
	long digits;
	long low_water;        /* percent */
	long max_sessions;
	long max_clients;
	long long max_frame;
	long idle_timeout;     /* seconds a master may wait without clients */
	long hello_timeout;    /* seconds to the first REGISTER/JOIN/RESUME */
	long dead_after;       /* seconds of silence before a link counts as dropped */
	long resume_grace;
	long join_rate;        /* per minute per address */
	long register_rate;    /* per minute per address */
	long max_connections;
	long max_connections_per_ip; /* per source address (IPv6: per /64) */
	long register_rate_total;    /* REGISTERs per minute from everyone together */
	long unknown_rate;     /* per minute per address */
	long block_time;
	long throttle_table;
	long long pair_buffer;
	long long drop_quota;  /* per session; 0 disables the drop */
	long long drop_max_size;
	long drop_max_files;
	/* [cluster] (tun_cluster.c); cl_redis NULL: a single relay, no fleet */
	char *cl_redis;        /* HOST:PORT */
	char *cl_password_file;
	char *cl_relay_id;
	char *cl_key_prefix;
	char *cl_public_tcp, *cl_public_https, *cl_public_http; /* named in redirects */
	long cl_lease;         /* seconds */
	long cl_redis_timeout; /* seconds */
	char *cl_local_range;  /* LO-HI, reserved for Redis outages */
};

extern const struct conf_spec tun_conf_spec;
/* Defaults, then path (NULL: defaults only); checks cross-key rules. err: file:line. */
int tun_conf_load(struct tun_conf *c, const char *path, char *err, size_t errlen);
void tun_conf_free(struct tun_conf *c);
/* 1 when the listener string says "off". */
int tun_conf_off(const char *s);

/* ---- session numbers ---- */
struct tun_numbers {
	unsigned digits;
	uint32_t lo, hi;       /* [10^(d-1), 10^d - 1] */
	uint32_t space;        /* hi - lo + 1 */
	uint32_t used;         /* issued so far in this space */
	uint64_t *bits;        /* one bit per number, 1 = issued */
	int fd;                /* state_dir/issued, O_APPEND */
	off_t size;            /* its size after the last complete line */
	int broken;            /* a torn line could not be cut off: issue nothing */
	unsigned low_water;    /* percent */
	int warned;
};

/* Reads state_dir/issued (creating it) and marks every number in it as burned.
 * A number of another digit count is ignored (another space). */
int tun_numbers_open(struct tun_numbers *n, const char *state_dir, unsigned digits,
		     unsigned low_water, char *err, size_t errlen);
void tun_numbers_close(struct tun_numbers *n);
/* Picks an unused number uniformly, appends it to the file and fsyncs, marks it.
 * Returns 0, or -1 with errno ENOSPC when the space is exhausted (tun_numbers_left is 0)
 * or the disk is full, other errno on I/O. A failed append is cut off again. */
int tun_numbers_issue(struct tun_numbers *n, uint32_t *out);
uint32_t tun_numbers_left(const struct tun_numbers *n);
int tun_numbers_is_issued(const struct tun_numbers *n, uint32_t num);
/* The fleet's way (tun_cluster.c): pick an unused number without issuing it; mark one
 * another relay burned (memory only); record one this relay burned in the fleet
 * (appended and fsynced like tun_numbers_issue). Pick returns -1 when none is left. */
int tun_numbers_pick(const struct tun_numbers *n, uint32_t *out);
void tun_numbers_mark(struct tun_numbers *n, uint32_t num);
int tun_numbers_record(struct tun_numbers *n, uint32_t num);

/* ---- source addresses (tun_throttle.c) ---- */
#define TUN_ADDR_KEY_LEN 17
/* What counts as one source: family byte + an IPv4 address (v4-mapped too) or an IPv6
 * /64 (one host usually owns a whole /64). */
void tun_addr_key(const char *ip, uint8_t key[TUN_ADDR_KEY_LEN]);
/* A keyed hash (random seed) into [0, buckets), so nobody can aim addresses at a chain. */
uint32_t tun_addr_hash(const uint8_t seed[16], const uint8_t key[TUN_ADDR_KEY_LEN], uint32_t buckets);
/* Token bucket in milli-tokens: rate per minute, depth rate; refills by elapsed time. */
void tun_rate_refill(long long *tokens, unsigned long long *last, long rate, unsigned long long now);

/* ---- join throttling ---- */
enum tun_verdict { TUN_ALLOW = 0, TUN_THROTTLED = 1, TUN_BLOCKED = 2 };
struct tun_thr_entry;
struct tun_throttle {
	struct tun_thr_entry *pool;
	uint32_t *buckets;     /* heads of hash chains (index+1, 0 = empty) */
	size_t cap, used;
	uint32_t lru_head, lru_tail; /* index+1 */
	uint8_t seed[16];
	long join_rate, unknown_rate, register_rate;
	unsigned long long block_ms;
	unsigned long long evictions;
};

int tun_throttle_init(struct tun_throttle *t, size_t cap, long join_rate, long unknown_rate,
		      long block_seconds);
void tun_throttle_free(struct tun_throttle *t);
void tun_throttle_set_limits(struct tun_throttle *t, long join_rate, long unknown_rate,
			     long block_seconds);
/* A JOIN/RESUME from ip (numeric string) at now_ms: may it be tried? */
enum tun_verdict tun_throttle_join(struct tun_throttle *t, const char *ip, unsigned long long now_ms);
/* A REGISTER from ip: each one burns a number for ever, so they are rationed too. */
enum tun_verdict tun_throttle_register(struct tun_throttle *t, const char *ip, unsigned long long now_ms);
/* The attempt named an unknown number (or a bad token): counts toward blocking.
 * Returns TUN_BLOCKED when this attempt blocked the address. */
enum tun_verdict tun_throttle_unknown(struct tun_throttle *t, const char *ip, unsigned long long now_ms);
size_t tun_throttle_count(const struct tun_throttle *t);

/* ---- connection and register limits (tun_limits.c) ---- */
/* Live connections per source (tun_addr_key), counted exactly: an entry exists while its
 * source has a connection, so there are never more entries than connections. */
struct tun_addr_count;
struct tun_limits {
	struct tun_addr_count **buckets;
	uint32_t nbuckets;
	uint8_t seed[16];
	size_t sources;        /* entries in use */
	long long reg_tokens;  /* the global register bucket (milli-tokens) */
	unsigned long long reg_ms;
	long reg_rate;
};
int tun_limits_init(struct tun_limits *l, long register_rate_total, unsigned long long now_ms);
void tun_limits_free(struct tun_limits *l);
/* A new connection from ip: NULL when the source already has max (or no memory), else
 * its counter, to give back with tun_limits_conn_del when the connection goes. */
struct tun_addr_count *tun_limits_conn_add(struct tun_limits *l, const char *ip, long max);
void tun_limits_conn_del(struct tun_limits *l, struct tun_addr_count *e);
unsigned tun_limits_conn_count(const struct tun_addr_count *e);
/* A REGISTER from anyone: 0 when the global rate allows it (and takes a token), -1 not. */
int tun_limits_register(struct tun_limits *l, unsigned long long now_ms);

/* ---- file drop store ---- */
#define TUN_DROP_NAME_MAX 64
struct tun_drop_owner {
	char name[TUN_DROP_NAME_MAX + 1];
	uint16_t id;           /* the participant that put it */
};
struct tun_drop {
	char dir[512];         /* state_dir/drop/NNNNN */
	unsigned long long used;
	unsigned files;
	struct tun_drop_owner *own; /* one per committed file (at most drop_max_files) */
	size_t nown, capown;
};

int tun_drop_name_ok(const char *name);
/* Removes state_dir/drop and everything in it (start-up: sessions do not survive). */
int tun_drop_purge_all(const char *state_dir);
int tun_drop_open(struct tun_drop *d, const char *state_dir, uint32_t session);
/* Deletes the session's files and directory. */
void tun_drop_destroy(struct tun_drop *d);
/* An upload in progress: written to NAME.part, renamed on commit. */
struct tun_drop_put {
	int fd;
	char name[TUN_DROP_NAME_MAX + 1];
	unsigned long long size, got;
	uint16_t owner;        /* set by the caller after put_begin; recorded on commit */
};
/* Checks name, existence and quota; opens the part file. Returns 0 or an error code
 * string for op=error ("bad-name", "exists", "quota", "io"). */
const char *tun_drop_put_begin(struct tun_drop *d, struct tun_drop_put *p, const char *name,
			       unsigned long long size, unsigned long long quota,
			       unsigned long long max_size, unsigned max_files);
const char *tun_drop_put_data(struct tun_drop *d, struct tun_drop_put *p, const void *data, size_t len);
int tun_drop_put_done(const struct tun_drop_put *p);
const char *tun_drop_put_commit(struct tun_drop *d, struct tun_drop_put *p);
void tun_drop_put_abort(struct tun_drop *d, struct tun_drop_put *p);
/* Opens a file for reading; sets *size. Returns an fd or -1 (errno ENOENT / other). */
int tun_drop_get_open(struct tun_drop *d, const char *name, unsigned long long *size);
/* Deletes a file. Unless any, only the participant that put it (who) may:
 * "not-allowed" otherwise. */
const char *tun_drop_del(struct tun_drop *d, const char *name, uint16_t who, int any);
/* "NAME SIZE\n" lines into out (malloc'd, caller frees); *count files. */
char *tun_drop_list_new(struct tun_drop *d, size_t *len, unsigned *count);

/* ---- HTTP Upgrade ---- */
#define TUN_HTTP_MAX_HEADER 8192
#define TUN_HTTP_MAX_LINES 64
/* Looks at a complete request head (request line and headers, each line ending in LF,
 * the empty line excluded). Returns 101 (upgrade to frames), 400 or 404. */
int tun_http_check(const char *head, size_t len);

/* ---- the relay (tun_relay.c) ---- */
struct tun_relay;
struct net_loop;
struct cry_tls_ctx;
/* Starts listeners; on error err names what failed. */
struct tun_relay *tun_relay_new(struct net_loop *loop, struct tun_conf *conf, char *err, size_t errlen);
/* SIGHUP: applies what derives from the reloadable keys, already copied into its conf. */
void tun_relay_apply_conf(struct tun_relay *r);
/* Ends every session (END reason=shutdown) and closes every connection. Returns how
 * long the loop should still run so the goodbyes (and earlier closes) flush. */
unsigned long tun_relay_shutdown(struct tun_relay *r);
void tun_relay_free(struct tun_relay *r);
/* SIGUSR1 with [cluster]: no new sessions here, REGISTERs redirected to another relay. */
void tun_relay_drain(struct tun_relay *r);
#endif
