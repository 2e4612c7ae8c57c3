/* dbx_upload_sink.c - a member's upload chunk written to its file as it arrives (a
 * net/http sink) instead of evhttp holding the whole chunk in memory and the handler
 * copying it out: the chunk costs one copy (socket to page cache) and constant memory.
 * The handler (dbx_upload_chunk) still decides: it syncs the file and records the new
 * length, so "a chunk acknowledged is on disk" holds as before. While a chunk streams
 * into an upload, that upload is busy: a second chunk to it (from another connection)
 * is refused, so two writers never interleave in one file. A member's chunks and an
 * upload share's (public, keyed by the share) take the same path. */
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
	if (k->fd >= 0)
		close(k->fd);
	free(k);
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
	if (strlen(id) != 32 || uid <= 0 || dbx_upload_busy(s, id) ||
	    dbx_upload_get(s, id, uid, key[0] ? key : NULL, &received, &parent, NULL) < 0 ||
	    strtoll(off + 7, NULL, 10) != received ||
	    (unsigned long long)received + ri->content_length > DBX_MAX_FILE_SIZE)
		return 0;
	struct dbx_upsink *k = calloc(1, sizeof(*k));
	if (!k)
		return 0;
	k->s = s;
	str_copy(k->id, id, sizeof(k->id));
	str_copy(k->share, key, sizeof(k->share));
	k->off = received;
	k->len = (long long)ri->content_length;
	k->fd = dbx_upload_path(s, id, path, sizeof(path)) == 0 ? open(path, O_WRONLY | O_CLOEXEC) : -1;
	/* bytes past what was acknowledged (a chunk cut off earlier) go */
	if (k->fd < 0 || ftruncate(k->fd, received) < 0) {
		if (k->fd >= 0)
			close(k->fd);
		free(k);
		return 0;
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
	if (strcmp(k->id, id) != 0 || strcmp(k->share, share_key ? share_key : "") != 0 || k->off != received ||
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
	if (got >= 0 && fdatasync(k->fd) < 0) {
		log_warn("upload %s: fdatasync: %s", id, strerror(errno));
		got = -1;
	}
	dbx_upsink_free(k);
	return got;
}
