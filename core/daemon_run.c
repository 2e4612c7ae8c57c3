/* daemon_run.c - the one start-up order of every daemon applet (see core/daemon.h).
 * Why one place: the order matters (bind before the privilege drop, the pidfile after
 * the fork, an error after detaching must still reach the operator), and three
 * hand-written copies had drifted apart. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/daemon.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "core/str.h"

enum { OPT_PRINT_CONFIG = 1000, OPT_KEY = 2000 };
#define OPT_NAME_LEN 96

struct args {
	struct conf_override *ov;
	size_t nov;
	const char *config;
	int config_given;
};

static const struct conf_key *key_named(const struct daemon_applet *a, const char *name, enum conf_type t)
{
	for (size_t i = 0; i < a->spec->nkeys; i++) {
		const struct conf_key *k = &a->spec->keys[i];
		if (CONF_TYPE(k) == t && strcmp(k->section, a->name) == 0 && strcmp(k->name, name) == 0)
			return k;
	}
	return NULL;
}

static const char *conf_text(const struct daemon *d, const char *name)
{
	const struct conf_key *k = key_named(d->a, name, CONF_STR);
	return k ? *(char *const *)((const char *)d->conf + k->offset) : NULL;
}

/* log_level from the table, raised by each -v. */
static void apply_level(const struct daemon *d)
{
	const struct conf_key *k = key_named(d->a, "log_level", CONF_ENUM);
	int lvl = k ? *(const int *)((const char *)d->conf + k->offset) : LOG_LVL_INFO;
	if (!k && d->verbose)
		lvl = LOG_LVL_WARN;
	lvl += d->verbose;
	log_set_level((enum log_level)(lvl > LOG_LVL_DEBUG ? LOG_LVL_DEBUG : lvl));
}

void daemon_help(const struct daemon_applet *a, FILE *f)
{
	char opt[OPT_NAME_LEN], left[OPT_NAME_LEN + 64];
	fprintf(f, "Usage: %s %s\n"
		   "  -d, --foreground       stay in the foreground, log to stderr\n"
		   "  -n, --check-config     check the configuration and exit\n"
		   "  -c, --config FILE      configuration file (default %s; may be missing without -c)\n"
		   "  -v, --verbose          more log output (repeat for debug)\n"
		   "      --print-config     print every key with its default and exit\n"
		   "Every configuration key is also an option; the command line overrides the file:\n",
		a->name, a->usage, a->default_config ? a->default_config : "none");
	for (size_t i = 0; i < a->spec->nkeys; i++) {
		const struct conf_key *k = &a->spec->keys[i];
		conf_option_name(k, a->name, opt, sizeof(opt));
		str_fmt(left, sizeof(left), "%s--%s %s", strcmp(k->name, "pidfile") == 0 ? "-p, " : "",
			opt, conf_type_word(k));
		fprintf(f, "  %-30s %s%s\n", left, k->help ? k->help : "",
			(k->type & CONF_RELOAD) ? " [SIGHUP]" : "");
	}
}

static int usage_error(const struct daemon_applet *a, const char *what, const char *arg)
{
	fprintf(stderr, "%s: %s: %s\nUsage: %s %s\n", a->name, what, arg, a->name, a->usage);
	return EXIT_USAGE;
}

/* A bad value on the command line is a usage error (64), found before any file is read. */
static int check_value(const struct daemon_applet *a, const struct conf_key *k, const char *v)
{
	char why[CONF_ERR_LEN], opt[OPT_NAME_LEN];
	void *scratch = calloc(1, a->conf_size);
	int rc = -1;
	if (scratch && conf_defaults(a->spec, scratch) == 0)
		rc = conf_set_key(k, scratch, v, why, sizeof(why));
	else
		str_copy(why, "out of memory", sizeof(why));
	if (scratch) {
		conf_free(a->spec, scratch);
		free(scratch);
	}
	if (rc < 0) {
		conf_option_name(k, a->name, opt, sizeof(opt));
		fprintf(stderr, "%s: --%s: %s\n", a->name, opt, why);
	}
	return rc;
}

/* Returns -1 to go on, or the exit status (0 after --help or --print-config). */
static int parse(struct daemon *d, int argc, char **argv, struct args *ar, int *first)
{
	const struct daemon_applet *a = d->a;
	size_t nk = a->spec->nkeys;
	static const struct option common[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "foreground", no_argument, NULL, 'd' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "print-config", no_argument, NULL, OPT_PRINT_CONFIG },
	};
	size_t nc = sizeof(common) / sizeof(common[0]);
	struct option *lo = calloc(nc + nk + 1, sizeof(*lo));
	char(*names)[OPT_NAME_LEN] = calloc(nk ? nk : 1, OPT_NAME_LEN);
	const struct conf_key *pid = key_named(a, "pidfile", CONF_STR);
	int c, rc = -1;

	ar->ov = calloc((size_t)argc + 1, sizeof(*ar->ov));
	if (!lo || !names || !ar->ov) {
		rc = EXIT_OSERR;
		goto out;
	}
	memcpy(lo, common, sizeof(common));
	for (size_t i = 0; i < nk; i++) {
		const struct conf_key *k = &a->spec->keys[i];
		conf_option_name(k, a->name, names[i], OPT_NAME_LEN);
		lo[nc + i] = (struct option){ names[i], CONF_TYPE(k) == CONF_BOOL ? optional_argument : required_argument,
					      NULL, OPT_KEY + (int)i };
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+hdnc:p:v", lo, NULL)) != -1) {
		const struct conf_key *k = NULL;
		const char *val = optarg;
		switch (c) {
		case 'h':
			daemon_help(a, stdout);
			rc = EXIT_OK;
			goto out;
		case OPT_PRINT_CONFIG:
			printf("# %s configuration: every key with its default (docs/%s.md)\n", a->name, a->name);
			conf_print_sample(a->spec, stdout);
			rc = EXIT_OK;
			goto out;
		case 'd': d->foreground = 1; continue;
		case 'n': d->check_only = 1; continue;
		case 'v': d->verbose++; continue;
		case 'c':
			ar->config = optarg;
			ar->config_given = 1;
			continue;
		case 'p':
			if (!(k = pid)) {
				rc = usage_error(a, "unknown option", "-p");
				goto out;
			}
			break;
		case '?':
		case ':':
			if (optopt && optopt < OPT_KEY)
				rc = usage_error(a, strchr("cp", optopt) ? "needs an argument" : "unknown option",
						 argv[optind - 1]);
			else
				rc = usage_error(a, optopt ? "needs an argument" : "unknown option", argv[optind - 1]);
			goto out;
		default:
			k = &a->spec->keys[c - OPT_KEY];
			if (!val)
				val = "yes"; /* a bool given alone */
			break;
		}
		if (check_value(a, k, val) < 0) {
			rc = EXIT_USAGE;
			goto out;
		}
		ar->ov[ar->nov++] = (struct conf_override){ k, val };
	}
	*first = optind;
out:
	free(lo);
	free(names);
	return rc;
}

/* The parent of a detaching daemon: waits for "ready" (one 0 byte) or for an exit
 * status and the message of what failed, then exits with it. */
static void parent_wait(int fd, const char *name)
{
	char buf[640];
	size_t have = 0;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		if (have == sizeof(buf) - 1)
			break;
	}
	if (have == 0) {
		fprintf(stderr, "%s: the daemon exited during start-up\n", name);
		_exit(EXIT_SOFTWARE);
	}
	buf[have] = '\0';
	if (buf[0] && have > 1)
		fprintf(stderr, "%s: %s\n", name, buf + 1);
	_exit((unsigned char)buf[0]);
}

/* Double fork and setsid; the grandchild keeps the write end of the error pipe. */
static int detach(struct daemon *d)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		waitpid(pid, NULL, 0);
		parent_wait(p[0], d->a->name);
	}
	close(p[0]);
	if (setsid() < 0)
		return -1;
	pid = fork(); /* never reacquire a controlling terminal */
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(EXIT_OK);
	d->ready_fd = p[1];
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return chdir("/");
}

/* Tells the waiting parent the outcome of the start: 0 = ready, else why it failed. */
static void report(struct daemon *d, int code, const char *why)
{
	if (d->ready_fd < 0)
		return;
	char buf[600];
	buf[0] = (char)code;
	size_t n = 1;
	if (code && why) {
		str_copy(buf + 1, why, sizeof(buf) - 1);
		n += strlen(buf + 1);
	}
	ssize_t w = write(d->ready_fd, buf, n);
	(void)w;
	close(d->ready_fd);
	d->ready_fd = -1;
}

static void fixed_changed(const struct conf_key *k, void *arg)
{
	(void)arg;
	log_warn("reload: %s changed; it takes effect after a restart", k->name);
}

void daemon_reload_keys(struct daemon *d, void *fresh)
{
	conf_reload_keys(d->a->spec, d->conf, fresh, fixed_changed, NULL);
}

/* The applet's conf_free, or the table's own free when the table is all there is. */
static void free_conf(const struct daemon_applet *a, void *conf)
{
	if (a->conf_free)
		a->conf_free(conf);
	else
		conf_free(a->spec, conf);
}

void daemon_reload(struct daemon *d)
{
	char err[CONF_ERR_LEN + 256];
	void *fresh = calloc(1, d->a->conf_size);
	if (!fresh) {
		log_err("reload: out of memory (reload failed, keeping the running configuration)");
		return;
	}
	if (d->a->load(fresh, d->config, err, sizeof(err)) < 0)
		log_err("reload: %s (reload failed, keeping the running configuration)", err);
	else if (d->a->reload && d->a->reload(d, fresh) == 0)
		apply_level(d);
	free_conf(d->a, fresh);
	free(fresh);
}

/* Without -c a missing default file is no error; a relative path is made absolute,
 * because the daemon changes to / and reloads from there. */
static const char *config_path(const struct args *ar, char *abs)
{
	const char *p = ar->config;
	if (!p)
		return NULL;
	if (!ar->config_given && access(p, F_OK) < 0 && errno == ENOENT)
		return NULL;
	if (p[0] != '/' && realpath(p, abs))
		return abs;
	return p;
}

int daemon_run(const struct daemon_applet *a, void *app, void *conf, int argc, char **argv)
{
	struct daemon d = { .a = a, .app = app, .conf = conf, .ready_fd = -1 };
	struct args ar = { .config = a->default_config };
	char err[CONF_ERR_LEN + 256], abs[PATH_MAX];
	int first = argc, rc;
	char *pidfile = NULL;

	log_init(a->name, 0);
	if ((rc = parse(&d, argc, argv, &ar, &first)) >= 0) {
		free(ar.ov);
		return rc;
	}
	conf_set_overrides(a->spec, ar.ov, ar.nov);
	if (first < argc) {
		if (!a->command) {
			rc = usage_error(a, "unexpected argument", argv[first]);
		} else {
			d.config = ar.config;
			rc = a->command(&d, argc - first, argv + first);
		}
		goto out_args;
	}
	d.config = config_path(&ar, abs);
	rc = EXIT_CONFIG;
	if (a->load(conf, d.config, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", a->name, err);
		goto out_conf;
	}
	apply_level(&d);
	if (a->check && (rc = a->check(&d, err, sizeof(err))) != 0) {
		fprintf(stderr, "%s: %s\n", a->name, err);
		goto out_stop;
	}
	if (d.check_only) {
		printf("%s: %s\n", d.config ? d.config : "(defaults)", a->check_ok ? a->check_ok : "configuration ok");
		rc = EXIT_OK;
		goto out_stop;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((rc = a->bind(&d, err, sizeof(err))) != 0) {
		log_err("%s", err);
		goto out_stop;
	}
	if (!d.foreground) {
		if (detach(&d) < 0) {
			log_err("cannot detach: %s", strerror(errno));
			rc = EXIT_OSERR;
			goto out_stop;
		}
		log_init(a->name, 1);
	}
	const char *pf = conf_text(&d, "pidfile");
	if (pf) {
		if (daemon_pidfile_write(pf) < 0) {
			rc = EXIT_CANTCREAT;
			goto out_stop;
		}
		pidfile = strdup(pf); /* a reload may replace the struct pf lives in */
	}
	const char *user = conf_text(&d, "user");
	if (daemon_drop_privileges(user) < 0) {
		rc = EXIT_NOPERM;
		goto out_stop;
	}
	if (a->start && (rc = a->start(&d, err, sizeof(err))) != 0) {
		log_err("%s", err);
		goto out_stop;
	}
	report(&d, 0, NULL);
	rc = a->run(&d);
out_stop:
	report(&d, rc ? rc : EXIT_SOFTWARE, log_last_error()); /* no-op once ready */
	if (pidfile)
		daemon_pidfile_remove(pidfile);
	free(pidfile);
	if (a->stop)
		a->stop(&d);
out_conf:
	free_conf(a, conf);
out_args:
	conf_set_overrides(NULL, NULL, 0);
	free(ar.ov);
	return rc;
}
