/* redis.h - a small asynchronous Redis client (RESP2) on the loop, over net_conn.
 *
 * Why our own and not hiredis: one I/O model (net_conn on the one loop, the same
 * timeouts and buffers as every other connection), no new library to build for musl
 * and the cross router targets, and a few hundred lines instead of a library.
 *
 * Requests are pipelines of one or more commands sent together; the callback gets all
 * their replies at once, in order (replies NULL: the request failed - no connection,
 * the connection broke, or the server took longer than timeout_ms). Nothing blocks:
 * a server that answers garbage (resp.h bounds) or too slowly is disconnected, every
 * pending request fails at once, and the client reconnects by itself with an
 * exponential backoff (200 ms doubling to backoff_max_ms). It counts as up only after
 * AUTH (when a password is set) and a PING were answered as they should be. */
#ifndef NET_REDIS_H
#define NET_REDIS_H

#include <stddef.h>

#include "net/resp.h"

struct net_loop;
struct net_redis;
struct net_redis_req;

struct net_redis_opts {
	const char *host;
	int port;
	const char *password;          /* NULL: no AUTH */
	unsigned long timeout_ms;      /* connect, and each request's answer */
	unsigned long backoff_max_ms;
	void (*on_state)(int up, const char *why, void *arg); /* the first failure, then every change */
	void *arg;
};

typedef void (*net_redis_cb)(struct resp_reply *replies, size_t n, void *arg);

struct net_redis *net_redis_new(struct net_loop *l, const struct net_redis_opts *o);
/* Pending requests fail: their callbacks run with NULL (so what they hold can go), and
 * must not use r any more. */
void net_redis_free(struct net_redis *r);
int net_redis_up(const struct net_redis *r);
/* Why it is down (one line), "" when up. */
const char *net_redis_error(const struct net_redis *r);
/* Requests sent and not yet answered. */
size_t net_redis_pending(const struct net_redis *r);

/* A request under construction: add commands, then submit it. */
struct net_redis_req *net_redis_req_new(void);
/* One command of argc arguments (NUL-terminated strings). */
int net_redis_req_add(struct net_redis_req *q, int argc, const char *const *argv);
/* One command from words split at spaces (none of them may contain one). */
int net_redis_req_addf(struct net_redis_req *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t net_redis_req_count(const struct net_redis_req *q);
void net_redis_req_free(struct net_redis_req *q);
/* Sends q (taken in every case). Returns -1 at once, without calling cb, when the
 * client is down or q is empty or broken; else cb runs later, exactly once. */
int net_redis_submit(struct net_redis *r, struct net_redis_req *q, net_redis_cb cb, void *arg);
#endif
