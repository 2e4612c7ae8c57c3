/* daemon.h - the one life of a daemon applet (tunneld, mailgw, databox serve).
 *
 * daemon_run owns the order, the applet supplies hooks:
 *   parse options -> load config -> check (-n stops here) -> bind (hook) ->
 *   detach -> pidfile -> drop privileges -> start (hook) -> ready -> run (hook) ->
 *   stop (hook); SIGHUP: daemon_reload -> reload (hook).
 * Without -d the process detaches with an error pipe (dnsmasq's way): the parent
 * waits until the daemon says "ready", so a failure after detaching (pidfile, user,
 * a late hook) still reaches the parent's stderr and its exit status.
 *
 * Options: -d -n -c FILE -v --help --print-config, and every key of the applet's
 * conf_spec as a long option (--state-dir DIR, --delivery-smarthost H:P for a key of
 * another section; a bool as --plain-http or --plain-http=no). The command line
 * overrides the file, on start and on reload. -p FILE is --pidfile. Without -c, a
 * missing default file is fine: the defaults and the command line then suffice.
 * Keys the core reads by name when the table has them: log_level (CONF_ENUM of
 * LOG_LEVEL_CHOICES; -v raises it), pidfile, user. The event loop itself lives in net/:
 * the bind hook registers the signals and calls daemon_reload on SIGHUP. */
#ifndef CORE_DAEMON_H
#define CORE_DAEMON_H

#include <stddef.h>

#include "core/conf.h"

struct daemon;

struct daemon_applet {
	const char *name;           /* "tunneld": log ident, the table's main section */
	const char *usage;          /* after the name, for --help and usage errors */
	const char *default_config; /* used without -c; may be missing */
	const struct conf_spec *spec;
	size_t conf_size;           /* sizeof the struct the spec fills */
	/* Loads path (NULL: no file) into conf (zeroed, conf_size bytes) with the
	 * applet's cross-key checks; 0, or -1 with err set ("file:line: ..."). */
	int (*load)(void *conf, const char *path, char *err, size_t errlen);
	void (*conf_free)(void *conf); /* NULL: conf_free(spec, conf) is enough */
	/* Arguments left after the options (mailgw's operator commands); NULL refuses them. */
	int (*command)(struct daemon *d, int argc, char **argv);
	/* What can fail on a bad config without binding (TLS files): 0, or an EXIT_* code
	 * with err set. Runs for -n too. May be NULL. */
	int (*check)(struct daemon *d, char *err, size_t errlen);
	/* Event loop, listeners, signals; before detaching, as root. 0 or EXIT_* + err. */
	int (*bind)(struct daemon *d, char *err, size_t errlen);
	/* After detach, pidfile and privilege drop, before ready. 0 or EXIT_* + err. NULL ok. */
	int (*start)(struct daemon *d, char *err, size_t errlen);
	int (*run)(struct daemon *d);    /* the loop; returns the exit status */
	/* SIGHUP after the file loaded into fresh: apply it (conf_reload_keys, or swap the
	 * whole struct with fresh); 0, or -1 to keep the running one. fresh is freed after. */
	int (*reload)(struct daemon *d, void *fresh);
	void (*stop)(struct daemon *d);  /* frees what check and bind made; called once the load succeeded */
	const char *check_ok;            /* -n success: "FILE: check_ok" (default "configuration ok") */
};

struct daemon {
	const struct daemon_applet *a;
	void *app;           /* the applet's own state */
	void *conf;          /* the running configuration */
	const char *config;  /* the file loaded (absolute), NULL = none */
	int foreground;      /* -d */
	int check_only;      /* -n */
	int verbose;         /* -v count */
	int ready_fd;        /* the error pipe to the waiting parent, -1 when none */
	const char *pidfile; /* written by us; removed at exit */
};

/* Runs the applet's daemon; returns its exit status. conf is the live struct (zeroed). */
int daemon_run(const struct daemon_applet *a, void *app, void *conf, int argc, char **argv);
/* SIGHUP: reloads the file with the same command line; logs the outcome. */
void daemon_reload(struct daemon *d);
/* For a reload hook: moves the CONF_RELOAD keys of fresh into the running conf and
 * warns about each other key that changed ("takes effect after a restart"). */
void daemon_reload_keys(struct daemon *d, void *fresh);
/* Writes --help for the applet: usage, the common options and one line per key. */
void daemon_help(const struct daemon_applet *a, FILE *f);

/* Writes our pid to path (O_EXCL semantics on a live pid: fails if another instance
 * runs). */
int daemon_pidfile_write(const char *path);
void daemon_pidfile_remove(const char *path);
/* Drops root to user (and its primary group); no-op when user is NULL or not root. */
int daemon_drop_privileges(const char *user);
#endif
