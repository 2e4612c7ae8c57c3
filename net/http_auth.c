/* http_auth.c - Basic and Digest proxy authentication. The challenge is untrusted
 * input from the network and is read through a buf_reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "core/secret.h"
#include "crypto/crypto.h"
#include "net/http_auth.h"

static int peek(const struct buf_reader *r)
{
	return buf_left(r) ? r->p[r->off] : -1;
}

static int is_tchar(int ch)
{
	return ch > 0x20 && ch < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

static void skip_ows(struct buf_reader *r)
{
	while (peek(r) == ' ' || peek(r) == '\t')
		buf_skip(r, 1);
}

/* token into out (truncated to cap-1 is an error). */
static int get_token(struct buf_reader *r, char *out, size_t cap)
{
	size_t n = 0;

	while (is_tchar(peek(r))) {
		uint8_t ch;
		buf_get_u8(r, &ch);
		if (n + 1 >= cap)
			return -1;
		out[n++] = (char)ch;
	}
	out[n] = 0;
	return n ? 0 : -1;
}

static int get_quoted(struct buf_reader *r, char *out, size_t cap)
{
	size_t n = 0;
	uint8_t ch;

	if (buf_get_u8(r, &ch) < 0 || ch != '"')
		return -1;
	for (;;) {
		if (buf_get_u8(r, &ch) < 0)
			return -1;
		if (ch == '"')
			break;
		if (ch == '\\' && buf_get_u8(r, &ch) < 0)
			return -1;
		if (ch < 0x20 && ch != '\t')
			return -1;
		if (n + 1 >= cap)
			return -1;
		out[n++] = (char)ch;
	}
	out[n] = 0;
	return 0;
}

static void set_qop(struct net_http_challenge *ch, const char *v)
{
	const char *s = v;

	while (*s) {
		size_t n;
		while (*s == ',' || *s == ' ' || *s == '\t')
			s++;
		n = strcspn(s, ", \t");
		if (n == 4 && strncasecmp(s, "auth", 4) == 0)
			ch->qop_auth = 1;
		else if (n)
			ch->qop_other = 1;
		s += n;
	}
}

int net_http_parse_challenge(const char *value, size_t len, struct net_http_challenge *ch)
{
	struct buf_reader r;
	char scheme[32], name[64], val[512];
	int have_nonce = 0;

	memset(ch, 0, sizeof(*ch));
	buf_reader_init(&r, value, len);
	skip_ows(&r);
	if (get_token(&r, scheme, sizeof(scheme)) < 0)
		return -1;
	if (strcasecmp(scheme, "Basic") == 0)
		ch->scheme = NET_AUTH_BASIC;
	else if (strcasecmp(scheme, "Digest") == 0)
		ch->scheme = NET_AUTH_DIGEST;
	else
		return -1;
	ch->alg = NET_DIGEST_MD5;
	ch->alg_supported = 1;
	for (;;) {
		size_t mark;
		skip_ows(&r);
		while (peek(&r) == ',') {
			buf_skip(&r, 1);
			skip_ows(&r);
		}
		if (peek(&r) < 0)
			break;
		mark = r.off;
		if (get_token(&r, name, sizeof(name)) < 0)
			return -1;
		skip_ows(&r);
		if (peek(&r) != '=') {
			/* the start of a second challenge in the same header: ours ends here */
			r.off = mark;
			break;
		}
		buf_skip(&r, 1);
		skip_ows(&r);
		if (peek(&r) == '"') {
			if (get_quoted(&r, val, sizeof(val)) < 0)
				return -1;
		} else if (get_token(&r, val, sizeof(val)) < 0) {
			return -1;
		}
		if (strcasecmp(name, "realm") == 0) {
			if (strlen(val) >= sizeof(ch->realm))
				return -1;
			strcpy(ch->realm, val);
		} else if (strcasecmp(name, "nonce") == 0) {
			if (strlen(val) >= sizeof(ch->nonce))
				return -1;
			strcpy(ch->nonce, val);
			have_nonce = 1;
		} else if (strcasecmp(name, "opaque") == 0) {
			if (strlen(val) >= sizeof(ch->opaque))
				return -1;
			strcpy(ch->opaque, val);
		} else if (strcasecmp(name, "qop") == 0) {
			set_qop(ch, val);
		} else if (strcasecmp(name, "stale") == 0) {
			ch->stale = strcasecmp(val, "true") == 0;
		} else if (strcasecmp(name, "userhash") == 0) {
			ch->userhash = strcasecmp(val, "true") == 0;
		} else if (strcasecmp(name, "algorithm") == 0) {
			if (strcasecmp(val, "MD5") == 0) {
				ch->alg = NET_DIGEST_MD5;
			} else if (strcasecmp(val, "SHA-256") == 0) {
				ch->alg = NET_DIGEST_SHA256;
			} else {
				ch->alg_supported = 0;
			}
		}
		skip_ows(&r);
		if (peek(&r) >= 0 && peek(&r) != ',')
			return -1;
	}
	if (ch->scheme == NET_AUTH_DIGEST && !have_nonce)
		return -1;
	return 0;
}

/* hex(H(s)) into out */
static int rank(const struct net_http_challenge *ch)
{
	if (ch->scheme == NET_AUTH_BASIC)
		return 1;
	if (ch->scheme != NET_AUTH_DIGEST || !ch->alg_supported || (!ch->qop_auth && ch->qop_other))
		return 0;
	return ch->alg == NET_DIGEST_SHA256 ? 3 : 2;
}

int net_http_challenge_better(const struct net_http_challenge *ch,
			      const struct net_http_challenge *best)
{
	int r = rank(ch);
	return r > 0 && r > rank(best);
}

static int hhex(enum net_digest_alg alg, const char *s, char *out, size_t cap)
{
	uint8_t d[CRY_SHA256_LEN];
	size_t dl = alg == NET_DIGEST_SHA256 ? CRY_SHA256_LEN : CRY_MD5_LEN;
	int r;

	if (cry_hash(alg == NET_DIGEST_SHA256 ? CRY_HASH_SHA256 : CRY_HASH_MD5, s, strlen(s), d) < 0)
		return -1;
	r = hex_encode(d, dl, out, cap, 0);
	secret_wipe(d, sizeof(d));
	return r;
}

static char *join_new(const char *const *parts, size_t n)
{
	size_t len = 0;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(parts[i]) + 1;
	s = malloc(len + 1);
	if (!s)
		return NULL;
	s[0] = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, ":");
		strcat(s, parts[i]);
	}
	return s;
}

int net_digest_response(enum net_digest_alg alg, const char *user, const char *realm,
			const char *pass, const char *method, const char *uri, const char *nonce,
			const char *nc, const char *cnonce, const char *qop, char *out, size_t outcap)
{
	char ha1[65], ha2[65];
	char *a1 = NULL, *a2 = NULL, *kd = NULL;
	int ret = -1;

	{
		const char *p1[] = { user, realm, pass };
		a1 = join_new(p1, 3);
	}
	{
		const char *p2[] = { method, uri };
		a2 = join_new(p2, 2);
	}
	if (!a1 || !a2 || hhex(alg, a1, ha1, sizeof(ha1)) < 0 || hhex(alg, a2, ha2, sizeof(ha2)) < 0)
		goto out;
	if (qop && *qop) {
		const char *p3[] = { ha1, nonce, nc, cnonce, qop, ha2 };
		kd = join_new(p3, 6);
	} else {
		const char *p3[] = { ha1, nonce, ha2 };
		kd = join_new(p3, 3);
	}
	if (!kd || hhex(alg, kd, out, outcap) < 0)
		goto out;
	ret = 0;
out:
	secret_free_str(a1);
	free(a2);
	secret_free_str(kd);
	secret_wipe(ha1, sizeof(ha1));
	return ret;
}

/* Quoted-string value with '"' and '\' escaped. */
static int put_quoted(char *out, size_t cap, size_t *len, const char *name, const char *v)
{
	int n = snprintf(out + *len, cap - *len, "%s%s=\"", *len ? ", " : "", name);
	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	for (; *v; v++) {
		if (*len + 3 >= cap)
			return -1;
		if (*v == '"' || *v == '\\')
			out[(*len)++] = '\\';
		out[(*len)++] = *v;
	}
	if (*len + 2 >= cap)
		return -1;
	out[(*len)++] = '"';
	out[*len] = 0;
	return 0;
}

char *net_http_auth_value_new(const struct net_http_challenge *ch, const char *user,
			      const char *pass, const char *method, const char *uri,
			      unsigned nc, const char *cnonce)
{
	if (ch->scheme == NET_AUTH_BASIC) {
		const char *p[] = { user, pass };
		char *up = join_new(p, 2), *b64, *out;
		if (!up)
			return NULL;
		b64 = base64_encode_new(up, strlen(up));
		secret_free_str(up);
		if (!b64)
			return NULL;
		out = malloc(strlen(b64) + 7);
		if (out)
			sprintf(out, "Basic %s", b64);
		secret_free_str(b64);
		return out;
	}
	if (ch->scheme == NET_AUTH_DIGEST && ch->alg_supported && (ch->qop_auth || !ch->qop_other)) {
		size_t cap = 2048, len = 0;
		char *out = malloc(cap), resp[65], ncs[9];
		const char *qop = ch->qop_auth ? "auth" : NULL;
		int n;
		if (!out)
			return NULL;
		snprintf(ncs, sizeof(ncs), "%08x", nc);
		if (net_digest_response(ch->alg, user, ch->realm, pass, method, uri, ch->nonce, ncs,
					cnonce, qop, resp, sizeof(resp)) < 0)
			goto fail;
		n = snprintf(out, cap, "Digest ");
		len = 0;
		if (put_quoted(out + n, cap - (size_t)n, &len, "username", user) < 0 ||
		    put_quoted(out + n, cap - (size_t)n, &len, "realm", ch->realm) < 0 ||
		    put_quoted(out + n, cap - (size_t)n, &len, "nonce", ch->nonce) < 0 ||
		    put_quoted(out + n, cap - (size_t)n, &len, "uri", uri) < 0 ||
		    put_quoted(out + n, cap - (size_t)n, &len, "response", resp) < 0)
			goto fail;
		len += (size_t)n;
		n = snprintf(out + len, cap - len, ", algorithm=%s",
			     ch->alg == NET_DIGEST_SHA256 ? "SHA-256" : "MD5");
		if (n < 0 || (size_t)n >= cap - len)
			goto fail;
		len += (size_t)n;
		if (qop) {
			n = snprintf(out + len, cap - len, ", qop=auth, nc=%s, cnonce=\"%s\"", ncs, cnonce);
			if (n < 0 || (size_t)n >= cap - len)
				goto fail;
			len += (size_t)n;
		}
		if (ch->opaque[0]) {
			size_t l2 = len - (size_t)0;
			char *base = out;
			/* append ", opaque=..." after what is there */
			if (put_quoted(base, cap, &l2, "opaque", ch->opaque) < 0)
				goto fail;
			len = l2;
		}
		return out;
fail:
		secret_free_str(out);
		return NULL;
	}
	return NULL;
}
