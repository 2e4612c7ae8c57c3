/* vw_files.c - path resolution below the share and directory listings. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/viewer/vw_files.h"

int vw_share_open(int share_fd, const char *rel, int flags, mode_t mode)
{
	char path[4096], *save = NULL, *comp, *next;
	int dir, fd;

	if (strlen(rel) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(path, sizeof(path), "%s", rel);
	dir = openat(share_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	comp = strtok_r(path, "/", &save);
	if (!comp) /* the share itself */
		return (flags & O_DIRECTORY) || (flags & O_ACCMODE) == O_RDONLY ? dir : (close(dir), errno = EISDIR, -1);
	for (;;) {
		next = strtok_r(NULL, "/", &save);
		if (strcmp(comp, "..") == 0) {
			close(dir);
			errno = EPERM;
			return -1;
		}
		if (!next)
			break;
		if (strcmp(comp, ".") != 0) {
			int d = openat(dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int e = errno;
			close(dir);
			if (d < 0) {
				errno = e == ENOTDIR ? ELOOP : e; /* O_NOFOLLOW|O_DIRECTORY on a link */
				return -1;
			}
			dir = d;
		}
		comp = next;
	}
	if (strcmp(comp, ".") == 0)
		fd = openat(dir, ".", flags | O_CLOEXEC, mode);
	else
		fd = openat(dir, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	{
		int e = errno;
		close(dir);
		errno = e;
	}
	return fd;
}

int vw_share_parent(int share_fd, const char *rel, char *leaf, size_t cap)
{
	char dir[4096];
	const char *slash;
	size_t dl;
	int fd;

	while (*rel == '/')
		rel++;
	slash = strrchr(rel, '/');
	dl = slash ? (size_t)(slash - rel) : 0;
	if (dl >= sizeof(dir) || strlen(slash ? slash + 1 : rel) >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, rel, dl);
	dir[dl] = '\0';
	snprintf(leaf, cap, "%s", slash ? slash + 1 : rel);
	if (!leaf[0] || strcmp(leaf, ".") == 0 || strcmp(leaf, "..") == 0) {
		errno = EPERM;
		return -1;
	}
	fd = vw_share_open(share_fd, dir, O_RDONLY | O_DIRECTORY, 0);
	return fd;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(strchr(*(char *const *)a, '\t') + 1, strchr(*(char *const *)b, '\t') + 1);
}

char *vw_share_list(int dir_fd, size_t max, size_t *len)
{
	DIR *d = fdopendir(dir_fd);
	struct dirent *de;
	char **lines = NULL, *out = NULL;
	size_t n = 0, cap = 0, total = 0;

	if (!d) {
		close(dir_fd);
		return NULL;
	}
	while ((de = readdir(d))) {
		struct stat st;
		char line[512], type = '?';
		char **nl;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			type = 'd';
		else if (S_ISREG(st.st_mode))
			type = 'f';
		else if (S_ISLNK(st.st_mode))
			type = 'l';
		/* a tab before the name keeps names with spaces intact for the sort */
		snprintf(line, sizeof(line), "%c %12lld\t%s\n", type, (long long)st.st_size, de->d_name);
		if (total + strlen(line) > max)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			nl = realloc(lines, cap * sizeof(*lines));
			if (!nl)
				goto out;
			lines = nl;
		}
		if (!(lines[n] = strdup(line)))
			goto out;
		total += strlen(line);
		n++;
	}
	qsort(lines, n, sizeof(*lines), cmp_names);
	out = malloc(total + 1);
	if (out) {
		size_t off = 0;
		for (size_t i = 0; i < n; i++) {
			size_t l = strlen(lines[i]);
			memcpy(out + off, lines[i], l);
			off += l;
		}
		out[off] = '\0';
		*len = off;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	closedir(d);
	return out;
}
