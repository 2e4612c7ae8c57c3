/* vw_client.h - viewer-client's state, shared by its files: vw_client.c (the applet:
 * options, the rounds on the loop), vw_csession.c (joining, the key exchange, approval,
 * the direct path, every frame from the relay or the master), vw_ccmd.c (the one
 * command's channel: what it opens, sends and receives). */
#ifndef VW_CLIENT_H
#define VW_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <termios.h>
#include <time.h>

#include "core/tframe.h"
#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_crypto.h"
#include "applets/viewer/vw_msg.h"
#include "applets/viewer/vw_pend.h"
#include "applets/viewer/vw_rtx.h"
#include "applets/viewer/vw_xfer.h"

struct applet;
struct cry_rsa;
struct cry_rsa_job;
struct cry_gcm_stream;
struct vw_dtry;
struct vw_cfwd;
struct vw_drop;

extern const struct applet viewer_client_applet;

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
	struct vw_pend outq[2]; /* output for stdout, stderr that its
	                       terminal or pipe did not take yet: bounded by our credit */
	int end_rc;         /* >= 0: the command ended with this; exit once outq is written */
	int in_fd;          /* stdin (exec, shell) */
	uint64_t in_sent;   /* bytes of it sent (its EOF says how many) */
	const char *out_path;
	struct vw_xfer xfer; /* get/put: the local file, its check, its progress */
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

/* vw_ccmd.c: the command's channel */
uint32_t vc_term_size(void);
int vc_send_msg(struct client *c, uint8_t type, uint8_t a, uint32_t b, uint64_t x,
		const void *data, size_t len);
int vc_start_command(struct client *c);
/* What the round needs to know of a kind (its row in vw_ccmd.c's table): */
#define VC_TTY 1u       /* the local terminal's size follows (RESIZE on SIGWINCH) */
#define VC_STOP_OK 2u   /* Ctrl-C ends it normally (exit 0, not 130) */
#define VC_NO_RESUME 4u /* it cannot survive a resume of the relay link */
unsigned vc_kind_flags(int kind);
/* A message on our channel. Returns an exit code when the command is over, else -1. */
int vc_on_chan_msg(struct client *c, const struct vw_msg *m);
/* What our source waits for: the descriptor to read (-1 none); *busy = 1 when it can
 * go on without waiting (a file to put). */
int vc_source_poll(struct client *c, int *busy);
/* Sends what our source has, within the credit and the output room. */
void vc_pump_source(struct client *c, int readable);
/* Writes queued output the descriptors take now. -1 on a write error. */
int vc_out_flush(struct client *c);
/* Grants consumed credit back once half a window of it piled up. */
void vc_grant(struct client *c);
/* vw_csession.c: one frame. Returns an exit code when the session is over, -1 to go on. */
int vc_on_frame(struct client *c, const struct tframe_hdr *h, const uint8_t *raw,
		const uint8_t *pl, int from_direct);
/* vw_rtx's direct_closed: the direct link is given up; traffic goes to the relay. */
void vc_direct_closed(void *arg, uint16_t peer, const char *why);
#endif
