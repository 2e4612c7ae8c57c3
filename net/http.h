/* http.h - a small HTTP/1.1 server (libevent's evhttp) over plain TCP or the core's TLS
 * (crypto/tls.h through a bufferevent filter), for applets that serve an API. The
 * applet sees requests and replies; libevent stays hidden.
 *
 * A request is valid from the handler call until it is answered (net_http_reply, or
 * the end of a streamed reply). Bodies are held in memory up to max_body: APIs that
 * move large data use several requests (chunked uploads). Streamed replies are paced
 * by the client: the next chunk is asked for when the previous one left the buffer.
 *
 * Every request head is checked before any of its body is read (net/http_conn.c): the
 * admit callback names the largest body the request may have (a larger Content-Length
 * is answered 413 and the connection closed, unread); request bodies need a
 * Content-Length. A head, and an idle connection, must complete within head_timeout
 * (total, however slowly bytes trickle); connections are capped in total and per
 * client address; accept errors (EMFILE...) pause accepting instead of spinning. */
#ifndef NET_HTTP_H
#define NET_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct net_loop;
struct cry_tls_ctx;
struct net_http;
struct net_http_req;

typedef void (*net_http_handler)(struct net_http_req *r, void *arg);
typedef void (*net_http_done_cb)(void *arg);

/* addr: "IP:PORT" or "[v6]:PORT" (port 0 picks one). tls NULL = plain HTTP. */
struct net_http *net_http_new(struct net_loop *l, const char *addr, struct cry_tls_ctx *tls,
			      size_t max_body, net_http_handler h, void *arg, char *err,
			      size_t errlen);
int net_http_port(const struct net_http *h);

struct net_http_limits {
	unsigned head_timeout;         /* seconds; 0 = 30 */
	unsigned max_conns;            /* open connections in all; 0 = 256 */
	unsigned max_conns_per_addr;   /* from one client address; 0 = 32 */
};
void net_http_set_limits(struct net_http *h, const struct net_http_limits *l);

/* What admission sees of a request whose head is complete and whose body is unread. */
struct net_http_reqinfo {
	const char *method;
	const char *path;           /* percent-decoded; NULL when it does not decode */
	const char *authorization;  /* the header's value, "" when absent */
	uint64_t content_length;
	const char *peer;           /* client IP */
	const char *query;          /* the raw query (after '?', not decoded), "" when none */
};
/* Returns the largest body this request may have (never more than max_body). Without a
 * callback every request may have max_body. */
typedef uint64_t (*net_http_admit_cb)(const struct net_http_reqinfo *ri, void *arg);
void net_http_set_admit(struct net_http *h, net_http_admit_cb cb, void *arg);

/* A request body taken as it arrives instead of held whole (large uploads at the speed
 * of the disk, constant memory): write() gets the body in order, in pieces (-1: stop
 * calling; the rest is read and dropped); once the last byte is in, the request
 * reaches the handler with an empty body, and net_http_sink_take() hands it arg.
 * release(arg) frees a sink nobody took (the client left mid-body, or the handler did
 * not take it). */
struct iovec;
struct net_http_sink {
	int (*write)(void *arg, const struct iovec *iov, int n);
	void (*release)(void *arg);
	void *arg;
};
/* Called for an admitted request with a body when no earlier request of its
 * connection waits: fill *out and return 1 to take the body, 0 to leave it to evhttp. */
typedef int (*net_http_sink_cb)(const struct net_http_reqinfo *ri, struct net_http_sink *out, void *arg);
void net_http_set_sink(struct net_http *h, net_http_sink_cb cb, void *arg);
void net_http_free(struct net_http *h);

const char *net_http_method(const struct net_http_req *r);  /* "GET", "POST", ... */
/* The path, percent-decoded, without the query; NULL when it does not decode. */
const char *net_http_path(struct net_http_req *r);
/* A query parameter (decoded), NULL if absent. */
const char *net_http_query(struct net_http_req *r, const char *key);
const char *net_http_header(const struct net_http_req *r, const char *name);
/* The sink's arg when the body went to a sink (the caller owns it now), else NULL. */
void *net_http_sink_take(struct net_http_req *r);
/* The request body, contiguous; len 0 for none. */
const uint8_t *net_http_body(struct net_http_req *r, size_t *len);
const char *net_http_peer_ip(const struct net_http_req *r);

int net_http_set_header(struct net_http_req *r, const char *name, const char *value);
/* Answers and releases the request. */
void net_http_reply(struct net_http_req *r, int code, const void *body, size_t len);
/* Suspends r so that the handler can return unanswered and answer later (with
 * net_http_reply, typically from a net/worker.h done callback), keeping slow disk work
 * off the loop. If the client leaves first, gone(arg) is called and r is released: it
 * must not be used after. Until the answer the connection reads nothing further.
 * Returns 0, or -1 (r cannot be suspended: answer it now). */
int net_http_defer(struct net_http_req *r, net_http_done_cb gone, void *arg);

/* Streamed reply of a known length: more(r, arg) is called (from the loop) whenever
 * the socket has sent most of what was queued; it calls net_http_stream_write once, or
 * net_http_stream_end. The reply ends (and r is released) when the last byte left the
 * socket; then, or when the client went away first, done(arg) is called: the end of
 * the stream either way (release what more() used). r must not be used after it. */
typedef void (*net_http_more_cb)(struct net_http_req *r, void *arg);
int net_http_stream_start(struct net_http_req *r, int code, uint64_t length,
			  net_http_more_cb more, net_http_done_cb done, void *arg);
/* last = 1 for the final chunk: no more() follows; the reply ends after it. */
int net_http_stream_write(struct net_http_req *r, const void *data, size_t len, int last);
/* Ends a reply without a final chunk (empty or short file). */
void net_http_stream_end(struct net_http_req *r);
#endif
