/* httpc.h - a small HTTP/1.1 client over plain TCP or the core's TLS, for command-line
 * tools (databox's client), on net/'s connections and a private loop of its own: the
 * calls below run that loop until their request is answered. One keep-alive
 * connection, reopened when the server closed it. Responses must carry Content-Length
 * (or end at close); heads are read by net/http_head.c. */
#ifndef NET_HTTPC_H
#define NET_HTTPC_H

#include <stddef.h>
#include <stdint.h>

struct net_httpc;

/* base: "https://host[:port]" or "http://host[:port]"; ca_file verifies the server
 * (NULL = system roots); the host name is checked. NULL with err on a bad URL. */
struct net_httpc *net_httpc_new(const char *base, const char *ca_file, char *err, size_t errlen);
void net_httpc_free(struct net_httpc *c);
/* A second client of of's server on of's loop and TLS context, with a connection of its
 * own: while a call waits for one's reply, the other's request moves too (an upload
 * sending chunk N+1 while it waits for N's answer). Free it before of. */
struct net_httpc *net_httpc_twin(struct net_httpc *of, char *err, size_t errlen);

/* Receives response body bytes as they arrive; return -1 to abort. */
typedef int (*net_httpc_sink)(const uint8_t *data, size_t len, void *arg);

/* Sends one request (headers: NULL-terminated "Name: value" lines; body may be NULL)
 * and reads the reply. The body goes to sink, or (sink NULL) into *resp (NUL-terminated,
 * caller frees) up to max bytes. Returns the HTTP status, or -1 with err. */
int net_httpc_request(struct net_httpc *c, const char *method, const char *path,
		      const char *const *headers, const void *body, size_t len,
		      net_httpc_sink sink, void *arg, char **resp, size_t *resplen, size_t max,
		      char *err, size_t errlen);

/* The same in two halves, for a caller with work to overlap (an upload encrypting its
 * next chunk while this one is on the wire): begin queues the request (body stays the
 * caller's, unchanged, until end returns); pump moves what can move now without
 * waiting (call it between slices of the other work); end waits for the reply and
 * returns what net_httpc_request would. One request at a time: begin fails while one
 * is in flight. */
int net_httpc_begin(struct net_httpc *c, const char *method, const char *path,
		    const char *const *headers, const void *body, size_t len,
		    net_httpc_sink sink, void *arg, size_t max, char *err, size_t errlen);
void net_httpc_pump(struct net_httpc *c);
/* Runs the loop until the request begun has all been handed to the socket (or ended):
 * the moment to start the next request on a twin without the two sharing the link. */
void net_httpc_wait_sent(struct net_httpc *c);
int net_httpc_end(struct net_httpc *c, char **resp, size_t *resplen, char *err, size_t errlen);
#endif
