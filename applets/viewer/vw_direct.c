/* vw_direct.c - direct LAN path: listener, proofs of the per-client direct key, the
 * client's attempt. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "applets/viewer/vw_direct.h"
#include "applets/viewer/vw_loop.h"
#include "crypto/crypto.h"
#include "net/conn.h"
#include "net/fdsock.h"
#include "net/loop.h"

/* Appends "IP:PORT" ("[IP]:PORT" for IPv6) when it fits whole: cap is tunneld's limit
 * for the whole lan= value, and a cut entry would be a wrong address. */
static void append(char *lan, size_t cap, const char *ip, int port)
{
	size_t l = strlen(lan);
	char hp[NET_HOSTPORT_MAX];
	int n = snprintf(NULL, 0, "%s%s", l ? "," : "", net_join_hostport(hp, sizeof(hp), ip, port));

	if (n > 0 && l + (size_t)n < cap)
		snprintf(lan + l, cap - l, "%s%s", l ? "," : "", hp);
}

/* IPv6 addresses worth announcing: global and unique-local. Link-local ones are left
 * out: they mean something only with the scope (interface) of the host that uses them,
 * and the master's interface index says nothing to the client. */
static int v6_announce(const struct in6_addr *a)
{
	return !IN6_IS_ADDR_UNSPECIFIED(a) && !IN6_IS_ADDR_LOOPBACK(a) && !IN6_IS_ADDR_LINKLOCAL(a) &&
	       !IN6_IS_ADDR_SITELOCAL(a) && !IN6_IS_ADDR_MULTICAST(a) && !IN6_IS_ADDR_V4MAPPED(a) &&
	       !IN6_IS_ADDR_V4COMPAT(a);
}

/* The host's addresses of one family for a wildcard listener, IPv4 first (the client
 * tries them in order). */
static void announce_host(char *lan, size_t cap, int family, int port)
{
	struct ifaddrs *ifs = NULL;

	if (getifaddrs(&ifs) < 0)
		return;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		char ip[INET6_ADDRSTRLEN];
		if (!i->ifa_addr || i->ifa_addr->sa_family != family)
			continue;
		if (family == AF_INET) {
			const struct sockaddr_in *a = (const void *)i->ifa_addr;
			if (ntohl(a->sin_addr.s_addr) >> 24 == 127 ||
			    !inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip)))
				continue;
		} else {
			const struct sockaddr_in6 *a = (const void *)i->ifa_addr;
			if (!v6_announce(&a->sin6_addr) || !inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip)))
				continue;
		}
		append(lan, cap, ip, port);
	}
	freeifaddrs(ifs);
}

struct net_listener *vw_direct_listen(const char *addr, net_accept_fd_cb cb, void *arg, char *lan,
				      size_t cap, char *err, size_t errlen)
{
	char host[64] = "", spec[96], e[200];
	int port = VW_DIRECT_PORT, wild4 = 0, wild6 = 0;
	struct in_addr a4;
	struct in6_addr a6;
	struct net_listener *ls;

	lan[0] = '\0';
	if (addr && (addr[0] == ':' || (addr[0] == '*' && addr[1] == ':'))) {
		char *end;
		long p = strtol(strchr(addr, ':') + 1, &end, 10);
		if (end == strchr(addr, ':') + 1 || *end || p < 0 || p > 65535)
			goto bad;
		port = (int)p;
	} else if (addr && net_split_hostport(addr, host, sizeof(host), &port, 0) < 0) {
		goto bad;
	}
	if (!host[0] || strcmp(host, "::") == 0) {
		/* every address of both families (net_listen: one socket each) */
		snprintf(spec, sizeof(spec), "*:%d", port);
		wild4 = wild6 = 1;
	} else if (inet_pton(AF_INET, host, &a4) == 1) {
		net_join_hostport(spec, sizeof(spec), host, port);
		wild4 = a4.s_addr == htonl(INADDR_ANY);
	} else if (inet_pton(AF_INET6, host, &a6) == 1 && !IN6_IS_ADDR_LINKLOCAL(&a6)) {
		net_join_hostport(spec, sizeof(spec), host, port);
	} else {
		snprintf(err, errlen, "bad --lan-listen address %s (want an IPv4 address, or an IPv6 one "
			 "in brackets; link-local IPv6 is not supported)", host);
		return NULL;
	}
	ls = net_listen_fd(vw_loop_net(), spec, cb, arg, e, sizeof(e));
	if (!ls && !addr) /* the default port is taken (another master, a relay): any port */
		ls = net_listen_fd(vw_loop_net(), "*:0", cb, arg, e, sizeof(e));
	if (!ls) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr ? addr : "port 4663", e);
		return NULL;
	}
	port = net_listener_port(ls);
	if (!wild4 && !wild6) {
		append(lan, cap, host, port);
		return ls;
	}
	if (wild4)
		announce_host(lan, cap, AF_INET, port);
	if (wild6)
		announce_host(lan, cap, AF_INET6, port);
	if (!lan[0])
		append(lan, cap, wild4 ? "127.0.0.1" : "::1", port);
	return ls;
bad:
	snprintf(err, errlen, "bad --lan-listen %s (want IPv4:PORT or [IPv6]:PORT)", addr);
	return NULL;
}

int vw_direct_proof(const uint8_t k[VW_KEY_LEN], int answer, const uint8_t chal[VW_CHAL_LEN],
		    uint32_t session, uint16_t id, uint8_t out[VW_PROOF_LEN])
{
	static const char l1[] = "sealbox-direct-v3", l2[] = "sealbox-direct-ok-v3";
	const char *label = answer ? l2 : l1;
	uint8_t msg[32 + VW_CHAL_LEN + 6];
	size_t n = strlen(label);
	int rc;

	memcpy(msg, label, n);
	memcpy(msg + n, chal, VW_CHAL_LEN);
	n += VW_CHAL_LEN;
	msg[n++] = (uint8_t)(session >> 24);
	msg[n++] = (uint8_t)(session >> 16);
	msg[n++] = (uint8_t)(session >> 8);
	msg[n++] = (uint8_t)session;
	msg[n++] = (uint8_t)(id >> 8);
	msg[n++] = (uint8_t)id;
	rc = cry_hmac_sha256(k, VW_KEY_LEN, msg, n, out);
	return rc;
}

/* The client's attempt, on the loop: each address in turn, connect, read the
 * challenge, send our id and proof, check the master's answer. */
struct vw_dtry {
	char list[256], *save, chosen[80];
	uint8_t k[VW_KEY_LEN];
	uint32_t session;
	uint16_t id;
	int timeout_ms;
	struct net_conn *c;
	uint8_t chal[VW_CHAL_LEN];
	int answered;          /* our proof went out: the master's answer comes next */
	struct net_timer *t;   /* the address's deadline, or (armed 0) the next address */
	vw_dtry_cb cb;
	void *arg;
};

static void one_failed(struct vw_dtry *d)
{
	if (d->c)
		net_conn_free(d->c);
	d->c = NULL;
	d->answered = 0;
	net_timer_arm(d->t, 0); /* the next address, from the loop */
}

static void dtry_read(struct net_conn *c, void *arg)
{
	struct vw_dtry *d = arg;
	uint8_t msg[2 + VW_PROOF_LEN], ans[VW_PROOF_LEN], want[VW_PROOF_LEN];

	if (!d->answered) {
		if (net_conn_input_len(c) < sizeof(d->chal))
			return;
		net_conn_read(c, d->chal, sizeof(d->chal));
		msg[0] = (uint8_t)(d->id >> 8);
		msg[1] = (uint8_t)d->id;
		if (vw_direct_proof(d->k, 0, d->chal, d->session, d->id, msg + 2) < 0 ||
		    net_conn_write(c, msg, sizeof(msg)) < 0) {
			one_failed(d);
			return;
		}
		d->answered = 1;
	}
	if (net_conn_input_len(c) < sizeof(ans))
		return;
	net_conn_read(c, ans, sizeof(ans));
	if (vw_direct_proof(d->k, 1, d->chal, d->session, d->id, want) < 0 || !cry_memeq(ans, want, sizeof(want))) {
		one_failed(d);
		return;
	}
	/* what follows the answer is the link's: it stays in c for the caller */
	d->c = NULL;
	net_conn_set_cbs(c, NULL, NULL);
	d->cb(d->arg, c, d->chosen);
	vw_direct_try_cancel(d);
}

static void dtry_event(struct net_conn *c, enum net_event ev, void *arg)
{
	(void)c;
	if (ev != NET_EV_CONNECTED)
		one_failed(arg);
}

static const struct net_conn_cbs dtry_cbs = { dtry_read, NULL, dtry_event };

static void dtry_next(void *arg)
{
	struct vw_dtry *d = arg;
	char host[64], *hp;
	int port;

	if (d->c) { /* the deadline of the address being tried */
		one_failed(d);
		return;
	}
	while ((hp = strtok_r(d->save ? NULL : d->list, ",", &d->save)) != NULL) {
		if (net_split_hostport(hp, host, sizeof(host), &port, 0) < 0 || port <= 0)
			continue;
		snprintf(d->chosen, sizeof(d->chosen), "%s", hp);
		if (!(d->c = net_connect(vw_loop_net(), host, port, (unsigned long)d->timeout_ms, &dtry_cbs, d)))
			continue;
		net_timer_arm(d->t, (unsigned long)d->timeout_ms);
		return;
	}
	d->cb(d->arg, NULL, NULL);
	vw_direct_try_cancel(d);
}

struct vw_dtry *vw_direct_try_start(const char *lan, const uint8_t k[VW_KEY_LEN], uint32_t session,
				    uint16_t id, int timeout_ms, vw_dtry_cb cb, void *arg)
{
	struct vw_dtry *d = calloc(1, sizeof(*d));

	if (!d || !vw_loop_net() || !(d->t = net_timer_new(vw_loop_net(), dtry_next, d))) {
		free(d);
		return NULL;
	}
	snprintf(d->list, sizeof(d->list), "%s", lan);
	memcpy(d->k, k, VW_KEY_LEN);
	d->session = session;
	d->id = id;
	d->timeout_ms = timeout_ms;
	d->cb = cb;
	d->arg = arg;
	net_timer_arm(d->t, 0);
	return d;
}

void vw_direct_try_cancel(struct vw_dtry *d)
{
	if (!d)
		return;
	if (d->c)
		net_conn_free(d->c);
	net_timer_free(d->t);
	cry_wipe(d, sizeof(*d)); /* the direct key */
	free(d);
}
