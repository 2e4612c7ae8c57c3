/* hostport.c - "host:port", "[v6]:port", "host" <-> host and port. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/conn.h"

static int parse_port(const char *s, int *port)
{
	long v = 0;

	if (!*s || strlen(s) > 5)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

static int put_host(char *hostbuf, size_t hostcap, const char *s, size_t n)
{
	if (n == 0 || n >= hostcap)
		return -1;
	memcpy(hostbuf, s, n);
	hostbuf[n] = 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == '/' || s[i] == '@' || s[i] == 0x7f)
			return -1;
	return 0;
}

int net_split_hostport(const char *s, char *hostbuf, size_t hostcap, int *port, int default_port)
{
	const char *colon;

	if (!s || !hostbuf || hostcap == 0 || !port)
		return -1;
	hostbuf[0] = 0;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end == s + 1)
			return -1;
		if (put_host(hostbuf, hostcap, s + 1, (size_t)(end - s - 1)) < 0)
			return -1;
		if (!strchr(hostbuf, ':'))
			return -1; /* brackets are for IPv6 only */
		if (end[1] == 0) {
			if (default_port <= 0)
				return -1;
			*port = default_port;
			return 0;
		}
		if (end[1] != ':')
			return -1;
		return parse_port(end + 2, port);
	}
	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':')) {
		/* a bare IPv6 address: no port possible */
		if (default_port <= 0 || put_host(hostbuf, hostcap, s, strlen(s)) < 0)
			return -1;
		*port = default_port;
		return 0;
	}
	if (!colon) {
		if (default_port <= 0 || put_host(hostbuf, hostcap, s, strlen(s)) < 0)
			return -1;
		*port = default_port;
		return 0;
	}
	if (put_host(hostbuf, hostcap, s, (size_t)(colon - s)) < 0)
		return -1;
	return parse_port(colon + 1, port);
}

const char *net_join_hostport(char *out, size_t cap, const char *host, int port)
{
	int v6 = strchr(host, ':') != NULL && host[0] != '[';

	if (cap)
		snprintf(out, cap, v6 ? "[%s]:%d" : "%s:%d", host, port);
	return out;
}
