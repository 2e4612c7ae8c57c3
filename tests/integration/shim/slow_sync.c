/* slow_sync.c - an LD_PRELOAD shim for tests: while the file named by SLOW_SYNC_FLAG
 * exists, fsync and fdatasync first sleep SLOW_SYNC_MS (a slow disk), and the first
 * such call creates SLOW_SYNC_FLAG.in so the test knows a sync is under way. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

int fsync(int fd)
{
	static int (*real)(int);
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	slow();
	return real(fd);
}

int fdatasync(int fd)
{
	static int (*real)(int);
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	slow();
	return real(fd);
}
