/* daemon.c - the parts of being a daemon that every daemon applet shares. */
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

int daemon_parse_args(int argc, char **argv, const char *name, const char *usage,
		      const char *default_config, struct daemon_opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "foreground", no_argument, NULL, 'd' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->config = default_config;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+hdnc:p:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("Usage: %s %s\n"
			       "  -d, --foreground     stay in the foreground, log to stderr\n"
			       "  -n, --check-config   check the configuration and exit\n"
			       "  -c, --config FILE    configuration file (default %s)\n"
			       "  -p, --pidfile FILE   write the process id to FILE\n"
			       "  -v, --verbose        more log output (repeat for debug)\n",
			       name, usage, default_config ? default_config : "none");
			exit(EXIT_OK);
		case 'd': o->foreground = 1; break;
		case 'n': o->check_only = 1; break;
		case 'c': o->config = optarg; break;
		case 'p': o->pidfile = optarg; break;
		case 'v': o->verbose++; break;
		default:
			if (optopt)
				fprintf(stderr, "%s: option -%c: %s\n", name, optopt,
					strchr("cp", optopt) ? "needs an argument" : "unknown option");
			else
				fprintf(stderr, "%s: unknown option: %s\n", name, argv[optind - 1]);
			fprintf(stderr, "Usage: %s %s\n", name, usage);
			exit(EXIT_USAGE);
		}
	}
	return optind;
}

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

int daemon_detach(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();   /* never reacquire a controlling terminal */
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (chdir("/") < 0)
		return -1;
	return 0;
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

int daemon_start(const struct daemon_opts *o, const char *name, const char *user)
{
	if (!o->foreground) {
		log_init(name, 1);
		if (daemon_detach() < 0) {
			log_err("cannot detach: %s", strerror(errno));
			return -1;
		}
	}
	if (o->pidfile && daemon_pidfile_write(o->pidfile) < 0)
		return -1;
	if (daemon_drop_privileges(user) < 0)
		return -1;
	if (o->verbose)
		log_set_level(o->verbose > 1 ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	return 0;
}
