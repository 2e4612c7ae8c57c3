/* tun_cluster_info.c - what tunneld reads back from Redis: relay heartbeats and session
 * hashes. Another relay of the fleet (or whoever can write to Redis) wrote them, so they
 * are checked like any input: bounded, printable, every field well-formed. */
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/str.h"
#include "tun_cluster.h"

int tc_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TC_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* HOST:PORT as a redirect may carry it: printable, no spaces or '=' (tfctl rules). */
static int addr_ok(const char *s, size_t n)
{
	if (n == 0 || n > TC_ADDR_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '=')
			return 0;
	return 1;
}

static int ulong_of(const char *s, size_t n, unsigned long *out)
{
	unsigned long v = 0;
	if (n == 0 || n > 9)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int tc_info_parse(const char *s, size_t len, struct tc_relay_info *out)
{
	char id[TC_ID_MAX + 1] = "";
	memcpy(id, out->id, sizeof(id)); /* the caller set the id; keep it */
	memset(out, 0, sizeof(*out));
	memcpy(out->id, id, sizeof(id));
	if (len > 2048)
		return -1;
	size_t i = 0;
	while (i < len) {
		size_t a = i;
		while (i < len && s[i] != ' ')
			i++;
		const char *w = s + a, *eq = memchr(w, '=', i - a);
		size_t wl = i - a;
		i++;
		if (wl == 0)
			continue;
		if (!eq)
			return -1;
		size_t kl = (size_t)(eq - w), vl = wl - kl - 1;
		const char *v = eq + 1;
		unsigned long u;
		char *dst = NULL;
		if (kl == 3 && memcmp(w, "tcp", 3) == 0)
			dst = out->tcp;
		else if (kl == 5 && memcmp(w, "https", 5) == 0)
			dst = out->https;
		else if (kl == 4 && memcmp(w, "http", 4) == 0)
			dst = out->http;
		if (dst) {
			if (vl == 1 && v[0] == '-')
				continue; /* the relay has no such path */
			if (!addr_ok(v, vl))
				return -1;
			memcpy(dst, v, vl);
			dst[vl] = '\0';
		} else if (kl == 8 && memcmp(w, "sessions", 8) == 0) {
			if (ulong_of(v, vl, &out->sessions) < 0)
				return -1;
		} else if (kl == 5 && memcmp(w, "conns", 5) == 0) {
			if (ulong_of(v, vl, &out->conns) < 0)
				return -1;
		} else if (kl == 8 && memcmp(w, "draining", 8) == 0) {
			if (ulong_of(v, vl, &u) < 0 || u > 1)
				return -1;
			out->draining = (int)u;
		} /* other keys: a newer relay's, ignored */
	}
	return 0;
}

void tc_sess_free(struct tc_sess *s)
{
	free(s->m);
	memset(s, 0, sizeof(*s));
}

int tc_sess_parse(const struct resp_reply *arr, size_t max_members, struct tc_sess *out)
{
	memset(out, 0, sizeof(*out));
	if (!arr || arr->type != RESP_ARRAY || arr->n % 2)
		return -1;
	if (arr->n == 0)
		return 1;
	if (!(out->m = calloc(arr->n / 2, sizeof(*out->m))))
		return -1;
	for (size_t i = 0; i < arr->n; i += 2) {
		const struct resp_reply *k = &arr->el[i], *v = &arr->el[i + 1];
		unsigned long u;
		if (k->type != RESP_BULK || v->type != RESP_BULK)
			goto bad;
		if (resp_is(k, "owner")) {
			if (v->len > TC_ID_MAX || strlen(v->s) != v->len || !tc_id_ok(v->s))
				goto bad;
			str_copy(out->owner, v->s, sizeof(out->owner));
		} else if (resp_is(k, "lan")) {
			if (v->len >= sizeof(out->lan) || strlen(v->s) != v->len)
				goto bad;
			for (size_t j = 0; j < v->len; j++)
				if ((unsigned char)v->s[j] < 0x20 || v->s[j] == 0x7f)
					goto bad;
			str_copy(out->lan, v->s, sizeof(out->lan));
		} else if (resp_is(k, "next")) {
			if (ulong_of(v->s, v->len, &u) < 0 || u < 2 || u > 65535)
				goto bad;
			out->next = (uint32_t)u;
		} else if (k->len >= 2 && k->s[0] == 'h') {
			if (ulong_of(k->s + 1, k->len - 1, &u) < 0 || u < 1 || u > 65534 ||
			    v->len != CRY_SHA256_LEN * 2 || out->nm >= max_members ||
			    hex_decode(v->s, v->len, out->m[out->nm].h, CRY_SHA256_LEN) != CRY_SHA256_LEN)
				goto bad;
			for (size_t j = 0; j < out->nm; j++)
				if (out->m[j].id == u)
					goto bad;
			out->m[out->nm++].id = (uint16_t)u;
		} /* other fields: ignored */
	}
	if (!out->owner[0] || !out->next)
		goto bad;
	return 0;
bad:
	tc_sess_free(out);
	return -1;
}
