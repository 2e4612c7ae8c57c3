/* tunneld - relay for end-to-end encrypted remote-support sessions (docs/tunneld.md).
 * This file: the hooks core/daemon.h's daemon_run calls (check, bind, run, reload).
 * The relay is tun_relay.c. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applet.h"
#include "core/daemon.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "core/str.h"
#include "crypto/crypto.h"
#include "crypto/tls.h"
#include "net/loop.h"
#include "tun.h"
#include "tun_cluster.h"

#define DEFAULT_CONFIG "/etc/sealbox/tunneld.ini"

static int tunneld_main(int argc, char **argv);

const struct applet tunneld_applet = {
	"tunneld", tunneld_main,
	"[-d] [-n] [-v] [-c FILE] [-p PIDFILE] [--KEY VALUE ...] | --print-config | status [-c FILE]",
	APPLET_DAEMON,
	"relay for end-to-end encrypted remote-support sessions",
	&tun_conf_spec,
};

struct tun_main {
	struct daemon *d;
	struct net_loop *loop;
	struct net_timer *exit_timer;
	struct tun_relay *relay;
};

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
		daemon_reload(m->d);
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

static int load(void *conf, const char *path, char *err, size_t errlen)
{
	return tun_conf_load(conf, path, err, errlen);
}

/* -n also loads the TLS certificate, so a typo in a path fails the check, not the start. */
static int check(struct daemon *d, char *err, size_t errlen)
{
	const struct tun_conf *c = d->conf;
	char why[256];
	if (cry_init() < 0) {
		str_copy(err, "crypto initialisation failed", errlen);
		return EXIT_SOFTWARE;
	}
	if (tun_conf_off(c->https_listen))
		return 0;
	struct cry_tls_conf tc = { .server = 1, .cert_file = c->tls_cert, .key_file = c->tls_key };
	struct cry_tls_ctx *ctx = cry_tls_ctx_new(&tc, why, sizeof(why));
	if (!ctx) {
		str_fmt(err, errlen, "%s: tls_cert/tls_key: %s", d->config ? d->config : "(defaults)", why);
		return EXIT_CONFIG;
	}
	cry_tls_ctx_free(ctx);
	return 0;
}

static int bind_hook(struct daemon *d, char *err, size_t errlen)
{
	struct tun_main *m = d->app;
	m->d = d;
	if (!(m->loop = net_loop_new())) {
		str_copy(err, "cannot create the event loop", errlen);
		return EXIT_OSERR;
	}
	if (!(m->relay = tun_relay_new(m->loop, d->conf, err, errlen)))
		return EXIT_UNAVAILABLE;
	net_signal_add(m->loop, SIGHUP, on_signal, m);
	net_signal_add(m->loop, SIGTERM, on_signal, m);
	net_signal_add(m->loop, SIGINT, on_signal, m);
	net_signal_add(m->loop, SIGUSR1, on_signal, m); /* drain (fleet) */
	return 0;
}

static int run(struct daemon *d)
{
	struct tun_main *m = d->app;
	log_info("tunneld %s ready (state in %s)", SEALBOX_VERSION, ((struct tun_conf *)d->conf)->state_dir);
	net_loop_run(m->loop);
	log_info("tunneld stopped");
	return EXIT_OK;
}

static int reload(struct daemon *d, void *fresh)
{
	struct tun_main *m = d->app;
	daemon_reload_keys(d, fresh);
	tun_relay_apply_conf(m->relay);
	return 0;
}

static void stop(struct daemon *d)
{
	struct tun_main *m = d->app;
	tun_relay_free(m->relay);
	if (m->exit_timer)
		net_timer_free(m->exit_timer);
	net_loop_free(m->loop);
}

static const struct daemon_applet tunneld_daemon = {
	.name = "tunneld",
	.usage = "[-d] [-n] [-v] [-c FILE] [-p PIDFILE] [--KEY VALUE ...] | --print-config | status [-c FILE]",
	.default_config = DEFAULT_CONFIG,
	.spec = &tun_conf_spec,
	.conf_size = sizeof(struct tun_conf),
	.load = load,
	.check = check,
	.bind = bind_hook,
	.run = run,
	.reload = reload,
	.stop = stop,
};

static int tunneld_main(int argc, char **argv)
{
	struct tun_conf conf;
	struct tun_main m = { 0 };
	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return tun_status_main(argc - 1, argv + 1, DEFAULT_CONFIG);
	memset(&conf, 0, sizeof(conf));
	return daemon_run(&tunneld_daemon, &m, &conf, argc, argv);
}
