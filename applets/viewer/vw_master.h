/* vw_master.h - viewer-master's state, shared by its files. */
#ifndef VW_MASTER_H
#define VW_MASTER_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>

#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_crypto.h"
#include "applets/viewer/vw_msg.h"
#include "applets/viewer/vw_pend.h"
#include "applets/viewer/vw_rtx.h"
#include "applets/viewer/vw_xfer.h"

#define VW_MAX_PEERS 16
#define VW_MAX_CHANS 64
#define VW_MAX_EXPOSE 16
#define VW_REPLAY_CAP (16 * 1024)

struct cry_gcm_stream;
struct net_child;
struct net_listener;
struct net_fdconnect;

/* JOINED: the relay let it in; KEYED: we sent KEY (its J), waiting for its REVEAL;
 * WAITING: its SAS is shown, the user decides; APPROVED: it has the group keys. */
enum peer_state { PEER_FREE = 0, PEER_JOINED, PEER_KEYED, PEER_WAITING, PEER_APPROVED };

struct vw_peer {
	enum peer_state state;
	uint16_t id;
	char addr[80];
	struct vw_bind bind;       /* session, id, SHA-256 of its SPKI, our N_m */
	uint8_t j[VW_JOIN_LEN];    /* its per-join secret, kept only until the SAS is made */
	uint8_t commit[32];        /* SHA-256(N_c) from its HELLO */
	struct vw_link link;       /* its own keys: m2c, c2m, direct */
	char sas[VW_SAS_DIGITS + 1];
	struct vw_replay rp;
	struct vw_conn *direct; /* its direct LAN link once it proved its direct key */
	int path_said;
};

#define VW_MAX_PEND 4

/* A connection to the LAN listener that has not proved a client's direct key yet. */
struct vw_dpend {
	int fd;            /* -1 free */
	uint8_t chal[32];
	uint8_t in[34];    /* u16 client id, HMAC */
	size_t got;
	long deadline_ms;
	char addr[64];
};

struct vw_master;
struct vw_chan;

/* What a channel kind does on the master: one row per kind in vw_mopen.c's table, so
 * adding a kind is adding a row. open parses the request and takes the slot (ch->used)
 * or refuses (OPEN_FAIL, and frees what it took: -1); the rest act on an open channel.
 * The generic byte-stream operations (a command's pipes, a socket) are vw_mstream_*. */
struct vw_mkind {
	uint8_t kind; /* its name and permission: vw_kind_info (vw_msg.h) */
	int (*open)(struct vw_master *m, struct vw_peer *p, struct vw_chan *ch, const struct vw_msg *msg,
		    int argc, char **argv);
	/* DATA from the client (a = VW_STREAM_ZEROS: a hole of c bytes). NULL when all
	 * went in, else why the channel ends (EXIT 74). */
	const char *(*data)(struct vw_chan *ch, const struct vw_msg *msg);
	void (*eof)(struct vw_master *m, struct vw_chan *ch, const struct vw_msg *msg);
	/* What to wait for: q[0], q[1] its sources (stdout, stderr), q[2] its sink; *busy
	 * when it can go on without waiting. */
	void (*poll)(struct vw_master *m, struct vw_chan *ch, struct pollfd q[3], int *busy);
	/* After the wait: sends within the credit, writes what waits for the sink. */
	void (*pump)(struct vw_master *m, struct vw_chan *ch, const struct pollfd q[3]);
	void (*resize)(struct vw_chan *ch, uint32_t rows_cols); /* NULL: no terminal */
	int shut_wr; /* the sink is a socket: its end is a FIN, its read side goes on */
};

struct vw_chan {
	struct vw_master *m; /* its master (for callbacks that get only the channel) */
	const struct vw_mkind *ops;
	int used;
	uint16_t peer;
	uint32_t id;
	uint8_t kind;
	uint32_t credit;   /* data bytes we may still send */
	uint32_t consumed; /* data bytes written out, not yet granted back */
	int rfd[2];        /* sources: stdout/stderr, file, socket; -1 when done */
	int wfd;           /* sink: child stdin, file, socket */
	struct net_child *child; /* exec/shell: the command (net/child.h), NULL when none */
	int exited, status;
	struct vw_xfer xfer;     /* get/put: the file, its check, its progress (vw_xfer.h) */
	struct vw_pend pend; /* bytes for wfd when it would block (bounded by the window) */
	int wfd_eof;       /* peer sent EOF: close wfd once pend is written */
	int connecting;    /* forward: waiting for the exposed service to accept */
	struct net_fdconnect *conn; /* that attempt (net/fdsock.h), NULL once it called back */
};

struct vw_expose {
	char name[64];
	char target[256];
};

struct vw_master {
	struct vw_relay_opts ro; /* how to reach the relay: --server, --https-port, ... */
	char path[160];
	const char *share;
	int share_fd;
	int allow_exec, allow_shell, auto_approve, no_lan;
	const char *lan_listen;
	struct net_listener *lan_ls; /* the direct LAN listener, NULL none */
	char lan[256];     /* its addresses, announced in REGISTER lan= */
	struct vw_dpend pend[VW_MAX_PEND];
	struct vw_expose expose[VW_MAX_EXPOSE];
	int n_expose;
	const char *present;
	int present_fd;    /* pty of the --present command, -1 when not running */
	struct net_child *present_child;
	int present_eof;   /* its terminal ended; its exit status comes (or came) */
	int present_exited, present_status;
	int present_done;  /* it ran and ended: later watchers are told so */
	uint8_t *replay;   /* the last VW_REPLAY_CAP bytes it showed, for a late watcher */
	size_t replay_len;
	struct vw_conn relay;
	struct vw_rtx rtx; /* acks, retransmit buffer, keepalive and resume of the relay link */
	uint32_t session;
	struct vw_group group; /* the file drop's keys, handed out in APPROVE and REKEY */
	int rekey_due;         /* a member left or a join was refused: new group epoch */
	struct vw_peer peers[VW_MAX_PEERS];
	struct vw_chan chans[VW_MAX_CHANS];
	int tty_fd;
	int asking;        /* index of the peer whose approval is being asked, -1 none */
	char tty_line[64];
	size_t tty_len;
	char cmd_line[128];
	size_t cmd_len;
	int stdin_open;
	int quit;
};

/* vw_mopen.c: a channel request from an approved client (the kind table) */
void vw_mchan_open(struct vw_master *m, struct vw_peer *p, const struct vw_msg *msg);
/* vw_mchan.c: the open channels, and what vw_mopen.c shares of them */
struct vw_chan *vw_mchan_find(struct vw_master *m, uint16_t peer, uint32_t id);
void vw_mchan_send(struct vw_master *m, uint16_t peer, uint8_t type, uint32_t chan, uint8_t a,
		   uint32_t b, uint64_t c, const void *data, size_t len);
/* OPEN_FAIL with an exit code (64 usage, 77 not allowed, ...) and why. */
void vw_mchan_fail(struct vw_master *m, uint16_t peer, uint32_t chan, uint8_t code, const char *why);
/* Closes what the channel holds (a running command is killed) and frees its slot. */
void vw_mchan_free(struct vw_master *m, struct vw_chan *ch);
/* The words a client sees for a refused path. */
const char *vw_mchan_errno_text(int e);
void vw_mchan_msg(struct vw_master *m, struct vw_peer *p, const struct vw_msg *msg);
void vw_mchan_close_peer(struct vw_master *m, uint16_t peer);
/* The byte-stream operations of a channel (the rows of exec, shell, forward, watch). */
const char *vw_mstream_data(struct vw_chan *ch, const struct vw_msg *msg);
void vw_mstream_eof(struct vw_master *m, struct vw_chan *ch, const struct vw_msg *msg);
void vw_mstream_poll(struct vw_master *m, struct vw_chan *ch, struct pollfd q[3], int *busy);
void vw_mstream_pump(struct vw_master *m, struct vw_chan *ch, const struct pollfd q[3]);
/* poll set contribution and work after poll */
int vw_mchan_pollfds(struct vw_master *m, struct pollfd *pf, int max, int *busy);
void vw_mchan_pump(struct vw_master *m, const struct pollfd *pf, int n);
void vw_mchan_reap(struct vw_master *m);
void vw_mchan_present(struct vw_master *m, int readable);
/* The presented command's terminal ended and its exit status came: its watchers hear. */
void vw_mchan_present_end(struct vw_master *m);
int vw_master_send(struct vw_master *m, uint16_t peer, struct vw_msg *msg);
/* The link a peer's traffic goes on (its direct link, else the relay), and the least
 * room over all links (for broadcasts). */
struct vw_conn *vw_master_link(struct vw_master *m, uint16_t peer);
struct vw_peer *vw_master_peer(struct vw_master *m, uint16_t id);
void vw_master_drop_peer(struct vw_master *m, struct vw_peer *p, const char *why);
size_t vw_master_min_room(struct vw_master *m);
/* What channel producers for peer may send now (its link's room and retransmit room). */
size_t vw_master_room(struct vw_master *m, uint16_t peer);
/* vw_mdirect.c: the LAN listener and the direct links */
int vw_mdirect_pollfds(struct vw_master *m, struct pollfd *pf, int max);
void vw_mdirect_pump(struct vw_master *m, const struct pollfd *pf, int n);
/* The LAN listener's accept callback (net/fdsock.h; arg: the master). */
void vw_mdirect_accept(int fd, const char *peer, void *arg);
void vw_mdirect_close(struct vw_master *m, struct vw_peer *p);
/* vw_rtx's direct_closed: a client's broken direct link is closed; it uses the relay. */
void vw_mdirect_closed(void *arg, uint16_t id, const char *why);
void vw_mdirect_shutdown(struct vw_master *m);
/* vw_mpeer.c: the clients. A frame from the relay: -1 ends the session. */
int vm_on_frame(struct vw_master *m, const struct tframe_hdr *h, const uint8_t *raw,
		const uint8_t *pl);
/* Reads what is there from fd into a line buffer; calls fn per complete line. -1 at EOF. */
int vm_read_lines(struct vw_master *m, int fd, char *buf, size_t cap, size_t *len,
		  void (*fn)(struct vw_master *, const char *));
/* A line on the terminal (the SAS question's answer), a command on stdin. */
void vm_on_answer(struct vw_master *m, const char *line);
void vm_on_command(struct vw_master *m, const char *line);
void vm_approve(struct vw_master *m, struct vw_peer *p, int yes, const char *why);
/* A new group epoch for the drop, to every approved client. */
void vm_rekey(struct vw_master *m);
/* a sealed frame from a peer (relay or direct link) */
void vw_master_on_data(struct vw_master *m, const struct tframe_hdr *h, const uint8_t *raw,
		       const uint8_t *pl);
#endif
