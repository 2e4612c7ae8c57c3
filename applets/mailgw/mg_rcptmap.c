/* mg_rcptmap.c - recipient lists (mg_rcptmap.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "applets/mailgw/mg_rcptmap.h"
#include "applets/mailgw/mg_smtp.h"
#include "core/fs.h"
#include "core/secret.h"
#include "core/str.h"
#include "net/conn.h"

#define LIST_MAX (64 * 1024 * 1024)

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add(struct mg_rcpt_source *s, const char *p, size_t n)
{
	char a[MG_ADDR_MAX + 1];
	size_t o = 0;

	if (n == 0 || n > MG_ADDR_MAX)
		return 0;   /* not an address: ignored */
	for (size_t i = 0; i < n; i++)
		a[o++] = (char)tolower((unsigned char)p[i]);
	a[o] = '\0';
	if (!memchr(a, '@', o) && strcmp(s->domain, "*") != 0) {
		char full[MG_ADDR_MAX + 1];
		if (str_fmt(full, sizeof(full), "%s@%s", a, s->domain) < 0)
			return 0;
		str_copy(a, full, sizeof(a));
	}
	char **nv = realloc(s->addr, (s->naddr + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	s->addr = nv;
	if (!(s->addr[s->naddr] = strdup(a)))
		return -1;
	s->naddr++;
	return 0;
}

int mg_rcpt_source_parse(struct mg_rcpt_source *s, const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - text) : len, b = i;
		while (b < e && isspace((unsigned char)text[b]))
			b++;
		size_t z = b;
		while (z < e && !isspace((unsigned char)text[z]) && text[z] != '#')
			z++;
		if (b < e && text[b] != '#' && add(s, text + b, z - b) < 0)
			return -1;
		i = e + 1;
	}
	if (s->naddr)
		qsort(s->addr, s->naddr, sizeof(*s->addr), cmp);
	return 0;
}

int mg_rcpt_table_add(struct mg_rcpt_table *t, const char *line, char *why, size_t whylen)
{
	struct mg_rcpt_source s;
	char dom[256], uri[600], extra[2];

	memset(&s, 0, sizeof(s));
	if (sscanf(line, "%255s %599s %1s", dom, uri, extra) != 2) {
		str_fmt(why, whylen, "expected 'DOMAIN|* file:/PATH'");
		return -1;
	}
	for (char *p = dom; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strcmp(dom, "*") != 0 && mg_domain_valid(dom, strlen(dom)) < 0) {
		str_fmt(why, whylen, "'%s' is not a domain or *", dom);
		return -1;
	}
	if (strncasecmp(uri, "ldap://", 7) == 0 || strncasecmp(uri, "ldaps://", 8) == 0) {
		s.kind = MG_RS_LDAP;
		if (mg_auth_backend_parse(&s.be, uri, 1, why, whylen) < 0)
			return -1;
	} else if (strcasecmp(uri, "callout") == 0 || strncasecmp(uri, "callout:", 8) == 0) {
		s.kind = MG_RS_CALLOUT;
		s.be.kind = MG_AB_CALLOUT;
		str_copy(s.be.uri, uri, sizeof(s.be.uri));
		s.route = uri[7] == '\0';
		if (!s.route && net_split_hostport(uri + 8, s.be.host, sizeof(s.be.host), &s.be.port, 25) < 0) {
			str_fmt(why, whylen, "'%s': expected callout or callout:HOST[:PORT]", uri);
			return -1;
		}
	} else if (strncmp(uri, "file:/", 6) != 0 || strlen(uri + 5) >= sizeof(s.path)) {
		str_fmt(why, whylen, "unknown source '%s' (file:/PATH, ldaps://, ldap://, callout[:HOST[:PORT]])", uri);
		return -1;
	}
	str_copy(s.be.domain, dom, sizeof(s.be.domain));
	for (size_t k = 0; k < t->n; k++)
		if (strcmp(t->v[k].domain, dom) == 0) {
			str_fmt(why, whylen, "a second rcpt_source for '%s'", dom);
			return -1;
		}
	str_copy(s.domain, dom, sizeof(s.domain));
	str_copy(s.uri, uri, sizeof(s.uri));
	size_t len = 0;
	char *text = NULL;
	if (s.kind == MG_RS_FILE) {
		str_copy(s.path, uri + 5, sizeof(s.path));
		text = (char *)fs_read_file_new(s.path, LIST_MAX, &len);
	} else {
		s.available = 1;
	}
	if (s.kind != MG_RS_FILE) {
		/* asked per recipient */
	} else if (!text) {
		str_fmt(s.why, sizeof(s.why), "cannot read %s", s.path);
	} else {
		s.available = mg_rcpt_source_parse(&s, text, len) == 0;
		if (!s.available)
			str_fmt(s.why, sizeof(s.why), "out of memory reading %s", s.path);
		free(text);
	}
	struct mg_rcpt_source *nv = realloc(t->v, (t->n + 1) * sizeof(*nv));
	if (!nv) {
		for (size_t k = 0; k < s.naddr; k++)
			free(s.addr[k]);
		free(s.addr);
		return -1;
	}
	t->v = nv;
	t->v[t->n++] = s;
	return 0;
}

const struct mg_rcpt_source *mg_rcpt_table_find(const struct mg_rcpt_table *t, const char *addr)
{
	const char *dom = mg_addr_domain(addr);
	const struct mg_rcpt_source *star = NULL;

	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].domain, "*") == 0)
			star = &t->v[i];
		else if (strcasecmp(t->v[i].domain, dom) == 0)
			return &t->v[i];
	}
	return star;
}

static int has(const struct mg_rcpt_source *s, const char *key)
{
	return s->naddr && bsearch(&key, s->addr, s->naddr, sizeof(*s->addr), cmp) != NULL;
}

int mg_rcpt_check(const struct mg_rcpt_table *t, const char *addr, const struct mg_rcpt_source **src)
{
	const struct mg_rcpt_source *s = mg_rcpt_table_find(t, addr);
	char low[MG_ADDR_MAX + 2];
	size_t n = 0;

	if (src)
		*src = s;
	if (!s)
		return MG_RCPT_UNKNOWN_SOURCE;
	if (!s->available)
		return MG_RCPT_UNAVAILABLE;
	if (s->kind != MG_RS_FILE)
		return MG_RCPT_LOOKUP;
	for (; addr[n] && n < MG_ADDR_MAX; n++)
		low[n] = (char)tolower((unsigned char)addr[n]);
	low[n] = '\0';
	if (has(s, low))
		return MG_RCPT_VALID;
	const char *at = strrchr(low, '@');
	return at && has(s, at) ? MG_RCPT_VALID : MG_RCPT_INVALID;
}

void mg_rcpt_table_set_bind(struct mg_rcpt_table *t, const char *dn, const char *pw)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].kind == MG_RS_LDAP) {
			str_copy(t->v[i].be.bind_dn, dn ? dn : "", sizeof(t->v[i].be.bind_dn));
			str_copy(t->v[i].be.bind_pw, pw ? pw : "", sizeof(t->v[i].be.bind_pw));
		}
}

void mg_rcpt_table_free(struct mg_rcpt_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		for (size_t k = 0; k < t->v[i].naddr; k++)
			free(t->v[i].addr[k]);
		free(t->v[i].addr);
		secret_wipe(&t->v[i].be, sizeof(t->v[i].be));
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}
