/* dbx_serve.c - "databox serve" (the daemon) and "databox admin" (user management on
 * the server's own database). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/databox/dbx.h"
#include "applets/databox/dbx_server.h"
#include "applets/databox/dbx_web.h"
#include "core/daemon.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/str.h"
#include "crypto/tls.h"
#include "net/http.h"
#include "net/loop.h"

#define DEFAULT_CONFIG "/etc/sealbox/databox.ini"
#define SERVE_USAGE "serve [-d] [-n] [-v] [-c FILE] [-p PIDFILE] [--KEY VALUE ...] | --print-config"

static void on_signal(int signo, void *arg)
{
	struct dbx_server *s = arg;
	log_info("signal %d: shutting down", signo);
	net_loop_exit(s->loop);
}

static void on_hup(int signo, void *arg)
{
	(void)signo;
	daemon_reload(arg);
}

/* SIGHUP: the keys marked CONF_RELOAD in dbx_conf.c apply per request, so copying them
 * is all (log level, token lifetime, password iterations, login limits); the others
 * need a restart, and daemon_reload_keys says so for each one that changed. */
static int reload(struct daemon *d, void *fresh)
{
	daemon_reload_keys(d, fresh);
	log_info("reloaded %s", d->config ? d->config : "(no file)");
	return 0;
}

static int load_hook(void *conf, const char *path, char *err, size_t errlen)
{
	return dbx_conf_load(conf, path, err, errlen);
}

static int check(struct daemon *d, char *err, size_t errlen)
{
	struct dbx_server *s = d->app;
	char why[512];
	if (s->conf.plain_http)
		return 0;
	/* the HTTPS profile: AEAD-only TLS 1.2, session tickets (docs/crypto.md) */
	struct cry_tls_conf tc = { .server = 1, .cert_file = s->conf.tls_cert, .key_file = s->conf.tls_key,
				   .aead_only = 1, .session_tickets = 1 };
	if (!(s->tls = cry_tls_ctx_new(&tc, why, sizeof(why)))) {
		str_fmt(err, errlen, "%s: %s", d->config ? d->config : "(no file)", why);
		return EXIT_CONFIG;
	}
	return 0;
}

static int bind_hook(struct daemon *d, char *err, size_t errlen)
{
	struct dbx_server *s = d->app;
	if (dbx_db_open(s, err, errlen) < 0)
		return EXIT_CANTCREAT;
	if (!(s->loop = net_loop_new())) {
		str_copy(err, "cannot create the event loop", errlen);
		return EXIT_OSERR;
	}
	char why[512];
	s->web = dbx_web_load(s->conf.web_root, why, sizeof(why));
	if (s->web)
		log_info("databox: web app from %s", s->conf.web_root);
	else
		log_warn("databox: %s; serving the API only", why);
	long long big = s->conf.max_chunk > s->conf.max_json ? s->conf.max_chunk : s->conf.max_json;
	s->http = net_http_new(s->loop, s->conf.listen, s->tls, (size_t)big + 65536, dbx_http_handle, s, err,
			       errlen);
	if (!s->http)
		return EXIT_UNAVAILABLE;
	struct net_http_limits lim = { (unsigned)s->conf.header_timeout, (unsigned)s->conf.max_connections,
				       (unsigned)s->conf.max_connections_per_address };
	net_http_set_limits(s->http, &lim);
	net_http_set_admit(s->http, dbx_api_admit, s);
	net_http_set_sink(s->http, dbx_upload_sink, s);
	net_signal_add(s->loop, SIGTERM, on_signal, s);
	net_signal_add(s->loop, SIGINT, on_signal, s);
	net_signal_add(s->loop, SIGHUP, on_hup, d);
	return 0;
}

static int run(struct daemon *d)
{
	struct dbx_server *s = d->app;
	log_info("databox: serving %s on %s (port %d), state in %s", s->tls ? "HTTPS" : "plain HTTP",
		 s->conf.listen, net_http_port(s->http), s->conf.state_dir);
	net_loop_run(s->loop);
	return EXIT_OK;
}

static void stop(struct daemon *d)
{
	struct dbx_server *s = d->app;
	dbx_upload_commit_stop(s);
	net_http_free(s->http);
	dbx_web_free(s->web);
	dbx_db_close(s);
	if (s->loop)
		net_loop_free(s->loop);
	if (s->tls)
		cry_tls_ctx_free(s->tls);
}

static const struct daemon_applet serve_daemon = {
	.name = "databox",
	.usage = SERVE_USAGE,
	.default_config = DEFAULT_CONFIG,
	.spec = &dbx_conf_spec,
	.conf_size = sizeof(struct dbx_conf),
	.load = load_hook,
	.check = check,
	.bind = bind_hook,
	.run = run,
	.reload = reload,
	.stop = stop,
	.check_ok = "is valid",
};

int dbx_serve_main(int argc, char **argv)
{
	struct dbx_server s;
	memset(&s, 0, sizeof(s));
	return daemon_run(&serve_daemon, &s, &s.conf, argc, argv);
}

/* admin works on the server's files without the daemon: the same file, no options. */
static int load(struct dbx_server *s, const char *config)
{
	char err[512];
	if (dbx_conf_load(&s->conf, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox: %s\n", err);
		return -1;
	}
	log_set_level((enum log_level)s->conf.log_level);
	return 0;
}

static const char admin_usage[] =
	"Usage: databox admin [-c FILE] user add NAME [--admin] [--password-file FILE]\n"
	"The password comes from --password-file, $DATABOX_PASSWORD or a prompt.\n";

int dbx_admin_main(int argc, char **argv)
{
	const char *config = DEFAULT_CONFIG, *pwfile = NULL, *name = NULL;
	int admin = 0, i = 1, rc = EXIT_USAGE;
	struct dbx_server s;
	char err[512];
	char *pw = NULL;

	memset(&s, 0, sizeof(s));
	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		config = argv[i + 1];
		i += 2;
	}
	if (argc - i < 3 || strcmp(argv[i], "user") != 0 || strcmp(argv[i + 1], "add") != 0) {
		fputs(admin_usage, stderr);
		return EXIT_USAGE;
	}
	name = argv[i + 2];
	for (i += 3; i < argc; i++) {
		if (strcmp(argv[i], "--admin") == 0)
			admin = 1;
		else if (strcmp(argv[i], "--password-file") == 0 && i + 1 < argc)
			pwfile = argv[++i];
		else {
			fprintf(stderr, "databox admin: unknown argument %s\n%s", argv[i], admin_usage);
			return EXIT_USAGE;
		}
	}
	if (load(&s, config) < 0)
		return EXIT_CONFIG;
	pw = secret_read(pwfile, DBX_PASSWORD_ENV, "Login password for the new user: ", err, sizeof(err));
	if (!pw) {
		fprintf(stderr, "databox admin: password: %s\n", err);
		rc = EXIT_DATAERR;
		goto out;
	}
	if (dbx_db_open(&s, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox admin: %s\n", err);
		rc = EXIT_CANTCREAT;
		goto out;
	}
	if (dbx_user_add(&s, name, pw, admin, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox admin: %s\n", err);
		rc = EXIT_DATAERR;
		goto out;
	}
	printf("user %s added%s\n", name, admin ? " (admin)" : "");
	rc = EXIT_OK;
out:
	secret_free_str(pw);
	dbx_db_close(&s);
	dbx_conf_free(&s.conf);
	return rc;
}
