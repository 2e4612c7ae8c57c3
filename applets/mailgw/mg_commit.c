/* mg_commit.c - group commit of accepted messages on a worker thread (see
 * mg_commit.h for why the order is crash-safe and who owns what when). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/mailgw/mg_commit.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "net/loop.h"
#include "net/worker.h"

struct mg_commit_req {
	struct mg_commit_req *next;
	/* the worker's while the batch is out, else the loop's */
	struct mg_msg_writer *w;
	char id[MG_ID_MAX + 1];
	struct buf_writer env;       /* the formatted envelope */
	int ok;
	/* the loop's only (the worker never reads them) */
	mg_commit_done done;         /* NULL: cancelled */
	void *arg;
	int inflight;
};

/* Batches out at a time, and worker threads. With 1 or 2 the bench could not tell
 * them apart on a loaded 2-core VM (263-393 vs 270-561 msg/s); 2 lets the disk
 * overlap the fsyncs of two batches. */
#ifndef MG_COMMIT_BATCHES
#define MG_COMMIT_BATCHES 2
#endif

struct removal {
	struct removal *next;
	char id[MG_ID_MAX + 1];
};

struct mg_commit {
	struct mg_ctx *ctx;
	char spool[512];             /* read by the worker: written once, before it starts */
	int syncfs;                  /* commit_sync = syncfs (the same) */
	struct net_timer *t;
	struct net_worker *wk;
	struct mg_commit_req *head, **tail;   /* waiting for the next batch */
	struct removal *rm;                   /* env/ID unlinked, msg/ID still to go */
	int busy;                             /* batches on the worker */
};

/* One batch: handed to the worker whole, handed back whole. */
struct batch {
	struct mg_commit *c;
	struct mg_commit_req *reqs;
	struct removal *rm;
	size_t n;
	int rm_failed;               /* the fsync of env/ failed: message files kept */
};

/* ---- the worker's side: files only, no logging, nothing of the loop ---- */

/* After the fsync of env/ (synced): the message files of the removed envelopes. */
static void finish_removals(const char *spool, struct removal *rm, int synced)
{
	char p[512];

	for (; rm; rm = rm->next)
		if (synced && mg_spool_msg_path(spool, rm->id, p, sizeof(p)) == 0)
			unlink(p);
}

static void batch_work(void *arg)
{
	struct batch *b = arg;
	const char *spool = b->c->spool;
	int fs = b->c->syncfs;
	struct mg_commit_req *r;
	size_t nok = 0;
	int rc = 0;

	/* 1. message files renamed into msg/, durable with their directory entries: each
	 * fsynced and one fsync of msg/, or (syncfs) none of that and one syncfs for all.
	 * Either way no envelope exists yet, so a crash here leaves only message files
	 * without envelopes, which start-up removes. */
	for (r = b->reqs; r; r = r->next)
		if ((r->ok = (fs ? mg_msg_writer_commit_nosync(r->w) : mg_msg_writer_commit_nodirsync(r->w)) == 0))
			nok++;
	if (nok && (fs ? mg_spool_syncfs(spool) : mg_spool_sync_dir(spool, "msg")) < 0)
		for (r = b->reqs; r; r = r->next)
			r->ok = 0;
	/* 2. envelopes, only for messages whose file is durable. With syncfs a crash
	 * before step 3 ends can leave a torn envelope of a message nobody was told about
	 * (no 250 yet); start-up skips an unreadable envelope and says so. */
	nok = 0;
	for (r = b->reqs; r; r = r->next) {
		if (r->ok && (fs ? mg_env_write_nosync(spool, r->id, r->env.p, r->env.len)
				 : mg_env_write_nodirsync(spool, r->id, r->env.p, r->env.len)) < 0)
			r->ok = 0;
		nok += (size_t)r->ok;
	}
	/* 3. one fsync of env/ (or syncfs) for the new envelopes and the removals alike */
	if (nok || b->rm)
		rc = fs ? mg_spool_syncfs(spool) : mg_spool_sync_dir(spool, "env");
	if (rc < 0)
		for (r = b->reqs; r; r = r->next)
			r->ok = 0;
	b->rm_failed = rc < 0 && b->rm;
	finish_removals(spool, b->rm, rc == 0);
}

/* ---- the loop's side ---- */

static void req_free(struct mg_commit_req *r, int abort_file)
{
	if (abort_file)
		mg_msg_writer_abort(r->w);
	free(r->w);
	buf_writer_free(&r->env);
	free(r);
}

static void start_batch(struct mg_commit *c);

/* 4. the replies, on the loop: done may free the session and add new requests. */
static void batch_done(void *arg)
{
	struct batch *b = arg;
	struct mg_commit *c = b->c;
	struct mg_commit_req *r, *next;

	c->busy--;
	if (b->rm_failed)
		log_err("commit: fsync of env/ failed: message files of removed envelopes kept");
	while (b->rm) {
		struct removal *rm = b->rm;
		b->rm = rm->next;
		free(rm);
	}
	if (b->n > 1)
		log_debug("commit: %zu messages in one batch", b->n);
	for (r = b->reqs; r; r = next) {
		next = r->next;
		r->next = NULL;
		r->inflight = 0;
		if (r->done) {
			r->done(r->arg, r->ok);
		} else if (r->ok) {
			log_info("commit %s: the client left before the 250: removed", r->id);
			if (mg_commit_remove(c->ctx, r->id) < 0)
				mg_spool_remove(c->spool, r->id);
		}
		req_free(r, 0);
	}
	free(b);
	start_batch(c);
}

static void start_batch(struct mg_commit *c)
{
	struct batch *b;

	if (c->busy >= MG_COMMIT_BATCHES || (!c->head && !c->rm) || !(b = calloc(1, sizeof(*b))))
		return;
	b->c = c;
	b->reqs = c->head;
	b->rm = c->rm;
	c->head = NULL;
	c->tail = &c->head;
	c->rm = NULL;
	for (struct mg_commit_req *r = b->reqs; r; r = r->next) {
		r->inflight = 1;
		b->n++;
	}
	c->busy++;
	/* From here on b and all it reaches are the worker's until batch_done. */
	if (net_worker_submit(c->wk, batch_work, batch_done, b) < 0) {
		batch_work(b);   /* out of memory: the same work, on the loop */
		batch_done(b);
	}
}

static void on_timer(void *arg)
{
	start_batch(arg);
}

static struct mg_commit *get(struct mg_ctx *ctx)
{
	struct mg_commit *c = ctx->commit;

	if (c)
		return c;
	if (!(c = calloc(1, sizeof(*c))))
		return NULL;
	c->ctx = ctx;
	c->tail = &c->head;
	c->syncfs = ctx->conf.commit_sync == MG_SYNC_SYNCFS;
	/* The thread starts here, in the loop: after daemon_start's fork and privilege drop. */
	if (str_copy(c->spool, ctx->conf.spool, sizeof(c->spool)) >= sizeof(c->spool) ||
	    !(c->t = net_timer_new(ctx->loop, on_timer, c)) ||
	    !(c->wk = net_worker_new(ctx->loop, MG_COMMIT_BATCHES))) {
		log_err("commit: cannot start the worker thread: committing on the loop");
		net_timer_free(c->t);
		free(c);
		return NULL;
	}
	ctx->commit = c;
	return c;
}

int mg_commit_remove(struct mg_ctx *ctx, const char *id)
{
	struct mg_commit *c = get(ctx);
	struct removal *rm;
	char p[512];

	if (!c || !mg_id_valid(id) || !(rm = calloc(1, sizeof(*rm))))
		return -1;
	if (str_fmt(p, sizeof(p), "%s/env/%s", c->spool, id) < 0 || unlink(p) < 0) {
		free(rm);
		return -1;
	}
	str_copy(rm->id, id, sizeof(rm->id));
	rm->next = c->rm;
	c->rm = rm;
	net_timer_arm(c->t, 0);
	return 0;
}

struct mg_commit_req *mg_commit_add(struct mg_ctx *ctx, struct mg_msg_writer *w,
				    const struct mg_env *env, mg_commit_done done, void *arg)
{
	struct mg_commit *c = get(ctx);
	struct mg_commit_req *r;

	if (!c || !mg_id_valid(env->id) || !(r = calloc(1, sizeof(*r))))
		return NULL;
	buf_writer_growable(&r->env, MG_ENV_MAX);
	if (mg_env_format(env, &r->env) < 0) {
		buf_writer_free(&r->env);
		free(r);
		return NULL;
	}
	str_copy(r->id, env->id, sizeof(r->id));
	r->w = w;
	r->done = done;
	r->arg = arg;
	*c->tail = r;
	c->tail = &r->next;
	/* Not at once: the other messages ending in this loop pass join the batch. */
	net_timer_arm(c->t, 0);
	return r;
}

void mg_commit_cancel(struct mg_ctx *ctx, struct mg_commit_req *r)
{
	struct mg_commit *c = ctx->commit;

	if (!c || !r)
		return;
	if (r->inflight) {
		r->done = NULL;   /* batch_done sees it */
		return;
	}
	for (struct mg_commit_req **pp = &c->head; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			if (c->tail == &r->next)
				c->tail = pp;
			req_free(r, 1);
			return;
		}
}

void mg_commit_free(struct mg_ctx *ctx)
{
	struct mg_commit *c = ctx->commit;

	if (!c)
		return;
	/* The batch out (and any its completion starts) comes back; its sessions are gone. */
	net_worker_drain(c->wk);
	while (c->head) {
		struct mg_commit_req *r = c->head;
		c->head = r->next;
		req_free(r, 1);
	}
	if (c->rm) {
		int rc = mg_spool_sync_dir(c->spool, "env");
		finish_removals(c->spool, c->rm, rc == 0);
		while (c->rm) {
			struct removal *rm = c->rm;
			c->rm = rm->next;
			free(rm);
		}
	}
	net_worker_free(c->wk);
	net_timer_free(c->t);
	free(c);
	ctx->commit = NULL;
}
