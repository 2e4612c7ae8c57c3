/* mg_connpool.h - outbound SMTP connections kept open between deliveries.
 *
 * After a delivery whose final dot got 2xx, the session is parked here for
 * MG_POOL_IDLE_MS instead of QUIT. The next delivery for the same domain and the same
 * first next hop takes it, sends RSET and goes on with MAIL FROM: no new TCP
 * connection, no new TLS handshake (Postfix: smtp_connection_cache_time_limit 2 s,
 * smtp_tls_connection_reuse). Keyed by the recipient domain, so the TLS policy that
 * admitted the session is the one the next delivery would apply. A parked session
 * that the peer closes, that sends anything, or that stays unused is closed. */
#ifndef MG_CONNPOOL_H
#define MG_CONNPOOL_H

#include "applets/mailgw/mg_ctx.h"

#define MG_POOL_IDLE_MS 2000
#define MG_POOL_MAX 64

struct mg_pooled {
	struct net_conn *c;
	char domain[256];
	char host[256];
	int port;
	enum mg_tls_level level;
	int tls_up, no_tls, offers_8bit, offers_size;
	char tls[200];
};

/* Takes over p->c (0), or closes it with QUIT when the pool is full or stopping (-1). */
int mg_pool_put(struct mg_ctx *ctx, const struct mg_pooled *p);
/* A parked session for domain to host:port, taken out of the pool (0), or -1. The
 * caller sets its own callbacks and idle timeout on out->c. */
int mg_pool_get(struct mg_ctx *ctx, const char *domain, const char *host, int port, struct mg_pooled *out);
/* Closes every parked session (stop, reload). */
void mg_pool_clear(struct mg_ctx *ctx);
#endif
