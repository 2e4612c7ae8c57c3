/* dbx_stream.c - streaming file encryption in constant memory (one chunk buffer), and
 * temporary output files (core/fs.h) renamed into place only on success. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/databox/dbx_keys.h"
#include "applets/databox/dbx_stream.h"
#include "core/fs.h"
#include "core/secret.h"
#include "core/str.h"
#include "crypto/crypto.h"

#define CHUNK (256 * 1024)

ssize_t dbx_read_full(int fd, uint8_t *p, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int dbx_write_full(int fd, const uint8_t *p, size_t len)
{
	return fs_write_all(fd, p, len);
}

static int run(const struct dbx_file_key *fk, int encrypt, int in_fd, int out_fd,
	       uint64_t total, dbx_progress_cb cb, void *arg, uint8_t tag[DBX_FILE_TAG_LEN],
	       int *bad_tag, char *err, size_t errlen)
{
	struct cry_gcm_stream *s = NULL;
	uint8_t *buf = malloc(CHUNK), *obuf = malloc(CHUNK);
	uint64_t done = 0;
	int rc = -1;

	if (!buf || !obuf) {
		free(buf);
		free(obuf);
		str_copy(err, "out of memory", errlen);
		return -1;
	}
	s = cry_gcm_stream_new(fk->key, fk->iv, DBX_FILE_IV_LEN, encrypt);
	if (!s) {
		str_copy(err, "AES-256-GCM set-up failed", errlen);
		goto out;
	}
	for (;;) {
		ssize_t n = dbx_read_full(in_fd, buf, CHUNK);
		if (n < 0) {
			str_fmt(err, errlen, "read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		done += (uint64_t)n;
		if (done > DBX_MAX_FILE_SIZE) {
			str_fmt(err, errlen, "file larger than the %llu GiB maximum of the format",
				DBX_MAX_FILE_SIZE >> 30);
			goto out;
		}
		if (cry_gcm_stream_update(s, buf, (size_t)n, obuf) < 0) {
			str_copy(err, "AES-256-GCM failed", errlen);
			goto out;
		}
		if (dbx_write_full(out_fd, obuf, (size_t)n) < 0) {
			str_fmt(err, errlen, "write: %s", strerror(errno));
			goto out;
		}
		if (cb)
			cb(done, total, arg);
	}
	if (cry_gcm_stream_final(s, tag) < 0) {
		if (bad_tag)
			*bad_tag = 1;
		str_copy(err, "authentication failed: the data or its file key was altered "
			 "(GCM tag mismatch)", errlen);
		goto out;
	}
	rc = 0;
out:
	cry_gcm_stream_free(s);
	secret_wipe(buf, CHUNK);
	secret_wipe(obuf, CHUNK);
	free(buf);
	free(obuf);
	return rc;
}

int dbx_gcm_encrypt_fd(struct dbx_file_key *fk, int in_fd, int out_fd, uint64_t total,
		       dbx_progress_cb cb, void *arg, char *err, size_t errlen)
{
	if (total > DBX_MAX_FILE_SIZE) {
		str_fmt(err, errlen, "file larger than the %llu GiB maximum of the format",
			DBX_MAX_FILE_SIZE >> 30);
		return -1;
	}
	if (run(fk, 1, in_fd, out_fd, total, cb, arg, fk->tag, NULL, err, errlen) < 0)
		return -1;
	fk->has_tag = 1;
	return 0;
}

int dbx_gcm_decrypt_fd(const struct dbx_file_key *fk, int in_fd, int out_fd, uint64_t total,
		       dbx_progress_cb cb, void *arg, int *bad_tag, char *err, size_t errlen)
{
	uint8_t tag[DBX_FILE_TAG_LEN];

	*bad_tag = 0;
	if (!fk->has_tag) {
		str_copy(err, "the file key has no tag (its upload never finished)", errlen);
		return -1;
	}
	memcpy(tag, fk->tag, sizeof(tag));
	return run(fk, 0, in_fd, out_fd, total, cb, arg, tag, bad_tag, err, errlen);
}
