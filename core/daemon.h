/* daemon.h - what every daemon applet does the same way: -d/-n/-c options,
 * pidfile, privilege drop, signal flags. The event loop itself lives in net/. */
#ifndef CORE_DAEMON_H
#define CORE_DAEMON_H

#include <signal.h>

struct daemon_opts {
	const char *config;   /* -c FILE */
	const char *pidfile;  /* -p FILE, or from config */
	int foreground;       /* -d: stay in front, log to stderr (systemd, tests) */
	int check_only;       /* -n: load and check the config, then exit */
	int verbose;          /* -v (repeatable) */
};

/* Parses the common daemon options -d -n -c FILE -p FILE -v --help. --help prints
 * usage to stdout and exits 0; a bad option prints usage to stderr and exits 64.
 * Returns the index of the first non-option argument. */
int daemon_parse_args(int argc, char **argv, const char *name, const char *usage,
		      const char *default_config, struct daemon_opts *o);

/* Writes our pid to path (O_EXCL semantics on a live pid: fails if another instance
 * runs). */
int daemon_pidfile_write(const char *path);
void daemon_pidfile_remove(const char *path);
/* Detaches from the terminal (double fork, setsid, stdio to /dev/null). */
int daemon_detach(void);
/* The common start sequence after the config loaded and the listeners are bound:
 * without -d: syslog + detach; then the pidfile (if any); then the privilege drop (if
 * user is set). Returns 0, or -1 after logging why. */
int daemon_start(const struct daemon_opts *o, const char *name, const char *user);
/* Drops root to user (and its primary group); no-op when user is NULL or not root. */
int daemon_drop_privileges(const char *user);
#endif
