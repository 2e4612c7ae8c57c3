/* Unit tests for core/fs.c: atomic replace, modes, size limits, mkdir -p. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "unit.h"

static char dir[64];

static void mkdtemp_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sealbox-fs.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
}

static void atomic_write_replaces_with_mode(void)
{
	char p[128];
	size_t len;
	struct stat st;

	mkdtemp_dir();
	CHECK(fs_path_join(p, sizeof(p), dir, "key") == 0);
	CHECK(fs_write_atomic(p, "one", 3, 0600) == 0);
	CHECK(fs_write_atomic(p, "second", 6, 0600) == 0);
	uint8_t *d = fs_read_file_new(p, 100, &len);
	CHECK(d && len == 6 && memcmp(d, "second", 6) == 0);
	free(d);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
	/* No temp file left behind. */
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", p, (long)getpid());
	CHECK(access(tmp, F_OK) < 0);
	unlink(p);
	rmdir(dir);
}

static void read_respects_max(void)
{
	char p[128];
	size_t len;

	mkdtemp_dir();
	fs_path_join(p, sizeof(p), dir, "big");
	CHECK(fs_write_atomic(p, "0123456789", 10, 0644) == 0);
	errno = 0;
	CHECK(fs_read_file_new(p, 9, &len) == NULL && errno == EFBIG);
	uint8_t *d = fs_read_file_new(p, 10, &len);
	CHECK(d && len == 10 && d[10] == '\0');
	free(d);
	CHECK(fs_read_file_new("/nonexistent/file", 10, &len) == NULL && errno == ENOENT);
	unlink(p);
	rmdir(dir);
}

static void mkdir_p_nested(void)
{
	char p[128];
	struct stat st;

	mkdtemp_dir();
	snprintf(p, sizeof(p), "%s/a/b/c", dir);
	CHECK(fs_mkdir_p(p, 0700) == 0);
	CHECK(fs_mkdir_p(p, 0700) == 0);
	CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
	rmdir(p);
	snprintf(p, sizeof(p), "%s/a/b", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/a", dir);
	rmdir(p);
	rmdir(dir);
}

static void write_into_missing_dir_fails(void)
{
	CHECK(fs_write_atomic("/nonexistent/dir/file", "x", 1, 0600) < 0);
}

/* fs_commitat: the temporary name becomes the final one inside the directory fd; a
 * rename that cannot happen (onto a directory) fails with errno and closes fd. */
static void commitat_renames_in_dirfd(void)
{
	char p[128];
	size_t len;
	int dfd, fd;

	mkdtemp_dir();
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	fd = openat(dfd, ".part", O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0 && write(fd, "data", 4) == 4);
	CHECK(fs_commitat(fd, dfd, ".part", "final", 0) == 0);
	CHECK(faccessat(dfd, ".part", F_OK, 0) < 0);
	CHECK(fs_path_join(p, sizeof(p), dir, "final") == 0);
	uint8_t *d = fs_read_file_new(p, 100, &len);
	CHECK(d && len == 4 && memcmp(d, "data", 4) == 0);
	free(d);
	CHECK(mkdirat(dfd, "sub", 0755) == 0);
	fd = openat(dfd, ".part2", O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0);
	errno = 0;
	CHECK(fs_commitat(fd, dfd, ".part2", "sub", 0) < 0 && errno == EISDIR);
	unlinkat(dfd, ".part2", 0);
	unlinkat(dfd, "sub", AT_REMOVEDIR);
	unlinkat(dfd, "final", 0);
	close(dfd);
	rmdir(dir);
}

UNIT_SUITE(fs, UNIT_TEST(atomic_write_replaces_with_mode), UNIT_TEST(read_respects_max),
	   UNIT_TEST(mkdir_p_nested), UNIT_TEST(write_into_missing_dir_fails),
	   UNIT_TEST(commitat_renames_in_dirfd));
