/* tun_cluster.h - tunneld as one relay of a fleet sharing a Redis (docs/tunneld.md
 * "Fleet", tunnel-protocol.md 3.4 and 5). Only used when the config has [cluster].
 *
 * tun_cluster.c        the Redis connection, the relay's heartbeat and the fleet table,
 *                      session leases, persistence check, status file, drain
 * tun_cluster_ops.c    REGISTER (burning a number fleet-wide), JOIN/RESUME of a number
 *                      that is not here (redirect or take over), fleet-wide throttling
 * tun_cluster_info.c   parsers of what comes back from Redis (fuzzed)
 * tun_cluster_status.c `tunneld status`
 *
 * Redis keys (P = key_prefix, D = digits):
 *   P:nD:NUM    burned number, value the relay that burned it; never expires
 *   P:cD        how many numbers of D digits the fleet burned (for low water, full)
 *   P:sD:NUM    the live session: hash owner, lan, next, hID = SHA-256 of member ID's
 *               resume token. Owned while the owner's heartbeat P:r:OWNER lives; may be
 *               taken over (by a RESUME) while P:g:OWNER lives. Its own TTL (rec_ttl,
 *               at least an hour, renewed every third of it) only clears records of
 *               sessions nobody ended (their relay died)
 *   P:r:ID      a relay's heartbeat "tcp=.. https=.. http=.. sessions=N conns=N
 *               draining=0|1", expires after lease; P:relays the set of relay ids
 *   P:g:ID      the relay's sessions may be resumed elsewhere: expires lease +
 *               dead_after + resume_grace after the relay's last heartbeat
 *   P:j:ADDR P:u:ADDR  JOIN/RESUME and unknown-number attempts of a source this minute
 *   P:b:ADDR    the source is blocked (expires after block_time) */
#ifndef APPLETS_TUNNELD_TUN_CLUSTER_H
#define APPLETS_TUNNELD_TUN_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "net/resp.h"

struct tun_conf;
struct tun_relay;
struct tun_cluster;
struct tconn;
struct session;
struct member;
struct tfctl;

#define TC_ID_MAX 32
#define TC_ADDR_MAX 255

/* A relay of the fleet as its heartbeat describes it. */
struct tc_relay_info {
	char id[TC_ID_MAX + 1];
	char tcp[TC_ADDR_MAX + 1], https[TC_ADDR_MAX + 1], http[TC_ADDR_MAX + 1];
	unsigned long sessions, conns;
	int draining;
};

/* A session as Redis holds it. */
struct tc_member_hash {
	uint16_t id;
	uint8_t h[CRY_SHA256_LEN];
};
struct tc_sess {
	char owner[TC_ID_MAX + 1];
	char lan[256];
	uint32_t next;
	size_t nm;
	struct tc_member_hash *m; /* malloc'd, nm entries */
};

/* tun_cluster_info.c: 0, or -1 when the text/array is not what a relay writes. */
int tc_id_ok(const char *s);
int tc_info_parse(const char *s, size_t len, struct tc_relay_info *out);
/* arr: HGETALL's answer. An empty array is no session (1 returned), 0 a session. */
int tc_sess_parse(const struct resp_reply *arr, size_t max_members, struct tc_sess *out);
void tc_sess_free(struct tc_sess *s);

/* tun_conf.c calls this for [cluster]: relay_id, addresses, password file. */
int tun_cluster_conf_check(const struct tun_conf *c, const char *file, char *err, size_t errlen);

/* tun_cluster_reserve.c: local_range (at most TC_RESERVE_MAX numbers) */
#define TC_RESERVE_MAX 10000
int tc_range_parse(const char *s, unsigned digits, uint32_t *lo, uint32_t *hi);
void tc_reserve_claim(struct tun_cluster *cl);  /* on every connect to Redis */
void tc_reserve_flush(struct tun_cluster *cl);  /* idem, after the claim */
void tc_reserve_mark_used(struct tun_cluster *cl, uint32_t num);
/* A reserved number for a REGISTER while Redis is down (recorded locally): 0, or -1. */
int tc_reserve_issue(struct tun_cluster *cl, uint32_t *out);

/* tun_cluster_status.c: `tunneld status` */
int tun_status_main(int argc, char **argv, const char *default_config);

/* tun_cluster.c */
struct net_redis;
struct net_timer;
struct tun_cluster {
	struct tun_relay *r;
	struct net_redis *rd;
	struct net_timer *beat;
	char kp[80];             /* key prefix */
	unsigned long long lease_ms;
	unsigned long long sess_ttl_ms; /* P:g:ID: lease + dead_after + resume_grace */
	unsigned long long rec_ttl_ms;  /* P:sD:NUM */
	unsigned long long fleet_count; /* numbers of our digit count the fleet burned */
	int count_known;
	struct tc_relay_info *fleet; /* alive relays, this one included */
	size_t nfleet;
	int beat_busy;           /* a heartbeat is under way */
	int stopped;             /* handed off: no heartbeat any more */
	unsigned long long refused, refused_logged_ms; /* REGISTERs refused while Redis is down */
	int low_warned;
	struct tc_reserved {
		uint32_t num;
		uint8_t used; /* 0 free, 1 used (Redis knows), 2 used in an outage */
	} *res;                  /* local_range numbers this relay holds in Redis */
	size_t nres;
	int res_pending;         /* some used == 2 */
};
struct tun_cluster *tc_new(struct tun_relay *r, char *err, size_t errlen);
void tc_free(struct tun_cluster *cl);
void tc_drain(struct tun_cluster *cl);
/* Exit of a drained relay: its heartbeat is deleted so that the others take its sessions
 * over as soon as their participants resume; no more heartbeats or renewals. */
void tc_handoff(struct tun_cluster *cl);
/* The fleet burned count changed (low-water warning). */
void tc_count_update(struct tun_cluster *cl, unsigned long long count);
void tc_noop_cb(struct resp_reply *rep, size_t n, void *arg);
/* The least loaded other relay that is alive and not draining, or NULL. */
const struct tc_relay_info *tc_pick_other(struct tun_cluster *cl);
const struct tc_relay_info *tc_find_relay(struct tun_cluster *cl, const char *id);

/* tun_cluster_ops.c: each takes over the connection until Redis answered (c->waiting). */
void tc_register(struct tconn *c, const char *lan);
void tc_lookup(struct tconn *c, int resume, uint32_t number, const struct tfctl *ctl);
/* Bookkeeping, fire and forget. */
void tc_member_added(struct tun_relay *r, const struct session *s, const struct member *m);
void tc_member_removed(struct tun_relay *r, const struct session *s, const struct member *m);
void tc_session_ended(struct tun_relay *r, const struct session *s);
void tc_unknown(struct tconn *c);
/* Redis is back: every local session's record written again (joins and leaves while it
 * was away), except those another relay took over meanwhile. */
void tc_republish(struct tun_cluster *cl);
/* REDIRECT to info (reason elsewhere|draining), then close c. */
void tc_redirect(struct tconn *c, const struct tc_relay_info *info, const char *reason);
void tc_token_hash(const uint8_t *token, size_t len, uint8_t out[CRY_SHA256_LEN]);
#endif
