/* proxy.h - HTTP CONNECT proxy client with Basic and Digest proxy authentication, and the
 * https_proxy / no_proxy environment conventions. */
#ifndef NET_PROXY_H
#define NET_PROXY_H

#include <stddef.h>

struct net_loop;
struct net_conn;
struct net_conn_cbs;

struct net_proxy {
	char host[256];
	int port;
	char user[128];        /* empty: no credentials */
	char pass[128];        /* wiped by net_proxy_clear */
};

/* Parses "http://[user:pass@]host[:port][/]" (port defaults to 3128). */
int net_proxy_parse(const char *url, struct net_proxy *p);
/* Reads https_proxy/HTTPS_PROXY (then http_proxy/HTTP_PROXY when https is 0), honouring
 * no_proxy/NO_PROXY for target_host. Returns 1 if a proxy applies, 0 if none, -1 on a
 * malformed variable. */
int net_proxy_from_env(const char *target_host, int https, struct net_proxy *p);
/* 1 when target_host matches a no_proxy list ("*", suffixes ".example.com", hosts, IPs). */
int net_proxy_no_proxy_match(const char *no_proxy, const char *target_host);
void net_proxy_clear(struct net_proxy *p);

/* Proxy settings as a configuration file spells them, in the environment variables'
 * syntax. A NULL field falls back to its environment variable (https_proxy, then
 * HTTPS_PROXY, ...); "" or "none" means no proxy, whatever the environment says. */
struct net_proxy_conf {
	const char *https_proxy;
	const char *http_proxy;
	const char *no_proxy;
};
/* One proxy setting's value: 1 with *p filled (a proxy URL), 0 for "" or "none", -1 when
 * it is not a proxy URL. */
int net_proxy_setting_parse(const char *value, struct net_proxy *p);
/* The proxy for a connection to target_host, configuration first, then the environment:
 * TLS to the target (https 1) takes https_proxy; plain HTTP takes http_proxy, else
 * https_proxy (often the only one set); a no_proxy match means direct. cf may be NULL.
 * Returns 1 with *p filled, 0 for direct, -1 when the setting that applies is malformed
 * (*which, when not NULL, names it: "https_proxy (configuration)", ...). */
int net_proxy_select(const struct net_proxy_conf *cf, const char *target_host, int https,
		     struct net_proxy *p, const char **which);

/* Connects to the proxy, sends CONNECT host:port, answers a 407 challenge once with
 * Basic or Digest (MD5, qop=auth) credentials, and fires NET_EV_CONNECTED when the tunnel
 * is open (the connection then carries the target's bytes) or NET_EV_ERROR with the
 * proxy's status line in net_conn_error(). */
struct net_conn *net_connect_via_proxy(struct net_loop *l, const struct net_proxy *p,
				       const char *host, int port, unsigned long timeout_ms,
				       const struct net_conn_cbs *cbs, void *arg);
#endif
