/* dbx_upload_sink.c - a member's upload chunk written to its file as it arrives (a
 * net/http sink) instead of evhttp holding the whole chunk in memory and the handler
 * copying it out: the chunk costs one copy (socket to page cache) and constant memory.
 * The handler (dbx_upload_chunk) still decides: it syncs the file and records the new
 * length, so "a chunk acknowledged is on disk" holds as before. A member's chunks and
 * an upload share's (public, keyed by the share) take the same path.
 *
 * Two chunks of one upload may be listed at once, so that chunk N+1 arrives while N's
 * sync and record run (dbx_upload_commit.c) instead of after: the second must start
 * exactly at the first's end (so the two never write the same bytes) and is linked to
 * it (pred/succ). The first may still be arriving when the second's head does: the
 * client cannot know when the server read N's last byte, so refusing that case would
 * turn a timing accident into a 409 and a resent chunk. Every other chunk while one is
 * listed (a third, or one at another offset) is refused as before (409). Whether N+1
 * may be recorded is decided where it is recorded: only if N was (the worker's
 * conditional UPDATE, dbx_upload_record). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "applets/databox/dbx_keys.h"
#include "applets/databox/dbx_server.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/str.h"
#include "net/http.h"

struct dbx_upsink {
	struct dbx_server *s;
	struct dbx_upsink *next;  /* s->sinks: the uploads busy now */
	char id[33];
	char share[33];           /* the upload share it came through, "" for a member's */
	int fd;
	int err;                  /* errno of a failed write */
	long long off;            /* where the chunk starts */
	long long len;            /* its Content-Length */
	long long written;
	long long wb;             /* written back so far (write-back started) */
	/* the chunk this one continues (it starts at pred's end) while pred is listed,
	 * and the one continuing this one */
	struct dbx_upsink *pred, *succ;
	int committing;           /* its sync and record are queued on the worker */
	void *held;               /* its commit, held until pred's is queued */
};

#define WRITEBACK_STEP (2 * 1024 * 1024)

int dbx_upload_busy(const struct dbx_server *s, const char *id)
{
	for (const struct dbx_upsink *k = s->sinks; k; k = k->next)
		if (strcmp(k->id, id) == 0)
			return 1;
	return 0;
}

static int sink_write(void *arg, const struct iovec *iov, int n)
{
	struct dbx_upsink *k = arg;
	size_t want = 0;
	for (int i = 0; i < n; i++)
		want += iov[i].iov_len;
	if (k->written + (long long)want > k->len) {
		k->err = EFBIG;
		return -1;
	}
	while (want) {
		ssize_t w = pwritev(k->fd, iov, n, k->off + k->written);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			k->err = w < 0 ? errno : EIO;
			return -1;
		}
		k->written += w;
		want -= (size_t)w;
		if (!want)
			break;
		/* a short write: on with what is left */
		struct iovec rest[64];
		int m = 0;
		size_t skip = (size_t)w;
		for (int i = 0; i < n && m < 64; i++) {
			if (skip >= iov[i].iov_len) {
				skip -= iov[i].iov_len;
				continue;
			}
			rest[m].iov_base = (char *)iov[i].iov_base + skip;
			rest[m++].iov_len = iov[i].iov_len - skip;
			skip = 0;
		}
		iov = rest;
		n = m;
	}
	/* the disk starts on what arrived while the rest is on its way, so the fdatasync
	 * that acknowledges the chunk waits only for its tail */
	if (k->written - k->wb >= WRITEBACK_STEP) {
		fs_writeback_start(k->fd, k->off + k->wb, k->written - k->wb);
		k->wb = k->written;
	}
	return 0;
}

void dbx_upsink_free(void *arg)
{
	struct dbx_upsink *k = arg;
	if (!k)
		return;
	for (struct dbx_upsink **pp = &k->s->sinks; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	if (k->pred)
		k->pred->succ = NULL;
	struct dbx_upsink *n = k->succ;
	if (n) {
		n->pred = NULL;
		/* k goes without its commit queued (cut off, or refused by its handler):
		 * the chunk after it cannot be recorded, so it is answered now */
		if (n->held && !k->committing) {
			void *c = n->held;
			n->held = NULL;
			dbx_upload_commit_drop(c);
		}
	}
	if (k->fd >= 0)
		close(k->fd);
	free(k);
}

void dbx_upsink_span(const void *arg, long long *start, long long *end)
{
	const struct dbx_upsink *k = arg;
	*start = k->off;
	*end = k->off + k->written;
}

int dbx_upsink_hold(void *arg, void *commit)
{
	struct dbx_upsink *k = arg;
	if (!k->pred || k->pred->committing)
		return 0;
	k->held = commit;
	return 1;
}

void *dbx_upsink_committing(void *arg)
{
	struct dbx_upsink *k = arg;
	k->committing = 1;
	void *c = k->succ ? k->succ->held : NULL;
	if (c)
		k->succ->held = NULL;
	return c;
}

/* The one chunk of upload id listed now, NULL when none; *n: how many are. */
static struct dbx_upsink *listed(const struct dbx_server *s, const char *id, int *n)
{
	struct dbx_upsink *one = NULL;
	*n = 0;
	for (struct dbx_upsink *k = s->sinks; k; k = k->next)
		if (strcmp(k->id, id) == 0) {
			one = k;
			++*n;
		}
	return *n == 1 ? one : NULL;
}

int dbx_upload_sink(const struct net_http_reqinfo *ri, struct net_http_sink *out, void *arg)
{
	struct dbx_server *s = arg;
	char id[40], key[40] = "", tail[8], path[4200];
	long long uid, received, parent;
	const char *off = strstr(ri->query, "offset=");

	if (strcmp(ri->method, "POST") != 0 || !ri->path || !off || (off != ri->query && off[-1] != '&'))
		return 0;
	if (ri->authorization[0] &&
	    sscanf(ri->path, "/api/v1/nodes/files/uploads/%32[0-9a-f]%7s", id, tail) == 1)
		uid = dbx_token_user(s, ri->authorization);
	else if (sscanf(ri->path, "/api/v1/public/shares/uploads/%32[0-9a-f]/%32[0-9a-f]%7s", key, id, tail) == 2 &&
		 strlen(key) == 32)
		uid = dbx_upload_share_writer(s, key);
	else
		return 0;
	/* anything odd goes the buffered way, whose handler gives the precise answer */
	if (strlen(id) != 32 || uid <= 0 ||
	    dbx_upload_get(s, id, uid, key[0] ? key : NULL, &received, &parent, NULL) < 0)
		return 0;
	int n;
	struct dbx_upsink *pred = listed(s, id, &n);
	long long at = strtoll(off + 7, NULL, 10);
	/* with a chunk listed: only the one starting at its end, through the same way in,
	 * while the database still holds the listed one's start (or, its record just
	 * committed, its end) */
	if (n > 1 || (n == 1 && (at != pred->off + pred->len || strcmp(pred->share, key) != 0 ||
				 (received != pred->off && received != at))))
		return 0;
	if (!pred && at != received)
		return 0;
	if ((unsigned long long)at + ri->content_length > DBX_MAX_FILE_SIZE)
		return 0;
	struct dbx_upsink *k = calloc(1, sizeof(*k));
	if (!k)
		return 0;
	k->s = s;
	str_copy(k->id, id, sizeof(k->id));
	str_copy(k->share, key, sizeof(k->share));
	k->off = at;
	k->len = (long long)ri->content_length;
	k->fd = dbx_upload_path(s, id, path, sizeof(path)) == 0 ? open(path, O_WRONLY | O_CLOEXEC) : -1;
	/* bytes past what was acknowledged (a chunk cut off earlier) go; never with a
	 * chunk listed, whose bytes (up to at) are still to be synced or still arriving */
	if (k->fd < 0 || (!pred && ftruncate(k->fd, received) < 0)) {
		if (k->fd >= 0)
			close(k->fd);
		free(k);
		return 0;
	}
	if (pred) {
		pred->succ = k;
		k->pred = pred;
	}
	k->next = s->sinks;
	s->sinks = k;
	out->write = sink_write;
	out->release = dbx_upsink_free;
	out->arg = k;
	return 1;
}

long long dbx_upsink_check(void *arg, const char *id, const char *share_key, long long received,
			   const char *offset)
{
	struct dbx_upsink *k = arg;
	/* received: the database's now, k's start, or its pred's start while pred is
	 * not recorded yet (the worker records k only after pred) */
	if (strcmp(k->id, id) != 0 || strcmp(k->share, share_key ? share_key : "") != 0 ||
	    (k->off != received && !(k->pred && k->pred->off == received)) ||
	    !offset || strtoll(offset, NULL, 10) != k->off)
		log_warn("upload %s: a streamed chunk does not match its request", id);
	else if (k->err || k->written != k->len)
		log_warn("upload %s: %s", id, strerror(k->err ? k->err : EIO));
	else
		return k->written;
	return -1;
}

int dbx_upsink_fd(const void *arg)
{
	return ((const struct dbx_upsink *)arg)->fd;
}

long long dbx_upsink_finish(void *arg, const char *id, const char *share_key, long long received,
			    const char *offset)
{
	struct dbx_upsink *k = arg;
	long long got = dbx_upsink_check(k, id, share_key, received, offset);
	/* synced and recorded here on the loop, k cannot wait for its pred's record */
	if (got >= 0 && k->off != received)
		got = -1;
	if (got >= 0 && fdatasync(k->fd) < 0) {
		log_warn("upload %s: fdatasync: %s", id, strerror(errno));
		got = -1;
	}
	dbx_upsink_free(k);
	return got;
}
