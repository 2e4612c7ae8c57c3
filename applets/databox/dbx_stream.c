/* dbx_stream.c - streaming file encryption in constant memory (one chunk buffer), and
 * temporary output files renamed into place only on success. */
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

int dbx_outfile_open(struct dbx_outfile *o, const char *path, unsigned mode)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	o->fd = -1;
	o->tmp[0] = '\0';
	if (str_copy(o->path, path, sizeof(o->path)) >= sizeof(o->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!slash)
		str_copy(dir, ".", sizeof(dir));
	else if (slash == path)
		str_copy(dir, "/", sizeof(dir));
	else if ((size_t)(slash - path) < sizeof(dir))
		str_copy(dir, path, (size_t)(slash - path) + 1);
	else {
		errno = ENAMETOOLONG;
		return -1;
	}
	const char *base = slash ? slash + 1 : path;
	if (str_fmt(o->tmp, sizeof(o->tmp), "%s/.%s.XXXXXX", dir, base) < 0) {
		o->tmp[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		o->tmp[0] = '\0';
		return -1;
	}
	if (fchmod(o->fd, (mode_t)mode) < 0) {
		int e = errno;
		dbx_outfile_abort(o);
		errno = e;
		return -1;
	}
	return 0;
}

int dbx_outfile_commit(struct dbx_outfile *o)
{
	char dir[4096];
	int e;

	if (fsync(o->fd) < 0 || close(o->fd) < 0) {
		e = errno;
		o->fd = -1;
		dbx_outfile_abort(o);
		errno = e;
		return -1;
	}
	o->fd = -1;
	if (rename(o->tmp, o->path) < 0) {
		e = errno;
		dbx_outfile_abort(o);
		errno = e;
		return -1;
	}
	o->tmp[0] = '\0';
	str_copy(dir, o->path, sizeof(dir));
	char *slash = strrchr(dir, '/');
	if (!slash)
		str_copy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	return fs_fsync_dir(dir);
}

void dbx_outfile_abort(struct dbx_outfile *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = '\0';
}

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
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
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
