/* mg_deliver.h - one outbound SMTP delivery: one message, one destination domain,
 * one next hop (mg_smtpc.c), and the DSN generator (mg_dsn.c). */
#ifndef MG_DELIVER_H
#define MG_DELIVER_H

#include <stddef.h>

#include "applets/mailgw/mg_ctx.h"
#include "applets/mailgw/mg_queue.h"

#define MG_HOPS_MAX 8

struct mg_delivery;
typedef void (*mg_delivery_done)(struct mg_delivery *d);

struct mg_delivery {
	struct mg_ctx *ctx;
	struct mg_env *env;      /* shared with the runner; rcpt states are set in place */
	size_t *idx;             /* recipients of this delivery (indices into env->rcpt) */
	size_t n;
	char domain[256];
	char hops[MG_HOPS_MAX][256];  /* next hops in order (smarthost, or MX hosts) */
	size_t nhops;
	size_t hop_i;            /* the one being tried */
	char host[256];          /* hops[hop_i]: SNI and verify name */
	int port;
	char hop[272];           /* "host:port" of hops[hop_i]: the key of the TLS memory */
	char dest[272];          /* concurrency key: "host:port", or "mx:DOMAIN" */
	mg_delivery_done done;   /* called once, from the loop; d stays owned by the caller */
	void *arg;
	/* results, for logs and the queue listing */
	char error[256];         /* connection-level reason when nothing was delivered */
	char tls[200];           /* "TLSv1.3 TLS_AES_256_GCM_SHA384 verify=ok" or "none" */
	int sent;                /* recipients accepted */
	int removed;             /* the message was finished and removed from the spool */
	/* internal */
	struct mg_smtpc *c;
};

/* Starts the delivery. Returns 0 (done will be called later) or -1 (done will not be
 * called; d->error says why). */
int mg_deliver_start(struct mg_delivery *d);
/* Cancels a running delivery (daemon stopping): done is not called. */
void mg_deliver_cancel(struct mg_delivery *d);

/* Queues a DSN (RFC 3464) to e->from for every FAILED recipient and marks them
 * BOUNCED. A null sender or a bounce gets no DSN (logged). Returns 0/-1. */
int mg_dsn_queue(struct mg_ctx *ctx, struct mg_env *e, char *newid, size_t idcap);
#endif
