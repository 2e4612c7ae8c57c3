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

static int write_all(int fd, const uint8_t *p, size_t len)
{
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

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd = -1, e;

	if (str_fmt(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) < 0 ||
	    str_copy(dir, path, sizeof(dir)) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		str_copy(dir, ".", sizeof(dir));

	/* O_EXCL: never follow or reuse a file someone else left at the temp name. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	return fs_fsync_dir(dir);
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
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
