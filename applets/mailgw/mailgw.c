/* mailgw - TLS mail gateway: SMTP relay with STARTTLS in and out, a durable queue,
 * outbound TLS policies, POP3/IMAP TLS front ends, ETRN. Manual: docs/mailgw.md.
 * This file: command line dispatch and the daemon's start and stop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "applet.h"
#include "applets/mailgw/mg_cli.h"
#include "applets/mailgw/mg_auth.h"
#include "applets/mailgw/mg_authmem.h"
#include "applets/mailgw/mg_rcptcache.h"
#include "applets/mailgw/mg_commit.h"
#include "applets/mailgw/mg_ctx.h"
#include "applets/mailgw/mg_queue.h"
#include "core/cli.h"
#include "core/daemon.h"
#include "core/exitcode.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/str.h"
#include "crypto/tls.h"
#include "net/conn.h"
#include "net/loop.h"

#define MG_USAGE "[-d] [-n] [-v] [-c FILE] [queue | flush [DOMAIN] | delete ID | " \
	"tls-check HOST[:PORT] [--starttls smtp|pop3|imap] [--verify] [--sni NAME] [--ca FILE] | " \
	"auth-test LOGIN [--password-file FILE] | rcpt-test ADDRESS]"
#define MG_DEFAULT_CONFIG "/etc/sealbox/mailgw.ini"

static int mailgw_main(int argc, char **argv);

const struct applet mailgw_applet = {
	"mailgw", mailgw_main, MG_USAGE, APPLET_DAEMON,
	"TLS mail gateway: SMTP relay, queue, POP3/IMAP TLS front ends",
	&mg_conf_spec,
};

void mg_live_add(struct mg_ctx *ctx, struct mg_live *l)
{
	if (!ctx->live.next)
		ctx->live.next = ctx->live.prev = &ctx->live;
	l->next = ctx->live.next;
	l->prev = &ctx->live;
	ctx->live.next->prev = l;
	ctx->live.next = l;
}

void mg_live_del(struct mg_live *l)
{
	if (!l->next)
		return;
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->next = l->prev = NULL;
}

int mg_session_open(struct mg_listener *ls, struct net_conn *c, struct mg_live *l, const char *who)
{
	struct mg_ctx *ctx = ls->ctx;
	int smtp_plain = ls->lc->mode == MG_MODE_SMTP || ls->lc->mode == MG_MODE_SUBMISSION;
	struct mg_anvil_entry *slot;
	unsigned long nref;
	int logit;

	if (ctx->nsessions >= (unsigned long)ctx->conf.max_connections) {
		log_warn("%s %s: too many connections (%lu), refused", who, net_conn_peer(c), ctx->nsessions);
		if (smtp_plain)
			net_conn_printf(c, "421 4.3.2 %s Too many connections, try again later\r\n", ctx->hostname);
		net_conn_close(c);
		return -1;
	}
	if (mg_anvil_take(&ctx->anvil, net_conn_peer_ip(c), ctx->conf.max_connections_per_ip, &slot,
			  &logit, &nref) < 0) {
		if (logit)
			log_warn("%s %s: more than %ld connections from this client%s, refused (%lu since the last report)",
				 who, net_conn_peer_ip(c), ctx->conf.max_connections_per_ip,
				 strchr(net_conn_peer_ip(c), ':') ? " (its /64)" : "", nref);
		if (smtp_plain)
			net_conn_printf(c, "421 4.7.0 %s Too many connections from your address\r\n", ctx->hostname);
		net_conn_close(c);
		return -1;
	}
	l->slot = slot;
	ctx->nsessions++;
	mg_live_add(ctx, l);
	return 0;
}

void mg_session_close(struct mg_ctx *ctx, struct mg_live *l)
{
	if (!l->next)
		return;
	mg_live_del(l);
	mg_anvil_put(&ctx->anvil, l->slot);
	l->slot = NULL;
	ctx->nsessions--;
}

void mg_live_kill_all(struct mg_ctx *ctx)
{
	while (ctx->live.next && ctx->live.next != &ctx->live)
		ctx->live.next->kill(ctx->live.next);
}

static int make_server_tls(struct mg_listener *l, char *err, size_t errlen)
{
	const struct mg_listener_conf *lc = l->lc;
	struct cry_tls_conf tc = { 0 };

	tc.server = 1;
	tc.cert_file = lc->cert;
	tc.key_file = lc->key;
	tc.session_tickets = 1;
	if (!(l->tls = cry_tls_ctx_new(&tc, err, errlen)))
		return -1;
	for (size_t i = 0; i < lc->nsni; i++)
		if (cry_tls_ctx_add_sni(l->tls, lc->sni[i].name, lc->sni[i].cert, lc->sni[i].key, err,
					errlen) < 0)
			return -1;
	return 0;
}

static int make_client_tls(struct mg_ctx *ctx, char *err, size_t errlen)
{
	struct cry_tls_conf tc = { 0 };

	tc.verify = CRY_VERIFY_NONE;
	tc.session_tickets = 1;
	if (!(ctx->client_tls = cry_tls_ctx_new(&tc, err, errlen)))
		return -1;
	tc.verify = CRY_VERIFY_PEER;
	tc.ca_file = ctx->conf.tls_ca_file;
	if (!(ctx->client_tls_verify = cry_tls_ctx_new(&tc, err, errlen)))
		return -1;
	if (!(ctx->auth_tls = mg_auth_tls_new(&ctx->conf, err, errlen)))
		return -1;
	return 0;
}

static void ctx_free(struct mg_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nls; i++) {
		if (ctx->ls[i].nl)
			net_listener_free(ctx->ls[i].nl);
		if (ctx->ls[i].tls)
			cry_tls_ctx_free(ctx->ls[i].tls);
	}
	free(ctx->ls);
	if (ctx->client_tls)
		cry_tls_ctx_free(ctx->client_tls);
	if (ctx->client_tls_verify)
		cry_tls_ctx_free(ctx->client_tls_verify);
	if (ctx->auth_tls)
		cry_tls_ctx_free(ctx->auth_tls);
	if (ctx->authmem) {
		mg_authmem_wipe(ctx->authmem);
		free(ctx->authmem);
	}
	mg_rcptcache_free(ctx->rcache);
	mg_tlsmem_free(&ctx->tlsmem);
	mg_anvil_free(&ctx->anvil);
	mg_conf_free(&ctx->conf);
}

/* Everything that can fail on a bad config, without binding: for -n and start-up. */
static int prepare(struct mg_ctx *ctx, char *err, size_t errlen)
{
	if (!ctx->conf.hostname || !ctx->conf.hostname[0]) {
		if (gethostname(ctx->hostname, sizeof(ctx->hostname) - 1) < 0)
			str_copy(ctx->hostname, "localhost", sizeof(ctx->hostname));
	} else {
		str_copy(ctx->hostname, ctx->conf.hostname, sizeof(ctx->hostname));
	}
	ctx->nls = ctx->conf.nlisteners;
	if (!(ctx->ls = calloc(ctx->nls, sizeof(*ctx->ls))))
		return -1;
	for (size_t i = 0; i < ctx->nls; i++) {
		ctx->ls[i].ctx = ctx;
		ctx->ls[i].lc = &ctx->conf.listeners[i];
		char why[CONF_ERR_LEN];
		if (make_server_tls(&ctx->ls[i], why, sizeof(why)) < 0) {
			str_fmt(err, errlen, "[listener %s]: %s", ctx->ls[i].lc->name, why);
			return -1;
		}
	}
	if (make_client_tls(ctx, err, errlen) < 0)
		return -1;
	if (str_fmt(ctx->tlsmem_path, sizeof(ctx->tlsmem_path), "%s/tlsmem", ctx->conf.spool) < 0)
		return -1;
	mg_tlsmem_init(&ctx->tlsmem, 4096);
	if (!(ctx->authmem = malloc(sizeof(*ctx->authmem))) || mg_authmem_init(ctx->authmem) < 0) {
		str_fmt(err, errlen, "cannot set up the AUTH memory");
		return -1;
	}
	if (!(ctx->rcache = mg_rcptcache_new()))
		return -1;
	return 0;
}

static void on_stop(int signo, void *arg)
{
	struct mg_ctx *ctx = arg;
	log_info("signal %d: stopping", signo);
	ctx->stopping = 1;
	net_loop_exit(ctx->loop);
}

static void on_control(int signo, void *arg)
{
	mg_runner_control(arg);
}

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int same_listeners(const struct mg_conf *a, const struct mg_conf *b)
{
	if (a->nlisteners != b->nlisteners || !str_eq(a->tls_ca_file, b->tls_ca_file) ||
	    !str_eq(a->auth_ca_file, b->auth_ca_file) || a->auth_tls_verify != b->auth_tls_verify ||
	    !str_eq(a->spool, b->spool))
		return 0;
	for (size_t i = 0; i < a->nlisteners; i++) {
		const struct mg_listener_conf *x = &a->listeners[i], *y = &b->listeners[i];
		if (!str_eq(x->name, y->name) || !str_eq(x->listen, y->listen) || x->mode != y->mode ||
		    !str_eq(x->cert, y->cert) || !str_eq(x->key, y->key) || !str_eq(x->backend, y->backend) ||
		    x->require_tls != y->require_tls || x->nsni != y->nsni)
			return 0;
		for (size_t k = 0; k < x->nsni; k++)
			if (!str_eq(x->sni[k].name, y->sni[k].name) || !str_eq(x->sni[k].cert, y->sni[k].cert) ||
			    !str_eq(x->sni[k].key, y->sni[k].key))
				return 0;
	}
	return 1;
}

/* SIGHUP: policies, limits, delivery settings and the log level take effect at once.
 * Listeners, certificates, tls_ca_file and spool live in objects that running sessions
 * use, so a change there is refused (restart instead) and the old file stays active.
 * The whole struct is swapped (not per key): mailgw's derived tables (CIDR lists, TLS
 * policies, auth and recipient tables) are built by mg_conf_load from many keys. */
static int reload(struct daemon *d, void *fresh)
{
	struct mg_ctx *ctx = d->app;
	struct mg_conf *nc = fresh, old;

	if (!same_listeners(&ctx->conf, nc)) {
		log_err("reload: %s: listeners, certificates, tls_ca_file or spool changed; restart mailgw to apply "
			"it (keeping the running configuration)", ctx->config_path);
		return -1;
	}
	old = ctx->conf;
	ctx->conf = *nc;
	*nc = old; /* daemon_reload frees the old one with fresh */
	for (size_t i = 0; i < ctx->nls; i++)
		ctx->ls[i].lc = &ctx->conf.listeners[i];
	if (ctx->conf.hostname && ctx->conf.hostname[0])
		str_copy(ctx->hostname, ctx->conf.hostname, sizeof(ctx->hostname));
	mg_runner_reconfigure(ctx);
	mg_rcptcache_clear(ctx->rcache);   /* the sources may have changed */
	log_info("reload: %s applied", ctx->config_path);
	return 0;
}

static void on_hup(int signo, void *arg)
{
	(void)signo;
	daemon_reload(arg);
}

/* The default pidfile is SPOOL/mailgw.pid (mg_cli.c signals it). */
static int load_hook(void *conf, const char *path, char *err, size_t errlen)
{
	struct mg_conf *c = conf;
	char p[600];
	if (mg_conf_load(c, path, err, errlen) < 0)
		return -1;
	if (!c->pidfile && str_fmt(p, sizeof(p), "%s/mailgw.pid", c->spool) >= 0 && !(c->pidfile = strdup(p))) {
		str_copy(err, "out of memory", errlen);
		return -1;
	}
	return 0;
}

static void conf_free_hook(void *conf)
{
	mg_conf_free(conf);
}

static int check(struct daemon *d, char *err, size_t errlen)
{
	struct mg_ctx *ctx = d->app;
	char why[CONF_ERR_LEN];
	ctx->config_path = d->config ? d->config : "(no file)";
	if (prepare(ctx, why, sizeof(why)) < 0) {
		str_fmt(err, errlen, "%s: %s", ctx->config_path, why);
		return EXIT_CONFIG;
	}
	if (ctx->nls == 0)
		log_warn("%s: no [listener NAME] section: mailgw only delivers what is queued", ctx->config_path);
	return 0;
}

static int bind_hook(struct daemon *d, char *err, size_t errlen)
{
	struct mg_ctx *ctx = d->app;
	char why[CONF_ERR_LEN];

	if (mg_spool_init(ctx->conf.spool) < 0) {
		str_fmt(err, errlen, "spool %s: %s", ctx->conf.spool, strerror(errno));
		return EXIT_CANTCREAT;
	}
	if (!(ctx->loop = net_loop_new())) {
		str_copy(err, "cannot create the event loop", errlen);
		return EXIT_OSERR;
	}
	for (size_t i = 0; i < ctx->nls; i++) {
		struct mg_listener *l = &ctx->ls[i];
		enum mg_mode m = (enum mg_mode)l->lc->mode;
		int implicit = m == MG_MODE_SMTPS || m == MG_MODE_POP3S || m == MG_MODE_IMAPS;
		l->nl = net_listen(ctx->loop, l->lc->listen, implicit ? l->tls : NULL,
				   m >= MG_MODE_POP3 ? mg_front_accept : mg_smtpd_accept, l, why, sizeof(why));
		if (!l->nl) {
			str_fmt(err, errlen, "[listener %s] %s: %s", l->lc->name, l->lc->listen, why);
			return EXIT_UNAVAILABLE;
		}
		log_info("listening on %s (%s, port %d)", l->lc->listen, mg_mode_name(m),
			 net_listener_port(l->nl));
	}
	for (size_t i = 0; i < ctx->conf.auth_table.n; i++) {
		const struct mg_auth_backend *b = &ctx->conf.auth_table.v[i];
		if (mg_auth_backend_plaintext(b))
			log_warn("auth_backend %s: passwords go to it in PLAINTEXT (auth_allow_plaintext = yes)", b->uri);
		else if (!ctx->conf.auth_tls_verify && b->kind != MG_AB_DOVECOT_UNIX && b->kind != MG_AB_DOVECOT_TCP)
			log_warn("auth_backend %s: its certificate is NOT verified (auth_tls_verify = no)", b->uri);
	}
	mg_tlsmem_load(&ctx->tlsmem, ctx->tlsmem_path, (long long)time(NULL));
	net_signal_add(ctx->loop, SIGTERM, on_stop, ctx);
	net_signal_add(ctx->loop, SIGINT, on_stop, ctx);
	net_signal_add(ctx->loop, SIGUSR1, on_control, ctx);
	net_signal_add(ctx->loop, SIGHUP, on_hup, d);
	return 0;
}

/* After the fork and the privilege drop: the runner's commit thread starts here. */
static int start(struct daemon *d, char *err, size_t errlen)
{
	if (mg_runner_start(d->app) < 0) {
		str_copy(err, "cannot start the queue runner", errlen);
		return EXIT_OSERR;
	}
	return 0;
}

static int run(struct daemon *d)
{
	struct mg_ctx *ctx = d->app;
	log_info("mailgw %s started as %s, spool %s", SEALBOX_VERSION, ctx->hostname, ctx->conf.spool);
	net_loop_run(ctx->loop);
	mg_live_kill_all(ctx);
	mg_runner_stop(ctx);
	mg_commit_free(ctx);
	mg_tlsmem_save(&ctx->tlsmem, ctx->tlsmem_path, (long long)time(NULL));
	return EXIT_OK;
}

static void stop(struct daemon *d)
{
	struct mg_ctx *ctx = d->app;
	for (size_t i = 0; i < ctx->nls; i++)
		if (ctx->ls[i].nl) {
			net_listener_free(ctx->ls[i].nl);
			ctx->ls[i].nl = NULL;
		}
	net_loop_free(ctx->loop);
	ctx->loop = NULL;
	ctx_free(ctx); /* the conf too; daemon_run's second free finds it zeroed */
}

static int command(struct daemon *d, int argc, char **argv)
{
	return mg_cli_main(&mailgw_applet, d->config, argc, argv);
}

static const struct daemon_applet mailgw_daemon = {
	.name = "mailgw",
	.usage = MG_USAGE,
	.default_config = MG_DEFAULT_CONFIG,
	.spec = &mg_conf_spec,
	.conf_size = sizeof(struct mg_conf),
	.load = load_hook,
	.conf_free = conf_free_hook,
	.command = command,
	.check = check,
	.bind = bind_hook,
	.start = start,
	.run = run,
	.reload = reload,
	.stop = stop,
};

static int mailgw_main(int argc, char **argv)
{
	struct mg_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return EXIT_OSERR;
	/* "mailgw queue -c FILE" as well as "mailgw -c FILE queue": the options before
	 * the command are daemon_run's, those after it mg_cli's. */
	int rc = daemon_run(&mailgw_daemon, ctx, &ctx->conf, argc, argv);
	free(ctx);
	return rc;
}
