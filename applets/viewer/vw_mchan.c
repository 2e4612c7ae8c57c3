/* vw_mchan.c - the master's channels: exec (child with pipes), ls, get and put under
 * the share. Every channel sends only as much as the client granted (credit), and
 * only while the relay output has room, so memory stays bounded whatever the file
 * size or the client's speed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <sys/wait.h>
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

static struct vw_chan *find_chan(struct vw_master *m, uint16_t peer, uint32_t id)
{
	for (int i = 0; i < VW_MAX_CHANS; i++)
		if (m->chans[i].used && m->chans[i].peer == peer && m->chans[i].id == id)
			return &m->chans[i];
	return NULL;
}

static void send_simple(struct vw_master *m, uint16_t peer, uint8_t type, uint32_t chan,
			uint8_t a, uint32_t b, uint64_t c, const void *data, size_t len)
{
	struct vw_msg msg = { type, chan, a, b, c, data, len };
	vw_master_send(m, peer, &msg);
}

static void open_fail(struct vw_master *m, uint16_t peer, uint32_t chan, uint8_t code,
		      const char *why)
{
	send_simple(m, peer, VW_M_OPEN_FAIL, chan, code, 0, 0, why, strlen(why));
}

/* get/put: a share, then PATH and the client's check key (the check starts here).
 * -1 when refused (said to the client). */
static int transfer_args(struct vw_master *m, uint16_t peer, struct vw_chan *ch, int argc,
			 char **argv, const char *what)
{
	char why[64];

	if (!m->share) {
		open_fail(m, peer, ch->id, 77, "no directory is shared here (--share)");
		return -1;
	}
	if (argc != 2 || !(ch->check = check_from_arg(argv[1]))) {
		snprintf(why, sizeof(why), "%s needs a path and a check key", what);
		open_fail(m, peer, ch->id, 64, why);
		return -1;
	}
	return 0;
}

static void close_fd(int *fd)
{
	vw_loop_close(fd); /* its watch first (vw_loop.h) */
}

/* The sink is done: a forwarded socket gets a FIN (its read side may go on). */
static void close_wfd(struct vw_chan *ch)
{
	if (ch->wfd >= 0 && ch->kind == VW_K_FORWARD)
		shutdown(ch->wfd, SHUT_WR);
	close_fd(&ch->wfd);
}

static void chan_free(struct vw_master *m, struct vw_chan *ch)
{
	close_fd(&ch->rfd[0]);
	close_fd(&ch->rfd[1]);
	close_fd(&ch->wfd);
	net_child_free(ch->child); /* killed (its group too) if still running */
	net_connect_fd_cancel(ch->conn);
	if (ch->tmpname[0] && ch->dirfd >= 0)
		unlinkat(ch->dirfd, ch->tmpname, 0);
	if (ch->dirfd >= 0)
		close(ch->dirfd);
	cry_gcm_stream_free(ch->check);
	free(ch->pend);
	memset(ch, 0, sizeof(*ch));
	(void)m;
}

void vw_mchan_close_peer(struct vw_master *m, uint16_t peer)
{
	for (int i = 0; i < VW_MAX_CHANS; i++)
		if (m->chans[i].used && m->chans[i].peer == peer)
			chan_free(m, &m->chans[i]);
}

static const char *errno_text(int e)
{
	switch (e) {
	case EPERM: return "path leaves the shared directory";
	case ELOOP: return "symbolic links are not followed";
	case ENOENT: return "no such file or directory";
	case EISDIR: return "is a directory";
	case ENOTDIR: return "not a directory";
	case EACCES: return "permission denied";
	case EEXIST: return "exists";
	default: return strerror(e);
	}
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
		send_simple(m, ch->peer, VW_M_DATA, ch->id, 0, 0, 0, m->replay + off, n);
	}
	ch->credit -= (uint32_t)m->replay_len;
}

/* Keeps the last VW_REPLAY_CAP bytes of the presented output. */
static void replay_keep(struct vw_master *m, const uint8_t *p, size_t n)
{
	if (!m->replay && !(m->replay = malloc(VW_REPLAY_CAP)))
		return;
	if (n >= VW_REPLAY_CAP) {
		memcpy(m->replay, p + n - VW_REPLAY_CAP, VW_REPLAY_CAP);
		m->replay_len = VW_REPLAY_CAP;
		return;
	}
	if (m->replay_len + n > VW_REPLAY_CAP) {
		size_t drop = m->replay_len + n - VW_REPLAY_CAP;
		memmove(m->replay, m->replay + drop, m->replay_len - drop);
		m->replay_len -= drop;
	}
	memcpy(m->replay + m->replay_len, p, n);
	m->replay_len += n;
}

void vw_mchan_open(struct vw_master *m, struct vw_peer *p, const struct vw_msg *msg)
{
	char store[8192], *argv[VW_MAX_ARGS + 1];
	int argc = vw_msg_args(msg, store, sizeof(store), argv, VW_MAX_ARGS + 1);
	struct vw_chan *ch = NULL;
	int fd;

	if (argc < 0 || find_chan(m, p->id, msg->chan)) {
		open_fail(m, p->id, msg->chan, 65, "malformed request");
		return;
	}
	for (int i = 0; i < VW_MAX_CHANS && !ch; i++)
		if (!m->chans[i].used)
			ch = &m->chans[i];
	if (!ch) {
		open_fail(m, p->id, msg->chan, 69, "too many open channels");
		return;
	}
	memset(ch, 0, sizeof(*ch));
	ch->peer = p->id;
	ch->id = msg->chan;
	ch->kind = msg->a;
	ch->credit = msg->b > VW_WINDOW * 4 ? VW_WINDOW * 4 : msg->b;
	ch->rfd[0] = ch->rfd[1] = ch->wfd = ch->dirfd = -1;
	switch (msg->a) {
	case VW_K_EXEC:
		if (!m->allow_exec) {
			open_fail(m, p->id, msg->chan, 77, "exec is not allowed here (--allow-exec)");
			return;
		}
		if (argc < 1) {
			open_fail(m, p->id, msg->chan, 64, "exec needs a command");
			return;
		}
		if (start_exec(m, ch, argv) < 0) {
			open_fail(m, p->id, msg->chan, 71, "cannot start the command");
			return;
		}
		log_info("client %u: exec %s", p->id, argv[0]);
		ch->used = 1;
		send_simple(m, p->id, VW_M_OPEN_OK, ch->id, 0, VW_WINDOW, 0, NULL, 0);
		return;
	case VW_K_LS: {
		char *list;
		size_t len = 0;
		if (!m->share) {
			open_fail(m, p->id, msg->chan, 77, "no directory is shared here (--share)");
			return;
		}
		fd = vw_share_open(m->share_fd, argc > 0 ? argv[0] : "", O_RDONLY | O_DIRECTORY, 0);
		if (fd < 0) {
			open_fail(m, p->id, msg->chan, errno == EPERM || errno == ELOOP ? 77 : 66, errno_text(errno));
			return;
		}
		/* a listing fits the initial window: it needs no flow control */
		list = vw_share_list(fd, VW_WINDOW - 1024, &len);
		if (!list) {
			open_fail(m, p->id, msg->chan, 74, "cannot list");
			return;
		}
		send_simple(m, p->id, VW_M_OPEN_OK, msg->chan, 0, 0, len, NULL, 0);
		for (size_t off = 0; off < len; off += VW_CHUNK)
			send_simple(m, p->id, VW_M_DATA, msg->chan, 0, 0, 0, list + off,
				    len - off > VW_CHUNK ? VW_CHUNK : len - off);
		send_simple(m, p->id, VW_M_EXIT, msg->chan, 0, 0, 0, NULL, 0);
		free(list);
		return;
	}
	case VW_K_GET: {
		struct stat st;
		if (transfer_args(m, p->id, ch, argc, argv, "get") < 0)
			return;
		/* from here on a refusal frees the channel: it holds the check */
		/* non-blocking: opening a FIFO (or a device) for reading would otherwise stop
		 * the whole loop until someone writes to it; only a regular file is served */
		fd = vw_share_open(m->share_fd, argv[0], O_RDONLY | O_NONBLOCK, 0);
		if (fd < 0) {
			int e = errno;
			chan_free(m, ch);
			open_fail(m, p->id, msg->chan, e == EPERM || e == ELOOP ? 77 : 66, errno_text(e));
			return;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
		    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
			close(fd);
			chan_free(m, ch);
			log_info("client %u: get %s refused: not a regular file", p->id, argv[0]);
			open_fail(m, p->id, msg->chan, 66, "not a regular file");
			return;
		}
		log_info("client %u: get %s (%lld bytes)", p->id, argv[0], (long long)st.st_size);
		ch->rfd[0] = fd;
		ch->size = (uint64_t)st.st_size;
		ch->used = 1;
		send_simple(m, p->id, VW_M_OPEN_OK, ch->id, 0, 0, ch->size, NULL, 0);
		return;
	}
	case VW_K_PUT: {
		char leaf[256];
		if (transfer_args(m, p->id, ch, argc, argv, "put") < 0)
			return;
		ch->dirfd = vw_share_parent(m->share_fd, argv[0], leaf, sizeof(leaf));
		if (ch->dirfd < 0) {
			int e = errno;
			chan_free(m, ch); /* it holds the check */
			open_fail(m, p->id, msg->chan, e == EPERM || e == ELOOP ? 77 : 66, errno_text(e));
			return;
		}
		snprintf(ch->finalname, sizeof(ch->finalname), "%s", leaf);
		for (int i = 0; i < 100 && ch->wfd < 0; i++) {
			uint32_t r = 0;
			cry_random(&r, sizeof(r));
			snprintf(ch->tmpname, sizeof(ch->tmpname), ".sealbox-put-%08x", r);
			ch->wfd = openat(ch->dirfd, ch->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		}
		if (ch->wfd < 0) {
			int e = errno;
			ch->tmpname[0] = '\0';
			chan_free(m, ch);
			open_fail(m, p->id, msg->chan, 73, errno_text(e));
			return;
		}
		log_info("client %u: put %s (%llu bytes)", p->id, argv[0], (unsigned long long)msg->c);
		ch->size = msg->c;
		ch->used = 1;
		send_simple(m, p->id, VW_M_OPEN_OK, ch->id, 0, VW_WINDOW, 0, NULL, 0);
		return;
	}
	case VW_K_FORWARD: {
		const struct vw_expose *x = NULL;
		for (int i = 0; i < m->n_expose && argc == 1; i++)
			if (strcmp(m->expose[i].name, argv[0]) == 0)
				x = &m->expose[i];
		if (!x) {
			open_fail(m, p->id, msg->chan, 77, "no such service is exposed here (--expose)");
			return;
		}
		if (start_connect(ch, x->target) < 0) {
			open_fail(m, p->id, msg->chan, 69, "cannot connect to the exposed service");
			return;
		}
		ch->connecting = 1;
		ch->used = 1;
		log_info("client %u: forward to %s (%s)", p->id, x->name, x->target);
		return; /* OPEN_OK once connected */
	}
	case VW_K_SHELL:
		if (!m->allow_shell) {
			open_fail(m, p->id, msg->chan, 77, "shell is not allowed here (--allow-shell)");
			return;
		}
		if (start_pty(m, ch, (uint32_t)msg->c, NULL) < 0) {
			close_fd(&ch->rfd[0]);
			open_fail(m, p->id, msg->chan, 71, "cannot start a shell");
			return;
		}
		log_info("client %u: shell", p->id);
		ch->used = 1;
		send_simple(m, p->id, VW_M_OPEN_OK, ch->id, 0, VW_WINDOW, 0, NULL, 0);
		return;
	case VW_K_WATCH:
		if (!m->present) {
			open_fail(m, p->id, msg->chan, 77, "nothing is presented here (--present)");
			return;
		}
		if (m->present_done) {
			open_fail(m, p->id, msg->chan, 69, "the presented command has ended");
			return;
		}
		/* the first watcher starts the presented command; later ones join it live */
		if (m->present_fd < 0 && start_pty(m, NULL, (uint32_t)msg->c, m->present) < 0) {
			open_fail(m, p->id, msg->chan, 71, "cannot start the presented command");
			return;
		}
		log_info("client %u: watch", p->id);
		ch->used = 1;
		send_simple(m, p->id, VW_M_OPEN_OK, ch->id, 0, 0, 0, NULL, 0);
		replay_to(m, ch);
		return;
	default:
		open_fail(m, p->id, msg->chan, 64, "unknown request");
		return;
	}
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Received bytes for the channel's sink. Files: written at once (zero chunks become
 * holes, so sparse files stay sparse). Pipes/sockets: queued when they would block. */
static int sink_write(struct vw_chan *ch, const uint8_t *p, size_t n)
{
	if (ch->kind == VW_K_PUT) {
		if (n > ch->size - ch->done) /* done <= size always: this cannot wrap */
			return -1;
		if (all_zero(p, n)) {
			if (lseek(ch->wfd, (off_t)n, SEEK_CUR) < 0)
				return -1;
		} else {
			for (size_t off = 0; off < n;) {
				ssize_t w = write(ch->wfd, p + off, n - off);
				if (w < 0) {
					if (errno == EINTR)
						continue;
					return -1;
				}
				off += (size_t)w;
			}
		}
		vw_check_data(ch->check, p, n);
		ch->done += n;
		ch->consumed += (uint32_t)n;
		return 0;
	}
	if (ch->wfd < 0)
		return 0; /* the child closed its input: discard, like a closed pipe */
	if (ch->pend_len + n > VW_WINDOW)
		return -1; /* the client overran the window it was given */
	if (!ch->pend && !(ch->pend = malloc(VW_WINDOW)))
		return -1;
	memcpy(ch->pend + ch->pend_len, p, n);
	ch->pend_len += n;
	return 0;
}

static void put_finish(struct vw_master *m, struct vw_chan *ch, const struct vw_msg *msg)
{
	uint8_t sum[VW_CHECK_LEN];
	const char *why = NULL;
	int bad = vw_check_final(ch->check, sum) < 0;

	ch->check = NULL;
	if (ch->done != ch->size)
		why = "short transfer";
	else if (bad || msg->len != VW_CHECK_LEN || !cry_memeq(sum, msg->data, VW_CHECK_LEN))
		why = "checksum mismatch";
	else if (ftruncate(ch->wfd, (off_t)ch->size) < 0 || fsync(ch->wfd) < 0)
		why = "cannot write";
	else if (renameat(ch->dirfd, ch->tmpname, ch->dirfd, ch->finalname) < 0)
		why = errno_text(errno);
	else if (fsync(ch->dirfd) < 0) /* the new name itself must survive a power cut */
		why = "cannot write";
	if (!why)
		ch->tmpname[0] = '\0';
	send_simple(m, ch->peer, VW_M_EXIT, ch->id, 0, why ? 65 : 0, 0, why, why ? strlen(why) : 0);
	log_info("client %u: put %s %s", ch->peer, ch->finalname, why ? why : "done");
	chan_free(m, ch);
}

void vw_mchan_msg(struct vw_master *m, struct vw_peer *p, const struct vw_msg *msg)
{
	struct vw_chan *ch = find_chan(m, p->id, msg->chan);

	if (!ch)
		return; /* a late message for a channel that is gone */
	switch (msg->type) {
	case VW_M_DATA:
		if (msg->a == VW_STREAM_ZEROS) {
			/* done <= size always, so this cannot wrap for a huge hole length */
			if (ch->kind != VW_K_PUT || msg->c > ch->size - ch->done ||
			    lseek(ch->wfd, (off_t)msg->c, SEEK_CUR) < 0) {
				send_simple(m, p->id, VW_M_EXIT, ch->id, 0, 74, 0, "bad hole", 8);
				chan_free(m, ch);
			} else {
				vw_check_zeros(ch->check, msg->c);
				ch->done += msg->c;
			}
			break;
		}
		if (sink_write(ch, msg->data, msg->len) < 0) {
			send_simple(m, p->id, VW_M_EXIT, ch->id, 0, 74, 0, "write failed", 12);
			chan_free(m, ch);
		}
		break;
	case VW_M_WINDOW:
		if ((uint64_t)ch->credit + msg->b <= VW_WINDOW * 4)
			ch->credit += msg->b;
		break;
	case VW_M_EOF:
		if (ch->kind == VW_K_PUT) {
			put_finish(m, ch, msg);
		} else {
			ch->wfd_eof = 1;
			if (!ch->pend_len)
				close_wfd(ch);
		}
		break;
	case VW_M_CLOSE:
		chan_free(m, ch);
		break;
	case VW_M_RESIZE:
		if (ch->kind == VW_K_SHELL && ch->rfd[0] >= 0) {
			struct winsize ws = { (unsigned short)(msg->b >> 16), (unsigned short)msg->b, 0, 0 };
			ioctl(ch->rfd[0], TIOCSWINSZ, &ws);
		}
		break;
	default:
		break;
	}
}

int vw_mchan_pollfds(struct vw_master *m, struct pollfd *pf, int max, int *busy)
{
	int n = 0;

	for (int i = 0; i < VW_MAX_CHANS && n + 3 <= max; i++) {
		struct vw_chan *ch = &m->chans[i];
		int can_send = ch->used && ch->credit > 0 &&
			       vw_master_room(m, ch->peer) >= ROOM_NEEDED;
		if (!ch->used) {
			pf[n++] = (struct pollfd){ -1, 0, 0 };
			pf[n++] = (struct pollfd){ -1, 0, 0 };
			pf[n++] = (struct pollfd){ -1, 0, 0 };
			continue;
		}
		if (ch->kind == VW_K_GET) {
			/* regular files are always readable: pump without waiting */
			if (can_send)
				*busy = 1; /* poll without waiting */
			pf[n++] = (struct pollfd){ -1, 0, 0 };
			pf[n++] = (struct pollfd){ -1, 0, 0 };
		} else {
			pf[n++] = (struct pollfd){ can_send ? ch->rfd[0] : -1, POLLIN, 0 };
			pf[n++] = (struct pollfd){ can_send ? ch->rfd[1] : -1, POLLIN, 0 };
		}
		if (ch->connecting) { /* net_connect_fd calls back (on_connected) */
			pf[n - 2].fd = pf[n - 1].fd = -1;
			pf[n++] = (struct pollfd){ -1, 0, 0 };
			continue;
		}
		pf[n++] = (struct pollfd){ ch->pend_len && ch->kind != VW_K_PUT ? ch->wfd : -1, POLLOUT, 0 };
	}
	return n;
}

/* Reads one chunk from fd for the channel's stream; returns bytes sent, 0 at EOF,
 * -1 when nothing was ready. */
static ssize_t send_chunk(struct vw_master *m, struct vw_chan *ch, int stream)
{
	uint8_t buf[VW_CHUNK];
	size_t want = ch->credit < VW_CHUNK ? ch->credit : VW_CHUNK;
	ssize_t n;

	if (ch->kind == VW_K_GET) {
		/* the file ends at the size OPEN_OK announced, even if it grows */
		if (want > ch->size - ch->done)
			want = (size_t)(ch->size - ch->done);
		n = want ? pread(ch->rfd[0], buf, want, (off_t)ch->done) : 0;
	} else {
		n = read(ch->rfd[stream], buf, want);
	}

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -1 : 0;
	if (n > 0) {
		if (ch->check)
			vw_check_data(ch->check, buf, (size_t)n);
		send_simple(m, ch->peer, VW_M_DATA, ch->id, (uint8_t)stream, 0, 0, buf, (size_t)n);
		ch->credit -= (uint32_t)n;
		ch->done += (uint64_t)n;
	}
	return n;
}

void vw_mchan_pump(struct vw_master *m, const struct pollfd *pf, int n)
{
	for (int i = 0; i < VW_MAX_CHANS && i * 3 + 2 < n; i++) {
		struct vw_chan *ch = &m->chans[i];
		const struct pollfd *q = pf + i * 3;
		if (!ch->used)
			continue;
		if (ch->kind == VW_K_GET) {
			while (ch->credit > 0 && vw_master_room(m, ch->peer) >= ROOM_NEEDED) {
				uint64_t hole = vw_hole_at(ch->rfd[0], &ch->sparse, ch->done, ch->size);
				ssize_t r;
				if (hole) {
					if (hole > VW_HOLE_MAX)
						hole = VW_HOLE_MAX;
					vw_check_zeros(ch->check, hole);
					send_simple(m, ch->peer, VW_M_DATA, ch->id, VW_STREAM_ZEROS, 0, hole, NULL, 0);
					ch->done += hole;
					continue;
				}
				r = send_chunk(m, ch, 0);
				if (r == 0) {
					uint8_t sum[VW_CHECK_LEN];
					int ok = ch->done == ch->size;
					size_t sl = vw_check_final(ch->check, sum) == 0 ? sizeof(sum) : 0;
					ch->check = NULL;
					send_simple(m, ch->peer, VW_M_EOF, ch->id, 0, 0, ch->done, sum, sl);
					send_simple(m, ch->peer, VW_M_EXIT, ch->id, 0, ok ? 0 : 74, 0,
						    ok ? NULL : "file changed size while reading", ok ? 0 : 31);
					chan_free(m, ch);
					break;
				}
				if (r < 0)
					break;
			}
			continue;
		}
		if (ch->connecting) {
			if (ch->conn)
				continue; /* still connecting */
			if (ch->rfd[0] < 0 || (ch->wfd = dup(ch->rfd[0])) < 0) {
				open_fail(m, ch->peer, ch->id, 69, "the exposed service refused the connection");
				chan_free(m, ch);
				continue;
			}
			ch->connecting = 0;
			send_simple(m, ch->peer, VW_M_OPEN_OK, ch->id, 0, VW_WINDOW, 0, NULL, 0);
			continue;
		}
		for (int s = 0; s < 2; s++)
			if (q[s].fd >= 0 && (q[s].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    vw_master_room(m, ch->peer) >= ROOM_NEEDED && send_chunk(m, ch, s) == 0) {
				close_fd(&ch->rfd[s]);
				send_simple(m, ch->peer, VW_M_EOF, ch->id, (uint8_t)s, 0, 0, NULL, 0);
			}
		if (q[2].fd >= 0 && (q[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(ch->wfd, ch->pend, ch->pend_len);
			if (w < 0 && errno != EAGAIN && errno != EINTR) {
				ch->pend_len = 0;
				close_wfd(ch);
			} else if (w > 0) {
				memmove(ch->pend, ch->pend + w, ch->pend_len - (size_t)w);
				ch->pend_len -= (size_t)w;
				ch->consumed += (uint32_t)w;
			}
			if (!ch->pend_len && ch->wfd_eof)
				close_wfd(ch);
		}
	}
	/* a forward is over when both directions are: the client frees its end on EXIT */
	for (int i = 0; i < VW_MAX_CHANS; i++) {
		struct vw_chan *ch = &m->chans[i];
		if (ch->used && ch->kind == VW_K_FORWARD && !ch->connecting && ch->rfd[0] < 0 &&
		    ch->wfd < 0) {
			send_simple(m, ch->peer, VW_M_EXIT, ch->id, 0, 0, 0, NULL, 0);
			chan_free(m, ch);
		}
	}
	/* grant credit back once half a window has been consumed */
	for (int i = 0; i < VW_MAX_CHANS; i++) {
		struct vw_chan *ch = &m->chans[i];
		if (ch->used && ch->consumed >= VW_WINDOW / 2) {
			send_simple(m, ch->peer, VW_M_WINDOW, ch->id, 0, ch->consumed, 0, NULL, 0);
			ch->consumed = 0;
		}
	}
}

/* The presented terminal's output goes to every watcher that has credit for it; a
 * watcher without credit misses that piece (a live view must not let one slow
 * technician hold up the others or the presented program). */
void vw_mchan_present(struct vw_master *m, int readable)
{
	uint8_t buf[VW_CHUNK];
	ssize_t n;

	if (m->present_fd < 0 || !readable || vw_master_min_room(m) < ROOM_NEEDED * 4)
		return;
	n = read(m->present_fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		replay_keep(m, buf, (size_t)n);
		for (int i = 0; i < VW_MAX_CHANS; i++) {
			struct vw_chan *ch = &m->chans[i];
			if (!ch->used || ch->kind != VW_K_WATCH)
				continue;
			if (ch->credit >= (uint32_t)n && vw_master_room(m, ch->peer) >= ROOM_NEEDED) {
				send_simple(m, ch->peer, VW_M_DATA, ch->id, 0, 0, 0, buf, (size_t)n);
				ch->credit -= (uint32_t)n;
			}
		}
		return;
	}
	/* EIO/EOF: the command ended; its exit status comes on the loop */
	close_fd(&m->present_fd);
	m->present_eof = 1;
	vw_mchan_present_end(m);
}

void vw_mchan_present_end(struct vw_master *m)
{
	int code = m->present_status;

	if (!m->present_eof || !m->present_exited)
		return;
	net_child_free(m->present_child);
	m->present_child = NULL;
	m->present_eof = m->present_exited = 0;
	m->present_done = 1;
	log_info("presented command ended with %d", code);
	for (int i = 0; i < VW_MAX_CHANS; i++) {
		struct vw_chan *ch = &m->chans[i];
		if (ch->used && ch->kind == VW_K_WATCH) {
			send_simple(m, ch->peer, VW_M_EXIT, ch->id, 0, (uint32_t)code, 0, NULL, 0);
			chan_free(m, ch);
		}
	}
}

void vw_mchan_reap(struct vw_master *m)
{
	for (int i = 0; i < VW_MAX_CHANS; i++) {
		struct vw_chan *ch = &m->chans[i];
		if (!ch->used || (ch->kind != VW_K_EXEC && ch->kind != VW_K_SHELL))
			continue;
		/* the exit code (from on_exit_status) goes last, after all output */
		if (ch->exited && ch->rfd[0] < 0 && ch->rfd[1] < 0) {
			send_simple(m, ch->peer, VW_M_EXIT, ch->id, 0, (uint32_t)ch->status, 0, NULL, 0);
			log_info("client %u: exec finished with %d", ch->peer, ch->status);
			chan_free(m, ch);
		}
	}
}
