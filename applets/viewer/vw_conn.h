/* vw_conn.h - one framed, non-blocking connection to the relay (TCP, or TLS/HTTP through
 * a proxy: net/stream.h) or to a direct peer: bounded input (one frame at a time) and
 * bounded output, driven by the caller's poll loop. Producers ask vw_conn_room before
 * making more data, so nothing grows without bound.
 *
 * A poll loop asks for POLLIN always and POLLOUT when vw_conn_want_write; it calls
 * vw_conn_on_readable when poll says readable OR vw_conn_pending (bytes decrypted or
 * buffered inside TLS do not make the socket readable: poll with timeout 0 then). */
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
struct net_stream;
struct vw_rtx;
struct vw_conf;

struct vw_conn {
	int fd;             /* the socket, for poll; -1 when closed */
	struct net_stream *st;
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

/* Connects (blocking, with a timeout) to "host:port". Returns 0 or -1 with err set. */
int vw_conn_open(struct vw_conn *c, const char *hostport, int timeout_ms, char *err, size_t errlen);
void vw_conn_close(struct vw_conn *c);
/* Wraps an already connected socket (a direct path). */
int vw_conn_adopt(struct vw_conn *c, int fd, char *err, size_t errlen);
/* How to reach the relay (options shared by viewer-master and viewer-client; set by
 * vw_relay_opt and vw_relay_opts_load in vw_conf.c). */
struct vw_relay_opts {
	const char *server;   /* HOST:PORT of its TCP port */
	int https_port;       /* its HTTPS (TLS + Upgrade) port on the same host; 0 = never */
	int http_port;        /* its plain HTTP Upgrade port; 0 = never */
	const char *ca_file;  /* roots for the HTTPS certificate; NULL = the system's */
	int insecure;         /* do not check the HTTPS certificate (warned about) */
	struct net_proxy_conf proxy; /* from the configuration file; NULL fields: the environment */
	const char *config;   /* -c FILE; NULL: the default file when it exists */
	const char *config_used; /* the file read, or NULL */
	int check_only;       /* -n: check the configuration and exit */
	struct vw_conf *cf;   /* the file's values, owned */
};
#define VW_RELAY_OPTS_USAGE "[--https-port N] [--http-port N] [--relay-ca FILE] [--relay-insecure] [-c FILE]"
/* Connects to the relay, fastest path first: TCP to server; then its HTTPS port (TLS,
 * certificate checked, through the proxy in https_proxy unless no_proxy matches); then
 * its HTTP port (through http_proxy, else https_proxy, or direct). Proxy settings come
 * from o->proxy (the configuration file), else the environment. Both proxy paths
 * answer Basic and Digest. Writes the path taken ("relay-tcp H:P", "relay-https H:P via
 * proxy H:P", ...) into path; on failure err lists why each step failed. */
int vw_conn_open_relay(struct vw_conn *c, const struct vw_relay_opts *o, char *path,
		       size_t pathlen, char *err, size_t errlen);
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
/* Socket I/O when poll says so (or vw_conn_pending): 0, or -1 when the connection died
 * (c->err says why). */
int vw_conn_on_readable(struct vw_conn *c);
/* 1 when vw_conn_on_readable has bytes to get without the socket being readable. */
int vw_conn_pending(const struct vw_conn *c);
/* 1 when output waits (frames queued, or ciphertext the socket has not taken yet). */
int vw_conn_want_write(const struct vw_conn *c);
int vw_conn_flush(struct vw_conn *c);
/* Blocks (up to ms) until everything queued is written. */
int vw_conn_flush_all(struct vw_conn *c, int ms);
/* 1 and the frame when a whole one is buffered; 0 when not yet; -1 malformed. The
 * frame stays valid until vw_conn_consume. */
int vw_conn_frame(struct vw_conn *c, struct tframe_hdr *h, const uint8_t **raw,
		  const uint8_t **payload);
void vw_conn_consume(struct vw_conn *c);
/* Appends already built frames (a resend: no new seq). -1 when they do not fit. */
int vw_conn_queue_raw(struct vw_conn *c, const uint8_t *p, size_t len);
/* Closes the transport, keeps the buffers and fields (a relay link being resumed). */
void vw_conn_drop_socket(struct vw_conn *c);
#endif
