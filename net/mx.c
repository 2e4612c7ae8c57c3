/* mx.c - asynchronous MX lookups over UDP (RFC 1035 4.1 message format). The parser
 * reads the untrusted answer through core/buf.h and follows compression pointers only
 * backwards and at most 64 times, so a hostile answer cannot loop or overread. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/buf.h"
#include "core/str.h"
#include "net/internal.h"
#include "net/mx.h"

#define T_MX 15
#define C_IN 1

int net_mx_query(const char *domain, uint16_t id, uint8_t *out, size_t cap)
{
	struct buf_writer w;
	const char *p = domain;

	buf_writer_fixed(&w, out, cap);
	buf_put_u16(&w, id);
	buf_put_u16(&w, 0x0100);   /* RD */
	buf_put_u16(&w, 1);
	buf_put_u16(&w, 0);
	buf_put_u16(&w, 0);
	buf_put_u16(&w, 0);
	while (*p) {
		size_t l = strcspn(p, ".");
		if (l == 0 || l > 63)
			return -1;
		buf_put_u8(&w, (uint8_t)l);
		buf_put_bytes(&w, p, l);
		p += l;
		if (*p == '.')
			p++;
	}
	buf_put_u8(&w, 0);
	buf_put_u16(&w, T_MX);
	buf_put_u16(&w, C_IN);
	return w.err || w.len > 512 ? -1 : (int)w.len;
}

/* Reads a (possibly compressed) name starting at off; *next is the offset after the
 * name in the original position. Writes a dotted name without the trailing dot. */
static int read_name(const uint8_t *pkt, size_t len, size_t off, char *out, size_t cap, size_t *next)
{
	size_t o = 0, pos = off;
	int jumps = 0, jumped = 0;

	for (;;) {
		struct buf_reader r;
		uint8_t l;
		if (pos >= len)
			return -1;
		buf_reader_init(&r, pkt + pos, len - pos);
		if (buf_get_u8(&r, &l) < 0)
			return -1;
		if ((l & 0xC0) == 0xC0) {
			uint8_t lo;
			if (buf_get_u8(&r, &lo) < 0 || ++jumps > 64)
				return -1;
			size_t target = ((size_t)(l & 0x3F) << 8) | lo;
			if (target >= pos)
				return -1;   /* only backwards: no loops */
			if (!jumped)
				*next = pos + 2;
			jumped = 1;
			pos = target;
			continue;
		}
		if (l & 0xC0)
			return -1;
		if (l == 0) {
			if (!jumped)
				*next = pos + 1;
			break;
		}
		const uint8_t *lab = buf_get_ptr(&r, l);
		if (!lab || o + l + 2 > cap)
			return -1;
		if (o)
			out[o++] = '.';
		for (size_t i = 0; i < l; i++) {
			uint8_t c = lab[i];
			/* host names only: letters, digits, '-', '_' */
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			      c == '-' || c == '_'))
				return -1;
			out[o++] = (char)c;
		}
		pos += 1 + l;
	}
	out[o] = '\0';
	return 0;
}

int net_mx_parse(const uint8_t *pkt, size_t len, uint16_t id, struct net_mx *out, size_t max,
		 size_t *n, enum net_mx_status *st)
{
	struct buf_reader r;
	uint16_t rid, flags, qd, an, ns, ar;
	char name[256];
	size_t off;

	*n = 0;
	*st = NET_MX_TEMPFAIL;
	buf_reader_init(&r, pkt, len);
	buf_get_u16(&r, &rid);
	buf_get_u16(&r, &flags);
	buf_get_u16(&r, &qd);
	buf_get_u16(&r, &an);
	buf_get_u16(&r, &ns);
	buf_get_u16(&r, &ar);
	if (r.err || rid != id || !(flags & 0x8000) || qd != 1)
		return -1;
	if (flags & 0x0200)
		return 0;   /* truncated: TCP is not done, try later */
	int rcode = flags & 0xF;
	if (rcode == 3) {
		*st = NET_MX_NXDOMAIN;
		return 0;
	}
	if (rcode != 0)
		return 0;
	off = 12;
	if (read_name(pkt, len, off, name, sizeof(name), &off) < 0 || off + 4 > len)
		return -1;
	off += 4;
	for (uint16_t i = 0; i < an; i++) {
		uint16_t type, cls, rdlen, pref;
		uint32_t ttl;
		if (read_name(pkt, len, off, name, sizeof(name), &off) < 0 || off >= len)
			return -1;
		buf_reader_init(&r, pkt + off, len - off);
		buf_get_u16(&r, &type);
		buf_get_u16(&r, &cls);
		buf_get_u32(&r, &ttl);
		buf_get_u16(&r, &rdlen);
		if (r.err || buf_left(&r) < rdlen)
			return -1;
		size_t rd = off + 10;
		off = rd + rdlen;
		if (type != T_MX || cls != C_IN)
			continue;   /* CNAMEs and the like: the MX records follow them */
		size_t after;
		if (rdlen < 3 || *n >= max)
			continue;
		pref = (uint16_t)((pkt[rd] << 8) | pkt[rd + 1]);
		if (read_name(pkt, rd + rdlen, rd + 2, out[*n].host, sizeof(out[*n].host), &after) < 0)
			return -1;
		out[*n].pref = pref;
		(*n)++;
	}
	/* insertion sort by preference: stable, n is small */
	for (size_t i = 1; i < *n; i++) {
		struct net_mx t = out[i];
		size_t j = i;
		while (j > 0 && out[j - 1].pref > t.pref) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = t;
	}
	*st = NET_MX_OK;
	return 0;
}

struct net_mx_req {
	struct net_loop *loop;
	struct net_owned own;
	struct event *ev;
	struct event *timer;
	int fd;
	uint16_t id;
	uint8_t q[512];
	int qlen;
	int tries;
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned long timeout_ms;
	net_mx_cb cb;
	void *arg;
};

static int server_addr(const char *server, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[128] = "127.0.0.1", line[256];
	int port = 53;

	if (server) {
		/* "IP", "IP:PORT", "[v6]:PORT" or a bare IPv6 address; a bad port is an error,
		 * not atoi's silent 0 or a number cut to 16 bits */
		if (net_split_hostport(server, host, sizeof(host), &port, 53) < 0 || port == 0)
			return -1;
	} else {
		FILE *f = fopen("/etc/resolv.conf", "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "nameserver %127s", host) == 1)
				break;
		if (f)
			fclose(f);
	}
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*s6);
	} else {
		return -1;
	}
	return port > 0 && port < 65536 ? 0 : -1;
}

static void finish(struct net_mx_req *r, enum net_mx_status st, const struct net_mx *mx, size_t n)
{
	net_mx_cb cb = r->cb;
	void *arg = r->arg;
	net_mx_cancel(r);
	cb(st, mx, n, arg);
}

static int send_query(struct net_mx_req *r)
{
	struct timeval tv = net_ms_tv_(r->timeout_ms / 2);
	r->tries++;
	if (sendto(r->fd, r->q, (size_t)r->qlen, 0, (struct sockaddr *)&r->ss, r->sslen) < 0)
		return -1;
	evtimer_add(r->timer, &tv);
	return 0;
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct net_mx_req *r = arg;
	if (r->tries < 2 && send_query(r) == 0)
		return;
	finish(r, NET_MX_TEMPFAIL, NULL, 0);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct net_mx_req *r = arg;
	uint8_t pkt[4096];
	struct net_mx mx[NET_MX_MAX];
	size_t n;
	enum net_mx_status st;
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);

	ssize_t len = recvfrom(r->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &fl);
	if (len <= 0)
		return;
	/* answers from elsewhere or for another id are ignored (spoofing, stale) */
	if (fl != r->sslen || memcmp(&from, &r->ss, fl) != 0)
		return;
	if (net_mx_parse(pkt, (size_t)len, r->id, mx, NET_MX_MAX, &n, &st) < 0)
		return;
	finish(r, st, mx, n);
}

static void mx_release(void *self)
{
	net_mx_cancel(self);
}

struct net_mx_req *net_resolve_mx(struct net_loop *l, const char *domain, const char *server,
				  unsigned long timeout_ms, net_mx_cb cb, void *arg)
{
	struct net_mx_req *r = calloc(1, sizeof(*r));
	uint8_t rnd[2] = { 0, 0 };
	int ufd;

	if (!r)
		return NULL;
	r->fd = -1;
	r->loop = l;
	net_own_add_(l, &r->own, mx_release, r);
	r->cb = cb;
	r->arg = arg;
	r->timeout_ms = timeout_ms ? timeout_ms : 5000;
	if ((ufd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) >= 0) {
		if (read(ufd, rnd, 2) != 2)
			rnd[0] = rnd[1] = 0;
		close(ufd);
	}
	r->id = (uint16_t)((rnd[0] << 8) | rnd[1]);
	if (server_addr(server, &r->ss, &r->sslen) < 0 ||
	    (r->qlen = net_mx_query(domain, r->id, r->q, sizeof(r->q))) < 0)
		goto fail;
	r->fd = socket(r->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		goto fail;
	r->ev = event_new(l->base, r->fd, EV_READ | EV_PERSIST, on_readable, r);
	r->timer = evtimer_new(l->base, on_timeout, r);
	if (!r->ev || !r->timer || event_add(r->ev, NULL) < 0 || send_query(r) < 0)
		goto fail;
	return r;
fail:
	net_mx_cancel(r);
	return NULL;
}

void net_mx_cancel(struct net_mx_req *r)
{
	if (!r)
		return;
	net_own_del_(&r->own);
	if (r->ev)
		event_free(r->ev);
	if (r->timer)
		event_free(r->timer);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}
