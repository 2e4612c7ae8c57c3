/* tunneld - relay for end-to-end encrypted remote-support sessions (docs/tunneld.md).
 * This file: options, configuration, start-up order, signals. The relay is tun_relay.c. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applet.h"
#include "core/daemon.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "crypto/tls.h"
#include "net/loop.h"
#include "tun.h"
#include "tun_cluster.h"

#define DEFAULT_CONFIG "/etc/sealbox/tunneld.ini"

static int tunneld_main(int argc, char **argv);

const struct applet tunneld_applet = {
	"tunneld", tunneld_main,
	"[-d] [-n] [-v] [-c FILE] [-p PIDFILE] | --print-config | status [-c FILE]",
	APPLET_DAEMON,
	"relay for end-to-end encrypted remote-support sessions",
	&tun_conf_spec,
};

struct tun_main {
	struct net_loop *loop;
	struct net_timer *exit_timer;
	struct tun_relay *relay;
	const char *config;
	int verbose;
};

static void apply_level(const struct tun_conf *c, int verbose)
{
	int lvl = log_level_parse(c->log_level) + verbose;
	log_set_level((enum log_level)(lvl > LOG_LVL_DEBUG ? LOG_LVL_DEBUG : lvl));
}

static void exit_now(void *arg)
{
	struct tun_main *m = arg;
	net_loop_exit(m->loop);
}

static void on_signal(int signo, void *arg)
{
	struct tun_main *m = arg;
	if (signo == SIGUSR1) {
		tun_relay_drain(m->relay);
		return;
	}
	if (signo == SIGHUP) {
		char err[CONF_ERR_LEN + 128];
		struct tun_conf *c = calloc(1, sizeof(*c));
		if (!c)
			return;
		if (tun_conf_load(c, m->config, err, sizeof(err)) < 0) {
			log_err("reload failed, keeping the running configuration: %s", err);
			tun_conf_free(c);
			free(c);
			return;
		}
		tun_relay_reload(m->relay, c); /* takes c */
		int lvl = (int)log_get_level() + m->verbose;
		log_set_level((enum log_level)(lvl > LOG_LVL_DEBUG ? LOG_LVL_DEBUG : lvl));
		return;
	}
	if (m->exit_timer)
		return; /* already on the way out */
	log_info("signal %d: ending every session and exiting", signo);
	unsigned long wait = tun_relay_shutdown(m->relay);
	/* Give the closing connections a moment to flush their END frames. */
	m->exit_timer = net_timer_new(m->loop, exit_now, m);
	if (m->exit_timer)
		net_timer_arm(m->exit_timer, wait);
	else
		net_loop_exit(m->loop);
}

/* -n also loads the TLS certificate, so a typo in a path fails the check, not the start. */
static int check_tls(const struct tun_conf *c, const char *path)
{
	char err[256];
	if (tun_conf_off(c->https_listen))
		return 0;
	struct cry_tls_conf tc = { .server = 1, .cert_file = c->tls_cert, .key_file = c->tls_key };
	struct cry_tls_ctx *ctx = cry_tls_ctx_new(&tc, err, sizeof(err));
	if (!ctx) {
		fprintf(stderr, "tunneld: %s: tls_cert/tls_key: %s\n", path ? path : "(defaults)", err);
		return -1;
	}
	cry_tls_ctx_free(ctx);
	return 0;
}

static int tunneld_main(int argc, char **argv)
{
	struct daemon_opts o;
	struct tun_conf *conf = calloc(1, sizeof(*conf));
	struct tun_main m = { 0 };
	char err[CONF_ERR_LEN + 128];
	int rc = EXIT_OK, pid_written = 0;

	if (!conf)
		return EXIT_OSERR;
	if (argc > 1 && strcmp(argv[1], "status") == 0) {
		free(conf);
		return tun_status_main(argc - 1, argv + 1, DEFAULT_CONFIG);
	}
	if (argc > 1 && strcmp(argv[1], "--print-config") == 0) {
		free(conf);
		printf("# tunneld configuration: every key with its default (docs/tunneld.md)\n");
		conf_print_sample(&tun_conf_spec, stdout);
		return EXIT_OK;
	}
	int i = daemon_parse_args(argc, argv, "tunneld", tunneld_applet.usage, DEFAULT_CONFIG, &o);
	if (i < argc) {
		fprintf(stderr, "tunneld: unexpected argument: %s\n", argv[i]);
		free(conf);
		return EXIT_USAGE;
	}
	m.config = o.config;
	m.verbose = o.verbose;
	log_init("tunneld", !o.foreground && !o.check_only);
	if (cry_init() < 0) {
		fprintf(stderr, "tunneld: crypto initialisation failed\n");
		free(conf);
		return EXIT_SOFTWARE;
	}
	if (tun_conf_load(conf, o.config, err, sizeof(err)) < 0) {
		fprintf(stderr, "tunneld: %s\n", err);
		rc = EXIT_CONFIG;
		goto out;
	}
	if (check_tls(conf, o.config) < 0) {
		rc = EXIT_CONFIG;
		goto out;
	}
	if (o.check_only) {
		printf("%s: configuration ok\n", o.config ? o.config : "(defaults)");
		goto out;
	}
	apply_level(conf, o.verbose);
	signal(SIGPIPE, SIG_IGN);
	if (!(m.loop = net_loop_new())) {
		log_err("cannot create the event loop");
		rc = EXIT_OSERR;
		goto out;
	}
	if (!(m.relay = tun_relay_new(m.loop, conf, err, sizeof(err)))) {
		log_err("%s", err);
		rc = EXIT_UNAVAILABLE;
		goto out;
	}
	if (!o.foreground && daemon_detach() < 0) {
		log_err("cannot detach");
		rc = EXIT_OSERR;
		goto out;
	}
	const char *pidfile = o.pidfile ? o.pidfile : conf->pidfile;
	if (pidfile) {
		if (daemon_pidfile_write(pidfile) < 0) {
			rc = EXIT_UNAVAILABLE;
			goto out;
		}
		pid_written = 1;
	}
	if (daemon_drop_privileges(conf->user) < 0) {
		log_err("cannot switch to user %s", conf->user);
		rc = EXIT_NOPERM;
		goto out;
	}
	net_signal_add(m.loop, SIGHUP, on_signal, &m);
	net_signal_add(m.loop, SIGTERM, on_signal, &m);
	net_signal_add(m.loop, SIGINT, on_signal, &m);
	net_signal_add(m.loop, SIGUSR1, on_signal, &m); /* drain (fleet) */
	log_info("tunneld %s ready (state in %s)", SEALBOX_VERSION, conf->state_dir);
	net_loop_run(m.loop);
	log_info("tunneld stopped");
out:
	if (pid_written)
		daemon_pidfile_remove(pidfile);
	tun_relay_free(m.relay);
	if (m.exit_timer)
		net_timer_free(m.exit_timer);
	net_loop_free(m.loop);
	tun_conf_free(conf);
	free(conf);
	return rc;
}
