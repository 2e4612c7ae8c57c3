/* stream.h - for clients that run their own poll(2) loop instead of net/'s libevent
 * loop (the viewer, docs/viewer.md "Design notes"): opening a connection (directly or
 * through an HTTP CONNECT proxy with Basic or Digest authentication), an HTTP exchange
 * on it, optionally TLS on top, then a non-blocking byte stream the caller drives from
 * poll(2). Opening blocks, bounded by a timeout; reading and writing never block.
 *
 * With TLS, bytes can wait inside the engine while the socket is not readable (a record
 * decrypted in part, or several records read at once): a poll loop must call
 * net_stream_read whenever net_stream_pending says so (poll with timeout 0), and must
 * ask for POLLOUT while net_stream_want_write says ciphertext waits for the socket. */
#ifndef NET_STREAM_H
#define NET_STREAM_H

#include <stddef.h>
#include <sys/types.h>

#include "net/http_auth.h"

struct cry_tls_ctx;
struct net_proxy;

struct net_stream;
/* Connects to host:port within timeout_ms (every address getaddrinfo gives, in turn).
 * Returns the stream (a non-blocking, close-on-exec socket), or NULL with one line in
 * err ("cannot connect to HOST:PORT: Connection refused"). */
struct net_stream *net_stream_dial(const char *host, int port, int timeout_ms, char *err,
				   size_t errlen);

/* Connects to the proxy and asks it for a tunnel to host:port (CONNECT). A 407 is
 * answered once, with Digest (MD5 or SHA-256, qop=auth) when offered, else Basic, from
 * p's credentials; on the same connection when the proxy keeps it, else on a new one.
 * Returns the stream with the tunnel open and nothing of the target's bytes read, or
 * NULL with err ("proxy H:P: proxy authentication failed (HTTP/1.1 407 ...)", ...). */
struct net_stream *net_stream_dial_proxy(const struct net_proxy *p, const char *host, int port,
					 int timeout_ms, char *err, size_t errlen);

/* What the head of an HTTP response says (a parser of untrusted input: fuzzed by
 * tests/fuzz/fuzz_http_head.c). */
struct net_http_head {
	int status;
	char status_line[160];   /* printable ASCII only, for messages */
	long long content_length; /* -1: none */
	int conn_close;          /* "Connection: close" / "Proxy-Connection: close" */
	struct net_http_challenge auth; /* the best Proxy-Authenticate challenge we can
	                                   answer (scheme NET_AUTH_NONE: none) */
};
/* Parses head (status line and header lines up to the blank line, len bytes). 0 or -1. */
int net_http_head_parse(const char *head, size_t len, struct net_http_head *h);

/* Takes fd (a connected socket; made non-blocking). NULL when out of memory (fd closed). */
struct net_stream *net_stream_new(int fd);
/* Closes the socket and frees everything, the TLS context given to start_tls too. */
void net_stream_free(struct net_stream *s);
/* Frees a plain (not TLS) stream and hands back its socket, open; -1 for a TLS stream
 * (then freed as by net_stream_free). For a caller that speaks on the socket itself. */
int net_stream_detach(struct net_stream *s);
/* Client TLS handshake, blocking up to timeout_ms. The stream owns ctx from here on
 * (also on failure). host: SNI and the name (or address) the certificate must carry
 * when ctx verifies. 0, or -1 with err ("certificate verify failed: ..."). */
int net_stream_start_tls(struct net_stream *s, struct cry_tls_ctx *ctx, const char *host,
			 int timeout_ms, char *err, size_t errlen);
/* Sends req whole and reads the response head up to its blank line, byte by byte so that
 * nothing after it is consumed; blocking, up to timeout_ms. Returns the status code and
 * the head (NUL-terminated) in head, or -1. */
int net_stream_http_exchange(struct net_stream *s, const char *req, int timeout_ms, char *head,
			     size_t cap);

/* > 0 bytes; 0 at the end of the stream; -1 with errno EAGAIN (nothing yet) or another
 * error (net_stream_error says which). */
ssize_t net_stream_read(struct net_stream *s, void *buf, size_t len);
/* Bytes taken (> 0), or -1 with errno EAGAIN (no room yet) or another error. */
ssize_t net_stream_write(struct net_stream *s, const void *buf, size_t len);
/* Pushes ciphertext that waits for the socket; 0 (done or EAGAIN) or -1. */
int net_stream_flush(struct net_stream *s);
int net_stream_want_write(const struct net_stream *s);
/* 1 when net_stream_read may return something without the socket being readable. */
int net_stream_pending(const struct net_stream *s);
int net_stream_fd(const struct net_stream *s);
int net_stream_is_tls(const struct net_stream *s);
const char *net_stream_error(const struct net_stream *s);
#endif
