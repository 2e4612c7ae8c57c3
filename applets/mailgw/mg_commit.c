/* mg_commit.c - group commit of accepted messages (see mg_commit.h for why the order
 * is crash-safe). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/mailgw/mg_commit.h"
#include "core/log.h"
#include "core/str.h"
#include "net/loop.h"

struct removal {
	struct removal *next;
	char id[MG_ID_MAX + 1];
};

struct mg_commit {
	struct net_timer *t;
	struct mg_commit_req *head, **tail;
	struct removal *rm;          /* env/ID unlinked, msg/ID still to go */
};

/* After a successful fsync of env/: the message files of the removed envelopes. */
static void finish_removals(struct mg_ctx *ctx, struct removal *rm, int synced)
{
	char p[512];

	while (rm) {
		struct removal *next = rm->next;
		if (synced && mg_spool_msg_path(ctx->conf.spool, rm->id, p, sizeof(p)) == 0)
			unlink(p);
		free(rm);
		rm = next;
	}
}

static int commit(struct mg_ctx *ctx, int nok, struct removal *rm)
{
	int rc = 0;
	if (nok || rm)
		rc = mg_spool_sync_dir(ctx->conf.spool, "env");
	if (rc < 0 && rm)
		log_err("commit: fsync of env/ failed: message files of removed envelopes kept");
	finish_removals(ctx, rm, rc == 0);
	return rc;
}

static void run_batch(void *arg)
{
	struct mg_ctx *ctx = arg;
	struct mg_commit *c = ctx->commit;
	struct mg_commit_req *batch = c->head, *r, *next;
	struct removal *rm = c->rm;
	int *ok;
	size_t n = 0, i, nok = 0;
	int dir_ok;

	c->head = NULL;
	c->tail = &c->head;
	c->rm = NULL;
	for (r = batch; r; r = r->next)
		n++;
	if (!n) {
		commit(ctx, 0, rm);
		return;
	}
	if (!(ok = calloc(n, sizeof(*ok)))) {
		commit(ctx, 0, rm);
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
	/* one fsync of env/ for the new envelopes and the removals alike */
	if (commit(ctx, (int)nok, rm) < 0)
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

static struct mg_commit *get(struct mg_ctx *ctx)
{
	struct mg_commit *c = ctx->commit;

	if (!c) {
		if (!(c = calloc(1, sizeof(*c))))
			return NULL;
		if (!(c->t = net_timer_new(ctx->loop, run_batch, ctx))) {
			free(c);
			return NULL;
		}
		c->tail = &c->head;
		ctx->commit = c;
	}
	return c;
}

int mg_commit_remove(struct mg_ctx *ctx, const char *id)
{
	struct mg_commit *c = get(ctx);
	struct removal *rm;
	char p[512];

	if (!c || !mg_id_valid(id) || !(rm = calloc(1, sizeof(*rm))))
		return -1;
	if (str_fmt(p, sizeof(p), "%s/env/%s", ctx->conf.spool, id) < 0 || unlink(p) < 0) {
		free(rm);
		return -1;
	}
	str_copy(rm->id, id, sizeof(rm->id));
	rm->next = c->rm;
	c->rm = rm;
	net_timer_arm(c->t, 0);
	return 0;
}

int mg_commit_add(struct mg_ctx *ctx, struct mg_commit_req *r)
{
	struct mg_commit *c = get(ctx);

	if (!c)
		return -1;
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
	commit(ctx, 0, c->rm);
	net_timer_free(c->t);
	free(c);
	ctx->commit = NULL;
}
