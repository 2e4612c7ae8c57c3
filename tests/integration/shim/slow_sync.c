/* slow_sync.c - an LD_PRELOAD shim for tests: while the file named by SLOW_SYNC_FLAG
 * exists, fsync and fdatasync first sleep SLOW_SYNC_MS (a slow disk), and the first
 * such call creates SLOW_SYNC_FLAG.in so the test knows a sync is under way. While the
 * file named by SYNC_FAIL_FLAG exists, the next sync of an upload file (a name ending
 * in ".part", never SQLite's) removes it and fails with EIO: a disk error once. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void slow(void)
{
	const char *flag = getenv("SLOW_SYNC_FLAG"), *ms = getenv("SLOW_SYNC_MS");
	char in[4200];
	if (!flag || access(flag, F_OK) != 0)
		return;
	snprintf(in, sizeof(in), "%s.in", flag);
	int fd = open(in, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	long n = ms ? atol(ms) : 500;
	struct timespec ts = { n / 1000, (n % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* 1 when this sync of fd is the one to fail */
static int fails(int fd)
{
	const char *flag = getenv("SYNC_FAIL_FLAG");
	char link[64], name[4200];
	if (!flag || access(flag, F_OK) != 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, name, sizeof(name) - 1);
	if (n < 5)
		return 0;
	name[n] = '\0';
	if (strcmp(name + n - 5, ".part") != 0 || unlink(flag) != 0)
		return 0;
	return 1;
}

int fsync(int fd)
{
	static int (*real)(int);
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	slow();
	if (fails(fd)) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}

int fdatasync(int fd)
{
	static int (*real)(int);
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	slow();
	if (fails(fd)) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}
