/* fs.c - crash-safe files. fs_write_atomic is the one way sealbox persists anything it
 * has acknowledged: a reader sees the old file or the new one, never half of either. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/str.h"

int fs_path_join(char *out, size_t outcap, const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	const char *sep = (dl && dir[dl - 1] == '/') ? "" : "/";
	return str_fmt(out, outcap, "%s%s%s", dir, sep, name) < 0 ? -1 : 0;
}

int fs_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

int fs_write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The directory part of path into dir ("." or "/" when there is none). */
static int dir_of(const char *path, char *dir, size_t cap)
{
	if (str_copy(dir, path, cap) >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		str_copy(dir, ".", cap);
	return 0;
}

/* The first step of a commit: fsync (unless FS_SYNCED) and close, always closing. */
static int sync_close(int fd, unsigned flags)
{
	int rc = (flags & FS_SYNCED) ? 0 : fsync(fd), e = errno;
	if (close(fd) < 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	errno = e;
	return rc;
}

int fs_commit(int fd, const char *from, const char *to, unsigned flags)
{
	char d1[PATH_MAX], d2[PATH_MAX];
	if (sync_close(fd, flags) < 0 || dir_of(to, d1, sizeof(d1)) < 0 || dir_of(from, d2, sizeof(d2)) < 0)
		return -1;
	if (rename(from, to) < 0)
		return -1;
	if (flags & FS_NODIRSYNC)
		return 0;
	if (fs_fsync_dir(d1) < 0)
		return -1;
	return strcmp(d1, d2) == 0 ? 0 : fs_fsync_dir(d2);
}

int fs_commitat(int fd, int dirfd, const char *from, const char *to, unsigned flags)
{
	if (sync_close(fd, flags) < 0)
		return -1;
	if (renameat(dirfd, from, dirfd, to) < 0)
		return -1;
	return (flags & FS_NODIRSYNC) ? 0 : fsync(dirfd);
}

int fs_out_open(struct fs_out *o, const char *path, const char *tmp, mode_t mode)
{
	char dir[PATH_MAX];
	o->fd = -1;
	o->tmp[0] = '\0';
	if (str_copy(o->path, path, sizeof(o->path)) >= sizeof(o->path) || dir_of(path, dir, sizeof(dir)) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (tmp) {
		if (str_copy(o->tmp, tmp, sizeof(o->tmp)) >= sizeof(o->tmp)) {
			o->tmp[0] = '\0';
			errno = ENAMETOOLONG;
			return -1;
		}
		/* O_EXCL: never follow or reuse a file someone else left at the temp name */
		o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	} else {
		const char *slash = strrchr(path, '/');
		if (str_fmt(o->tmp, sizeof(o->tmp), "%s/.%s.XXXXXX", dir, slash ? slash + 1 : path) < 0) {
			o->tmp[0] = '\0';
			errno = ENAMETOOLONG;
			return -1;
		}
		o->fd = mkostemp(o->tmp, O_CLOEXEC);
	}
	if (o->fd < 0) {
		o->tmp[0] = '\0'; /* not ours: abort must not unlink it */
		return -1;
	}
	if (fchmod(o->fd, mode) < 0) {
		int e = errno;
		fs_out_abort(o);
		errno = e;
		return -1;
	}
	return 0;
}

void fs_writeback_start(int fd, off_t off, off_t len)
{
#ifdef __linux__
	(void)sync_file_range(fd, off, len, SYNC_FILE_RANGE_WRITE);
#else
	(void)fd;
	(void)off;
	(void)len;
#endif
}

int fs_out_write(struct fs_out *o, const void *data, size_t len)
{
	return o->fd < 0 ? -1 : fs_write_all(o->fd, data, len);
}

int fs_out_commit(struct fs_out *o, unsigned flags)
{
	int fd = o->fd;
	o->fd = -1;
	if (fd < 0 || fs_commit(fd, o->tmp, o->path, flags) < 0) {
		int e = errno;
		fs_out_abort(o);
		errno = e;
		return -1;
	}
	o->tmp[0] = '\0';
	return 0;
}

void fs_out_abort(struct fs_out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = '\0';
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	struct fs_out o;

	if (str_fmt(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	unlink(tmp); /* a leftover of an earlier process with our pid */
	if (fs_out_open(&o, path, tmp, mode) < 0)
		return -1;
	if (fs_out_write(&o, data, len) < 0) {
		int e = errno;
		fs_out_abort(&o);
		errno = e;
		return -1;
	}
	return fs_out_commit(&o, 0);
}

uint8_t *fs_read_file_new(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *buf = NULL;
	size_t have = 0, cap = 0;
	int e;

	if (fd < 0)
		return NULL;
	for (;;) {
		if (have == cap) {
			if (cap > max) {
				errno = EFBIG;
				goto fail;
			}
			size_t ncap = cap ? cap * 2 : 4096;
			if (ncap > max + 1)
				ncap = max + 1;
			uint8_t *nb = realloc(buf, ncap + 1);
			if (!nb)
				goto fail;
			buf = nb;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + have, cap - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	if (!buf && !(buf = malloc(1)))
		return NULL;
	buf[have] = '\0';
	if (len)
		*len = have;
	return buf;
fail:
	e = errno;
	close(fd);
	free(buf);
	errno = e;
	return NULL;
}

int fs_mkdir_p(const char *path, mode_t mode)
{
	char p[PATH_MAX];

	if (str_copy(p, path, sizeof(p)) >= sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -1;
	struct stat st;
	if (stat(p, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}
