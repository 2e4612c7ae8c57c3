/* mg_spool.c - the spool directory: message files written as a stream (tmp + fsync +
 * rename + directory fsync), envelopes through fs_write_atomic, listing and removal.
 * Order is what makes a crash harmless: see mg_queue.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "applets/mailgw/mg_queue.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/str.h"

static int sub(char *out, size_t cap, const char *spool, const char *d, const char *id)
{
	if (id)
		return str_fmt(out, cap, "%s/%s/%s", spool, d, id) < 0 ? -1 : 0;
	return str_fmt(out, cap, "%s/%s", spool, d) < 0 ? -1 : 0;
}

int mg_spool_msg_path(const char *spool, const char *id, char *out, size_t cap)
{
	if (!mg_id_valid(id))
		return -1;
	return sub(out, cap, spool, "msg", id);
}

static int env_exists(const char *spool, const char *id)
{
	char p[512];
	struct stat st;
	return sub(p, sizeof(p), spool, "env", id) == 0 && stat(p, &st) == 0;
}

/* Empties tmp/ and removes msg/ files that never got an envelope (crash before 250). */
static void clean_leftovers(const char *spool)
{
	char d[512], p[512];
	DIR *dir;
	struct dirent *de;

	if (sub(d, sizeof(d), spool, "tmp", NULL) == 0 && (dir = opendir(d))) {
		while ((de = readdir(dir)))
			if (de->d_name[0] != '.' && fs_path_join(p, sizeof(p), d, de->d_name) == 0)
				unlink(p);
		closedir(dir);
	}
	if (sub(d, sizeof(d), spool, "env", NULL) == 0 && (dir = opendir(d))) {
		while ((de = readdir(dir)))
			if (strstr(de->d_name, ".tmp.") && fs_path_join(p, sizeof(p), d, de->d_name) == 0)
				unlink(p);
		closedir(dir);
	}
	if (sub(d, sizeof(d), spool, "msg", NULL) == 0 && (dir = opendir(d))) {
		while ((de = readdir(dir))) {
			if (de->d_name[0] == '.' || env_exists(spool, de->d_name))
				continue;
			if (fs_path_join(p, sizeof(p), d, de->d_name) == 0 && unlink(p) == 0)
				log_info("spool: removed %s (no envelope: never acknowledged)", de->d_name);
		}
		closedir(dir);
	}
}

int mg_spool_init(const char *spool)
{
	static const char *const dirs[] = { "msg", "env", "tmp" };
	char p[512];

	for (size_t i = 0; i < 3; i++)
		if (sub(p, sizeof(p), spool, dirs[i], NULL) < 0 || fs_mkdir_p(p, 0700) < 0)
			return -1;
	clean_leftovers(spool);
	return 0;
}

int mg_spool_new_id(char *id, size_t cap)
{
	static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	static unsigned counter;   /* per process; uniqueness across processes: pid + random */
	struct timeval tv;
	unsigned char rnd[4] = { 0 };
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd))
			memset(rnd, 0, sizeof(rnd));
		close(fd);
	}
	gettimeofday(&tv, NULL);
	/* Time first so ids sort by arrival. */
	int n = snprintf(id, cap, "%010llX%05lX%04X%04X%c%c", (unsigned long long)tv.tv_sec,
			 (unsigned long)tv.tv_usec, counter++ & 0xFFFFu, (unsigned)getpid() & 0xFFFFu,
			 digits[rnd[0] % 62], digits[rnd[1] % 62]);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

int mg_msg_writer_open(struct mg_msg_writer *w, const char *spool, const char *id)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (!mg_id_valid(id) || sub(w->tmp, sizeof(w->tmp), spool, "tmp", id) < 0 ||
	    sub(w->path, sizeof(w->path), spool, "msg", id) < 0 ||
	    sub(w->dir, sizeof(w->dir), spool, "msg", NULL) < 0)
		return -1;
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	return w->fd < 0 ? -1 : 0;
}

static int flush_buf(struct mg_msg_writer *w)
{
	if (fs_write_all(w->fd, w->buf, w->blen) < 0) {
		w->err = errno;
		return -1;
	}
	w->blen = 0;
	return 0;
}

int mg_msg_writer_write(struct mg_msg_writer *w, const void *p, size_t len)
{
	const uint8_t *s = p;

	if (w->err || w->fd < 0)
		return -1;
	while (len) {
		size_t room = sizeof(w->buf) - w->blen, n = len < room ? len : room;
		memcpy(w->buf + w->blen, s, n);
		w->blen += n;
		s += n;
		len -= n;
		w->bytes += (long long)n;
		if (w->blen == sizeof(w->buf) && flush_buf(w) < 0)
			return -1;
	}
	return 0;
}

/* flags: 0 = fsync the file and msg/; FS_NODIRSYNC = the file only; FS_NOSYNC = neither
 * (the caller makes the whole batch durable with mg_spool_syncfs). core/fs.h. */
static int msg_commit(struct mg_msg_writer *w, unsigned flags)
{
	if (w->err || w->fd < 0 || flush_buf(w) < 0)
		goto fail;
	int fd = w->fd;
	w->fd = -1;
	if (fs_commit(fd, w->tmp, w->path, flags) < 0)
		goto fail;
	return 0;
fail:
	mg_msg_writer_abort(w);
	unlink(w->path);
	return -1;
}

int mg_msg_writer_commit(struct mg_msg_writer *w)
{
	return msg_commit(w, 0);
}

int mg_msg_writer_commit_nodirsync(struct mg_msg_writer *w)
{
	return msg_commit(w, FS_NODIRSYNC);
}

int mg_msg_writer_commit_nosync(struct mg_msg_writer *w)
{
	return msg_commit(w, FS_NOSYNC);
}

/* syncfs(2): Linux waits for the writeback of every dirty inode of the file system and
 * flushes the device cache, so afterwards every file written and renamed before the call
 * is durable, as if each had been fsynced with its directory (syncfs(2), NOTES). */
int mg_spool_syncfs(const char *spool)
{
	int fd = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = syncfs(fd);
	close(fd);
	return rc;
}

int mg_spool_sync_dir(const char *spool, const char *d)
{
	char p[512];
	return sub(p, sizeof(p), spool, d, NULL) < 0 ? -1 : fs_fsync_dir(p);
}

/* env/ID.tmp.PID (start-up removes leftovers of that name), written, fsynced (unless
 * the caller syncs the whole file system after) and renamed to env/ID; the directory
 * fsync is the caller's. Touches nothing but the
 * spool's files and its arguments: safe on a worker thread. */
static int env_write(const char *spool, const char *id, const void *data, size_t len, int filesync)
{
	char p[512], tmp[600];
	struct fs_out o;

	if (!mg_id_valid(id) || sub(p, sizeof(p), spool, "env", id) < 0 ||
	    str_fmt(tmp, sizeof(tmp), "%s.tmp.%ld", p, (long)getpid()) < 0)
		return -1;
	unlink(tmp); /* a leftover of an earlier process with our pid */
	if (fs_out_open(&o, p, tmp, 0600) < 0)
		return -1;
	if (fs_out_write(&o, data, len) < 0) {
		fs_out_abort(&o);
		return -1;
	}
	return fs_out_commit(&o, filesync ? FS_NODIRSYNC : FS_NOSYNC);
}

int mg_env_write_nodirsync(const char *spool, const char *id, const void *data, size_t len)
{
	return env_write(spool, id, data, len, 1);
}

int mg_env_write_nosync(const char *spool, const char *id, const void *data, size_t len)
{
	return env_write(spool, id, data, len, 0);
}

void mg_msg_writer_abort(struct mg_msg_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	unlink(w->tmp);
}

int mg_env_save(const char *spool, const struct mg_env *e)
{
	char p[512];
	struct buf_writer w;
	int rc = -1;

	if (!mg_id_valid(e->id) || sub(p, sizeof(p), spool, "env", e->id) < 0)
		return -1;
	buf_writer_growable(&w, MG_ENV_MAX);
	if (mg_env_format(e, &w) == 0)
		rc = fs_write_atomic(p, w.p, w.len, 0600);
	buf_writer_free(&w);
	return rc;
}

int mg_env_load(const char *spool, const char *id, struct mg_env *e)
{
	char p[512];
	size_t len;
	uint8_t *d;
	int rc;

	mg_env_init(e);
	if (!mg_id_valid(id) || sub(p, sizeof(p), spool, "env", id) < 0)
		return -1;
	if (!(d = fs_read_file_new(p, MG_ENV_MAX, &len)))
		return -1;
	rc = mg_env_parse(d, len, e);
	free(d);
	if (rc == 0 && strcmp(e->id, id) != 0) {
		mg_env_free(e);
		return -1;
	}
	return rc;
}

int mg_spool_remove(const char *spool, const char *id)
{
	char p[512], d[512];
	int rc = 0;

	if (!mg_id_valid(id))
		return -1;
	if (sub(p, sizeof(p), spool, "env", id) < 0 || unlink(p) < 0)
		rc = -1;
	if (sub(d, sizeof(d), spool, "env", NULL) == 0)
		fs_fsync_dir(d);
	if (sub(p, sizeof(p), spool, "msg", id) == 0)
		unlink(p);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void mg_spool_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int mg_spool_ids(const char *spool, char ***ids, size_t *n)
{
	char d[512];
	DIR *dir;
	struct dirent *de;
	char **v = NULL;
	size_t cnt = 0, cap = 0;

	*ids = NULL;
	*n = 0;
	if (sub(d, sizeof(d), spool, "env", NULL) < 0 || !(dir = opendir(d)))
		return -1;
	while ((de = readdir(dir))) {
		if (!mg_id_valid(de->d_name))
			continue;   /* ".", "..", "ID.tmp.PID" */
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nv = realloc(v, nc * sizeof(*nv));
			if (!nv)
				goto oom;
			v = nv;
			cap = nc;
		}
		if (!(v[cnt] = strdup(de->d_name)))
			goto oom;
		cnt++;
	}
	closedir(dir);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*ids = v;
	*n = cnt;
	return 0;
oom:
	closedir(dir);
	mg_spool_ids_free(v, cnt);
	return -1;
}
