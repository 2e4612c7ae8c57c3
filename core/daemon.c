/* daemon.c - the pidfile and the privilege drop; the lifecycle is daemon_run.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/daemon.h"
#include "core/exitcode.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/str.h"

int daemon_pidfile_write(const char *path)
{
	char buf[32];
	size_t len;
	uint8_t *old = fs_read_file_new(path, 64, &len);

	if (old) {
		long pid = strtol((char *)old, NULL, 10);
		free(old);
		if (pid > 0 && pid != getpid() && kill((pid_t)pid, 0) == 0) {
			log_err("another instance runs with pid %ld (pidfile %s)", pid, path);
			errno = EEXIST;
			return -1;
		}
	}
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (fs_write_atomic(path, buf, (size_t)n, 0644) < 0) {
		log_err("cannot write pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void daemon_pidfile_remove(const char *path)
{
	if (path)
		unlink(path);
}

int daemon_drop_privileges(const char *user)
{
	if (!user || !*user || geteuid() != 0)
		return 0;
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		log_err("user '%s' does not exist", user);
		return -1;
	}
	/* Order matters: groups first, while we may still change them. */
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_err("cannot drop privileges to %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		log_err("privilege drop to %s did not stick", user);
		return -1;
	}
	return 0;
}

