/* viewer-client - join a remote-support session as the technician: join through the
 * relay, send a fresh RSA public key (and a commitment to a nonce), receive this join's
 * own secret J, show the SAS to be read out, wait for the person at the appliance to
 * approve (which brings the group keys), then run one command. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#define CHAN 1
#define K_DROP 100 /* with the relay, not the master: never on the wire */

enum cstate { C_JOINING, C_KEYWAIT, C_APPROVAL, C_RUNNING, C_DONE };

struct client {
	struct vw_relay_opts ro; /* how to reach the relay: --server, --https-port, ... */
	char path[160];
	const char *session;
	char **cmd;
	int ncmd;
	int kind;
	struct vw_conn relay;
	struct vw_rtx rtx;     /* acks, retransmit buffer, keepalive and resume of the relay link */
	struct vw_conn direct; /* the direct LAN link to the master, when it worked */
	struct vw_conn *data;  /* where sealed traffic with the master goes: relay or direct */
	char lan[256];         /* the master's direct addresses (JOINED lan=) */
	struct vw_dtry *dtry;  /* the direct attempt under way, or NULL */
	int async_rc;          /* >= 0: a callback ended the command with this */
	char dpath[100];       /* "direct IP:PORT" while data goes there (path: the relay's) */
	int no_lan;
	struct cry_rsa_job *keyjob; /* the key pair being made while we connect and join */
	struct cry_rsa *priv;
	uint8_t *spki;
	size_t spki_len;
	uint8_t nc[VW_NC_LEN]; /* our nonce: committed in HELLO, revealed after KEY */
	struct vw_link link;   /* our own keys with the master, derived from J */
	struct vw_group group; /* the drop's keys, from APPROVE and REKEY */
	struct vw_replay rp;
	enum cstate state;
	uint32_t perms;
	int rc;
	/* the command's channel */
	uint32_t credit, consumed;
	int in_fd;          /* stdin (exec) or the local file (put) */
	int out_fd;         /* the local file (get) */
	char out_tmp[4200];
	const char *out_path;
	struct cry_gcm_stream *check; /* the transfer check (get/put) */
	struct vw_sparse sparse;        /* put: where the local file's data goes on */
	uint64_t size, done;
	uint64_t flushed;   /* get: write-back of the file started up to here */
	int sent_eof, got_sum, opened;
	uint8_t sum[VW_CHECK_LEN];
	int progress;
	time_t last_draw;
	char exposed[1024];   /* service names the master exposes, one per line */
	int raw;              /* shell: the terminal is in raw mode; restore saved_tio */
	struct termios saved_tio;
	struct vw_cfwd *fwd;
	struct vw_drop *drop;
};

static volatile sig_atomic_t stop_flag, winch_flag;

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		winch_flag = 1;
	else
		stop_flag = 1;
}

static uint32_t term_size(void)
{
	struct winsize ws;

	if (ioctl(1, TIOCGWINSZ, &ws) < 0 && ioctl(0, TIOCGWINSZ, &ws) < 0)
		return 0;
	return (uint32_t)ws.ws_row << 16 | ws.ws_col;
}

/* 1 when name is one of the lines of list. */
static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && memcmp(p, name, n) == 0)
			return 1;
		p += l + (e ? 1 : 0);
	}
	return 0;
}

static int send_msg(struct client *c, uint8_t type, uint8_t a, uint32_t b, uint64_t x,
		    const void *data, size_t len)
{
	struct vw_msg m = { type, CHAN, a, b, x, data, len };
	return vw_conn_send_msg(c->data, &c->link.c2m, TF_ID_MASTER, &m);
}

static void draw_progress(struct client *c, int final)
{
	time_t now = time(NULL);
	int pct;

	if (!c->progress || (!final && now == c->last_draw))
		return;
	c->last_draw = now;
	pct = c->size ? (int)(c->done * 100 / c->size) : 100;
	fprintf(stderr, "\r[%-40.*s] %3d%% %llu/%llu bytes", pct * 40 / 100,
		"########################################", pct, (unsigned long long)c->done,
		(unsigned long long)c->size);
	if (final)
		fputc('\n', stderr);
}

/* A fresh key for this transfer's check, as the last OPEN argument; the check itself
 * starts here too (the key is wiped once both are done). */
static int add_check_key(struct client *c, uint8_t *args, size_t cap, size_t *alen)
{
	uint8_t key[VW_CHECK_KEY_LEN];
	char hex[2 * VW_CHECK_KEY_LEN + 1];
	int rc = -1;

	if (cry_random(key, sizeof(key)) == 0 && (c->check = vw_check_new(key))) {
		vw_check_key_hex(key, hex);
		rc = vw_msg_add_arg(args, cap, alen, hex);
	}
	cry_wipe(key, sizeof(key));
	cry_wipe(hex, sizeof(hex));
	return rc;
}

static int start_command(struct client *c)
{
	uint8_t args[8192];
	size_t alen = 0;
	struct stat st;
	uint32_t need = 0;
	uint64_t size = 0;

	switch (c->kind) {
	case VW_K_EXEC: need = VW_P_EXEC; break;
	case VW_K_LS: case VW_K_GET: case VW_K_PUT: need = VW_P_FILES; break;
	case VW_K_FORWARD: need = VW_P_FORWARD; break;
	case VW_K_SHELL: need = VW_P_SHELL; break;
	case VW_K_WATCH: need = VW_P_WATCH; break;
	default: break;
	}
	if (c->kind == K_DROP) {
		/* the drop is the relay's: no permission from the master, only the group keys */
		int rc;
		c->drop = vw_drop_start(c->ncmd - 1, c->cmd + 1, (uint32_t)strtoul(c->session, NULL, 10),
					&c->group, &c->relay, &rc);
		c->state = C_RUNNING;
		return c->drop ? -1 : rc;
	}
	if (!(c->perms & need)) {
		fprintf(stderr, "viewer-client: the master does not allow %s\n", c->cmd[0]);
		return EXIT_NOPERM;
	}
	if (c->kind == VW_K_FORWARD) {
		const char *colon = strchr(c->cmd[1], ':');
		char e[160];
		if (!in_list(c->exposed, colon + 1)) {
			fprintf(stderr, "viewer-client: the master does not expose %s\n", colon + 1);
			return EXIT_NOPERM;
		}
		c->fwd = vw_cfwd_new(atoi(c->cmd[1]), colon + 1, e, sizeof(e));
		if (!c->fwd) {
			fprintf(stderr, "viewer-client: %s\n", e);
			return EXIT_OSERR;
		}
		fprintf(stderr, "viewer-client: forwarding 127.0.0.1:%d -> %s (Ctrl-C to stop)\n",
			vw_cfwd_port(c->fwd), colon + 1);
		c->state = C_RUNNING;
		return -1;
	}
	if (c->kind == VW_K_SHELL) {
		c->in_fd = 0;
		fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
		size = term_size();
		if (isatty(0) && tcgetattr(0, &c->saved_tio) == 0) {
			struct termios raw = c->saved_tio;
			cfmakeraw(&raw);
			if (tcsetattr(0, TCSANOW, &raw) == 0)
				c->raw = 1;
		}
	}
	if (c->kind == VW_K_EXEC) {
		for (int i = 1; i < c->ncmd; i++)
			if (vw_msg_add_arg(args, sizeof(args), &alen, c->cmd[i]) < 0)
				return cli_usage_error(&viewer_client_applet, "command too long");
		c->in_fd = isatty(0) ? -1 : 0;
		if (c->in_fd >= 0)
			fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	} else if (c->kind == VW_K_LS) {
		if (c->ncmd > 1)
			vw_msg_add_arg(args, sizeof(args), &alen, c->cmd[1]);
	} else if (c->kind == VW_K_GET) {
		const char *slash = strrchr(c->cmd[2], '/');
		c->out_path = c->cmd[2];
		/* into a temporary name beside the target, renamed once the checksum matched */
		snprintf(c->out_tmp, sizeof(c->out_tmp), "%.*s.sealbox-get-%ld",
			 slash ? (int)(slash - c->cmd[2] + 1) : 0, c->cmd[2], (long)getpid());
		c->out_fd = open(c->out_tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (c->out_fd < 0) {
			fprintf(stderr, "viewer-client: %s: %s\n", c->out_tmp, strerror(errno));
			return EXIT_CANTCREAT;
		}
		vw_msg_add_arg(args, sizeof(args), &alen, c->cmd[1]);
		if (add_check_key(c, args, sizeof(args), &alen) < 0)
			return EXIT_SOFTWARE;
	} else if (c->kind == VW_K_PUT) {
		c->in_fd = open(c->cmd[1], O_RDONLY | O_CLOEXEC);
		if (c->in_fd < 0 || fstat(c->in_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			fprintf(stderr, "viewer-client: %s: %s\n", c->cmd[1],
				c->in_fd < 0 ? strerror(errno) : "not a regular file");
			return EXIT_NOINPUT;
		}
		size = c->size = (uint64_t)st.st_size;
		vw_msg_add_arg(args, sizeof(args), &alen, c->cmd[2]);
		if (add_check_key(c, args, sizeof(args), &alen) < 0)
			return EXIT_SOFTWARE;
	}
	c->progress = (c->kind == VW_K_GET || c->kind == VW_K_PUT) && isatty(2);
	/* a get writes straight to its file, so a larger window costs no memory here */
	if (send_msg(c, VW_M_OPEN, (uint8_t)c->kind, c->kind == VW_K_GET ? VW_WINDOW * 4 : VW_WINDOW,
		     size, args, alen) < 0)
		return EXIT_SOFTWARE;
	c->state = C_RUNNING;
	return -1;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd q = { fd, POLLOUT, 0 };
				poll(&q, 1, 1000);
				continue;
			}
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* get: starts the write-back of every 8 MiB written, so that the fsync before the
 * rename finds little left to do instead of the whole file (it was a tenth of a fast
 * transfer's time), and the disk works while the data still arrives. */
#define WRITEBACK_STEP (8u << 20)
static void start_writeback(struct client *c)
{
#ifdef SYNC_FILE_RANGE_WRITE
	if (c->done - c->flushed >= WRITEBACK_STEP) {
		sync_file_range(c->out_fd, (off_t)c->flushed, (off_t)(c->done - c->flushed),
				SYNC_FILE_RANGE_WRITE);
		c->flushed = c->done;
	}
#else
	(void)c;
#endif
}

/* A message on our channel. Returns an exit code when the command is over, else -1. */
static int on_chan_msg(struct client *c, const struct vw_msg *m)
{
	switch (m->type) {
	case VW_M_OPEN_OK:
		c->opened = 1;
		c->credit = m->b;
		if (c->kind == VW_K_GET)
			c->size = m->c;
		return -1;
	case VW_M_OPEN_FAIL:
		fprintf(stderr, "viewer-client: %s: %.*s\n", c->cmd[0], (int)m->len, (const char *)m->data);
		return m->a ? m->a : EXIT_FAIL;
	case VW_M_DATA:
		if (m->a == VW_STREAM_ZEROS) {
			/* done <= size always, so this cannot wrap for a huge hole length */
			if (c->kind != VW_K_GET || m->c > c->size - c->done ||
			    lseek(c->out_fd, (off_t)m->c, SEEK_CUR) < 0)
				return EXIT_PROTOCOL;
			vw_check_zeros(c->check, m->c);
			c->done += m->c;
			draw_progress(c, 0);
			return -1;
		}
		if (c->kind == VW_K_GET) {
			if (m->len > c->size - c->done)
				return EXIT_PROTOCOL;
			if (all_zero(m->data, m->len)) {
				if (lseek(c->out_fd, (off_t)m->len, SEEK_CUR) < 0)
					return EXIT_IOERR;
			} else if (write_all(c->out_fd, m->data, m->len) < 0) {
				fprintf(stderr, "viewer-client: %s: %s\n", c->out_tmp, strerror(errno));
				return EXIT_IOERR;
			}
			vw_check_data(c->check, m->data, m->len);
			c->done += m->len;
			start_writeback(c);
			draw_progress(c, 0);
		} else if (write_all(m->a == 1 ? 2 : 1, m->data, m->len) < 0) {
			return EXIT_IOERR;
		}
		c->consumed += (uint32_t)m->len;
		if (c->consumed >= VW_WINDOW / 2) {
			send_msg(c, VW_M_WINDOW, 0, c->consumed, 0, NULL, 0);
			c->consumed = 0;
		}
		return -1;
	case VW_M_WINDOW:
		if ((uint64_t)c->credit + m->b <= VW_WINDOW * 4)
			c->credit += m->b;
		return -1;
	case VW_M_EOF:
		if (c->kind == VW_K_GET && m->len == VW_CHECK_LEN) {
			memcpy(c->sum, m->data, VW_CHECK_LEN);
			c->got_sum = 1;
		}
		return -1;
	case VW_M_EXIT:
		if (m->len)
			fprintf(stderr, "viewer-client: %s: %.*s\n", c->cmd[0], (int)m->len, (const char *)m->data);
		if (c->kind == VW_K_GET) {
			uint8_t sum[VW_CHECK_LEN];
			int bad = vw_check_final(c->check, sum) < 0;
			c->check = NULL;
			draw_progress(c, 1);
			if (m->b != 0)
				return EXIT_IOERR;
			if (bad || !c->got_sum || c->done != c->size || !cry_memeq(sum, c->sum, sizeof(sum))) {
				fprintf(stderr, "viewer-client: get: checksum mismatch, %s not written\n", c->out_path);
				return EXIT_DATAERR;
			}
			if (ftruncate(c->out_fd, (off_t)c->size) < 0 || fsync(c->out_fd) < 0 ||
			    rename(c->out_tmp, c->out_path) < 0 || vw_fsync_parent(c->out_path) < 0) {
				fprintf(stderr, "viewer-client: %s: %s\n", c->out_path, strerror(errno));
				return EXIT_CANTCREAT;
			}
			c->out_tmp[0] = '\0';
			fprintf(stderr, "viewer-client: get: %llu bytes, checksum verified\n", (unsigned long long)c->done);
			return EXIT_OK;
		}
		if (c->kind == VW_K_PUT) {
			draw_progress(c, 1);
			if (m->b == 0)
				fprintf(stderr, "viewer-client: put: %llu bytes, checksum verified\n", (unsigned long long)c->done);
			return m->b == 0 ? EXIT_OK : EXIT_DATAERR;
		}
		return m->b > 255 ? 255 : (int)m->b;
	default:
		return -1;
	}
}

/* Sends what our source has, within the credit and the output room. */
static void pump_source(struct client *c, int readable)
{
	uint8_t buf[VW_CHUNK];

	if (c->state != C_RUNNING || !c->opened || c->in_fd < 0 || c->sent_eof)
		return;
	while (c->credit > 0 && vw_link_room(c->data, TF_ID_MASTER) >= VW_CHUNK + 256) {
		size_t want = c->credit < VW_CHUNK ? c->credit : VW_CHUNK;
		ssize_t n;
		if ((c->kind == VW_K_EXEC || c->kind == VW_K_SHELL) && !readable)
			return;
		if (c->kind == VW_K_PUT) {
			uint64_t hole = vw_hole_at(c->in_fd, &c->sparse, c->done, c->size);
			if (hole) {
				if (hole > VW_HOLE_MAX)
					hole = VW_HOLE_MAX;
				vw_check_zeros(c->check, hole);
				send_msg(c, VW_M_DATA, VW_STREAM_ZEROS, 0, hole, NULL, 0);
				c->done += hole;
				draw_progress(c, 0);
				continue;
			}
			if (want > c->size - c->done)
				want = (size_t)(c->size - c->done); /* a growing file ends at its size */
			n = want ? pread(c->in_fd, buf, want, (off_t)c->done) : 0;
		} else {
			n = read(c->in_fd, buf, want);
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			uint8_t sum[VW_CHECK_LEN];
			size_t sl = 0;
			if (c->check) {
				if (vw_check_final(c->check, sum) == 0)
					sl = sizeof(sum); /* no tag: the master reports a mismatch */
				c->check = NULL;
			}
			send_msg(c, VW_M_EOF, 0, 0, c->done, sum, sl);
			c->sent_eof = 1;
			if (c->in_fd > 0)
				close(c->in_fd);
			c->in_fd = -1;
			return;
		}
		if (c->check)
			vw_check_data(c->check, buf, (size_t)n);
		send_msg(c, VW_M_DATA, 0, 0, 0, buf, (size_t)n);
		c->credit -= (uint32_t)n;
		c->done += (uint64_t)n;
		draw_progress(c, 0);
		if (c->kind == VW_K_EXEC || c->kind == VW_K_SHELL)
			return; /* one read per poll on a pipe or terminal */
	}
}

/* KEY: J for this join alone. From it our link keys and the SAS; then N_c goes to the
 * master (sealed under our c2m key) so that it can make the same SAS. J is wiped. */
static int on_key(struct client *c, const uint8_t *pl, size_t len)
{
	const uint8_t *w, *nm;
	size_t wl;
	uint8_t j[VW_JOIN_LEN];
	struct vw_bind b;
	char sas[VW_SAS_DIGITS + 1];
	uint32_t session = (uint32_t)strtoul(c->session, NULL, 10);
	int bad;

	bad = vw_keymsg_parse(pl, len, &nm, &w, &wl) < 0 || vw_join_unwrap(j, c->priv, w, wl) < 0 ||
	      vw_bind_init(&b, session, c->relay.my_id, c->spki, c->spki_len, nm) < 0 ||
	      vw_link_derive(&c->link, j, &b) < 0 || vw_sas(j, &b, c->nc, sas) < 0 ||
	      send_msg(c, VW_M_REVEAL, 0, 0, 0, c->nc, sizeof(c->nc)) < 0;
	cry_wipe(j, sizeof(j));
	if (bad) {
		fprintf(stderr, "viewer-client: could not receive this join's key\n");
		return EXIT_PROTOCOL;
	}
	fprintf(stderr, "viewer-client: SAS %s - read it to the person at the appliance; waiting for approval\n", sas);
	c->state = C_APPROVAL;
	return -1;
}

/* Approved, and the direct attempt (if any) is over: the command starts. */
static int approved_go(struct client *c)
{
	fprintf(stderr, "viewer-client: approved; path %s\n", c->data == &c->direct ? c->dpath : c->path);
	return start_command(c);
}

static void direct_done(void *arg, struct net_conn *nc, const char *chosen)
{
	struct client *c = arg;
	char err[128];
	int rc;

	c->dtry = NULL;
	memset(&c->direct, 0, sizeof(c->direct));
	if (nc && vw_conn_attach(&c->direct, nc, NULL, err, sizeof(err)) == 0) {
		c->direct.my_id = c->relay.my_id;
		c->direct.seqp = &c->relay.seq; /* one nonce counter for both links */
		c->data = &c->direct;
		/* its frames are kept and acked like the relay's, so a break loses nothing */
		vw_rtx_set_direct(&c->rtx, TF_ID_MASTER, &c->direct);
		snprintf(c->dpath, sizeof(c->dpath), "direct %s", chosen);
	}
	rc = approved_go(c);
	if (rc >= 0)
		c->async_rc = rc;
	vw_loop_kick();
}

/* After approval (only an approved client is let in directly): the master's LAN
 * addresses, briefly, on the loop (the relay link goes on meanwhile); the data path
 * moves there when one proves to hold our direct key. Then the command starts. */
static int try_direct(struct client *c)
{
	if (!c->lan[0] || c->no_lan)
		return approved_go(c);
	c->dtry = vw_direct_try_start(c->lan, c->link.direct, (uint32_t)strtoul(c->session, NULL, 10),
				      c->relay.my_id, 1000, direct_done, c);
	return c->dtry ? -1 : approved_go(c);
}

/* vw_rtx gave up the direct link (broken, silent, or the master went back to the
 * relay): close it; our traffic goes through the relay again, where vw_rtx resends
 * what the master has not acknowledged. */
static void direct_closed(void *arg, uint16_t peer, const char *why)
{
	struct client *c = arg;

	(void)peer;
	if (c->data != &c->direct)
		return;
	fprintf(stderr, "viewer-client: direct link lost (%s); path %s%s\n", why, c->path,
		vw_rtx_live(&c->rtx) ? "" : " (resuming)");
	vw_conn_drop_socket(&c->direct); /* not flushed: it is broken or silent */
	vw_conn_close(&c->direct);
	c->data = &c->relay;
}

static int on_sealed(struct client *c, const struct tframe_hdr *h, const uint8_t *raw,
		     const uint8_t *pl)
{
	static uint8_t pt[VW_MSG_MAX];
	const struct vw_key *keys[1] = { &c->link.m2c };
	struct vw_msg m;
	const char *why = "";
	ssize_t n = vw_open_frame(keys, 1, &c->rp, h, raw, pl, pt, sizeof(pt), NULL, &why);
	int rc = -1;

	if (n < 0 || vw_msg_parse(&m, pt, (size_t)n) < 0) {
		fprintf(stderr, "viewer-client: dropped the session: %s\n", n < 0 ? why : "malformed message");
		return EXIT_PROTOCOL;
	}
	if (m.type == VW_M_REKEY) {
		if (c->state < C_RUNNING || m.len != VW_KEY_LEN ||
		    (uint16_t)m.b != (uint16_t)(c->group.g[0].epoch + 1) ||
		    vw_group_push(&c->group, (uint16_t)m.b, m.data) < 0) {
			fprintf(stderr, "viewer-client: bad re-key\n");
			rc = EXIT_PROTOCOL;
		} else {
			fprintf(stderr, "viewer-client: group key re-keyed (epoch %u)\n", (unsigned)m.b);
		}
	} else if (c->state == C_APPROVAL && m.type == VW_M_APPROVE) {
		ssize_t gl = vw_group_decode(&c->group, m.data, m.len);
		if (gl < 0 || c->group.g[0].epoch != (uint16_t)m.c) {
			fprintf(stderr, "viewer-client: malformed approval\n");
			cry_wipe(pt, (size_t)n);
			return EXIT_PROTOCOL;
		}
		c->perms = m.b;
		snprintf(c->exposed, sizeof(c->exposed), "%.*s", (int)(m.len - (size_t)gl),
			 (const char *)m.data + gl);
		rc = try_direct(c);
	} else if (m.type == VW_M_REFUSE) {
		fprintf(stderr, "viewer-client: the master refused the join: %.*s\n", (int)m.len, (const char *)m.data);
		rc = EXIT_NOPERM;
	} else if (c->state == C_RUNNING && m.chan == CHAN) {
		rc = on_chan_msg(c, &m);
	} else if (c->state == C_RUNNING && c->fwd) {
		vw_cfwd_msg(c->fwd, c->data, &c->link.c2m, &m);
	}
	cry_wipe(pt, (size_t)n);
	return rc;
}

/* Collects the key pair started in main (it was made while the relay round trips ran). */
static int key_ready(struct client *c)
{
	if (c->priv)
		return 0;
	c->priv = cry_rsa_generate_finish(c->keyjob);
	c->keyjob = NULL;
	if (!c->priv || !(c->spki = cry_rsa_public_der_new(c->priv, &c->spki_len))) {
		fprintf(stderr, "viewer-client: RSA key generation failed\n");
		return -1;
	}
	return 0;
}

/* One frame. Returns an exit code when the session is over, -1 to go on. */
static int on_frame(struct client *c, const struct tframe_hdr *h, const uint8_t *raw,
		    const uint8_t *pl, int from_direct)
{
	struct tfctl ctl;
	const char *v;

	if (h->type == TF_DATA) {
		int rc = -1;
		if (h->source != TF_ID_MASTER || h->length == 0)
			return -1;
		if (from_direct)
			vw_rtx_direct_rx(&c->rtx, h);
		else if (vw_rtx_rx(&c->rtx, h))
			return -1; /* we wait for its resend, a resent frame we have, or it
				    * predates the move to the direct link */
		if (c->state == C_KEYWAIT && pl[0] == VW_OUT_KEY) {
			if (h->seq <= c->rp.last_seq)
				return EXIT_PROTOCOL;
			c->rp.last_seq = h->seq;
			rc = on_key(c, pl, h->length);
		} else if (c->state == C_KEYWAIT && pl[0] == VW_OUT_BYE) {
			/* plaintext: the relay could fake it, but it can always refuse service */
			fprintf(stderr, "viewer-client: the master refused the join: %.*s\n",
				(int)(h->length - 1 > 200 ? 200 : h->length - 1), (const char *)pl + 1);
			rc = EXIT_NOPERM;
		} else if (pl[0] == VW_OUT_SEALED && c->link.m2c.set) {
			rc = on_sealed(c, h, raw, pl);
		}
		if (c->rp.last_seq == h->seq)
			vw_rtx_accepted(&c->rtx, TF_ID_MASTER, h->seq, h->length);
		return rc;
	}
	if ((h->type == TF_PING || h->type == TF_PONG) && h->source != TF_ID_RELAY) {
		if (from_direct) {
			vw_rtx_direct_rx(&c->rtx, h); /* keepalive and acks of the direct link */
		} else if (h->source == TF_ID_MASTER) {
			vw_rtx_rx(&c->rtx, h);
			vw_rtx_ctl(&c->rtx, h, pl);
		}
		return -1;
	}
	if (h->type == TF_DROP) {
		if (h->source != TF_ID_RELAY || !c->drop)
			return -1;
		return vw_drop_frame(c->drop, &c->relay, pl, h->length);
	}
	if (h->source != TF_ID_RELAY || tfctl_parse(&ctl, pl, h->length) < 0) {
		fprintf(stderr, "viewer-client: malformed control frame from the relay\n");
		return EXIT_PROTOCOL;
	}
	switch (h->type) {
	case TF_JOINED: {
		uint8_t hello[2100], commit[32];
		ssize_t n;
		unsigned long id = (v = tfctl_get(&ctl, "id")) ? strtoul(v, NULL, 10) : 0;
		if (tfctl_get(&ctl, "resumed") && c->rtx.state == VW_LINK_RESUMING && id == c->relay.my_id) {
			vw_rtx_resumed(&c->rtx, c->path);
			return -1;
		}
		if (c->state != C_JOINING || id < TF_ID_FIRST_CLIENT || id >= TF_ID_ALL)
			return EXIT_PROTOCOL;
		c->relay.my_id = (uint16_t)id;
		/* a drop transfer lives on the relay connection: it cannot survive a resume */
		if (c->kind != K_DROP)
			vw_rtx_enable(&c->rtx, c->session, (uint16_t)id, tfctl_get(&ctl, "token"));
		vw_rtx_window(&c->rtx, tfctl_get(&ctl, "resume_window"));
		snprintf(c->lan, sizeof(c->lan), "%s", (v = tfctl_get(&ctl, "lan")) ? v : "");
		/* for tests only: a local setting (a peer cannot reach it) that puts the direct
		 * path through a forwarder the test can cut */
		if ((v = getenv("SEALBOX_VIEWER_LAN")) && *v && c->lan[0])
			snprintf(c->lan, sizeof(c->lan), "%s", v);
		if (key_ready(c) < 0 || cry_random(c->nc, sizeof(c->nc)) < 0 || cry_sha256(c->nc, sizeof(c->nc), commit) < 0)
			return EXIT_SOFTWARE;
		n = vw_hello_encode(commit, c->spki, c->spki_len, hello, sizeof(hello));
		if (n < 0 || vw_conn_send_plain(&c->relay, TF_ID_MASTER, hello, (size_t)n) < 0)
			return EXIT_SOFTWARE;
		c->state = C_KEYWAIT;
		fprintf(stderr, "viewer-client: joined session %s as client %lu\n", c->session, id);
		return -1;
	}
	case TF_ERROR:
		v = tfctl_get(&ctl, "code");
		if (c->rtx.state == VW_LINK_RESUMING) {
			if (vw_rtx_refused(&c->rtx, v) == 0)
				return -1;
			fprintf(stderr, "viewer-client: relay link lost; cannot resume: %s\n", c->rtx.why);
			return EXIT_UNAVAILABLE;
		}
		fprintf(stderr, "viewer-client: relay: %s%s%s\n", v ? v : "error",
			tfctl_get(&ctl, "msg") ? ": " : "", tfctl_get(&ctl, "msg") ? tfctl_get(&ctl, "msg") : "");
		return c->state == C_APPROVAL ? EXIT_NOPERM : EXIT_UNAVAILABLE;
	case TF_PEER_LEFT:
		v = tfctl_get(&ctl, "id");
		if (v && (strtoul(v, NULL, 10) == TF_ID_MASTER || strtoul(v, NULL, 10) == c->relay.my_id)) {
			const char *r = tfctl_get(&ctl, "reason");
			fprintf(stderr, "viewer-client: %s (%s)%s\n",
				strtoul(v, NULL, 10) == TF_ID_MASTER ? "the master left" : "removed from the session",
				r ? r : "left",
				c->state == C_KEYWAIT ? " before the key exchange: the master may speak another protocol version (this client speaks 3)" : "");
			return c->state == C_APPROVAL || (r && strcmp(r, "kicked") == 0) ? EXIT_NOPERM : EXIT_UNAVAILABLE;
		}
		return -1;
	case TF_END:
		v = tfctl_get(&ctl, "reason");
		fprintf(stderr, "viewer-client: the session ended (%s)\n", v ? v : "ended");
		return c->state == C_APPROVAL ? EXIT_NOPERM : EXIT_UNAVAILABLE;
	case TF_PING:
		vw_conn_send_ctl(&c->relay, TF_PONG, TF_ID_RELAY, "");
		return -1;
	case TF_PEER_JOINED:
		/* the master resumed its link: if we joined while it was away it has not heard
		 * of us (nor our HELLO), so resend what it has not acked */
		v = tfctl_get(&ctl, "id");
		if (v && strtoul(v, NULL, 10) == TF_ID_MASTER && tfctl_get(&ctl, "resumed"))
			vw_rtx_peer_resync(&c->rtx, TF_ID_MASTER);
		return -1;
	default:
		return -1;
	}
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

	pf[0] = (struct pollfd){ -1, 0, 0 }; /* the relay link: a net_conn, it kicks */
	pf[1] = (struct pollfd){ -1, POLLIN, 0 };
	pf[2] = (struct pollfd){ -1, 0, 0 }; /* the direct link: a net_conn too */
	if (c->fwd)
		nf += vw_cfwd_pollfds(c->fwd, c->data, pf + 3, max - 3);
	if (c->state == C_RUNNING && c->opened && c->in_fd >= 0 && !c->sent_eof && c->credit > 0 &&
	    vw_link_room(c->data, TF_ID_MASTER) >= VW_CHUNK + 256) {
		if (c->kind == VW_K_PUT)
			busy = 1;
		else
			pf[1].fd = c->in_fd;
	}
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
				rc = on_frame(c, &h, raw, pl, 0);
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
			rc = on_frame(c, &h, raw, pl, 1);
			vw_conn_consume(&c->direct);
		}
		if (r < 0)
			vw_rtx_direct_broken(&c->rtx, TF_ID_MASTER, "bad frame on the direct link");
	}
	if (rc < 0)
		pump_source(c, R.busy || (pf[1].revents & (POLLIN | POLLHUP)));
	if (rc < 0 && c->drop)
		rc = vw_drop_pump(c->drop, &c->relay);
	if (rc < 0 && c->fwd)
		vw_cfwd_pump(c->fwd, c->data, &c->link.c2m, pf + 3, R.nf - 3);
	if (winch_flag && c->kind == VW_K_SHELL && c->state == C_RUNNING) {
		winch_flag = 0;
		send_msg(c, VW_M_RESIZE, 0, term_size(), 0, NULL, 0);
	}
	if (rc < 0 && vw_rtx_tick(&c->rtx, &c->ro, c->path, sizeof(c->path)) < 0) {
		fprintf(stderr, "viewer-client: relay link lost; cannot resume: %s\n", c->rtx.why);
		R.rc = c->state == C_APPROVAL ? EXIT_NOPERM : EXIT_UNAVAILABLE;
		return 1;
	}
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
	c->rtx.direct_closed = direct_closed;
	c->rtx.cb_arg = c;
	vw_rtx_peer_add(&c->rtx, TF_ID_MASTER);
	R.rc = -1;
	R.lost = 0;
	vw_loop_run(&round);
	rc = R.rc;
	if (rc < 0 && stop_flag && !R.lost) {
		/* Ctrl-C is how a forward ends; anything else was interrupted */
		rc = c->kind == VW_K_FORWARD ? EXIT_OK : 130;
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
	c.in_fd = c.out_fd = -1;
	c.data = &c.relay;
	c.async_rc = -1;
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
	if (c.out_fd >= 0)
		close(c.out_fd);
	if (c.out_tmp[0])
		unlink(c.out_tmp);
	if (c.in_fd > 0)
		close(c.in_fd);
	cry_gcm_stream_free(c.check);
	vw_cfwd_free(c.fwd);
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
