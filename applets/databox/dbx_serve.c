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
#define SERVE_USAGE "serve [-d] [-n] [-c FILE] [-p PIDFILE] [-v]"

static void on_signal(int signo, void *arg)
{
	struct dbx_server *s = arg;
	log_info("signal %d: shutting down", signo);
	net_loop_exit(s->loop);
}

struct reload_ctx {
	struct dbx_server *s;
	const char *config;
};

/* SIGHUP: the settings that apply per request take effect at once (log level, token
 * lifetime, password iterations, login limits); listen, TLS files, state_dir and
 * max_chunk need a restart. A bad file keeps the running settings. */
static void on_hup(int signo, void *arg)
{
	struct reload_ctx *rc = arg;
	struct dbx_conf nc;
	char err[512];
	(void)signo;
	if (dbx_conf_load(&nc, rc->config, err, sizeof(err)) < 0) {
		log_warn("reload: %s; keeping the running configuration", err);
		dbx_conf_free(&nc);
		return;
	}
	int lvl = log_level_parse(nc.log_level);
	if (lvl >= 0)
		log_set_level((enum log_level)lvl);
	rc->s->conf.token_lifetime = nc.token_lifetime;
	rc->s->conf.password_iterations = nc.password_iterations;
	rc->s->conf.login_max_failures = nc.login_max_failures;
	rc->s->conf.login_lockout = nc.login_lockout;
	dbx_conf_free(&nc);
	log_info("reloaded %s (listen, TLS, state_dir, max_chunk, max_json and the connection limits apply "
		 "after a restart)", rc->config);
}

static int load(struct dbx_server *s, const char *config)
{
	char err[512];
	if (dbx_conf_load(&s->conf, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox: %s\n", err);
		return -1;
	}
	int lvl = log_level_parse(s->conf.log_level);
	if (lvl < 0) {
		fprintf(stderr, "databox: %s: log_level: unknown level \"%s\"\n", config, s->conf.log_level);
		return -1;
	}
	log_set_level((enum log_level)lvl);
	return 0;
}

int dbx_serve_main(int argc, char **argv)
{
	struct daemon_opts o;
	struct dbx_server s;
	char err[512];
	int rc = EXIT_CONFIG;

	memset(&s, 0, sizeof(s));
	daemon_parse_args(argc, argv, "databox", SERVE_USAGE, DEFAULT_CONFIG, &o);
	if (o.verbose)
		log_set_level(o.verbose > 1 ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (load(&s, o.config) < 0)
		goto out;
	if (!s.conf.plain_http) {
		/* the HTTPS profile: AEAD-only TLS 1.2, session tickets (docs/crypto.md) */
		struct cry_tls_conf tc = { .server = 1, .cert_file = s.conf.tls_cert, .key_file = s.conf.tls_key,
					   .aead_only = 1, .session_tickets = 1 };
		s.tls = cry_tls_ctx_new(&tc, err, sizeof(err));
		if (!s.tls) {
			fprintf(stderr, "databox: %s: %s\n", o.config, err);
			goto out;
		}
	}
	if (o.check_only) {
		printf("databox: %s is valid\n", o.config);
		rc = EXIT_OK;
		goto out;
	}
	if (dbx_db_open(&s, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox: %s\n", err);
		rc = EXIT_CANTCREAT;
		goto out;
	}
	s.loop = net_loop_new();
	if (!s.loop) {
		rc = EXIT_OSERR;
		goto out;
	}
	s.web = dbx_web_load(s.conf.web_root, err, sizeof(err));
	if (s.web)
		log_info("databox: web app from %s", s.conf.web_root);
	else
		log_warn("databox: %s; serving the API only", err);
	long long big = s.conf.max_chunk > s.conf.max_json ? s.conf.max_chunk : s.conf.max_json;
	s.http = net_http_new(s.loop, s.conf.listen, s.tls, (size_t)big + 65536,
			      dbx_http_handle, &s, err, sizeof(err));
	if (!s.http) {
		fprintf(stderr, "databox: %s\n", err);
		rc = EXIT_UNAVAILABLE;
		goto out;
	}
	struct net_http_limits lim = { (unsigned)s.conf.header_timeout, (unsigned)s.conf.max_connections,
				       (unsigned)s.conf.max_connections_per_address };
	net_http_set_limits(s.http, &lim);
	net_http_set_admit(s.http, dbx_api_admit, &s);
	net_http_set_sink(s.http, dbx_upload_sink, &s);
	signal(SIGPIPE, SIG_IGN);
	net_signal_add(s.loop, SIGTERM, on_signal, &s);
	net_signal_add(s.loop, SIGINT, on_signal, &s);
	struct reload_ctx hup = { &s, o.config };
	net_signal_add(s.loop, SIGHUP, on_hup, &hup);
	if (daemon_start(&o, "databox", NULL) < 0) {
		rc = EXIT_OSERR;
		goto out;
	}
	log_info("databox: serving %s on %s (port %d), state in %s", s.tls ? "HTTPS" : "plain HTTP",
		 s.conf.listen, net_http_port(s.http), s.conf.state_dir);
	net_loop_run(s.loop);
	rc = EXIT_OK;
	if (o.pidfile)
		daemon_pidfile_remove(o.pidfile);
out:
	net_http_free(s.http);
	dbx_web_free(s.web);
	dbx_db_close(&s);
	if (s.loop)
		net_loop_free(s.loop);
	if (s.tls)
		cry_tls_ctx_free(s.tls);
	dbx_conf_free(&s.conf);
	return rc;
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
