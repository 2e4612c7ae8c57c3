/* mg_ctx.h - the running daemon: configuration, loop, listeners, TLS contexts, the
 * queue runner and the TLS memory. One per process; nothing global. */
#ifndef MG_CTX_H
#define MG_CTX_H

#include <stddef.h>

#include "applets/mailgw/mg_anvil.h"
#include "applets/mailgw/mg_conf.h"
#include "applets/mailgw/mg_policy.h"

struct net_loop;
struct net_conn;
struct net_listener;
struct cry_tls_ctx;
struct mg_runner;
struct mg_pool;
struct mg_commit;
struct mg_authmem;
struct mg_rcptcache;

/* Every live session (SMTP, POP3/IMAP front end) is on the context's list so that a
 * stopping daemon can close them all and free their memory. */
struct mg_live {
	struct mg_live *next, *prev;
	void (*kill)(struct mg_live *l);   /* frees the connection(s) and the session */
	struct mg_anvil_entry *slot;       /* this client's count (mg_anvil.h) */
};

struct mg_listener {
	struct mg_ctx *ctx;
	const struct mg_listener_conf *lc;
	struct cry_tls_ctx *tls;
	struct net_listener *nl;
};

struct mg_ctx {
	struct mg_conf conf;
	struct net_loop *loop;
	char hostname[256];
	struct mg_listener *ls;
	size_t nls;
	struct cry_tls_ctx *client_tls;         /* outbound, no verification (may/encrypt) */
	struct cry_tls_ctx *client_tls_verify;  /* outbound, CA + host name (verify) */
	struct mg_tlsmem tlsmem;
	char tlsmem_path[512];
	struct mg_runner *runner;
	struct mg_commit *commit;               /* accepted messages being committed (mg_commit.c) */
	struct mg_pool *pool;                   /* parked outbound sessions (mg_connpool.c) */
	unsigned long nsessions;
	struct mg_anvil anvil;                  /* sessions per client address */
	struct mg_authmem *authmem;             /* AUTH failures and cache (mg_authmem.h) */
	struct cry_tls_ctx *auth_tls;           /* client context for the auth backends */
	struct mg_rcptcache *rcache;            /* ldap / callout recipient answers (mg_rcptcache.h) */
	struct mg_live live;                    /* list head (circular) */
	const char *config_path;                /* for SIGHUP */
	int stopping;
};

void mg_live_add(struct mg_ctx *ctx, struct mg_live *l);
void mg_live_del(struct mg_live *l);
/* A new inbound session on ls: checks max_connections and max_connections_per_ip,
 * then counts it and puts l on the live list. Returns 0, or -1 when refused: then c
 * got the refusal (SMTP in plaintext: 421) and is closed, and l was not touched. */
int mg_session_open(struct mg_listener *ls, struct net_conn *c, struct mg_live *l, const char *who);
/* The session ends: off the live list, its counts given back. Idempotent. */
void mg_session_close(struct mg_ctx *ctx, struct mg_live *l);
/* Closes every live session (daemon stop). */
void mg_live_kill_all(struct mg_ctx *ctx);

/* SMTP server session (mg_smtpd.c) and POP3/IMAP front end (mg_front.c): accept
 * callbacks for net_listen, arg = struct mg_listener. */
void mg_smtpd_accept(struct net_conn *c, void *arg);
void mg_front_accept(struct net_conn *c, void *arg);

/* Queue runner (mg_runner.c). */
int mg_runner_start(struct mg_ctx *ctx);
void mg_runner_stop(struct mg_ctx *ctx);
/* A message was committed: schedule it now. */
void mg_runner_queued(struct mg_ctx *ctx, const char *id);
/* ETRN: releases every message held for domain now (remembered per recipient, in
 * memory: they start as the concurrency limits allow); returns how many messages
 * have mail pending for domain (0 = none waiting), -1 on error. */
int mg_runner_etrn(struct mg_ctx *ctx, const char *domain);
/* Re-reads the control directory (flush/delete requests from the CLI). */
void mg_runner_control(struct mg_ctx *ctx);
/* After a reload: re-arms the scan timer with the new interval. */
void mg_runner_reconfigure(struct mg_ctx *ctx);
#endif
