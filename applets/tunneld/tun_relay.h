/* tun_relay.h - the relay's internals, shared by its parts (not an interface for
 * anything outside applets/tunneld):
 *
 * tun_relay.c    connections, sending, backpressure, HTTP Upgrade, frame dispatch, life cycle
 * tun_session.c  sessions and members; REGISTER, JOIN, RESUME, KICK
 * tun_rdrop.c    the DROP frames (the store itself is tun_drop.c)
 * tun_sweep.c    the periodic sweep: timeouts, stalled receivers, resume grace
 * tun_limits.c   per-address connection counts and the global register rate
 *
 * Ownership: the relay owns sessions and connections (struct tconn). A session owns its
 * members; a member points at its tconn while attached (NULL while detached, waiting
 * for RESUME). A tconn is freed only when no callback runs for it (busy counter) and no
 * walk over the connection list is under way (walking), so a handler may close any
 * connection, its own included, and a walk may close connections as it goes. */
#ifndef APPLETS_TUNNELD_TUN_RELAY_H
#define APPLETS_TUNNELD_TUN_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "core/tframe.h"
#include "tun.h"

struct net_conn;
struct net_listener;
struct net_loop;
struct net_timer;
struct cry_tls_ctx;

#define TOKEN_LEN 16
#define HASH_BUCKETS 4096

enum cstate { CS_HTTP, CS_HELLO, CS_MEMBER };
enum tpath { P_TCP, P_HTTPS, P_HTTP };
extern const char *const tr_path_name[];

struct session;
struct member;

struct tconn {
	struct tun_relay *r;
	struct net_conn *nc;
	enum cstate state;
	enum tpath path;
	int busy, dead;
	int waiting;             /* a Redis answer is awaited for it (tun_cluster_ops.c) */
	struct session *s;
	struct member *m;
	uint32_t seq;
	unsigned long long born_ms;
	struct tun_addr_count *slot; /* its source's connection count (tun_limits.c) */
	char peer[64], ip[48];
	char *head;              /* HTTP request head while in CS_HTTP */
	size_t head_len;
	unsigned head_lines;
	int blocked_on;          /* receivers this connection waits for */
	struct tconn **waiters;  /* senders paused because of this connection's output */
	size_t nwaiters, capwaiters;
	unsigned long long stalled_ms; /* when senders first had to wait for this one */
	struct tun_drop_put put;
	int put_active;
	int get_fd;
	unsigned long long get_left;
	char get_name[TUN_DROP_NAME_MAX + 1];
	struct tconn *prev, *next;
};

struct member {
	uint16_t id;
	uint8_t token[TOKEN_LEN];
	uint8_t thash[32];       /* hash_only: only SHA-256(token) is known (taken over) */
	int hash_only;
	struct tconn *c;
	unsigned long long detached_ms;
	char addr[64];
	enum tpath path;
	unsigned long long bytes_in, bytes_out;
};

struct session {
	uint32_t number;
	struct member **m;
	size_t nm, capm;
	uint32_t next_id;
	unsigned clients_ever;
	unsigned long long created_ms, idle_since_ms, bytes;
	unsigned long long renewed_ms; /* fleet: its record's TTL last set in Redis (0: at created_ms) */
	char lan[256];
	struct tun_drop drop;
	struct session *hnext, *prev, *next;
};

struct tun_relay {
	struct net_loop *loop;
	struct tun_conf *conf;
	struct tun_numbers numbers;
	struct tun_throttle thr;
	struct tun_limits lim;
	unsigned long long ip_refused, ip_refused_logged_ms;
	unsigned long long reg_refused, reg_refused_logged_ms;
	struct cry_tls_ctx *tls;
	struct net_listener *ls[3];
	struct net_timer *sweep;
	struct session *hash[HASH_BUCKETS];
	struct session *sessions;
	size_t nsessions;
	struct tconn *conns;
	size_t nconns;
	unsigned long long conn_refused, conn_refused_logged_ms;
	int stopping;            /* shutdown: keep closed conns so the END frames flush */
	int walking;             /* walks over conns under way: closed conns are freed after */
	unsigned long long last_close_ms; /* newest net_conn_close still possibly lingering */
	uint8_t *fbuf;           /* one frame being handled */
	struct tun_cluster *cl;  /* [cluster] only */
	int draining;            /* SIGUSR1: no new sessions here */
	int handoff;             /* shutting down drained: sessions are left to the fleet */
};

/* A control payload being built: "key=value\n" lines. */
struct ctl {
	char b[TFCTL_MAX_LEN];
	size_t n;
};

/* tun_relay.c */
unsigned long long tr_now_ms(struct tun_relay *r);
int tr_send_frame(struct tconn *c, uint8_t type, uint16_t source, uint16_t target, uint32_t seq, uint32_t ack,
		  const void *p1, size_t l1, const void *p2, size_t l2);
void tr_send_ctl(struct tconn *c, uint8_t type, const char *ctl, size_t len);
void tr_add(struct ctl *t, const char *k, const char *v);
void tr_addu(struct ctl *t, const char *k, unsigned long long v);
/* ERROR code= msg=; fatal closes c */
void tr_send_error(struct tconn *c, const char *code, const char *msg, int fatal);
void tr_protocol_error(struct tconn *c, const char *why);
/* Closes c (flushing what was written to it) and detaches its member. */
void tr_conn_close(struct tconn *c, const char *why);
/* Around a walk over r->conns that may close connections: a close can end a session and
 * close other members' connections, so no tconn is freed until the walk is over (the
 * list links of a closed one stay valid); tr_walk_end frees what was closed meanwhile. */
void tr_walk_begin(struct tun_relay *r);
void tr_walk_end(struct tun_relay *r);

/* tun_session.c */
struct session *tr_find_session(struct tun_relay *r, uint32_t number);
struct member *tr_find_member(struct session *s, uint32_t id);
unsigned tr_count_clients(const struct session *s);
void tr_notify(struct session *s, uint16_t except, uint8_t type, const struct ctl *t);
void tr_attach(struct tconn *c, struct session *s, struct member *m);
void tr_session_end(struct session *s, struct tun_relay *r, const char *reason);
void tr_member_remove(struct tun_relay *r, struct session *s, struct member *m, const char *reason);
void tr_member_detach(struct tconn *c);
void tr_do_register(struct tconn *c, const struct tfctl *ctl);
void tr_do_join(struct tconn *c, const struct tfctl *ctl);
void tr_do_resume(struct tconn *c, const struct tfctl *ctl);
void tr_do_kick(struct tconn *c, const struct tfctl *ctl);
/* A new session with number on c as its master (token: the master's, NULL = random). */
struct session *tr_session_new(struct tconn *c, uint32_t number, const char *lan, const uint8_t *token);
struct tc_sess;
/* A session another relay held, rebuilt from Redis: every member detached and known by
 * its token's hash, except id, which resumes on c with token. */
void tr_session_adopt(struct tconn *c, uint32_t number, const struct tc_sess *rs, uint32_t id,
		      const uint8_t *token);
/* A JOIN/RESUME for an unknown number or with a bad token: counts toward blocking
 * (here and in the fleet), answers code and closes c. */
void tr_unknown_attempt(struct tconn *c, const char *code, const char *msg);
/* The same when the fleet counted it already (in the lookup's own Redis step): only this
 * relay's counters, then the error. */
void tr_unknown_local(struct tconn *c, const char *code, const char *msg);


/* tun_rdrop.c */
void tr_do_drop(struct tconn *c, const uint8_t *payload, size_t len);
void tr_pump_get(struct tconn *c);
/* Aborts c's put (its part file, its quota) and closes its get; c->s must still be set. */
void tr_drop_transfers(struct tconn *c);

/* tun_sweep.c */
void tr_sweep(void *arg);

#endif
