/* vw_dial.h - reaching the relay without blocking: TCP to its port; then its HTTPS port
 * (TLS, certificate checked, through the proxy in https_proxy unless no_proxy matches);
 * then its HTTP port (through http_proxy, else https_proxy, or direct); each web path
 * asks for the relay's Upgrade. All of it on net/'s loop (net/connect.c,
 * net/proxy_conn.c with Basic and Digest, the TLS engine), so the other side's shells
 * and forwards go on while a resume dials. */
#ifndef VW_DIAL_H
#define VW_DIAL_H

#include <stddef.h>

struct net_conn;
struct cry_tls_ctx;
struct vw_relay_opts;
struct vw_dial;

/* On success nc is the open link (the Upgrade's answer consumed, nothing after it) and
 * tls its TLS context (NULL for plain; it must outlive nc: the caller frees it after
 * closing nc); path says which way ("relay-tcp H:P", "relay-https H:P via proxy H:P",
 * ...). On failure nc is NULL and err lists why each step failed. Called from the loop,
 * never from inside vw_dial_start; the dial is freed after the call. */
typedef void (*vw_dial_cb)(void *arg, struct net_conn *nc, struct cry_tls_ctx *tls,
			   const char *path, const char *err);

/* o must stay valid until the callback. NULL with err when o->server is malformed or
 * memory is short. */
struct vw_dial *vw_dial_start(const struct vw_relay_opts *o, vw_dial_cb cb, void *arg,
			      char *err, size_t errlen);
/* Stops a dial that has not called back yet; no callback follows. */
void vw_dial_cancel(struct vw_dial *d);
#endif
