/* conn.h - a TCP connection, plain or TLS, as the applets see it: bytes and lines in,
 * bytes out, callbacks on the loop. libevent's bufferevents and wolfSSL stay hidden.
 *
 * Flow control: a connection stops reading from its socket when more than
 * read_limit bytes wait unread in its input, and reports "drained" when its output
 * falls below the write low-water mark, so a relay can pause the fast side
 * (net_conn_pause_read) until the slow side drains. Nothing grows without bound. */
#ifndef NET_CONN_H
#define NET_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct net_loop;
struct cry_tls_ctx;
struct cry_tls_info;
struct net_conn;

enum net_event {
	NET_EV_CONNECTED = 1,   /* outgoing connect finished */
	NET_EV_TLS_READY,       /* TLS handshake finished (implicit TLS or STARTTLS) */
	NET_EV_EOF,             /* peer closed (clean) */
	NET_EV_ERROR,           /* socket, TLS or protocol error; net_conn_error() says why */
	NET_EV_TIMEOUT,         /* no data for the idle timeout, or connect/handshake timeout */
};

/* After NET_EV_ERROR and NET_EV_EOF nothing more can be written (net_conn_write
 * returns -1). After NET_EV_TIMEOUT of a connected socket whose TLS handshake (if any)
 * finished, the application may still write a last message, inside its on_event
 * callback or later, and then net_conn_close() it: the close flushes it within the
 * usual bounded flush time (SMTP "421 4.4.2 timeout", "ERROR code=timeout"). Nothing
 * is read any more, and no further event fires for that connection. A connect or
 * handshake timeout, and a timeout on a CONNECT proxy's connection, refuse writes. */

struct net_conn_cbs {
	void (*on_read)(struct net_conn *c, void *arg);    /* input has new bytes */
	void (*on_drain)(struct net_conn *c, void *arg);   /* output fell below low water */
	void (*on_event)(struct net_conn *c, enum net_event ev, void *arg);
};

#define NET_DEFAULT_READ_LIMIT (256 * 1024)
#define NET_DEFAULT_WRITE_LOW (64 * 1024)

void net_conn_set_cbs(struct net_conn *c, const struct net_conn_cbs *cbs, void *arg);
/* ms = 0 disables. The idle timeout fires NET_EV_TIMEOUT when no byte arrives for ms,
 * or when output waits that long without the peer taking any of it. (A last message
 * may still be written then: see above.) */
void net_conn_set_idle_timeout(struct net_conn *c, unsigned long ms);
void net_conn_set_read_limit(struct net_conn *c, size_t bytes);
void net_conn_set_write_low(struct net_conn *c, size_t bytes);
void net_conn_set_max_line(struct net_conn *c, size_t bytes); /* default 8192 */

/* ---- input ---- */
size_t net_conn_input_len(const struct net_conn *c);
/* Copies up to len bytes out of the input (and removes them). */
size_t net_conn_read(struct net_conn *c, void *buf, size_t len);
/* Copies without removing. */
size_t net_conn_peek(struct net_conn *c, void *buf, size_t len);
void net_conn_drain(struct net_conn *c, size_t len);
/* Takes one line ending in LF (CR before it is removed too) into a heap string the
 * caller frees; *len excludes the terminator. Returns 1 for a line, 0 when no whole
 * line is buffered yet, -1 when the line exceeds max_line (a protocol error: the caller
 * answers and closes; the bytes stay unread). */
int net_conn_readline(struct net_conn *c, char **line, size_t *len);
/* Like readline but also reports whether the line ended with CRLF or bare LF. */
int net_conn_readline_crlf(struct net_conn *c, char **line, size_t *len, int *had_cr);

/* ---- output ---- */
int net_conn_write(struct net_conn *c, const void *data, size_t len);
int net_conn_printf(struct net_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t net_conn_output_len(const struct net_conn *c);
/* Moves all unread input of src to the output of dst without copying (plain or TLS). */
int net_conn_forward(struct net_conn *src, struct net_conn *dst);

void net_conn_pause_read(struct net_conn *c);
void net_conn_resume_read(struct net_conn *c);

/* ---- TLS ---- */
/* Starts TLS on this connection now (implicit TLS, or STARTTLS after the "go ahead"
 * reply was written). Any plaintext already received and not yet consumed is
 * DISCARDED first: bytes a client pipelined behind STARTTLS must never be treated as
 * if they had come over TLS (CVE-2011-0411 class). host: client side SNI/verify name.
 * NET_EV_TLS_READY (or NET_EV_ERROR) follows. */
int net_conn_start_tls(struct net_conn *c, struct cry_tls_ctx *ctx, const char *host);
int net_conn_is_tls(const struct net_conn *c);
int net_conn_tls_info(const struct net_conn *c, struct cry_tls_info *info);
/* Gives the TLS peer's certificate chain as PEM (caller frees), for diagnostics. */
char *net_conn_tls_peer_chain_new(const struct net_conn *c);

/* ---- addresses, errors, closing ---- */
const char *net_conn_peer(const struct net_conn *c);  /* "192.0.2.1:5000" / "[::1]:5000" */
const char *net_conn_local(const struct net_conn *c);
/* Numeric IP of the peer / local side, without the port. */
const char *net_conn_peer_ip(const struct net_conn *c);
const char *net_conn_local_ip(const struct net_conn *c);
const char *net_conn_error(const struct net_conn *c); /* last error, one line */
/* Flushes pending output (TLS: plus close_notify), then closes and frees. No callback
 * fires for c afterwards. The TLS session is released at once, so the application may
 * free the connection's cry_tls_ctx after this call; the socket may linger (flush up
 * to 10 s, then up to 2 s for the peer's EOF) and net_loop_free frees it if needed. */
void net_conn_close(struct net_conn *c);
/* Closes and frees at once, dropping output. */
void net_conn_free(struct net_conn *c);
struct net_loop *net_conn_loop(const struct net_conn *c);

/* ---- listening ---- */
typedef void (*net_accept_cb)(struct net_conn *c, void *arg);
struct net_listener;
/* addr: "ADDR:PORT", "[v6]:PORT", "*:PORT" (all IPv4+IPv6) or ":PORT". When tls is set,
 * each accepted connection starts TLS at once (implicit TLS). */
struct net_listener *net_listen(struct net_loop *l, const char *addr, struct cry_tls_ctx *tls,
				net_accept_cb cb, void *arg, char *err, size_t errlen);
/* Port actually bound (useful with port 0 in tests). */
int net_listener_port(const struct net_listener *ls);
void net_listener_free(struct net_listener *ls);

/* Takes fd, a connected stream socket made elsewhere (made non-blocking here), as a
 * connection on l: the viewer's direct LAN link once it proved its key. NULL when out of
 * memory (fd is closed then). */
struct net_conn *net_conn_adopt(struct net_loop *l, int fd);

/* ---- connecting ---- */
/* Resolves host (numeric, or a name through the loop's asynchronous resolver), tries each
 * address in turn within timeout_ms, then fires NET_EV_CONNECTED or NET_EV_ERROR/TIMEOUT
 * through cbs. Returns the pending connection (free it to cancel) or NULL. */
struct net_conn *net_connect(struct net_loop *l, const char *host, int port,
			     unsigned long timeout_ms, const struct net_conn_cbs *cbs, void *arg);

/* The same for a UNIX stream socket at path (absolute); peer names are "unix". */
struct net_conn *net_connect_unix(struct net_loop *l, const char *path, unsigned long timeout_ms,
				  const struct net_conn_cbs *cbs, void *arg);

/* "host:port", "[v6]:port", "host" (then default_port). host is copied into hostbuf. */
int net_split_hostport(const char *s, char *hostbuf, size_t hostcap, int *port, int default_port);
/* The inverse, for display, logs, keys and Host headers: "host:port", or "[host]:port"
 * when host is an IPv6 literal (it has a ':'), so the port can be told from the address.
 * Returns out; cut to cap bytes (NUL included) when it does not fit. */
const char *net_join_hostport(char *out, size_t cap, const char *host, int port);
/* Room for any "[IPv6]:port" or a name of up to 255 bytes with its port. */
#define NET_HOSTPORT_MAX 264
#endif
