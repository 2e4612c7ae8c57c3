/* conn_internal.h - what conn.c, conn_buf.c and conn_tls.c share: the three files are
 * one connection object split by concern, and nothing else in net/ should need this. */
#ifndef NET_CONN_INTERNAL_H
#define NET_CONN_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

struct net_conn;
struct cry_tls;

/* TLS calls go through this table, which only net_conn_start_tls installs: a binary
 * that never starts TLS on a connection (a hitc-only image) then names none of
 * wolfSSL's TLS code, and --gc-sections leaves it all out (about 1 MB static). */
struct net_conn_tls_ops {
	void (*free)(struct cry_tls *t);
	int (*handshake)(struct cry_tls *t);
	ssize_t (*read)(struct cry_tls *t, void *buf, size_t len);
	ssize_t (*write)(struct cry_tls *t, const void *buf, size_t len);
	size_t (*pending)(const struct cry_tls *t);
	int (*shutdown)(struct cry_tls *t);
	const char *(*error)(const struct cry_tls *t);
};
extern const struct net_conn_tls_ops *net_conn_tls_ops_; /* set before any c->tls exists */

/* The most a plain connection reads (conn_buf.c) or writes (conn.c) per wakeup. */
#define NET_CONN_READ_MORE_MAX (256 * 1024)
#define LIBEVENT_READ_MAX 4096 /* libevent 2.1's EVBUFFER_MAX_READ: its most per read */

/* conn.c */
void net_conn_pump_(struct net_conn *c);
void net_conn_destroy_(struct net_conn *c);
int net_conn_fire_read_(struct net_conn *c); /* -1 when c is gone */
/* Reading on unless paused, full, finished or closing. */
void net_conn_update_reading_(struct net_conn *c);

/* conn_buf.c */
/* After libevent's read, takes what else the socket holds; 0 or an errno. */
int net_conn_read_more_(struct net_conn *c);
/* Whether the application may still write (also a last word after an idle timeout). */
int net_conn_writable_(const struct net_conn *c);

/* conn_tls.c */
int net_conn_tls_write_all_(struct net_conn *c, const void *data, size_t len);
/* Moves plaintext queued before connect or handshake out; -1 on a TLS error. */
int net_conn_flush_pending_(struct net_conn *c);
/* Handshake, then decrypt into c->in while there is room; -1 when c is gone. */
int net_conn_tls_pump_(struct net_conn *c);
#endif
