/* vw_direct.c - direct LAN path: listener, proofs of K, the client's attempt. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "applets/viewer/vw_direct.h"
#include "crypto/crypto.h"
#include "net/conn.h"
#include "net/stream.h"

static void append(char *lan, size_t cap, const char *ip, int port)
{
	size_t l = strlen(lan);
	snprintf(lan + l, cap - l, "%s%s:%d", l ? "," : "", ip, port);
}

int vw_direct_listen(const char *addr, char *lan, size_t cap, char *err, size_t errlen)
{
	char host[64] = "0.0.0.0";
	int port = VW_DIRECT_PORT, fd, one = 1;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	lan[0] = '\0';
	if (addr) {
		const char *colon = strrchr(addr, ':');
		if (!colon || (size_t)(colon - addr) >= sizeof(host) || atoi(colon + 1) < 0 ||
		    atoi(colon + 1) > 65535) {
			snprintf(err, errlen, "bad --lan-listen %s (want IPv4:PORT)", addr);
			return -1;
		}
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = '\0';
		if (!host[0])
			snprintf(host, sizeof(host), "0.0.0.0");
		port = atoi(colon + 1);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "bad --lan-listen address %s (want an IPv4 address)", host);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && !(!addr && errno == EADDRINUSE)) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(errno));
		close(fd);
		return -1;
	} else if (!addr && errno == EADDRINUSE) {
		sa.sin_port = 0; /* the default port is taken (another master, a relay): any port */
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			snprintf(err, errlen, "cannot listen: %s", strerror(errno));
			close(fd);
			return -1;
		}
	}
	if (listen(fd, 8) < 0 || getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		snprintf(err, errlen, "listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	port = ntohs(sa.sin_port);
	if (sa.sin_addr.s_addr != htonl(INADDR_ANY)) {
		append(lan, cap, host, port);
		return fd;
	}
	{
		struct ifaddrs *ifs = NULL;
		if (getifaddrs(&ifs) == 0) {
			for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
				char ip[INET_ADDRSTRLEN];
				const struct sockaddr_in *a = (const void *)i->ifa_addr;
				if (!a || a->sin_family != AF_INET || ntohl(a->sin_addr.s_addr) >> 24 == 127)
					continue;
				if (inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip)) &&
				    strlen(lan) + strlen(ip) + 8 < cap && strlen(lan) < 200)
					append(lan, cap, ip, port);
			}
			freeifaddrs(ifs);
		}
		if (!lan[0])
			append(lan, cap, "127.0.0.1", port);
	}
	return fd;
}

int vw_direct_proof(const struct vw_key *k, int answer, const uint8_t chal[VW_CHAL_LEN],
		    uint32_t session, uint16_t id, uint8_t out[VW_PROOF_LEN])
{
	static const char l1[] = "sealbox-direct-v1", l2[] = "sealbox-direct-ok-v1";
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
	rc = cry_hmac_sha256(k->k, VW_KEY_LEN, msg, n, out);
	return rc;
}

/* Reads exactly n bytes before the deadline. */
static int read_until(int fd, uint8_t *p, size_t n, long deadline)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd q = { fd, POLLIN, 0 };
		long left = deadline - clock_ms();
		ssize_t r;
		if (left <= 0 || poll(&q, 1, (int)left) != 1)
			return -1;
		r = read(fd, p + got, n - got);
		if (r <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static int try_one(const char *hp, const struct vw_key *k, uint32_t session, uint16_t id,
		   int timeout_ms)
{
	char host[64], err[160];
	uint8_t chal[VW_CHAL_LEN], msg[2 + VW_PROOF_LEN], ans[VW_PROOF_LEN], want[VW_PROOF_LEN];
	long deadline = clock_ms() + timeout_ms;
	int fd, port;

	if (net_split_hostport(hp, host, sizeof(host), &port, 0) < 0 || port <= 0)
		return -1;
	fd = net_stream_detach(net_stream_dial(host, port, timeout_ms, err, sizeof(err)));
	if (fd < 0)
		return -1;
	msg[0] = (uint8_t)(id >> 8);
	msg[1] = (uint8_t)id;
	if (read_until(fd, chal, sizeof(chal), deadline) < 0 ||
	    vw_direct_proof(k, 0, chal, session, id, msg + 2) < 0 ||
	    send(fd, msg, sizeof(msg), MSG_NOSIGNAL) != (ssize_t)sizeof(msg) ||
	    read_until(fd, ans, sizeof(ans), deadline) < 0 ||
	    vw_direct_proof(k, 1, chal, session, id, want) < 0 || !cry_memeq(ans, want, sizeof(want))) {
		close(fd);
		return -1;
	}
	return fd;
}

int vw_direct_try(struct vw_conn *out, const char *lan, const struct vw_key *k,
		  uint32_t session, uint16_t id, uint32_t *seq, int timeout_ms, char *chosen,
		  size_t cap)
{
	char list[256], *save = NULL, err[128];

	snprintf(list, sizeof(list), "%s", lan);
	for (char *hp = strtok_r(list, ",", &save); hp; hp = strtok_r(NULL, ",", &save)) {
		int fd = try_one(hp, k, session, id, timeout_ms);
		if (fd < 0)
			continue;
		if (vw_conn_adopt(out, fd, err, sizeof(err)) < 0)
			return -1;
		out->my_id = id;
		out->seqp = seq;
		snprintf(chosen, cap, "%s", hp);
		return 0;
	}
	return -1;
}
