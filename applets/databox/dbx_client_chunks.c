/* dbx_client_chunks.c - the one encrypted upload loop of the client, for a member's
 * upload and an upload share's: a file's bytes (AES-256-GCM when a stream is given) go
 * out as chunks of the server's size, two chunk buffers deep, on two connections (a
 * net_httpc and its twin, one loop): the file read and the encryption of chunk N+1
 * overlap the sending of chunk N, and the sending of N+1 overlaps N's sync and record
 * on the server, which takes a chunk starting at the end of one it is still storing
 * (dbx_upload_sink.c). N+1 starts once N's body has all left, so the two do not share
 * the link; a buffer is refilled only after its chunk's answer, because httpc may send
 * a body again (a kept-alive connection the server had closed). Memory: two chunks and
 * one 256 KiB slice, whatever the file's size. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/databox/dbx_client.h"
#include "applets/databox/dbx_stream.h"
#include "core/exitcode.h"
#include "core/secret.h"
#include "core/str.h"
#include "crypto/crypto.h"
#include "net/httpc.h"

#define UP_SLICE (256 * 1024)
/* Each chunk is one round trip and one fdatasync on the server; two buffers of 8 MiB
 * keep the client under 32 MB. A server may take less (max_chunk, down to 4 KiB): the
 * stream cipher takes any length, so any size the server names works. */
#define UP_CHUNK_MAX (8 * 1024 * 1024)
#define UP_CHUNK_DEFAULT (1024 * 1024)

/* databox serve's own floor for max_chunk: a server naming less gets chunks of this
 * (and refuses them) instead of a request per byte */
#define UP_CHUNK_MIN 4096

size_t dbx_chunk_size(long long max_chunk)
{
	if (max_chunk <= 0)
		return UP_CHUNK_DEFAULT;
	if (max_chunk < UP_CHUNK_MIN)
		return UP_CHUNK_MIN;
	return max_chunk >= UP_CHUNK_MAX ? UP_CHUNK_MAX : (size_t)max_chunk;
}

/* Reads (and with gs encrypts) up to cap bytes of fd into dst, a slice at a time,
 * letting the connection move the chunk before it between slices. The count, or -1. */
static ssize_t fill_chunk(struct net_httpc *const h[2], int fd, struct cry_gcm_stream *gs, uint8_t *dst,
			  size_t cap, uint8_t *plain)
{
	size_t got = 0;
	while (got < cap) {
		size_t want = cap - got < UP_SLICE ? cap - got : UP_SLICE;
		ssize_t n = dbx_read_full(fd, gs ? plain : dst + got, want);
		if (n < 0)
			return -1;
		if (gs && n > 0 && cry_gcm_stream_update(gs, plain, (size_t)n, dst + got) < 0) {
			errno = EINVAL;
			return -1;
		}
		got += (size_t)n;
		net_httpc_pump(h[0]);
		if (h[1])
			net_httpc_pump(h[1]);
		if ((size_t)n < want)
			break;
	}
	return (ssize_t)got;
}

/* Starts POSTing one chunk at off (p stays untouched until chunk_end); 0 or -1. */
static int chunk_begin(const struct dbx_chunks *u, struct net_httpc *h, uint64_t off, const uint8_t *p,
		       size_t n)
{
	char path[800], err[300];
	const char *hdrs[] = { "Content-Type: application/octet-stream", u->auth, NULL };
	str_fmt(path, sizeof(path), "%s?offset=%llu", u->prefix, (unsigned long long)off);
	if (net_httpc_begin(h, "POST", path, hdrs, p, n, NULL, NULL, 65536, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox %s: %s\n", u->cmd, err);
		return -1;
	}
	return 0;
}

/* Waits for the chunk's answer; 0 or an exit code. */
static int chunk_end(const struct dbx_chunks *u, struct net_httpc *h)
{
	char err[300], *resp = NULL;
	int st = net_httpc_end(h, &resp, NULL, err, sizeof(err));
	if (st == 200) {
		free(resp);
		return 0;
	}
	json_t *j = resp ? json_loads(resp, 0, NULL) : NULL;
	if (st < 0)
		fprintf(stderr, "databox %s: %s\n", u->cmd, err);
	int rc = dbx_cl_exit_for(u->cmd, st, j, "sending data");
	json_decref(j);
	free(resp);
	return rc;
}

/* A chunk buffer and the connection its chunk goes out on. */
struct slot {
	struct net_httpc *h;
	uint8_t *buf;
	uint64_t end;             /* the file's bytes up to here once its chunk is answered */
	int busy;                 /* its chunk is in flight */
};

int dbx_send_chunks(const struct dbx_chunks *u, int fd, struct cry_gcm_stream *gs, uint64_t *sent)
{
	struct slot sl[2] = { { u->http, malloc(u->chunk), 0, 0 }, { NULL, malloc(u->chunk), 0, 0 } };
	struct net_httpc *hs[2] = { u->http, NULL };
	uint8_t *plain = gs ? malloc(UP_SLICE) : NULL;
	int rc = EXIT_OK, cur = 0;
	uint64_t off = 0, acked = 0;
	char err[300];

	if (!sl[0].buf || !sl[1].buf || (gs && !plain)) {
		rc = EXIT_OSERR;
		goto out;
	}
	ssize_t n = fill_chunk(hs, fd, gs, sl[0].buf, u->chunk, plain);
	while (n > 0) {
		struct slot *c = &sl[cur], *o = &sl[!cur];
		if (chunk_begin(u, c->h, off, c->buf, (size_t)n) < 0) {
			rc = EXIT_SOFTWARE;
			goto out;
		}
		c->busy = 1;
		off += (uint64_t)n;
		c->end = off;
		/* the chunk before: its answer frees its buffer for the one after this */
		if (o->busy) {
			o->busy = 0;
			if ((rc = chunk_end(u, o->h)) != EXIT_OK)
				goto out;
			acked = o->end;
			dbx_progress(acked, u->total, (void *)u->name);
		}
		ssize_t m = fill_chunk(hs, fd, gs, o->buf, u->chunk, plain);
		if (m > 0 && !o->h) {
			if (!(o->h = hs[1] = net_httpc_twin(u->http, err, sizeof(err)))) {
				fprintf(stderr, "databox %s: %s\n", u->cmd, err);
				rc = EXIT_OSERR;
				goto out;
			}
		}
		if (m > 0)
			net_httpc_wait_sent(c->h);
		cur = !cur;
		n = m;
	}
	if (n < 0) {
		fprintf(stderr, "databox %s: %s: %s\n", u->cmd, u->file, strerror(errno));
		rc = EXIT_IOERR;
	}
out:
	/* every chunk in flight is answered before its buffer goes (and the caller's
	 * connection is free again for a cancel or a retry) */
	for (int i = 0; i < 2; i++) {
		struct slot *c = &sl[(cur + 1 + i) % 2];
		if (!c->busy)
			continue;
		c->busy = 0;
		int r = chunk_end(u, c->h);
		if (rc == EXIT_OK)
			rc = r;
		if (r == EXIT_OK && rc == EXIT_OK)
			acked = c->end;
	}
	if (rc == EXIT_OK)
		dbx_progress(acked, u->total, (void *)u->name);
	*sent = acked;
	if (plain) {
		secret_wipe(plain, UP_SLICE);
		free(plain);
	}
	/* ciphertext, or a plain room's bytes: wiped all the same */
	for (int i = 0; i < 2; i++) {
		if (sl[i].buf)
			secret_wipe(sl[i].buf, u->chunk);
		free(sl[i].buf);
	}
	net_httpc_free(hs[1]);
	return rc;
}
