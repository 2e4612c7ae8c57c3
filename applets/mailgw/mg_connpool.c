/* mg_connpool.c - parked outbound SMTP sessions (see mg_connpool.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "applets/mailgw/mg_connpool.h"
#include "core/log.h"
#include "net/conn.h"

struct pool_ent {
	struct pool_ent *next;
	struct mg_ctx *ctx;
	struct mg_pooled p;
};

struct mg_pool {
	struct pool_ent *head;
	size_t n;
};

static void unlink_ent(struct mg_ctx *ctx, struct pool_ent *e)
{
	for (struct pool_ent **pp = &ctx->pool->head; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			ctx->pool->n--;
			return;
		}
}

/* Closes politely: QUIT is flushed, then the socket closed by net/. */
static void close_quit(struct net_conn *c)
{
	net_conn_write(c, "QUIT\r\n", 6);
	net_conn_close(c);
}

/* A parked session must stay silent: anything it says (421, garbage) ends it. */
static void on_read(struct net_conn *c, void *arg)
{
	struct pool_ent *e = arg;
	char hp[NET_HOSTPORT_MAX];

	log_debug("pool: %s said something while idle, closing", net_join_hostport(hp, sizeof(hp), e->p.host, e->p.port));
	unlink_ent(e->ctx, e);
	net_conn_free(c);
	free(e);
}

static void on_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct pool_ent *e = arg;
	char hp[NET_HOSTPORT_MAX];

	unlink_ent(e->ctx, e);
	if (ev == NET_EV_TIMEOUT) {
		log_debug("pool: %s unused for %d ms, closing", net_join_hostport(hp, sizeof(hp), e->p.host, e->p.port),
			  MG_POOL_IDLE_MS);
		close_quit(c);
	} else
		net_conn_free(c);
	free(e);
}

int mg_pool_put(struct mg_ctx *ctx, const struct mg_pooled *p)
{
	static const struct net_conn_cbs cbs = { on_read, NULL, on_event };
	struct pool_ent *e = NULL;

	if (!ctx->pool && !ctx->stopping && (ctx->pool = calloc(1, sizeof(*ctx->pool))) == NULL)
		log_err("pool: out of memory");
	if (!ctx->pool || ctx->stopping || ctx->pool->n >= MG_POOL_MAX || !(e = calloc(1, sizeof(*e)))) {
		close_quit(p->c);
		return -1;
	}
	e->ctx = ctx;
	e->p = *p;
	net_conn_set_cbs(p->c, &cbs, e);
	net_conn_set_idle_timeout(p->c, MG_POOL_IDLE_MS);
	e->next = ctx->pool->head;
	ctx->pool->head = e;
	ctx->pool->n++;
	return 0;
}

int mg_pool_get(struct mg_ctx *ctx, const char *domain, const char *host, int port, struct mg_pooled *out)
{
	if (!ctx->pool)
		return -1;
	for (struct pool_ent *e = ctx->pool->head; e; e = e->next)
		if (e->p.port == port && strcasecmp(e->p.domain, domain) == 0 && strcasecmp(e->p.host, host) == 0) {
			unlink_ent(ctx, e);
			*out = e->p;
			free(e);
			return 0;
		}
	return -1;
}

void mg_pool_clear(struct mg_ctx *ctx)
{
	if (!ctx->pool)
		return;
	while (ctx->pool->head) {
		struct pool_ent *e = ctx->pool->head;
		ctx->pool->head = e->next;
		net_conn_free(e->p.c);
		free(e);
	}
	free(ctx->pool);
	ctx->pool = NULL;
}
