/* http_internal.h - shared by net/http.c and net/http_tls.c only. */
#ifndef NET_HTTP_INTERNAL_H
#define NET_HTTP_INTERNAL_H

struct event_base;
struct bufferevent;
struct cry_tls_ctx;

/* A bufferevent for one accepted connection: a TLS filter (server side) over a socket
 * bufferevent whose fd evhttp sets later. NULL on error. */
struct bufferevent *net_http_tls_bev_(struct event_base *base, struct cry_tls_ctx *ctx);
#endif
