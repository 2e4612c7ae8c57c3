/* vw_ccmd.c - viewer-client's one command: the table of channel kinds (exec, ls, get,
 * put, forward, shell, watch, drop; struct vc_kind), one row each: its OPEN, its source
 * within the credit, and what comes back on its channel. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applet.h"
#include "core/cli.h"
#include "core/exitcode.h"
#include "core/fs.h"
#include "core/tframe.h"
#include "crypto/crypto.h"
#include "crypto/rsa.h"
#include "crypto/rsa_bg.h"
#include "applets/viewer/vw_cfwd.h"
#include "applets/viewer/vw_client.h"
#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_crypto.h"
#include "applets/viewer/vw_direct.h"
#include "applets/viewer/vw_drop.h"
#include "applets/viewer/vw_files.h"
#include "applets/viewer/vw_loop.h"
#include "applets/viewer/vw_msg.h"
#include "applets/viewer/vw_rtx.h"

uint32_t vc_term_size(void)
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

int vc_send_msg(struct client *c, uint8_t type, uint8_t a, uint32_t b, uint64_t x,
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
	pct = c->xfer.size ? (int)(c->xfer.done * 100 / c->xfer.size) : 100;
	fprintf(stderr, "\r[%-40.*s] %3d%% %llu/%llu bytes", pct * 40 / 100,
		"########################################", pct, (unsigned long long)c->xfer.done,
		(unsigned long long)c->xfer.size);
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

	if (cry_random(key, sizeof(key)) == 0 && (c->xfer.check = vw_check_new(key))) {
		vw_check_key_hex(key, hex);
		rc = vw_msg_add_arg(args, cap, alen, hex);
	}
	cry_wipe(key, sizeof(key));
	cry_wipe(hex, sizeof(hex));
	return rc;
}

/* ---- the kinds' steps before OPEN: -1 to go on, else an exit code ---- */

/* the drop is the relay's: no permission from the master, only the group keys */
static int start_drop(struct client *c, uint8_t *args, size_t cap, size_t *alen, uint64_t *size)
{
	int rc;

	c->drop = vw_drop_start(c->ncmd - 1, c->cmd + 1, (uint32_t)strtoul(c->session, NULL, 10),
				&c->group, &c->relay, &rc);
	return c->drop ? -1 : rc;
}

/* a local listener whose connections each open a channel (vw_cfwd.c) */
static int start_forward(struct client *c, uint8_t *args, size_t cap, size_t *alen, uint64_t *size)
{
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
	return -1;
}

static int start_shell(struct client *c, uint8_t *args, size_t cap, size_t *alen, uint64_t *size)
{
	c->in_fd = 0;
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	*size = vc_term_size();
	if (isatty(0) && tcgetattr(0, &c->saved_tio) == 0) {
		struct termios raw = c->saved_tio;
		cfmakeraw(&raw);
		if (tcsetattr(0, TCSANOW, &raw) == 0)
			c->raw = 1;
	}
	return -1;
}

static int start_exec(struct client *c, uint8_t *args, size_t cap, size_t *alen, uint64_t *size)
{
	for (int i = 1; i < c->ncmd; i++)
		if (vw_msg_add_arg(args, cap, alen, c->cmd[i]) < 0)
			return cli_usage_error(&viewer_client_applet, "command too long");
	c->in_fd = isatty(0) ? -1 : 0;
	if (c->in_fd >= 0)
		fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	return -1;
}

static int start_ls(struct client *c, uint8_t *args, size_t cap, size_t *alen, uint64_t *size)
{
	if (c->ncmd > 1)
		vw_msg_add_arg(args, cap, alen, c->cmd[1]);
	return -1;
}

static int start_watch(struct client *c, uint8_t *args, size_t cap, size_t *alen, uint64_t *size)
{
	return -1;
}

/* get: the temporary file in the directory of out_path. -1 with errno. */
static int get_tmp(struct client *c)
{
	const char *slash = strrchr(c->out_path, '/');
	char dir[4096];
	int dirfd;

	if (slash && (size_t)(slash - c->out_path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - c->out_path) : 1, slash ? c->out_path : ".");
	if (slash == c->out_path)
		snprintf(dir, sizeof(dir), "/");
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	return vw_xfer_recv_start(&c->xfer, dirfd, slash ? slash + 1 : c->out_path, "get", 0, NULL);
}

static int start_get(struct client *c, uint8_t *args, size_t cap, size_t *alen, uint64_t *size)
{
	c->out_path = c->cmd[2];
	/* into a temporary name beside the target, renamed once the checksum matched */
	if (get_tmp(c) < 0) {
		fprintf(stderr, "viewer-client: %s: %s\n", c->out_path, strerror(errno));
		return EXIT_CANTCREAT;
	}
	vw_msg_add_arg(args, cap, alen, c->cmd[1]);
	return add_check_key(c, args, cap, alen) < 0 ? EXIT_SOFTWARE : -1;
}

static int start_put(struct client *c, uint8_t *args, size_t cap, size_t *alen, uint64_t *size)
{
	struct stat st;
	int fd = open(c->cmd[1], O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "viewer-client: %s: %s\n", c->cmd[1], fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return EXIT_NOINPUT;
	}
	*size = (uint64_t)st.st_size;
	vw_xfer_send_start(&c->xfer, fd, *size, NULL); /* the check comes with its key */
	vw_msg_add_arg(args, cap, alen, c->cmd[2]);
	return add_check_key(c, args, cap, alen) < 0 ? EXIT_SOFTWARE : -1;
}

/* The command's output for stdout (stream 0) or stderr (1). A non-blocking terminal
 * or a full pipe takes what it can; the rest waits in outq until the loop says the
 * descriptor is writable (c_build), never in a wait of our own. Credit is granted back
 * only for written bytes, so outq stays within what we granted. */
static int out_write(struct client *c, int stream, const uint8_t *p, size_t n)
{
	struct vw_pend *q = &c->outq[stream];
	ssize_t w;

	while (!q->len && n) { /* nothing queued: straight to the descriptor */
		w = write(stream ? 2 : 1, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return -1;
		if (w <= 0)
			break;
		p += w;
		n -= (size_t)w;
		c->consumed += (uint32_t)w;
	}
	return n ? vw_pend_add(q, p, n, VW_WINDOW * 4) : 0;
}

/* Writes queued output the descriptors take now. -1 on a write error. */
int vc_out_flush(struct client *c)
{
	for (int s = 0; s < 2; s++) {
		ssize_t w = vw_pend_flush(&c->outq[s], s ? 2 : 1);
		if (w < 0)
			return -1;
		c->consumed += (uint32_t)w;
	}
	return 0;
}

/* Grants consumed credit back once half a window of it piled up. */
void vc_grant(struct client *c)
{
	uint32_t grant = vw_credit_due(&c->consumed);

	if (grant)
		vc_send_msg(c, VW_M_WINDOW, 0, grant, 0, NULL, 0);
}

/* ---- what comes back on the channel: -1 to go on, else the command's exit code ---- */

/* The command's output (stream 0 stdout, 1 stderr); a hole is for files only. */
static int out_data(struct client *c, const struct vw_msg *m)
{
	if (m->a == VW_STREAM_ZEROS)
		return EXIT_PROTOCOL;
	return out_write(c, m->a == 1, m->data, m->len) < 0 ? EXIT_IOERR : -1;
}

/* The command's exit status is ours. */
static int status_exit(struct client *c, const struct vw_msg *m)
{
	return m->b > 255 ? 255 : (int)m->b;
}

static void get_opened(struct client *c, const struct vw_msg *m)
{
	c->xfer.size = m->c;
}

static int get_data(struct client *c, const struct vw_msg *m)
{
	int r;

	if (m->a == VW_STREAM_ZEROS) {
		if (vw_xfer_recv_zeros(&c->xfer, m->c) < 0)
			return EXIT_PROTOCOL;
		draw_progress(c, 0);
		return -1;
	}
	if ((r = vw_xfer_recv_data(&c->xfer, m->data, m->len)) == -1)
		return EXIT_PROTOCOL;
	if (r < 0) {
		fprintf(stderr, "viewer-client: %s: %s\n", c->out_path, strerror(errno));
		return EXIT_IOERR;
	}
	c->consumed += (uint32_t)m->len;
	draw_progress(c, 0);
	return -1;
}

static void get_eof(struct client *c, const struct vw_msg *m)
{
	if (m->len == VW_CHECK_LEN) {
		memcpy(c->sum, m->data, VW_CHECK_LEN);
		c->got_sum = 1;
	}
}

static int get_exit(struct client *c, const struct vw_msg *m)
{
	enum vw_xfer_end end;

	draw_progress(c, 1);
	if (m->b != 0)
		return EXIT_IOERR;
	end = vw_xfer_recv_commit(&c->xfer, c->got_sum ? c->sum : NULL, sizeof(c->sum));
	if (end == VW_XFER_SHORT || end == VW_XFER_BADSUM) {
		fprintf(stderr, "viewer-client: get: checksum mismatch, %s not written\n", c->out_path);
		return EXIT_DATAERR;
	}
	if (end != VW_XFER_OK) {
		fprintf(stderr, "viewer-client: %s: %s\n", c->out_path, strerror(errno));
		return EXIT_CANTCREAT;
	}
	fprintf(stderr, "viewer-client: get: %llu bytes, checksum verified\n", (unsigned long long)c->xfer.done);
	return EXIT_OK;
}

static int put_exit(struct client *c, const struct vw_msg *m)
{
	draw_progress(c, 1);
	if (m->b == 0)
		fprintf(stderr, "viewer-client: put: %llu bytes, checksum verified\n", (unsigned long long)c->xfer.done);
	return m->b == 0 ? EXIT_OK : EXIT_DATAERR;
}

/* ---- the source: what goes to the master within the credit and the link's room ---- */

/* stdin (exec, shell): one read per round on a pipe or terminal, when it is readable */
static void stdin_poll(struct client *c, int *fd, int *busy)
{
	*fd = c->in_fd;
}

static void stdin_pump(struct client *c, int readable)
{
	uint8_t buf[VW_CHUNK];
	size_t want = c->credit < VW_CHUNK ? c->credit : VW_CHUNK;
	ssize_t n;

	if (c->in_fd < 0 || !readable || c->credit == 0 || vw_link_room(c->data, TF_ID_MASTER) < VW_CHUNK + 256)
		return;
	n = read(c->in_fd, buf, want);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		vc_send_msg(c, VW_M_EOF, 0, 0, c->in_sent, NULL, 0);
		c->sent_eof = 1;
		if (c->in_fd > 0)
			close(c->in_fd);
		c->in_fd = -1;
		return;
	}
	vc_send_msg(c, VW_M_DATA, 0, 0, 0, buf, (size_t)n);
	c->credit -= (uint32_t)n;
	c->in_sent += (uint64_t)n;
}

/* put: the local file (vw_xfer.h), always readable: the round goes on without waiting */
static int xfer_emit(void *arg, uint8_t type, uint8_t a, uint64_t x, const void *data, size_t len)
{
	return vc_send_msg(arg, type, a, 0, x, data, len);
}

static size_t xfer_room(void *arg)
{
	struct client *c = arg;

	return vw_link_room(c->data, TF_ID_MASTER);
}

static void put_poll(struct client *c, int *fd, int *busy)
{
	if (c->xfer.fd >= 0)
		*busy = 1;
}

static void put_pump(struct client *c, int readable)
{
	if (c->xfer.fd >= 0 && vw_xfer_send(&c->xfer, &c->credit, xfer_room, xfer_emit, c)) {
		c->sent_eof = 1;
		close(c->xfer.fd);
		c->xfer.fd = -1;
	}
	draw_progress(c, 0);
}

/* ---- the table: one row per kind ---- */
struct vc_kind {
	int kind;
	/* Checks and prepares, appends its OPEN arguments and sets the OPEN's size field. */
	int (*start)(struct client *c, uint8_t *args, size_t cap, size_t *alen, uint64_t *size);
	uint32_t window; /* the credit its OPEN grants; 0: it sends no OPEN on CHAN */
	void (*opened)(struct client *c, const struct vw_msg *m); /* OPEN_OK, NULL: nothing */
	int (*data)(struct client *c, const struct vw_msg *m);
	void (*eof)(struct client *c, const struct vw_msg *m); /* NULL: nothing */
	int (*exit)(struct client *c, const struct vw_msg *m);
	/* the source: the descriptor to wait for (-1 none), *busy when it needs no wait */
	void (*poll)(struct client *c, int *fd, int *busy);
	void (*pump)(struct client *c, int readable);
	int progress; /* a progress bar when stderr is a terminal */
	unsigned flags; /* VC_TTY, VC_STOP_OK, VC_NO_RESUME (vw_client.h) */
};

#define STDIN_SOURCE stdin_poll, stdin_pump
static const struct vc_kind kinds[] = {
	{ VW_K_EXEC, start_exec, VW_WINDOW, NULL, out_data, NULL, status_exit, STDIN_SOURCE, 0, 0 },
	{ VW_K_SHELL, start_shell, VW_WINDOW, NULL, out_data, NULL, status_exit, STDIN_SOURCE, 0, VC_TTY },
	{ VW_K_LS, start_ls, VW_WINDOW, NULL, out_data, NULL, status_exit, STDIN_SOURCE, 0, 0 },
	/* a get writes straight to its file, so a larger window costs no memory here */
	{ VW_K_GET, start_get, VW_WINDOW * 4, get_opened, get_data, get_eof, get_exit, STDIN_SOURCE, 1, 0 },
	{ VW_K_PUT, start_put, VW_WINDOW, NULL, out_data, NULL, put_exit, put_poll, put_pump, 1, 0 },
	/* Ctrl-C is how a forward ends */
	{ VW_K_FORWARD, start_forward, 0, NULL, out_data, NULL, status_exit, STDIN_SOURCE, 0, VC_STOP_OK },
	{ VW_K_WATCH, start_watch, VW_WINDOW, NULL, out_data, NULL, status_exit, STDIN_SOURCE, 0, 0 },
	/* a drop transfer lives on the relay connection: it cannot survive a resume */
	{ K_DROP, start_drop, 0, NULL, out_data, NULL, status_exit, STDIN_SOURCE, 0, VC_NO_RESUME },
};

static const struct vc_kind *kind_of(int kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == kind)
			return &kinds[i];
	return &kinds[0]; /* (vw_client.c sets only kinds of the table) */
}

unsigned vc_kind_flags(int kind)
{
	return kind_of(kind)->flags;
}

int vc_start_command(struct client *c)
{
	uint8_t args[8192];
	size_t alen = 0;
	uint64_t size = 0;
	const struct vc_kind *k = kind_of(c->kind);
	const struct vw_kind_info *ki = vw_kind_info((uint8_t)c->kind); /* NULL: the drop */
	int rc;

	if (ki && !(c->perms & ki->perm)) {
		fprintf(stderr, "viewer-client: the master does not allow %s\n", c->cmd[0]);
		return EXIT_NOPERM;
	}
	rc = k->start(c, args, sizeof(args), &alen, &size);
	if (c->kind == K_DROP)
		c->state = C_RUNNING; /* the drop ends by its own callbacks, also when it failed */
	if (rc >= 0 || !k->window) {
		if (rc < 0)
			c->state = C_RUNNING;
		return rc;
	}
	c->progress = k->progress && isatty(2);
	if (vc_send_msg(c, VW_M_OPEN, (uint8_t)c->kind, k->window, size, args, alen) < 0)
		return EXIT_SOFTWARE;
	c->state = C_RUNNING;
	return -1;
}

int vc_on_chan_msg(struct client *c, const struct vw_msg *m)
{
	const struct vc_kind *k = kind_of(c->kind);
	int rc;

	switch (m->type) {
	case VW_M_OPEN_OK:
		c->opened = 1;
		c->credit = m->b;
		if (k->opened)
			k->opened(c, m);
		return -1;
	case VW_M_OPEN_FAIL:
		fprintf(stderr, "viewer-client: %s: %.*s\n", c->cmd[0], (int)m->len, (const char *)m->data);
		return m->a ? m->a : EXIT_FAIL;
	case VW_M_DATA:
		rc = k->data(c, m);
		if (rc < 0 && m->a != VW_STREAM_ZEROS)
			vc_grant(c);
		return rc;
	case VW_M_WINDOW:
		vw_credit_add(&c->credit, m->b);
		return -1;
	case VW_M_EOF:
		if (k->eof)
			k->eof(c, m);
		return -1;
	case VW_M_EXIT:
		if (m->len)
			fprintf(stderr, "viewer-client: %s: %.*s\n", c->cmd[0], (int)m->len, (const char *)m->data);
		return k->exit(c, m);
	default:
		return -1;
	}
}

int vc_source_poll(struct client *c, int *busy)
{
	int fd = -1;

	if (c->state == C_RUNNING && c->opened && !c->sent_eof && c->credit > 0 &&
	    vw_link_room(c->data, TF_ID_MASTER) >= VW_CHUNK + 256)
		kind_of(c->kind)->poll(c, &fd, busy);
	return fd;
}

void vc_pump_source(struct client *c, int readable)
{
	if (c->state == C_RUNNING && c->opened && !c->sent_eof)
		kind_of(c->kind)->pump(c, readable);
}
