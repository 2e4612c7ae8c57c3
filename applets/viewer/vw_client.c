/* viewer-client - join a remote-support session as the technician: join through the
 * relay, send a fresh RSA public key (and a commitment to a nonce), receive this join's
 * own secret J, show the SAS to be read out, wait for the person at the appliance to
 * approve (which brings the group keys), then run one command. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h> /* struct pollfd: the data shape of a round (vw_loop.h) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "applet.h"
#include "core/cli.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "core/tframe.h"
#include "crypto/crypto.h"
#include "crypto/rsa.h"
#include "crypto/rsa_bg.h"
#include "net/loop.h"
#include "applets/viewer/vw_cfwd.h"
#include "applets/viewer/vw_client.h"
#include "applets/viewer/vw_conf.h"
#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_crypto.h"
#include "applets/viewer/vw_direct.h"
#include "applets/viewer/vw_drop.h"
#include "applets/viewer/vw_files.h"
#include "applets/viewer/vw_loop.h"
#include "applets/viewer/vw_msg.h"
#include "applets/viewer/vw_rtx.h"

static int viewer_client_main(int argc, char **argv);

const struct applet viewer_client_applet = {
	"viewer-client", viewer_client_main,
	"[--server HOST:PORT[,HOST:PORT...]] " VW_RELAY_OPTS_USAGE " [-n] [--no-lan] SESSION exec CMD...|ls [DIR]|get REMOTE LOCAL|put LOCAL REMOTE|forward LPORT:NAME|shell|watch|drop put LOCAL [NAME]|drop get NAME LOCAL|drop ls",
	APPLET_CLIENT,
	"join a remote-support session as the technician",
	&vw_conf_spec,
};

static volatile sig_atomic_t stop_flag, winch_flag;

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		winch_flag = 1;
	else
		stop_flag = 1;
}

/* One round on the loop (vw_loop.h): what to wait for... */
static struct {
	int nf;    /* entries in the set (3 + the forwards') */
	int busy;  /* the source is ready without waiting (a file to put) */
	int rc;    /* >= 0: the command's result, the loop ends */
	int lost;  /* the relay link is gone for good */
} R;

static int c_build(void *arg, struct pollfd *pf, int max, int *timeout)
{
	struct client *c = arg;
	int busy = 0, nf = 3;

	/* (the relay and direct links are net_conns: they kick a round themselves) */
	pf[0] = (struct pollfd){ c->outq[0].len ? 1 : -1, POLLOUT, 0 };
	pf[1] = (struct pollfd){ -1, POLLIN, 0 };
	pf[2] = (struct pollfd){ c->outq[1].len ? 2 : -1, POLLOUT, 0 };
	if (c->fwd)
		nf += vw_cfwd_pollfds(c->fwd, c->data, pf + 3, max - 3);
	pf[1].fd = vc_source_poll(c, &busy);
	if (c->drop && vw_drop_wants_out(c->drop) && vw_conn_room(&c->relay) >= VW_FRAME_MAX)
		busy = 1;
	R.busy = busy;
	/* bytes to take, or frames queued that the round hands to the connection */
	if (vw_conn_pending(&c->relay) || vw_conn_want_write(&c->relay) ||
	    (c->data == &c->direct && (vw_conn_pending(&c->direct) || vw_conn_want_write(&c->direct))))
		busy = 1;
	R.nf = nf;
	*timeout = busy || stop_flag || winch_flag ? 0 : vw_rtx_poll_ms(&c->rtx, 1000);
	return nf;
}

/* ...and what became ready. 1 ends the loop. */
static int c_handle(void *arg, struct pollfd *pf, int n)
{
	struct client *c = arg;
	int rc = -1;

	(void)n;
	if (c->async_rc >= 0) {
		R.rc = c->async_rc;
		return 1;
	}
	if (stop_flag)
		return 1;
	if (vw_conn_pending(&c->relay)) {
		struct tframe_hdr h;
		const uint8_t *raw, *pl;
		size_t had = c->relay.in_len;
		int r = 0;
		if (vw_conn_on_readable(&c->relay) < 0) {
			if (vw_rtx_lost(&c->rtx, c->relay.err) < 0)
				return R.lost = 1;
		} else {
			if (c->relay.in_len > had)
				vw_rtx_heard(&c->rtx);
			while (rc < 0 && vw_conn_up(&c->relay) && (r = vw_conn_frame(&c->relay, &h, &raw, &pl)) == 1) {
				rc = vc_on_frame(c, &h, raw, pl, 0);
				vw_conn_consume(&c->relay);
			}
			if (rc < 0 && r < 0 && vw_rtx_lost(&c->rtx, c->relay.err) < 0)
				return R.lost = 1;
		}
	}
	/* (a relay frame may have ended the direct link meanwhile: the master went back) */
	if (rc < 0 && c->data == &c->direct && !c->direct.dead && vw_conn_pending(&c->direct)) {
		struct tframe_hdr h;
		const uint8_t *raw, *pl;
		int r = 0;
		if (vw_conn_on_readable(&c->direct) < 0)
			vw_rtx_direct_broken(&c->rtx, TF_ID_MASTER, c->direct.err);
		while (rc < 0 && (r = vw_conn_frame(&c->direct, &h, &raw, &pl)) == 1) {
			if (h.source != TF_ID_MASTER || h.target != c->relay.my_id ||
			    (h.type != TF_DATA && h.type != TF_PING && h.type != TF_PONG)) {
				r = -1;
				break;
			}
			rc = vc_on_frame(c, &h, raw, pl, 1);
			vw_conn_consume(&c->direct);
		}
		if (r < 0)
			vw_rtx_direct_broken(&c->rtx, TF_ID_MASTER, "bad frame on the direct link");
	}
	if (rc < 0)
		vc_pump_source(c, R.busy || (pf[1].revents & (POLLIN | POLLHUP)));
	if (rc < 0 && c->drop)
		rc = vw_drop_pump(c->drop, &c->relay);
	if (rc < 0 && c->fwd)
		vw_cfwd_pump(c->fwd, c->data, &c->link.c2m, pf + 3, R.nf - 3);
	/* taken whatever the kind: left set, it made every round's timeout 0 (a busy loop
	 * for as long as an exec ran after a resize); a shell not open yet reads the size
	 * when it opens */
	if (winch_flag) {
		winch_flag = 0;
		if ((vc_kind_flags(c->kind) & VC_TTY) && c->state == C_RUNNING)
			vc_send_msg(c, VW_M_RESIZE, 0, vc_term_size(), 0, NULL, 0);
	}
	if (rc < 0 && vw_rtx_tick(&c->rtx, &c->ro, c->path, sizeof(c->path)) < 0) {
		fprintf(stderr, "viewer-client: relay link lost; cannot resume: %s\n", c->rtx.why);
		R.rc = c->state == C_APPROVAL ? EXIT_NOPERM : EXIT_UNAVAILABLE;
		return 1;
	}
	if ((c->outq[0].len || c->outq[1].len) && vc_out_flush(c) < 0 && rc < 0)
		rc = EXIT_IOERR;
	vc_grant(c);
	/* the command's end waits for its output to be written */
	if (rc >= 0 && (c->outq[0].len || c->outq[1].len)) {
		c->end_rc = rc;
		rc = -1;
	}
	if (rc < 0 && c->end_rc >= 0 && !c->outq[0].len && !c->outq[1].len)
		rc = c->end_rc;
	if (vw_conn_up(&c->relay) && vw_conn_flush(&c->relay) < 0 && vw_rtx_lost(&c->rtx, c->relay.err) < 0)
		return R.lost = 1;
	/* a broken direct link falls back to the relay after a moment (vw_rtx_tick): a
	 * kick closes it at once too, and the relay's PEER_LEFT then says so first */
	if (c->data == &c->direct && !c->direct.dead && vw_conn_flush(&c->direct) < 0)
		vw_rtx_direct_broken(&c->rtx, TF_ID_MASTER, c->direct.err);
	if (rc >= 0) {
		R.rc = rc;
		return 1;
	}
	return stop_flag;
}

static int run(struct client *c)
{
	char err[1024], ctl[64]; /* err: every fallback step's reason */
	const struct vw_round round = { c_build, c_handle, c };
	int rc;

	snprintf(ctl, sizeof(ctl), "session=%s\n", c->session);
	if (vw_conn_open_relay(&c->relay, &c->ro, TF_JOIN, ctl, "viewer-client", c->path, sizeof(c->path), err,
			       sizeof(err)) < 0) {
		fprintf(stderr, "viewer-client: %s\n", err);
		return EXIT_UNAVAILABLE;
	}
	vw_rtx_init(&c->rtx, &c->relay, "viewer-client");
	c->rtx.direct_closed = vc_direct_closed;
	c->rtx.cb_arg = c;
	vw_rtx_peer_add(&c->rtx, TF_ID_MASTER);
	R.rc = -1;
	R.lost = 0;
	vw_loop_run(&round);
	rc = R.rc;
	if (rc < 0 && stop_flag && !R.lost) {
		/* Ctrl-C is how a forward ends; anything else was interrupted */
		rc = vc_kind_flags(c->kind) & VC_STOP_OK ? EXIT_OK : 130;
	} else if (rc < 0) {
		fprintf(stderr, "viewer-client: connection lost: %s\n", c->relay.err[0] ? c->relay.err : "error");
		rc = c->state == C_APPROVAL ? EXIT_NOPERM : EXIT_UNAVAILABLE;
	}
	if (!c->relay.dead && vw_conn_up(&c->relay) && vw_rtx_live(&c->rtx)) {
		/* leave explicitly: a bare close looks like a dropped link to the relay, which
		 * would keep our slot for its resume grace period */
		vw_conn_send_ctl(&c->relay, TF_END, TF_ID_RELAY, "");
		vw_conn_flush_all(&c->relay, 1000);
	}
	if (c->data == &c->direct) {
		if (!c->direct.dead)
			vw_conn_flush_all(&c->direct, 1000);
		vw_conn_close(&c->direct);
	}
	vw_conn_close(&c->relay);
	vw_rtx_free(&c->rtx);
	vw_direct_try_cancel(c->dtry);
	c->dtry = NULL;
	return rc;
}

static void on_loop_signal(int signo, void *arg)
{
	(void)arg;
	on_signal(signo);
	vw_loop_kick();
}

static int viewer_client_main(int argc, char **argv)
{
	static struct client c;
	struct sigaction sa;
	int i = 1, rc;

	if (cli_wants_help(argc, argv)) {
		cli_usage(&viewer_client_applet, stdout);
		return EXIT_OK;
	}
	if (vw_conf_print_sample(argc, argv, stdout))
		return EXIT_OK;
	memset(&c, 0, sizeof(c));
	c.in_fd = -1;
	vw_xfer_init(&c.xfer);
	c.data = &c.relay;
	c.async_rc = -1;
	c.end_rc = -1;
	vw_relay_opts_init(&c.ro);
	for (; i < argc && argv[i][0] == '-'; i++) {
		int r = vw_relay_opt(&c.ro, argc, argv, &i);
		if (r < 0)
			return cli_usage_error(&viewer_client_applet, "%s %s: want a port 0-65535 (0 = never)", argv[i - 1], argv[i]);
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--no-lan") == 0)
			c.no_lan = 1;
		else
			return cli_usage_error(&viewer_client_applet, "unknown option %s", argv[i]);
	}
	/* `viewer-client [SESSION] COMMAND --help`: that command's usage, exit 0 */
	static const struct cli_sub subs[] = {
		{ "exec", "CMD...   run CMD on the appliance (if the master allows it)" },
		{ "ls", "[DIR]   list the shared directory" },
		{ "get", "REMOTE LOCAL   fetch a file from the share" },
		{ "put", "LOCAL REMOTE   store a file into the share" },
		{ "forward", "LPORT:NAME   forward 127.0.0.1:LPORT to the master's exposed NAME" },
		{ "shell", "  an interactive shell (if the master allows it)" },
		{ "watch", "  follow the terminal the master presents (--present CMD)" },
		{ "drop", "put LOCAL [NAME] | drop get NAME LOCAL | drop ls   the relay's drop box" },
	};
	size_t nsubs = sizeof(subs) / sizeof(subs[0]);
	if (i < argc && (cli_sub_help("viewer-client", subs, nsubs, argc - i, argv + i) ||
			 cli_sub_help("viewer-client", subs, nsubs, argc - i - 1, argv + i + 1)))
		return EXIT_OK;
	if ((rc = vw_relay_opts_load(&c.ro, "viewer-client")) != 0)
		return rc;
	if (vw_relay_opts_checked(&c.ro))
		return EXIT_OK;
	if (!c.ro.server || argc - i < 2)
		return cli_usage_error(&viewer_client_applet, "want --server HOST:PORT (or server = in the configuration) SESSION COMMAND");
	c.session = argv[i++];
	if (strspn(c.session, "0123456789") != strlen(c.session) || strlen(c.session) > 9)
		return cli_usage_error(&viewer_client_applet, "session must be a number: %s", c.session);
	c.cmd = argv + i;
	c.ncmd = argc - i;
	if (strcmp(c.cmd[0], "exec") == 0 && c.ncmd >= 2)
		c.kind = VW_K_EXEC;
	else if (strcmp(c.cmd[0], "ls") == 0 && c.ncmd <= 2)
		c.kind = VW_K_LS;
	else if (strcmp(c.cmd[0], "get") == 0 && c.ncmd == 3)
		c.kind = VW_K_GET;
	else if (strcmp(c.cmd[0], "put") == 0 && c.ncmd == 3)
		c.kind = VW_K_PUT;
	else if (strcmp(c.cmd[0], "forward") == 0 && c.ncmd == 2 && strchr(c.cmd[1], ':') &&
		 atoi(c.cmd[1]) >= 0 && atoi(c.cmd[1]) < 65536 && strchr(c.cmd[1], ':')[1])
		c.kind = VW_K_FORWARD;
	else if (strcmp(c.cmd[0], "shell") == 0 && c.ncmd == 1)
		c.kind = VW_K_SHELL;
	else if (strcmp(c.cmd[0], "watch") == 0 && c.ncmd == 1)
		c.kind = VW_K_WATCH;
	else if (strcmp(c.cmd[0], "drop") == 0 && vw_drop_args_ok(c.ncmd - 1, c.cmd + 1))
		c.kind = K_DROP;
	else
		return cli_usage_error(&viewer_client_applet, "unknown command or wrong arguments: %s", c.cmd[0]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	if (!vw_loop_net() || net_signal_add(vw_loop_net(), SIGINT, on_loop_signal, NULL) < 0 ||
	    net_signal_add(vw_loop_net(), SIGTERM, on_loop_signal, NULL) < 0 ||
	    net_signal_add(vw_loop_net(), SIGWINCH, on_loop_signal, NULL) < 0) {
		fprintf(stderr, "viewer-client: cannot make the event loop\n");
		return EXIT_SOFTWARE;
	}
	/* a fresh key pair per join: nothing to steal from disk, nothing to reuse; made on
	 * a thread while we connect and join, since it is needed only after JOINED */
	c.keyjob = cry_rsa_generate_start(2048);
	if (!c.keyjob) {
		fprintf(stderr, "viewer-client: out of memory\n");
		return EXIT_SOFTWARE;
	}
	rc = run(&c);
	cry_rsa_free(cry_rsa_generate_finish(c.keyjob)); /* not collected: connect failed */
	if (c.raw)
		tcsetattr(0, TCSANOW, &c.saved_tio);
	vw_xfer_free(&c.xfer); /* a get not committed leaves no temporary file */
	if (c.in_fd > 0)
		close(c.in_fd);
	vw_cfwd_free(c.fwd);
	vw_pend_free(&c.outq[0]);
	vw_pend_free(&c.outq[1]);
	vw_drop_free(c.drop);
	vw_link_clear(&c.link);
	vw_group_clear(&c.group);
	cry_wipe(c.nc, sizeof(c.nc));
	cry_rsa_free(c.priv);
	free(c.spki);
	vw_relay_opts_free(&c.ro);
	vw_loop_free();
	return rc;
}
