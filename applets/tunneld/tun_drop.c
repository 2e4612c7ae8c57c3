/* tun_drop.c - the file drop: opaque blobs per session under state_dir/drop/NNNNN.
 * Everything streams through file descriptors in caller-sized chunks; a file is never
 * held in memory. Uploads go to NAME.part and appear only when complete. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/str.h"
#include "tun.h"

int tun_drop_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > TUN_DROP_NAME_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	/* ".part" is ours */
	return !(n >= 5 && strcmp(name + n - 5, ".part") == 0);
}

static void rm_dir_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[768];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fs_path_join(p, sizeof(p), dir, e->d_name) == 0)
			unlink(p); /* only files live here; anything else makes rmdir fail, logged below */
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		log_warn("cannot remove drop directory %s: %s", dir, strerror(errno));
}

int tun_drop_purge_all(const char *state_dir)
{
	char top[600], sub[768];
	DIR *d;
	struct dirent *e;

	if (fs_path_join(top, sizeof(top), state_dir, "drop") < 0)
		return -1;
	if (!(d = opendir(top)))
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (fs_path_join(sub, sizeof(sub), top, e->d_name) == 0)
			rm_dir_files(sub);
	}
	closedir(d);
	return 0;
}

int tun_drop_open(struct tun_drop *d, const char *state_dir, uint32_t session)
{
	char name[32];
	memset(d, 0, sizeof(*d));
	str_fmt(name, sizeof(name), "drop/%u", (unsigned)session);
	return fs_path_join(d->dir, sizeof(d->dir), state_dir, name);
}

void tun_drop_destroy(struct tun_drop *d)
{
	if (d->dir[0])
		rm_dir_files(d->dir);
	d->used = 0;
	d->files = 0;
	free(d->own);
	d->own = NULL;
	d->nown = d->capown = 0;
}

static struct tun_drop_owner *owner_of(struct tun_drop *d, const char *name)
{
	for (size_t i = 0; i < d->nown; i++)
		if (strcmp(d->own[i].name, name) == 0)
			return &d->own[i];
	return NULL;
}

static int owner_add(struct tun_drop *d, const char *name, uint16_t id)
{
	if (d->nown == d->capown) {
		size_t n = d->capown ? d->capown * 2 : 8;
		struct tun_drop_owner *o = realloc(d->own, n * sizeof(*o));
		if (!o)
			return -1;
		d->own = o;
		d->capown = n;
	}
	str_copy(d->own[d->nown].name, name, sizeof(d->own[0].name));
	d->own[d->nown++].id = id;
	return 0;
}

static int file_path(const struct tun_drop *d, const char *name, const char *suffix, char *out, size_t cap)
{
	char n[TUN_DROP_NAME_MAX + 8];
	if (str_fmt(n, sizeof(n), "%s%s", name, suffix) < 0)
		return -1;
	return fs_path_join(out, cap, d->dir, n);
}

const char *tun_drop_put_begin(struct tun_drop *d, struct tun_drop_put *p, const char *name,
			       unsigned long long size, unsigned long long quota,
			       unsigned long long max_size, unsigned max_files)
{
	char path[700];
	struct stat st;
	int fd;

	/* p is left alone unless this succeeds: it may hold another transfer's state */
	if (!tun_drop_name_ok(name))
		return "bad-name";
	if (file_path(d, name, "", path, sizeof(path)) < 0)
		return "io";
	/* a taken name first: whatever the size, that put cannot succeed */
	if (stat(path, &st) == 0)
		return "exists";
	if (size > max_size || d->used + size > quota || d->files >= max_files)
		return "quota";
	if (fs_mkdir_p(d->dir, 0700) < 0)
		return "io";
	if (file_path(d, name, ".part", path, sizeof(path)) < 0)
		return "io";
	/* O_EXCL: a second connection uploading the same name gets "exists" */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? "exists" : "io";
	p->fd = fd;
	str_copy(p->name, name, sizeof(p->name));
	p->size = size;
	p->got = 0;
	p->owner = 0;
	/* Reserve the space now, so two parallel uploads cannot both pass the quota. */
	d->used += size;
	d->files++;
	return NULL;
}

const char *tun_drop_put_data(struct tun_drop *d, struct tun_drop_put *p, const void *data, size_t len)
{
	const uint8_t *b = data;
	if (p->fd < 0)
		return "protocol";
	if (len > p->size - p->got)
		return "protocol";
	if (fs_write_all(p->fd, b, len) < 0)
		return "io";
	p->got += len;
	return NULL;
}

int tun_drop_put_done(const struct tun_drop_put *p)
{
	return p->fd >= 0 && p->got == p->size;
}

const char *tun_drop_put_commit(struct tun_drop *d, struct tun_drop_put *p)
{
	char from[700], to[700];
	if (file_path(d, p->name, ".part", from, sizeof(from)) < 0 ||
	    file_path(d, p->name, "", to, sizeof(to)) < 0)
		goto fail;
	/* the owner first: a file nobody may delete must not appear; then fsync, rename and
	 * the directory fsync (core/fs.h), so a file reported complete survives a power cut */
	int fd = p->fd;
	p->fd = -1;
	if (owner_add(d, p->name, p->owner) < 0) {
		close(fd);
		goto fail;
	}
	if (fs_commit(fd, from, to, 0) < 0) {
		struct tun_drop_owner *o = owner_of(d, p->name);
		if (o)
			*o = d->own[--d->nown];
		goto fail;
	}
	return NULL;
fail:
	tun_drop_put_abort(d, p);
	return "io";
}

void tun_drop_put_abort(struct tun_drop *d, struct tun_drop_put *p)
{
	char path[700];
	if (p->fd >= 0)
		close(p->fd);
	if (p->name[0] && file_path(d, p->name, ".part", path, sizeof(path)) == 0)
		unlink(path);
	if (p->name[0]) {
		d->used -= p->size;
		d->files--;
	}
	p->fd = -1;
	p->name[0] = '\0';
}

int tun_drop_get_open(struct tun_drop *d, const char *name, unsigned long long *size)
{
	char path[700];
	struct stat st;
	if (!tun_drop_name_ok(name) || file_path(d, name, "", path, sizeof(path)) < 0) {
		errno = ENOENT;
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = ENOENT;
		return -1;
	}
	*size = (unsigned long long)st.st_size;
	return fd;
}

const char *tun_drop_del(struct tun_drop *d, const char *name, uint16_t who, int any)
{
	char path[700];
	struct stat st;
	if (!tun_drop_name_ok(name))
		return "bad-name";
	if (file_path(d, name, "", path, sizeof(path)) < 0 || stat(path, &st) < 0)
		return "no-such-file";
	struct tun_drop_owner *o = owner_of(d, name);
	if (!any && (!o || o->id != who))
		return "not-allowed";
	if (unlink(path) < 0)
		return "io";
	if (o)
		*o = d->own[--d->nown];
	d->used -= (unsigned long long)st.st_size <= d->used ? (unsigned long long)st.st_size : d->used;
	if (d->files)
		d->files--;
	return NULL;
}

char *tun_drop_list_new(struct tun_drop *d, size_t *len, unsigned *count)
{
	size_t cap = 256, n = 0;
	char *out = malloc(cap), path[700];
	DIR *dir;
	struct dirent *e;
	struct stat st;

	*count = 0;
	*len = 0;
	if (!out)
		return NULL;
	out[0] = '\0';
	if (!(dir = opendir(d->dir)))
		return out; /* nothing dropped yet */
	while ((e = readdir(dir))) {
		if (!tun_drop_name_ok(e->d_name) || fs_path_join(path, sizeof(path), d->dir, e->d_name) < 0 ||
		    stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		char line[TUN_DROP_NAME_MAX + 32];
		int l = str_fmt(line, sizeof(line), "%s %llu\n", e->d_name, (unsigned long long)st.st_size);
		if (l < 0)
			continue;
		if (n + (size_t)l + 1 > cap) {
			char *g = realloc(out, cap * 2 + (size_t)l);
			if (!g)
				break;
			out = g;
			cap = cap * 2 + (size_t)l;
		}
		memcpy(out + n, line, (size_t)l + 1);
		n += (size_t)l;
		(*count)++;
	}
	closedir(dir);
	*len = n;
	return out;
}
