/* dbx_client_chunks.c - the one encrypted upload loop of the client, for a member's
 * upload and an upload share's: a file's bytes (AES-256-GCM when a stream is given) go
 * out as chunks of the server's size on one connection, two chunk buffers deep, so the
 * file read and the encryption of chunk N+1 overlap the sending of chunk N (net/httpc's
 * begin/pump/end). Memory: two chunks and one 256 KiB slice, whatever the file's size. */
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

/* Reads (and with gs encrypts) up to cap bytes of fd into dst, a slice at a time,
 * letting the connection move the chunk before it between slices. The count, or -1. */
static ssize_t fill_chunk(struct net_httpc *h, int fd, struct cry_gcm_stream *gs, uint8_t *dst,
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
		net_httpc_pump(h);
		if ((size_t)n < want)
			break;
	}
	return (ssize_t)got;
}

/* Starts POSTing one chunk at off (p stays untouched until chunk_end); 0 or -1. */
static int chunk_begin(const struct dbx_chunks *u, uint64_t off, const uint8_t *p, size_t n)
{
	char path[800], err[300];
	const char *hdrs[] = { "Content-Type: application/octet-stream", u->auth, NULL };
	str_fmt(path, sizeof(path), "%s?offset=%llu", u->prefix, (unsigned long long)off);
	if (net_httpc_begin(u->http, "POST", path, hdrs, p, n, NULL, NULL, 65536, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox %s: %s\n", u->cmd, err);
		return -1;
	}
	return 0;
}

/* Waits for the chunk's answer; 0 or an exit code. */
static int chunk_end(const struct dbx_chunks *u)
{
	char err[300], *resp = NULL;
	int st = net_httpc_end(u->http, &resp, NULL, err, sizeof(err));
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

int dbx_send_chunks(const struct dbx_chunks *u, int fd, struct cry_gcm_stream *gs, uint64_t *sent)
{
	uint8_t *cur = malloc(u->chunk), *nxt = malloc(u->chunk), *plain = gs ? malloc(UP_SLICE) : NULL;
	int rc = EXIT_OK;
	uint64_t off = 0;

	if (!cur || !nxt || (gs && !plain)) {
		rc = EXIT_OSERR;
		goto out;
	}
	ssize_t n = fill_chunk(u->http, fd, gs, cur, u->chunk, plain);
	while (n > 0) {
		if (chunk_begin(u, off, cur, (size_t)n) < 0) {
			rc = EXIT_SOFTWARE;
			goto out;
		}
		ssize_t m = fill_chunk(u->http, fd, gs, nxt, u->chunk, plain);
		if ((rc = chunk_end(u)) != EXIT_OK)
			goto out;
		off += (uint64_t)n;
		dbx_progress(off, u->total, (void *)u->name);
		uint8_t *t = cur;
		cur = nxt;
		nxt = t;
		n = m;
	}
	if (n < 0) {
		fprintf(stderr, "databox %s: %s: %s\n", u->cmd, u->file, strerror(errno));
		rc = EXIT_IOERR;
	}
out:
	*sent = off;
	if (plain) {
		secret_wipe(plain, UP_SLICE);
		free(plain);
	}
	/* ciphertext, or a plain room's bytes: wiped all the same */
	if (cur)
		secret_wipe(cur, u->chunk);
	if (nxt)
		secret_wipe(nxt, u->chunk);
	free(cur);
	free(nxt);
	return rc;
}
