/* proxy.c - proxy settings: "http://user:pass@host:port" URLs and the https_proxy /
 * no_proxy environment conventions (as curl reads them). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/secret.h"
#include "net/conn.h"
#include "net/proxy.h"

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into out (cap bytes with the NUL). */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int ch = (unsigned char)s[i];
		if (ch == '%') {
			int hi, lo;
			if (i + 2 >= n)
				return -1;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			ch = hi * 16 + lo;
			i += 2;
		}
		if (ch == 0 || o + 1 >= cap)
			return -1;
		out[o++] = (char)ch;
	}
	out[o] = 0;
	return 0;
}

int net_proxy_parse(const char *url, struct net_proxy *p)
{
	const char *s = url, *at, *end, *slash;
	char hostport[300];
	size_t hl;

	memset(p, 0, sizeof(*p));
	if (!url)
		return -1;
	if (strncasecmp(s, "http://", 7) == 0)
		s += 7;
	else if (strstr(s, "://"))
		return -1; /* https:// (TLS to the proxy) and others are not supported */
	end = s + strlen(s);
	slash = strchr(s, '/');
	if (slash) {
		if (slash[1] != 0)
			return -1; /* a path means this is not a proxy URL */
		end = slash;
	}
	at = memchr(s, '@', (size_t)(end - s));
	if (at) {
		/* the last '@' ends the user info (passwords may hold '@' unencoded) */
		const char *a2;
		while ((a2 = memchr(at + 1, '@', (size_t)(end - at - 1))) != NULL)
			at = a2;
		const char *colon = memchr(s, ':', (size_t)(at - s));
		size_t ulen = colon ? (size_t)(colon - s) : (size_t)(at - s);
		if (ulen == 0 || pct_decode(s, ulen, p->user, sizeof(p->user)) < 0)
			goto fail;
		if (colon && pct_decode(colon + 1, (size_t)(at - colon - 1), p->pass, sizeof(p->pass)) < 0)
			goto fail;
		s = at + 1;
	}
	hl = (size_t)(end - s);
	if (hl == 0 || hl >= sizeof(hostport))
		goto fail;
	memcpy(hostport, s, hl);
	hostport[hl] = 0;
	if (net_split_hostport(hostport, p->host, sizeof(p->host), &p->port, 3128) < 0 || p->port == 0)
		goto fail;
	return 0;
fail:
	net_proxy_clear(p);
	return -1;
}

void net_proxy_clear(struct net_proxy *p)
{
	secret_wipe(p->pass, sizeof(p->pass));
	secret_wipe(p->user, sizeof(p->user));
	memset(p, 0, sizeof(*p));
}

/* IPv4/IPv6 CIDR "10.0.0.0/8" against a literal address. */
static int cidr_match(const char *entry, size_t n, const char *host)
{
	char net[64], *slash;
	unsigned char a[16], b[16];
	int fam, bits, maxbits;

	if (n >= sizeof(net))
		return 0;
	memcpy(net, entry, n);
	net[n] = 0;
	slash = strchr(net, '/');
	if (!slash)
		return 0;
	*slash = 0;
	fam = strchr(net, ':') ? AF_INET6 : AF_INET;
	maxbits = fam == AF_INET6 ? 128 : 32;
	bits = atoi(slash + 1);
	if (bits < 0 || bits > maxbits || inet_pton(fam, net, a) != 1 || inet_pton(fam, host, b) != 1)
		return 0;
	for (int i = 0; i < bits; i++) {
		int m = 0x80 >> (i % 8);
		if ((a[i / 8] & m) != (b[i / 8] & m))
			return 0;
	}
	return 1;
}

int net_proxy_no_proxy_match(const char *no_proxy, const char *target_host)
{
	char host[256];
	size_t hl;
	const char *s;
	int is_ip;

	if (!no_proxy || !target_host)
		return 0;
	/* "[::1]" and "host." compare like "::1" and "host" */
	hl = strlen(target_host);
	if (target_host[0] == '[' && hl > 2 && target_host[hl - 1] == ']') {
		target_host++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return 0;
	memcpy(host, target_host, hl);
	host[hl] = 0;
	if (host[hl - 1] == '.')
		host[--hl] = 0;
	{
		unsigned char tmp[16];
		is_ip = inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1;
	}
	for (s = no_proxy; *s;) {
		const char *e;
		size_t n;
		while (*s == ',' || *s == ' ' || *s == '\t')
			s++;
		e = s;
		while (*e && *e != ',' && *e != ' ' && *e != '\t')
			e++;
		n = (size_t)(e - s);
		if (n == 1 && *s == '*')
			return 1;
		if (n > 0) {
			char buf[256];
			const char *ent = buf;
			size_t k = 0;
			/* "[v6]" and "[v6]/len" entries compare without the brackets */
			for (size_t i = 0; i < n && k + 1 < sizeof(buf); i++)
				if (s[i] != '[' && s[i] != ']')
					buf[k++] = s[i];
			buf[k] = 0;
			n = k;
			if (n > 0 && ent[n - 1] == '.')
				n--;
			if (n > 0 && ent[0] == '.') { /* ".example.com": the domain and below */
				ent++;
				n--;
			} else if (n > 1 && ent[0] == '*' && ent[1] == '.') {
				ent += 2;
				n -= 2;
			}
			if (n > 0 && memchr(ent, '/', n)) {
				if (cidr_match(ent, n, host))
					return 1;
			} else if (n > 0 && n <= hl && strncasecmp(host + hl - n, ent, n) == 0 &&
				   (n == hl || (!is_ip && host[hl - n - 1] == '.'))) {
				return 1;
			}
		}
		s = e;
	}
	return 0;
}

static const char *env2(const char *a, const char *b)
{
	const char *v = getenv(a);
	if (!v || !*v)
		v = getenv(b);
	return v && *v ? v : NULL;
}

int net_proxy_from_env(const char *target_host, int https, struct net_proxy *p)
{
	const char *url = https ? env2("https_proxy", "HTTPS_PROXY") : env2("http_proxy", "HTTP_PROXY");
	const char *np = env2("no_proxy", "NO_PROXY");

	memset(p, 0, sizeof(*p));
	if (!url)
		return 0;
	if (np && target_host && net_proxy_no_proxy_match(np, target_host))
		return 0;
	return net_proxy_parse(url, p) < 0 ? -1 : 1;
}

int net_proxy_setting_parse(const char *value, struct net_proxy *p)
{
	memset(p, 0, sizeof(*p));
	if (!value || !*value || strcasecmp(value, "none") == 0)
		return 0;
	return net_proxy_parse(value, p) < 0 ? -1 : 1;
}

/* One setting: the configuration's value when it has one, else the environment's
 * (NULL: set nowhere). *which says where it came from, for error messages. */
static const char *setting(const char *conf_value, const char *lower, const char *upper,
			   const char *conf_name, const char *env_name, const char **which)
{
	if (conf_value) {
		*which = conf_name;
		return conf_value;
	}
	*which = env_name;
	return env2(lower, upper);
}

int net_proxy_select(const struct net_proxy_conf *cf, const char *target_host, int https,
		     struct net_proxy *p, const char **which)
{
	static const struct net_proxy_conf none;
	const char *url, *np, *w, *nw;

	if (!cf)
		cf = &none;
	memset(p, 0, sizeof(*p));
	url = https ? NULL : setting(cf->http_proxy, "http_proxy", "HTTP_PROXY",
				     "http_proxy (configuration)", "http_proxy (environment)", &w);
	/* "none" for http_proxy means direct; only an unset one falls back to https_proxy */
	if (!url)
		url = setting(cf->https_proxy, "https_proxy", "HTTPS_PROXY",
			      "https_proxy (configuration)", "https_proxy (environment)", &w);
	if (which)
		*which = w;
	np = setting(cf->no_proxy, "no_proxy", "NO_PROXY", "", "", &nw);
	if (np && target_host && net_proxy_no_proxy_match(np, target_host))
		return 0;
	return net_proxy_setting_parse(url, p);
}
