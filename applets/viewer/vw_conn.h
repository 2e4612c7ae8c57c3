/* vw_conn.h - one framed link to the relay (TCP, or TLS/HTTP through a proxy:
 * vw_dial.h) or to a direct peer, over a net_conn on the viewer's loop (vw_loop.h):
 * bounded input (one frame at a time) and bounded output. Producers ask vw_conn_room
 * before making more data, so nothing grows without bound.
 *
 * The connection's bytes and events kick a round (vw_loop_kick); a round calls
 * vw_conn_on_readable while vw_conn_pending says bytes (or the end) wait, takes the
 * frames, and vw_conn_flush hands what it queued to the connection. */
#ifndef VW_CONN_H
#define VW_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/tframe.h"
#include "net/proxy.h"

#define VW_OUT_CAP (2 * 1024 * 1024)
#define VW_FRAME_MAX (64 * 1024)     /* the relay's default max_frame */

struct vw_key;
struct vw_msg;
struct net_conn;
struct cry_tls_ctx;
struct vw_rtx;
struct vw_conf;

struct vw_conn {
	struct net_conn *nc; /* the connection; NULL when closed */
	struct cry_tls_ctx *tls; /* its TLS context (an HTTPS path), freed after it */
	int eof;            /* the connection ended (EOF or error): die once input is used */
	uint16_t my_id;
	uint32_t seq;       /* last seq sent */
	uint32_t *seqp;     /* NULL, or the counter shared with the sender's other link (a direct
	                       path): seq is half of the AEAD nonce, so one sender numbers all
	                       its frames on all its links with one counter */
	uint32_t ack;       /* highest seq seen from the peer */
	uint8_t *in;
	size_t in_len;
	uint8_t *out;
	size_t out_off, out_len;
	int dead;
	char err[128];
	struct vw_rtx *rtx; /* a resumable relay link: acks and kept frames (vw_rtx.h), else NULL */
};

/* Flushes what is queued (in the background, bounded) and closes; frees the buffers. */
void vw_conn_close(struct vw_conn *c);
/* Wraps an already connected socket (a direct path). */
int vw_conn_adopt(struct vw_conn *c, int fd, char *err, size_t errlen);
/* Puts an open connection (from vw_dial) under c, keeping c's buffers and fields if it
 * had them (a relay link being resumed); c owns nc and tls from here on. */
int vw_conn_attach(struct vw_conn *c, struct net_conn *nc, struct cry_tls_ctx *tls, char *err,
		   size_t errlen);
/* 1 while a connection is under c. */
int vw_conn_up(const struct vw_conn *c);
/* How to reach the relay (options shared by viewer-master and viewer-client; set by
 * vw_relay_opt and vw_relay_opts_load in vw_conf.c). */
struct vw_relay_opts {
	const char *server;   /* HOST:PORT of its TCP port; a fleet: several, comma-separated
	                         (vw_servers.h), tried in turn */
	int https_port;       /* its HTTPS (TLS + Upgrade) port on the same host; 0 = never */
	int http_port;        /* its plain HTTP Upgrade port; 0 = never */
	const char *ca_file;  /* roots for the HTTPS certificate; NULL = the system's */
	int insecure;         /* do not check the HTTPS certificate (warned about) */
	struct net_proxy_conf proxy; /* from the configuration file; NULL fields: the environment */
	const char *config;   /* -c FILE; NULL: the default file when it exists */
	const char *config_used; /* the file read, or NULL */
	int check_only;       /* -n: check the configuration and exit */
	struct vw_conf *cf;   /* the file's values, owned */
	unsigned paths;       /* VW_PATH_* bits vw_dial may use; 0: all (a redirect keeps one) */
};
#define VW_PATH_TCP 1u
#define VW_PATH_HTTPS 2u
#define VW_PATH_HTTP 4u
#define VW_RELAY_OPTS_USAGE "[--https-port N] [--http-port N] [--relay-ca FILE] [--relay-insecure] [-c FILE]"
/* Connects to the relay (vw_dial.h: TCP, then HTTPS, then HTTP; proxy settings from
 * o->proxy, else the environment) and sends the control frame type with text as the
 * first request (REGISTER, JOIN), following redirects and the list of relays
 * (vw_redirect.h; who names us in their stderr lines), running the loop until the
 * answer's first frame is there (unread): for the first connection, before vw_loop_run.
 * Writes the path taken ("relay-tcp H:P", "relay-https H:P via proxy H:P", ...) into
 * path; on failure err lists why each step failed. */
int vw_conn_open_relay(struct vw_conn *c, const struct vw_relay_opts *o, uint8_t type,
		       const char *text, const char *who, char *path, size_t pathlen, char *err,
		       size_t errlen);
/* Builds (into out, cap bytes) the control frame vw_conn_send_ctl would queue, counting
 * its seq, without queuing it: a request vw_redirect.h sends to each relay it tries.
 * Its length, or -1 when it does not fit. */
long vw_conn_build_ctl(struct vw_conn *c, uint8_t type, uint16_t target, const char *text,
		       uint8_t *out, size_t cap);
/* Bytes the output can still take. */
size_t vw_conn_room(const struct vw_conn *c);
/* Queues a control frame whose payload is "key=value\n" text. */
int vw_conn_send_ctl(struct vw_conn *c, uint8_t type, uint16_t target, const char *text);
/* Queues a frame of any type with payload p (DROP requests). */
int vw_conn_send_frame(struct vw_conn *c, uint8_t type, uint16_t target, const uint8_t *p,
		       size_t len);
/* Queues a plaintext DATA frame (HELLO / KEY). */
int vw_conn_send_plain(struct vw_conn *c, uint16_t target, const uint8_t *p, size_t len);
/* Encodes m, seals it with key and queues it. */
int vw_conn_send_msg(struct vw_conn *c, const struct vw_key *key, uint16_t target,
		     const struct vw_msg *m);
/* Takes what the connection received into the frame buffer: 0, or -1 when the
 * connection died and everything it brought was used (c->err says why). */
int vw_conn_on_readable(struct vw_conn *c);
/* 1 when vw_conn_on_readable has something to do (bytes, or the end). */
int vw_conn_pending(const struct vw_conn *c);
/* 1 when frames are queued that vw_conn_flush has not handed over yet. */
int vw_conn_want_write(const struct vw_conn *c);
int vw_conn_flush(struct vw_conn *c);
/* Hands everything over; outside a round (vw_loop_busy 0) also runs the loop until the
 * connection wrote it all, up to ms. Inside a round the connection writes it on its
 * own, and vw_conn_close still flushes. */
int vw_conn_flush_all(struct vw_conn *c, int ms);
/* 1 and the frame when a whole one is buffered; 0 when not yet; -1 malformed. The
 * frame stays valid until vw_conn_consume. */
int vw_conn_frame(struct vw_conn *c, struct tframe_hdr *h, const uint8_t **raw,
		  const uint8_t **payload);
void vw_conn_consume(struct vw_conn *c);
/* Appends already built frames (a resend: no new seq). -1 when they do not fit. */
int vw_conn_queue_raw(struct vw_conn *c, const uint8_t *p, size_t len);
/* Drops the connection (nothing flushed), keeps the buffers and fields (a relay link
 * being resumed). */
void vw_conn_drop_socket(struct vw_conn *c);
#endif
