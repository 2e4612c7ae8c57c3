/* vw_mopen.c - viewer-master's table of channel kinds (exec, shell, ls, get, put,
 * forward, watch: struct vw_mkind, vw_master.h): what opening each one takes (a command
 * on a pipe or a pty, a file under the share, a connection to an exposed service) and
 * what the kinds that are not plain byte streams do once open (get and put through
 * vw_xfer.c, a forward's connect). The byte streams and the dispatch are vw_mchan.c's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "core/log.h"
#include "crypto/crypto.h"
#include "net/child.h"
#include "net/conn.h"
#include "net/fdsock.h"
#include "applets/viewer/vw_files.h"
#include "applets/viewer/vw_loop.h"
#include "applets/viewer/vw_master.h"
#include "applets/viewer/vw_msg.h"

#define ROOM_NEEDED (VW_CHUNK + 256)

/* The transfer check keyed by the client's OPEN argument (64 hex digits). */
static struct cry_gcm_stream *check_from_arg(char *hex)
{
	uint8_t key[VW_CHECK_KEY_LEN];
	struct cry_gcm_stream *g = NULL;

	if (vw_check_key_parse(hex, key) == 0)
		g = vw_check_new(key);
	cry_wipe(key, sizeof(key));
	cry_wipe(hex, strlen(hex));
	return g;
}

/* get/put: a share, then PATH and the client's check key (the check starts here).
 * -1 when refused (said to the client). */
static int transfer_args(struct vw_master *m, uint16_t peer, struct vw_chan *ch, int argc,
			 char **argv, const char *what)
{
	char why[64];

	if (!m->share) {
		vw_mchan_fail(m, peer, ch->id, 77, "no directory is shared here (--share)");
		return -1;
	}
	if (argc != 2 || !(ch->xfer.check = check_from_arg(argv[1]))) {
		snprintf(why, sizeof(why), "%s needs a path and a check key", what);
		vw_mchan_fail(m, peer, ch->id, 64, why);
		return -1;
	}
	return 0;
}

static void on_exit_status(struct net_child *c, int status, void *arg)
{
	struct vw_chan *ch = arg;

	(void)c;
	ch->exited = 1;
	ch->status = status;
	vw_loop_kick(); /* the exit code goes after the output: vw_mchan_reap */
}

/* The command on the loop (net/child.h): our ends become the channel's descriptors. */
static int start_child(struct vw_master *m, struct vw_chan *ch, char *const *argv, int pty, uint32_t size)
{
	struct net_child_spec spec = { argv, m->share, pty, (unsigned short)(size >> 16), (unsigned short)size, NULL };
	char err[160];

	if (!(ch->child = net_child_spawn(vw_loop_net(), &spec, on_exit_status, ch, err, sizeof(err)))) {
		log_warn("client %u: %s", ch->peer, err);
		return -1;
	}
	ch->wfd = net_child_take_fd(ch->child, NET_CHILD_STDIN);
	ch->rfd[0] = net_child_take_fd(ch->child, NET_CHILD_STDOUT);
	ch->rfd[1] = net_child_take_fd(ch->child, NET_CHILD_STDERR);
	return 0;
}

static int start_exec(struct vw_master *m, struct vw_chan *ch, char **argv)
{
	return start_child(m, ch, argv, 0, 0);
}

/* The exposed service answered (fd) or not (-1), on the loop: the next pump tells the
 * client (vw_mchan_pump sends OPEN_OK or OPEN_FAIL). */
static void on_connected(int fd, const char *err, void *arg)
{
	struct vw_chan *ch = arg;

	ch->conn = NULL;
	ch->rfd[0] = fd;
	if (fd < 0)
		log_info("client %u: forward: %s", ch->peer, err);
	vw_loop_kick();
}

/* Starts connecting to "host:port" (numeric, or a name through the loop's resolver). */
static int start_connect(struct vw_chan *ch, const char *target)
{
	char host[256];
	int port;

	if (net_split_hostport(target, host, sizeof(host), &port, 0) < 0 || port <= 0)
		return -1;
	ch->conn = net_connect_fd(vw_loop_net(), host, port, 10000, on_connected, ch);
	return ch->conn ? 0 : -1;
}

static void on_present_exit(struct net_child *c, int status, void *arg)
{
	struct vw_master *m = arg;

	(void)c;
	m->present_exited = 1;
	m->present_status = status;
	vw_loop_kick();
}

/* An interactive shell (or cmd) on a new pseudo-terminal: the child gets its own session
 * with the pty as controlling terminal (net/child.h); we keep the master side. ch NULL:
 * the presented terminal, shared by all watchers. */
static int start_pty(struct vw_master *m, struct vw_chan *ch, uint32_t size, const char *cmd)
{
	const char *sh = getenv("SHELL");
	char *shell_argv[] = { (char *)(sh && *sh ? sh : "/bin/sh"), "-i", NULL };
	char *cmd_argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	struct net_child_spec spec = { cmd ? cmd_argv : shell_argv, m->share, 1, (unsigned short)(size >> 16),
				       (unsigned short)size, NULL };
	char err[160];

	if (ch)
		return start_child(m, ch, spec.argv, 1, size);
	if (!(m->present_child = net_child_spawn(vw_loop_net(), &spec, on_present_exit, m, err, sizeof(err)))) {
		log_warn("--present: %s", err);
		return -1;
	}
	m->present_fd = net_child_take_fd(m->present_child, NET_CHILD_STDOUT);
	m->present_eof = m->present_exited = 0;
	return 0;
}

/* A late watcher first gets the tail of what the presented terminal showed, so it does
 * not start on an empty screen (a tail, not a terminal state: a full-screen program may
 * need a redraw to look right). Skipped when it does not fit the credit or the link. */
static void replay_to(struct vw_master *m, struct vw_chan *ch)
{
	if (!m->replay_len || ch->credit < m->replay_len ||
	    vw_master_room(m, ch->peer) < m->replay_len + 4 * ROOM_NEEDED)
		return;
	for (size_t off = 0; off < m->replay_len; off += VW_CHUNK) {
		size_t n = m->replay_len - off > VW_CHUNK ? VW_CHUNK : m->replay_len - off;
		vw_mchan_send(m, ch->peer, VW_M_DATA, ch->id, 0, 0, 0, m->replay + off, n);
	}
	ch->credit -= (uint32_t)m->replay_len;
}

/* ---- opening a channel: the open of each row of the table below ----
 * The request's arguments are parsed and the channel slot is cleared; open refuses
 * (OPEN_FAIL, and frees what it took: -1) or takes the slot (ch->used) and says OPEN_OK
 * now or, for a forward, once the service answered (forward_pump). */

static int open_exec(struct vw_master *m, struct vw_peer *p, struct vw_chan *ch,
		     const struct vw_msg *msg, int argc, char **argv)
{
	if (!m->allow_exec) {
		vw_mchan_fail(m, p->id, msg->chan, 77, "exec is not allowed here (--allow-exec)");
		return -1;
	}
	if (argc < 1) {
		vw_mchan_fail(m, p->id, msg->chan, 64, "exec needs a command");
		return -1;
	}
	if (start_exec(m, ch, argv) < 0) {
		vw_mchan_fail(m, p->id, msg->chan, 71, "cannot start the command");
		return -1;
	}
	log_info("client %u: exec %s", p->id, argv[0]);
	ch->used = 1;
	vw_mchan_send(m, p->id, VW_M_OPEN_OK, ch->id, 0, VW_WINDOW, 0, NULL, 0);
	return 0;
}

/* A listing fits the initial window: it needs no flow control, and no channel slot. */
static int open_ls(struct vw_master *m, struct vw_peer *p, struct vw_chan *ch,
		   const struct vw_msg *msg, int argc, char **argv)
{
	char *list;
	size_t len = 0;
	int fd;

	(void)ch;
	if (!m->share) {
		vw_mchan_fail(m, p->id, msg->chan, 77, "no directory is shared here (--share)");
		return -1;
	}
	fd = vw_share_open(m->share_fd, argc > 0 ? argv[0] : "", O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		vw_mchan_fail(m, p->id, msg->chan, errno == EPERM || errno == ELOOP ? 77 : 66, vw_mchan_errno_text(errno));
		return -1;
	}
	list = vw_share_list(fd, VW_WINDOW - 1024, &len);
	if (!list) {
		vw_mchan_fail(m, p->id, msg->chan, 74, "cannot list");
		return -1;
	}
	vw_mchan_send(m, p->id, VW_M_OPEN_OK, msg->chan, 0, 0, len, NULL, 0);
	for (size_t off = 0; off < len; off += VW_CHUNK)
		vw_mchan_send(m, p->id, VW_M_DATA, msg->chan, 0, 0, 0, list + off,
			    len - off > VW_CHUNK ? VW_CHUNK : len - off);
	vw_mchan_send(m, p->id, VW_M_EXIT, msg->chan, 0, 0, 0, NULL, 0);
	free(list);
	return 0;
}

static int open_get(struct vw_master *m, struct vw_peer *p, struct vw_chan *ch,
		    const struct vw_msg *msg, int argc, char **argv)
{
	struct stat st;
	int fd;

	if (transfer_args(m, p->id, ch, argc, argv, "get") < 0)
		return -1;
	/* from here on a refusal frees the channel: it holds the check */
	/* non-blocking: opening a FIFO (or a device) for reading would otherwise stop
	 * the whole loop until someone writes to it; only a regular file is served */
	fd = vw_share_open(m->share_fd, argv[0], O_RDONLY | O_NONBLOCK, 0);
	if (fd < 0) {
		int e = errno;
		vw_mchan_free(m, ch);
		vw_mchan_fail(m, p->id, msg->chan, e == EPERM || e == ELOOP ? 77 : 66, vw_mchan_errno_text(e));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		close(fd);
		vw_mchan_free(m, ch);
		log_info("client %u: get %s refused: not a regular file", p->id, argv[0]);
		vw_mchan_fail(m, p->id, msg->chan, 66, "not a regular file");
		return -1;
	}
	log_info("client %u: get %s (%lld bytes)", p->id, argv[0], (long long)st.st_size);
	vw_xfer_send_start(&ch->xfer, fd, (uint64_t)st.st_size, ch->xfer.check);
	ch->used = 1;
	vw_mchan_send(m, p->id, VW_M_OPEN_OK, ch->id, 0, 0, ch->xfer.size, NULL, 0);
	return 0;
}

static int open_put(struct vw_master *m, struct vw_peer *p, struct vw_chan *ch,
		    const struct vw_msg *msg, int argc, char **argv)
{
	char leaf[256];
	int dirfd;

	if (transfer_args(m, p->id, ch, argc, argv, "put") < 0)
		return -1;
	dirfd = vw_share_parent(m->share_fd, argv[0], leaf, sizeof(leaf));
	if (dirfd < 0) {
		int e = errno;
		vw_mchan_free(m, ch); /* it holds the check */
		vw_mchan_fail(m, p->id, msg->chan, e == EPERM || e == ELOOP ? 77 : 66, vw_mchan_errno_text(e));
		return -1;
	}
	if (vw_xfer_recv_start(&ch->xfer, dirfd, leaf, "put", msg->c, ch->xfer.check) < 0) {
		int e = errno;
		vw_mchan_free(m, ch);
		vw_mchan_fail(m, p->id, msg->chan, 73, vw_mchan_errno_text(e));
		return -1;
	}
	log_info("client %u: put %s (%llu bytes)", p->id, argv[0], (unsigned long long)msg->c);
	ch->used = 1;
	vw_mchan_send(m, p->id, VW_M_OPEN_OK, ch->id, 0, VW_WINDOW, 0, NULL, 0);
	return 0;
}

static int open_forward(struct vw_master *m, struct vw_peer *p, struct vw_chan *ch,
			const struct vw_msg *msg, int argc, char **argv)
{
	const struct vw_expose *x = NULL;

	for (int i = 0; i < m->n_expose && argc == 1; i++)
		if (strcmp(m->expose[i].name, argv[0]) == 0)
			x = &m->expose[i];
	if (!x) {
		vw_mchan_fail(m, p->id, msg->chan, 77, "no such service is exposed here (--expose)");
		return -1;
	}
	if (start_connect(ch, x->target) < 0) {
		vw_mchan_fail(m, p->id, msg->chan, 69, "cannot connect to the exposed service");
		return -1;
	}
	ch->connecting = 1;
	ch->used = 1;
	log_info("client %u: forward to %s (%s)", p->id, x->name, x->target);
	return 0; /* OPEN_OK once connected */
}

static int open_shell(struct vw_master *m, struct vw_peer *p, struct vw_chan *ch,
		      const struct vw_msg *msg, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!m->allow_shell) {
		vw_mchan_fail(m, p->id, msg->chan, 77, "shell is not allowed here (--allow-shell)");
		return -1;
	}
	if (start_pty(m, ch, (uint32_t)msg->c, NULL) < 0) {
		vw_loop_close(&ch->rfd[0]);
		vw_mchan_fail(m, p->id, msg->chan, 71, "cannot start a shell");
		return -1;
	}
	log_info("client %u: shell", p->id);
	ch->used = 1;
	vw_mchan_send(m, p->id, VW_M_OPEN_OK, ch->id, 0, VW_WINDOW, 0, NULL, 0);
	return 0;
}

static int open_watch(struct vw_master *m, struct vw_peer *p, struct vw_chan *ch,
		      const struct vw_msg *msg, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!m->present) {
		vw_mchan_fail(m, p->id, msg->chan, 77, "nothing is presented here (--present)");
		return -1;
	}
	if (m->present_done) {
		vw_mchan_fail(m, p->id, msg->chan, 69, "the presented command has ended");
		return -1;
	}
	/* the first watcher starts the presented command; later ones join it live */
	if (m->present_fd < 0 && start_pty(m, NULL, (uint32_t)msg->c, m->present) < 0) {
		vw_mchan_fail(m, p->id, msg->chan, 71, "cannot start the presented command");
		return -1;
	}
	log_info("client %u: watch", p->id);
	ch->used = 1;
	vw_mchan_send(m, p->id, VW_M_OPEN_OK, ch->id, 0, 0, 0, NULL, 0);
	replay_to(m, ch);
	return 0;
}

/* ---- what the kinds that are not plain byte streams do once open ---- */

/* get: the file goes out within the credit and the link's room (vw_xfer.h) */
static int xfer_emit(void *arg, uint8_t type, uint8_t a, uint64_t c, const void *data, size_t len)
{
	struct vw_chan *ch = arg;

	vw_mchan_send(ch->m, ch->peer, type, ch->id, a, 0, c, data, len);
	return 0;
}

static size_t xfer_room(void *arg)
{
	struct vw_chan *ch = arg;

	return vw_master_room(ch->m, ch->peer);
}

/* A regular file is always readable: the round goes on without waiting. */
static void get_poll(struct vw_master *m, struct vw_chan *ch, struct pollfd q[3], int *busy)
{
	(void)q;
	if (ch->credit > 0 && vw_master_room(m, ch->peer) >= ROOM_NEEDED)
		*busy = 1;
}

static void get_pump(struct vw_master *m, struct vw_chan *ch, const struct pollfd q[3])
{
	int ok;

	(void)q;
	if (!vw_xfer_send(&ch->xfer, &ch->credit, xfer_room, xfer_emit, ch))
		return;
	ok = ch->xfer.done == ch->xfer.size;
	vw_mchan_send(m, ch->peer, VW_M_EXIT, ch->id, 0, ok ? 0 : 74, 0,
		      ok ? NULL : "file changed size while reading", ok ? 0 : 31);
	vw_mchan_free(m, ch);
}

/* put: the client's records go into the temporary file, its EOF commits it */
static const char *put_data(struct vw_chan *ch, const struct vw_msg *msg)
{
	if (msg->a == VW_STREAM_ZEROS)
		return vw_xfer_recv_zeros(&ch->xfer, msg->c) < 0 ? "bad hole" : NULL;
	if (vw_xfer_recv_data(&ch->xfer, msg->data, msg->len) < 0)
		return "write failed";
	ch->consumed += (uint32_t)msg->len;
	return NULL;
}

static void put_eof(struct vw_master *m, struct vw_chan *ch, const struct vw_msg *msg)
{
	const char *why = NULL;

	switch (vw_xfer_recv_commit(&ch->xfer, msg->data, msg->len)) {
	case VW_XFER_OK: break;
	case VW_XFER_SHORT: why = "short transfer"; break;
	case VW_XFER_BADSUM: why = "checksum mismatch"; break;
	case VW_XFER_NOWRITE: why = "cannot write"; break;
	case VW_XFER_NORENAME: why = vw_mchan_errno_text(errno); break;
	}
	vw_mchan_send(m, ch->peer, VW_M_EXIT, ch->id, 0, why ? 65 : 0, 0, why, why ? strlen(why) : 0);
	log_info("client %u: put %s %s", ch->peer, ch->xfer.name, why ? why : "done");
	vw_mchan_free(m, ch);
}

/* forward: nothing to wait for while net_connect_fd works (on_connected calls back) */
static void forward_poll(struct vw_master *m, struct vw_chan *ch, struct pollfd q[3], int *busy)
{
	if (!ch->connecting)
		vw_mstream_poll(m, ch, q, busy);
}

static void forward_pump(struct vw_master *m, struct vw_chan *ch, const struct pollfd q[3])
{
	if (ch->connecting) {
		if (ch->conn)
			return; /* still connecting */
		if (ch->rfd[0] < 0 || (ch->wfd = dup(ch->rfd[0])) < 0) {
			vw_mchan_fail(m, ch->peer, ch->id, 69, "the exposed service refused the connection");
			vw_mchan_free(m, ch);
			return;
		}
		ch->connecting = 0;
		vw_mchan_send(m, ch->peer, VW_M_OPEN_OK, ch->id, 0, VW_WINDOW, 0, NULL, 0);
		return;
	}
	vw_mstream_pump(m, ch, q);
	/* over when both directions are: the client frees its end on EXIT */
	if (ch->rfd[0] < 0 && ch->wfd < 0) {
		vw_mchan_send(m, ch->peer, VW_M_EXIT, ch->id, 0, 0, 0, NULL, 0);
		vw_mchan_free(m, ch);
	}
}

static void shell_resize(struct vw_chan *ch, uint32_t rows_cols)
{
	struct winsize ws = { (unsigned short)(rows_cols >> 16), (unsigned short)rows_cols, 0, 0 };

	if (ch->rfd[0] >= 0)
		ioctl(ch->rfd[0], TIOCSWINSZ, &ws);
}

/* The table: one row per kind. A listing never holds a slot (open_ls answers at once);
 * its row has the stream operations only so that no entry is NULL. */
#define STREAM vw_mstream_data, vw_mstream_eof, vw_mstream_poll, vw_mstream_pump
static const struct vw_mkind kinds[] = {
	{ VW_K_EXEC, open_exec, STREAM, NULL, 0 },
	{ VW_K_SHELL, open_shell, STREAM, shell_resize, 0 },
	{ VW_K_LS, open_ls, STREAM, NULL, 0 },
	{ VW_K_GET, open_get, vw_mstream_data, vw_mstream_eof, get_poll, get_pump, NULL, 0 },
	{ VW_K_PUT, open_put, put_data, put_eof, vw_mstream_poll, vw_mstream_pump, NULL, 0 },
	{ VW_K_FORWARD, open_forward, vw_mstream_data, vw_mstream_eof, forward_poll, forward_pump, NULL, 1 },
	{ VW_K_WATCH, open_watch, STREAM, NULL, 0 },
};

void vw_mchan_open(struct vw_master *m, struct vw_peer *p, const struct vw_msg *msg)
{
	char store[8192], *argv[VW_MAX_ARGS + 1];
	int argc = vw_msg_args(msg, store, sizeof(store), argv, VW_MAX_ARGS + 1);
	const struct vw_mkind *k = NULL;
	struct vw_chan *ch = NULL;

	if (argc < 0 || vw_mchan_find(m, p->id, msg->chan)) {
		vw_mchan_fail(m, p->id, msg->chan, 65, "malformed request");
		return;
	}
	for (int i = 0; i < VW_MAX_CHANS && !ch; i++)
		if (!m->chans[i].used)
			ch = &m->chans[i];
	if (!ch) {
		vw_mchan_fail(m, p->id, msg->chan, 69, "too many open channels");
		return;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && !k; i++)
		if (kinds[i].kind == msg->a)
			k = &kinds[i];
	if (!k) {
		vw_mchan_fail(m, p->id, msg->chan, 64, "unknown request");
		return;
	}
	memset(ch, 0, sizeof(*ch));
	ch->m = m;
	ch->ops = k;
	ch->peer = p->id;
	ch->id = msg->chan;
	ch->kind = msg->a;
	ch->credit = msg->b > VW_WINDOW * 4 ? VW_WINDOW * 4 : msg->b;
	ch->rfd[0] = ch->rfd[1] = ch->wfd = -1;
	vw_xfer_init(&ch->xfer);
	k->open(m, p, ch, msg, argc, argv);
}
