/* applet.h - the descriptor every applet exports; main.c builds its table from
 * applets/applets.def (X-macro), so there are no constructors or linker sections. */
#ifndef SEALBOX_APPLET_H
#define SEALBOX_APPLET_H

enum applet_kind {
	APPLET_CLIENT = 0, /* one-shot command line tool */
	APPLET_DAEMON = 1, /* long-running service: gets a systemd unit */
};

struct conf_spec;

struct applet {
	const char *name;
	int (*main)(int argc, char **argv); /* argv[0] is the applet name */
	const char *usage;                  /* one line, after the name */
	enum applet_kind kind;
	const char *summary;                /* one line for --list -v and --help */
	/* The configuration it reads (NULL: none). In a shared sealbox.ini, the sections
	 * it owns are skipped by every other applet (core/conf.h). */
	const struct conf_spec *conf;
};

/* Prints "Usage: NAME USAGE" and the summary to f (stdout for --help, stderr on error). */
#endif
