/* viewer-master - open a remote-support session on this appliance: register with the
 * relay, give each joining client its own per-join secret (RSA-OAEP), show each join's
 * SAS and admit it only when the user here confirms it (only then does it get the group
 * keys), then serve what the options allow, each client under its own keys. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "applet.h"
#include "core/cli.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "core/tframe.h"
#include "crypto/crypto.h"
#include "net/child.h"
#include "net/loop.h"
#include "applets/viewer/vw_conf.h"
#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_crypto.h"
#include "applets/viewer/vw_msg.h"
#include "applets/viewer/vw_direct.h"
#include "applets/viewer/vw_loop.h"
#include "applets/viewer/vw_master.h"

static int viewer_master_main(int argc, char **argv);

const struct applet viewer_master_applet = {
	"viewer-master", viewer_master_main,
	"[--server HOST:PORT[,HOST:PORT...]] " VW_RELAY_OPTS_USAGE " [-n] [--share DIR] [--allow-exec] [--allow-shell] [--expose NAME=HOST:PORT]... [--present CMD] [--auto-approve] [--lan-listen ADDR:PORT] [--no-lan]",
	APPLET_CLIENT,
	"open a remote-support session on this appliance",
	&vw_conf_spec,
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int parse_args(struct vw_master *m, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r = vw_relay_opt(&m->ro, argc, argv, &i);
		if (r < 0)
			return cli_usage_error(&viewer_master_applet, "%s %s: want a port 0-65535 (0 = never)", a, argv[i]);
		if (r > 0)
			continue;
		if (strcmp(a, "--share") == 0 && i + 1 < argc) {
			m->share = argv[++i];
		} else if (strcmp(a, "--allow-exec") == 0) {
			m->allow_exec = 1;
		} else if (strcmp(a, "--allow-shell") == 0) {
			m->allow_shell = 1;
		} else if (strcmp(a, "--auto-approve") == 0) {
			m->auto_approve = 1;
		} else if (strcmp(a, "--no-lan") == 0) {
			m->no_lan = 1;
		} else if (strcmp(a, "--lan-listen") == 0 && i + 1 < argc) {
			m->lan_listen = argv[++i];
		} else if (strcmp(a, "--present") == 0 && i + 1 < argc) {
			m->present = argv[++i];
		} else if (strcmp(a, "--expose") == 0 && i + 1 < argc) {
			const char *e = argv[++i], *eq = strchr(e, '=');
			struct vw_expose *x = &m->expose[m->n_expose];
			if (!eq || eq == e || (size_t)(eq - e) >= sizeof(x->name) || !strchr(eq + 1, ':') ||
			    strlen(eq + 1) >= sizeof(x->target) || m->n_expose >= VW_MAX_EXPOSE)
				return cli_usage_error(&viewer_master_applet, "bad --expose %s (want NAME=HOST:PORT)", e);
			memcpy(x->name, e, (size_t)(eq - e));
			x->name[eq - e] = '\0';
			snprintf(x->target, sizeof(x->target), "%s", eq + 1);
			m->n_expose++;
		} else {
			return cli_usage_error(&viewer_master_applet, "unknown or incomplete option %s", a);
		}
	}
	return 0;
}

/* One round on the loop (vw_loop.h): what to wait for... */
static struct {
	int base, dbase, dn; /* where the channels' and the direct path's entries start */
	int rc;              /* >= 0: run() returns this after the loop */
} R;

static int m_build(void *arg, struct pollfd *pf, int max, int *timeout)
{
	struct vw_master *m = arg;
	int n = 0, busy = 0;

	pf[n++] = (struct pollfd){ -1, 0, 0 }; /* the relay link: a net_conn, it kicks */
	pf[n++] = (struct pollfd){ m->asking >= 0 ? m->tty_fd : -1, POLLIN, 0 };
	pf[n++] = (struct pollfd){ m->stdin_open ? 0 : -1, POLLIN, 0 };
	R.base = n;
	n += vw_mchan_pollfds(m, pf + n, max - n - 2 - 1 - VW_MAX_PEND - VW_MAX_PEERS, &busy);
	pf[n++] = (struct pollfd){ m->present_fd, POLLIN, 0 };
	R.dbase = n;
	R.dn = vw_mdirect_pollfds(m, pf + n, max - n);
	n += R.dn;
	/* bytes to take, or frames queued that the round hands to the connection */
	if (vw_conn_pending(&m->relay) || vw_conn_want_write(&m->relay))
		busy = 1;
	for (int i = 0; i < VW_MAX_PEERS; i++)
		if (m->peers[i].state != PEER_FREE && m->peers[i].direct &&
		    (vw_conn_pending(m->peers[i].direct) || vw_conn_want_write(m->peers[i].direct)))
			busy = 1;
	*timeout = busy == 1 || m->quit || stop_flag ? 0 : vw_rtx_poll_ms(&m->rtx, 1000);
	return n;
}

/* ...and what became ready. 1 ends the loop (R.rc, or m->quit / stop_flag say how). */
static int m_handle(void *arg, struct pollfd *pf, int n)
{
	struct vw_master *m = arg;

	(void)n;
	if (m->quit || stop_flag)
		return 1;
	if (vw_conn_pending(&m->relay)) {
		struct tframe_hdr h;
		const uint8_t *raw, *pl;
		size_t had = m->relay.in_len;
		int r = 0;
		if (vw_conn_on_readable(&m->relay) < 0) {
			if (vw_rtx_lost(&m->rtx, m->relay.err) < 0)
				return 1;
			goto relay_done;
		}
		if (m->relay.in_len > had)
			vw_rtx_heard(&m->rtx);
		while (!m->quit && vw_conn_up(&m->relay) && (r = vw_conn_frame(&m->relay, &h, &raw, &pl)) == 1) {
			int rc = vm_on_frame(m, &h, raw, pl);
			vw_conn_consume(&m->relay);
			if (rc < 0) {
				R.rc = m->session ? EXIT_PROTOCOL : EXIT_UNAVAILABLE;
				return 1;
			}
		}
		if (r < 0 && vw_rtx_lost(&m->rtx, m->relay.err) < 0)
			return 1;
	}
relay_done:
	if (pf[1].fd >= 0 && (pf[1].revents & (POLLIN | POLLHUP)))
		if (vm_read_lines(m, m->tty_fd, m->tty_line, sizeof(m->tty_line), &m->tty_len, vm_on_answer) < 0) {
			vw_loop_close(&m->tty_fd);
			if (m->asking >= 0) {
				int a = m->asking;
				m->asking = -1;
				vm_approve(m, &m->peers[a], 0, "refused: the terminal closed");
			}
		}
	if (pf[2].fd >= 0 && (pf[2].revents & (POLLIN | POLLHUP)))
		if (vm_read_lines(m, 0, m->cmd_line, sizeof(m->cmd_line), &m->cmd_len, vm_on_command) < 0) {
			vw_loop_forget(0);
			m->stdin_open = 0;
		}
	vw_mchan_pump(m, pf + R.base, R.dbase - R.base - 1);
	vw_mchan_present(m, m->present_fd >= 0 && (pf[R.dbase - 1].revents & (POLLIN | POLLHUP | POLLERR)));
	vw_mchan_present_end(m);
	vw_mdirect_pump(m, pf + R.dbase, R.dn);
	vw_mchan_reap(m);
	if (m->rekey_due) {
		m->rekey_due = 0; /* one new epoch for everything that happened this round */
		vm_rekey(m);
	}
	/* keepalive (the relay drops a path silent for 60 s), acks, resends, resume */
	if (vw_rtx_tick(&m->rtx, &m->ro, m->path, sizeof(m->path)) < 0) {
		m->quit = 3;
		return 1;
	}
	if (vw_conn_up(&m->relay) && vw_conn_flush(&m->relay) < 0 && vw_rtx_lost(&m->rtx, m->relay.err) < 0)
		return 1;
	return m->quit || stop_flag;
}

static int run(struct vw_master *m)
{
	char err[1024]; /* every fallback step's reason */
	const struct vw_round round = { m_build, m_handle, m };

	char reg[320];

	snprintf(reg, sizeof(reg), "version=1\n%s%s%s", m->lan[0] ? "lan=" : "", m->lan, m->lan[0] ? "\n" : "");
	if (vw_conn_open_relay(&m->relay, &m->ro, TF_REGISTER, reg, "viewer-master", m->path, sizeof(m->path), err,
			       sizeof(err)) < 0) {
		fprintf(stderr, "viewer-master: %s\n", err);
		return EXIT_UNAVAILABLE;
	}
	vw_rtx_init(&m->rtx, &m->relay, "viewer-master");
	m->rtx.direct_closed = vw_mdirect_closed;
	m->rtx.cb_arg = m;
	R.rc = -1;
	vw_loop_run(&round);
	if (R.rc >= 0) {
		vw_conn_flush_all(&m->relay, 1000);
		vw_conn_close(&m->relay);
		vw_rtx_free(&m->rtx);
		return R.rc;
	}
	if (m->quit == 2 || m->quit == 3) {
		if (m->quit == 3)
			fprintf(stderr, "viewer-master: relay connection lost: %s\n", m->rtx.why);
		vw_conn_close(&m->relay);
		vw_rtx_free(&m->rtx);
		return EXIT_UNAVAILABLE;
	}
	if (m->quit || stop_flag) {
		vw_conn_send_ctl(&m->relay, TF_END, TF_ID_RELAY, "");
		vw_conn_flush_all(&m->relay, 1000);
		vw_conn_close(&m->relay);
		vw_rtx_free(&m->rtx);
		return EXIT_OK;
	}
	fprintf(stderr, "viewer-master: relay connection lost: %s\n", m->relay.err[0] ? m->relay.err : "error");
	vw_conn_close(&m->relay);
	vw_rtx_free(&m->rtx);
	return EXIT_UNAVAILABLE;
}

static void on_stop(int signo, void *arg)
{
	(void)arg;
	on_signal(signo);
	vw_loop_kick();
}

static int viewer_master_main(int argc, char **argv)
{
	static struct vw_master m;
	struct sigaction sa;
	int rc;

	if (cli_wants_help(argc, argv)) {
		cli_usage(&viewer_master_applet, stdout);
		return EXIT_OK;
	}
	memset(&m, 0, sizeof(m));
	m.share_fd = -1;
	m.present_fd = -1;
	vw_relay_opts_init(&m.ro);
	m.tty_fd = -1;
	m.asking = -1;
	if (vw_conf_print_sample(argc, argv, stdout))
		return EXIT_OK;
	if ((rc = parse_args(&m, argc, argv)) != 0 || (rc = vw_relay_opts_load(&m.ro, "viewer-master")) != 0)
		return rc;
	if (vw_relay_opts_checked(&m.ro))
		return EXIT_OK;
	if (!m.ro.server)
		return cli_usage_error(&viewer_master_applet, "--server HOST:PORT (or server = in the configuration) is required");
	if (m.share && (m.share_fd = open(m.share, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "viewer-master: --share %s: %s\n", m.share, strerror(errno));
		return EXIT_NOINPUT;
	}
	if (m.auto_approve)
		log_warn("--auto-approve: joins are admitted without checking the SAS; anyone who knows the session number (or the relay) can get in");
	else
		m.tty_fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	m.stdin_open = !isatty(0);
	if (m.stdin_open)
		fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	if (vw_group_push(&m.group, 0, NULL) < 0 || cry_random(m.group.name_key, VW_KEY_LEN) < 0) {
		fprintf(stderr, "viewer-master: cannot make a group key\n");
		return EXIT_SOFTWARE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (!vw_loop_net() || net_signal_add(vw_loop_net(), SIGINT, on_stop, NULL) < 0 ||
	    net_signal_add(vw_loop_net(), SIGTERM, on_stop, NULL) < 0) {
		fprintf(stderr, "viewer-master: cannot make the event loop\n");
		vw_group_clear(&m.group);
		return EXIT_SOFTWARE;
	}
	for (int i = 0; i < VW_MAX_PEND; i++)
		m.pend[i].fd = -1;
	if (!m.no_lan) {
		char err[160];
		m.lan_ls = vw_direct_listen(m.lan_listen, vw_mdirect_accept, &m, m.lan, sizeof(m.lan), err,
					    sizeof(err));
		if (!m.lan_ls && m.lan_listen) {
			fprintf(stderr, "viewer-master: %s\n", err);
			vw_group_clear(&m.group);
			return EXIT_OSERR;
		}
		if (!m.lan_ls)
			log_warn("no direct LAN path: %s", err);
		else
			log_info("direct LAN path on %s", m.lan);
	}
	rc = run(&m);
	vw_mdirect_shutdown(&m);
	for (int i = 0; i < VW_MAX_PEERS; i++) {
		if (m.peers[i].state != PEER_FREE)
			vw_mchan_close_peer(&m, m.peers[i].id);
		vw_link_clear(&m.peers[i].link);
		cry_wipe(&m.peers[i], sizeof(m.peers[i]));
	}
	if (m.present_fd >= 0)
		vw_loop_close(&m.present_fd);
	net_child_free(m.present_child); /* killed if still running */
	if (m.replay)
		cry_wipe(m.replay, VW_REPLAY_CAP); /* what the appliance's screen showed */
	free(m.replay);
	vw_group_clear(&m.group);
	if (m.tty_fd >= 0)
		close(m.tty_fd);
	if (m.share_fd >= 0)
		close(m.share_fd);
	vw_relay_opts_free(&m.ro);
	vw_loop_free();
	return rc;
}
