/* mg_commit.c - group commit of accepted messages (see mg_commit.h for why the order
 * is crash-safe). */
#include <stdlib.h>

#include "applets/mailgw/mg_commit.h"
#include "core/log.h"
#include "net/loop.h"

struct mg_commit {
	struct net_timer *t;
	struct mg_commit_req *head, **tail;
};

static void run_batch(void *arg)
{
	struct mg_ctx *ctx = arg;
	struct mg_commit *c = ctx->commit;
	struct mg_commit_req *batch = c->head, *r, *next;
	int *ok;
	size_t n = 0, i, nok = 0;
	int dir_ok;

	c->head = NULL;
	c->tail = &c->head;
	for (r = batch; r; r = r->next)
		n++;
	if (!n)
		return;
	if (!(ok = calloc(n, sizeof(*ok)))) {
		log_err("commit: out of memory");
		for (r = batch; r; r = next) {
			next = r->next;
			r->done(r, 0);
		}
		return;
	}
	/* 1. message files: data fsynced, renamed into msg/; one fsync of msg/ */
	for (r = batch, i = 0; r; r = r->next, i++)
		if ((ok[i] = mg_msg_writer_commit_nodirsync(r->w) == 0))
			nok++;
	dir_ok = nok == 0 || mg_spool_sync_dir(ctx->conf.spool, "msg") == 0;
	/* 2. envelopes, only for messages whose file is durable; one fsync of env/ */
	nok = 0;
	for (r = batch, i = 0; r; r = r->next, i++) {
		if (ok[i] && (!dir_ok || mg_env_save_nodirsync(ctx->conf.spool, r->env) < 0))
			ok[i] = 0;
		nok += (size_t)ok[i];
	}
	if (nok && mg_spool_sync_dir(ctx->conf.spool, "env") < 0)
		for (i = 0; i < n; i++)
			ok[i] = 0;
	if (n > 1)
		log_debug("commit: %zu messages in one batch", n);
	/* 3. replies: done may free r (and start a new batch) */
	for (r = batch, i = 0; r; r = next, i++) {
		next = r->next;
		r->next = NULL;
		r->done(r, ok[i]);
	}
	free(ok);
}

int mg_commit_add(struct mg_ctx *ctx, struct mg_commit_req *r)
{
	struct mg_commit *c = ctx->commit;

	if (!c) {
		if (!(c = calloc(1, sizeof(*c))))
			return -1;
		if (!(c->t = net_timer_new(ctx->loop, run_batch, ctx))) {
			free(c);
			return -1;
		}
		c->tail = &c->head;
		ctx->commit = c;
	}
	r->next = NULL;
	*c->tail = r;
	c->tail = &r->next;
	net_timer_arm(c->t, 0);
	return 0;
}

void mg_commit_cancel(struct mg_ctx *ctx, struct mg_commit_req *r)
{
	struct mg_commit *c = ctx->commit;

	if (!c)
		return;
	for (struct mg_commit_req **pp = &c->head; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			if (c->tail == &r->next)
				c->tail = pp;
			r->next = NULL;
			return;
		}
}

void mg_commit_free(struct mg_ctx *ctx)
{
	struct mg_commit *c = ctx->commit;

	if (!c)
		return;
	net_timer_free(c->t);
	free(c);
	ctx->commit = NULL;
}
