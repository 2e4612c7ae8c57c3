/* dbx_upload_commit.c - a streamed chunk's fdatasync and the SQLite commit that records
 * it run on a worker thread (net/worker.h), the request suspended (net_http_defer)
 * meanwhile: a big upload's commits then no longer stall every other client on the
 * event loop for the length of a disk flush. "A chunk acknowledged is on disk" holds:
 * the answer is sent from the done callback, after both. The sink stays listed until
 * then, so the only chunk that can start meanwhile is the one at its end
 * (dbx_upload_sink.c), and that one's commit is queued after this one's: one worker
 * thread runs the jobs in order, and the record is conditional (received moves from the
 * chunk's start to its end, or not at all), so a chunk is never recorded unless the one
 * before it was, whatever its own sync said (after a failed fdatasync Linux may report
 * the next one clean although the pages of the first were lost).
 *
 * The job uses SQLite through its own connection (s->wdb, opened by the first job and
 * touched by no one else while the worker lives: one thread, jobs in order), never the
 * loop's; in WAL mode the loop's readers do not wait for it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/databox/dbx_server.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/str.h"
#include "net/http.h"
#include "net/worker.h"

struct commit {
	struct dbx_server *s;
	struct net_http_req *r;   /* NULL once the client went away */
	void *sink;
	int fd;
	char id[33];
	long long start, total;   /* received before and after this chunk */
	int err;                  /* errno of the sync, or -1 for the database */
};

static void commit_work(void *arg)
{
	struct commit *c = arg;
	struct dbx_server *s = c->s;
	if (fdatasync(c->fd) < 0) {
		c->err = errno ? errno : EIO;
		return;
	}
	if (!s->wdb) {
		char path[4200];
		if (fs_path_join(path, sizeof(path), s->conf.state_dir, "databox.db") < 0 ||
		    sqlite3_open_v2(path, &s->wdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
			sqlite3_close(s->wdb);
			s->wdb = NULL;
			c->err = -1;
			return;
		}
		sqlite3_busy_timeout(s->wdb, 5000);
		sqlite3_exec(s->wdb, "PRAGMA synchronous=FULL;", NULL, NULL, NULL);
	}
	if (dbx_upload_record(s->wdb, c->id, c->start, c->total) < 0)
		c->err = -1;
}

int dbx_upload_record(sqlite3 *db, const char *id, long long start, long long end)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "UPDATE uploads SET received = ? WHERE id = ? AND received = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, end);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, start);
	/* no row changed: the chunk before this one was not recorded (or the upload went) */
	if (sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1)
		rc = 0;
	sqlite3_finalize(st);
	return rc;
}

static void commit_gone(void *arg)
{
	((struct commit *)arg)->r = NULL;
}

static void commit_done(void *arg)
{
	struct commit *c = arg;
	dbx_upsink_free(c->sink);
	if (c->err)
		log_warn("upload %s: %s", c->id, c->err > 0 ? strerror(c->err) : "cannot record the chunk");
	if (c->r) {
		if (c->err)
			dbx_reply_error(c->r, 500, "cannot store the chunk");
		else
			dbx_reply_json(c->r, 200, json_pack("{s:I}", "received", (json_int_t)c->total));
	}
	free(c);
}

void dbx_upload_commit_drop(void *arg)
{
	struct commit *c = arg;
	c->err = EIO;
	log_warn("upload %s: the chunk before this one was not stored", c->id);
	commit_done(c);
}

/* Queues c's job (or, without a worker, does it here); then the held commit of the chunk
 * after c's, which may be queued only now, behind c's. */
static void submit(struct commit *c)
{
	struct dbx_server *s = c->s;
	struct commit *next = dbx_upsink_committing(c->sink);
	if (net_worker_submit(s->worker, commit_work, commit_done, c) < 0) {
		/* r is suspended now: answer it here, the slow way */
		c->err = fdatasync(c->fd) < 0 ? errno : 0;
		if (!c->err && dbx_upload_record(s->db, c->id, c->start, c->total) < 0)
			c->err = -1;
		commit_done(c);
	}
	if (next)
		submit(next);
}

int dbx_upload_commit(struct dbx_server *s, struct net_http_req *r, void *sink, const char *id)
{
	if (!s->worker && !(s->worker = net_worker_new(s->loop, 1)))
		return -1;
	struct commit *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->s = s;
	c->r = r;
	c->sink = sink;
	c->fd = dbx_upsink_fd(sink);
	str_copy(c->id, id, sizeof(c->id));
	dbx_upsink_span(sink, &c->start, &c->total);
	if (net_http_defer(r, commit_gone, c) < 0) {
		free(c);
		return -1;
	}
	/* the chunk before this one is still arriving: this one waits for its commit */
	if (!dbx_upsink_hold(sink, c))
		submit(c);
	return 0;
}

void dbx_upload_commit_stop(struct dbx_server *s)
{
	/* every commit answered before the listener and the database go */
	if (s->worker)
		net_worker_free(s->worker);
	s->worker = NULL;
	if (s->wdb)
		sqlite3_close(s->wdb);
	s->wdb = NULL;
}
