/* tls.c - the TLS engine over wolfSSL with pluggable, non-blocking I/O.
 *
 * net/ hands us recv/send callbacks over its evbuffers; wolfSSL's custom I/O hooks call
 * them, so this file never sees a socket and never blocks.
 *
 * SNI: this wolfSSL build has no servername callback (that needs OPENSSL_ALL/NGINX), so a
 * server reads the first TLS record (the ClientHello) itself, asks wolfSSL for the SNI
 * in it (wolfSSL_SNI_GetFromBuffer), creates the WOLFSSL from the matching context and
 * replays the record into it. Certificates per local IP are done one level up: each
 * listener gets its own cry_tls_ctx.
 *
 * Verification: a verify callback always runs (WOLFSSL_ALWAYS_VERIFY_CB is built in);
 * it records the first failure reason and the peer's chain so that describe() can say
 * what happened even with verify=none. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "crypto/crypto.h"
#include "crypto/tls_internal.h"

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
	struct cry_tls *t = arg;
	ssize_t n;

	(void)ssl;
	if (t->hello && t->hello_off < t->hello_len) {
		size_t k = t->hello_len - t->hello_off;
		if (k > (size_t)sz)
			k = (size_t)sz;
		memcpy(buf, t->hello + t->hello_off, k);
		t->hello_off += k;
		return (int)k;
	}
	n = t->recv(t->io_arg, (uint8_t *)buf, (size_t)sz);
	if (n == CRY_IO_WANT)
		return WOLFSSL_CBIO_ERR_WANT_READ;
	if (n == 0) {
		t->io_eof = 1;
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	}
	if (n < 0)
		return WOLFSSL_CBIO_ERR_GENERAL;
	return (int)n;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
	struct cry_tls *t = arg;
	ssize_t n;

	(void)ssl;
	n = t->send(t->io_arg, (const uint8_t *)buf, (size_t)sz);
	if (n == CRY_IO_WANT)
		return WOLFSSL_CBIO_ERR_WANT_WRITE;
	if (n < 0)
		return WOLFSSL_CBIO_ERR_GENERAL;
	return (int)n;
}

static void chain_clear(struct cry_tls *t)
{
	for (size_t i = 0; i < t->nchain; i++)
		free(t->chain[i].der);
	t->nchain = 0;
}

/* DER length at r (definite form only, as DER requires). */
static int der_len(struct buf_reader *r, size_t *len)
{
	uint8_t b, n;

	if (buf_get_u8(r, &b) < 0)
		return -1;
	if (b < 0x80) {
		*len = b;
		return 0;
	}
	n = b & 0x7f;
	if (n == 0 || n > 3)
		return -1;
	*len = 0;
	while (n--) {
		if (buf_get_u8(r, &b) < 0)
			return -1;
		*len = (*len << 8) | b;
	}
	return *len <= buf_left(r) ? 0 : -1;
}

/* This wolfSSL build does not decode iPAddress subjectAltNames, so the leaf's
 * subjectAltName extension (OID 2.5.29.17) is walked here: 1 when it lists ip. */
static int san_has_ip(const uint8_t *der, size_t len, const uint8_t *ip, size_t iplen)
{
	static const uint8_t oid[] = { 0x06, 0x03, 0x55, 0x1d, 0x11 };

	for (size_t i = 0; i + sizeof(oid) < len; i++) {
		struct buf_reader r, seq;
		size_t l;
		uint8_t tag;
		if (memcmp(der + i, oid, sizeof(oid)) != 0)
			continue;
		buf_reader_init(&r, der + i + sizeof(oid), len - i - sizeof(oid));
		if (buf_get_u8(&r, &tag) < 0)
			continue;
		if (tag == 0x01) { /* critical flag */
			if (der_len(&r, &l) < 0 || buf_skip(&r, l) < 0 || buf_get_u8(&r, &tag) < 0)
				continue;
		}
		if (tag != 0x04 || der_len(&r, &l) < 0)
			continue;
		if (buf_get_u8(&r, &tag) < 0 || tag != 0x30 || der_len(&r, &l) < 0 ||
		    buf_get_sub(&r, l, &seq) < 0)
			continue;
		while (buf_left(&seq) > 0) {
			const uint8_t *v;
			if (buf_get_u8(&seq, &tag) < 0 || der_len(&seq, &l) < 0 || !(v = buf_get_ptr(&seq, l)))
				break;
			if (tag == 0x87 && l == iplen && memcmp(v, ip, iplen) == 0)
				return 1;
		}
	}
	return 0;
}

int tls_verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
	struct cry_tls *t = store ? store->userCtx : NULL;

	if (!t)
		return preverify;
	t->verify_called = 1;
	if (!preverify && !t->verify_err)
		t->verify_err = store->error ? store->error : -1;
	/* The leaf's call sees every certificate the peer sent, leaf first. */
	if (store->error_depth == 0 && store->certs && t->nchain == 0) {
		for (int i = 0; i < store->totalCerts && t->nchain < MAX_CHAIN; i++) {
			struct chain_cert *cc = &t->chain[t->nchain];
			if (!store->certs[i].buffer || !store->certs[i].length)
				continue;
			cc->der = malloc(store->certs[i].length);
			if (!cc->der)
				break;
			memcpy(cc->der, store->certs[i].buffer, store->certs[i].length);
			cc->len = store->certs[i].length;
			t->nchain++;
		}
	}
	if (store->error_depth == 0 && t->iplen && store->certs && store->totalCerts > 0 &&
	    !san_has_ip(store->certs[0].buffer, store->certs[0].length, t->ip, t->iplen)) {
		if (!t->verify_err)
			t->verify_err = IPADDR_MISMATCH;
		preverify = 0;
	}
	if (t->ctx->verify != CRY_VERIFY_PEER && !t->ctx->require_client_cert)
		return 1;
	return preverify;
}

static int is_ip_literal(const char *h)
{
	return strchr(h, ':') || strspn(h, "0123456789.") == strlen(h);
}

static int make_ssl(struct cry_tls *t, WOLFSSL_CTX *wctx)
{
	t->ssl = wolfSSL_new(wctx);
	if (!t->ssl) {
		snprintf(t->err, sizeof(t->err), "cannot create TLS session");
		return -1;
	}
	wolfSSL_SSLSetIORecv(t->ssl, io_recv);
	wolfSSL_SSLSetIOSend(t->ssl, io_send);
	wolfSSL_SetIOReadCtx(t->ssl, t);
	wolfSSL_SetIOWriteCtx(t->ssl, t);
	wolfSSL_SetCertCbCtx(t->ssl, t);
	/* A client's first TLS 1.3 key share is X25519 (wolfSSL's default is P-256): its
	 * assembly is as fast as SP P-256, whose 154 KB fixed-base table the build leaves out
	 * (docs/building.md, "wolfSSL"). A server without X25519 asks for its own group with
	 * a HelloRetryRequest, so the result only decides the round trips, never whether
	 * the handshake succeeds: ignored. */
	if (!t->ctx->server)
		(void)wolfSSL_UseKeyShare(t->ssl, WOLFSSL_ECC_X25519);
	if (!t->ctx->server && t->host) {
		if (!is_ip_literal(t->host)) {
			if (wolfSSL_UseSNI(t->ssl, WOLFSSL_SNI_HOST_NAME, t->host,
					   (unsigned short)strlen(t->host)) != WOLFSSL_SUCCESS)
				goto fail;
			snprintf(t->sni, sizeof(t->sni), "%s", t->host);
		}
		if (t->ctx->verify == CRY_VERIFY_PEER) {
			if (inet_pton(AF_INET, t->host, t->ip) == 1)
				t->iplen = 4;
			else if (inet_pton(AF_INET6, t->host, t->ip) == 1)
				t->iplen = 16;
			else if (wolfSSL_check_domain_name(t->ssl, t->host) != WOLFSSL_SUCCESS)
				goto fail;
		}
		if (t->ctx->tickets) {
			wolfSSL_UseSessionTicket(t->ssl);
			if (t->ctx->sess && t->ctx->sess_host && strcmp(t->ctx->sess_host, t->host) == 0)
				wolfSSL_set_session(t->ssl, t->ctx->sess);
		}
	}
	return 0;
fail:
	snprintf(t->err, sizeof(t->err), "cannot set up TLS for %s", t->host);
	wolfSSL_free(t->ssl);
	t->ssl = NULL;
	return -1;
}

struct cry_tls *cry_tls_new(struct cry_tls_ctx *ctx, const char *host, cry_io_recv r,
			    cry_io_send s, void *io_arg)
{
	struct cry_tls *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ctx = ctx;
	t->recv = r;
	t->send = s;
	t->io_arg = io_arg;
	if (host && !(t->host = strdup(host)))
		goto fail;
	/* A server makes its WOLFSSL once the ClientHello (and its SNI) is in. */
	if (!ctx->server && make_ssl(t, ctx->ctx) < 0)
		goto fail;
	ctx->refs++;
	return t;
fail:
	free(t->host);
	free(t);
	return NULL;
}

static void save_session(struct cry_tls *t)
{
	struct cry_tls_ctx *c = t->ctx;
	WOLFSSL_SESSION *s;
	char *h;

	if (c->server || !c->tickets || !t->done || !t->host || !t->ssl)
		return;
	s = wolfSSL_get1_session(t->ssl);
	if (!s)
		return;
	h = strdup(t->host);
	if (!h) {
		wolfSSL_SESSION_free(s);
		return;
	}
	if (c->sess)
		wolfSSL_SESSION_free(c->sess);
	free(c->sess_host);
	c->sess = s;
	c->sess_host = h;
}

void cry_tls_free(struct cry_tls *t)
{
	if (!t)
		return;
	if (t->ssl) {
		save_session(t);
		wolfSSL_free(t->ssl);
	}
	if (t->hello) {
		cry_wipe(t->hello, t->hello_len);
		free(t->hello);
	}
	chain_clear(t);
	free(t->host);
	cry_tls_ctx_free(t->ctx); /* this session's reference */
	free(t);
}

/* Server: collects the first record, reads its SNI and makes the WOLFSSL. */
static int sniff_hello(struct cry_tls *t)
{
	size_t want;
	ssize_t n;

	if (!t->hello) {
		t->hello = malloc(HELLO_MAX);
		if (!t->hello)
			return CRY_TLS_ERROR;
	}
	for (;;) {
		want = 5;
		if (t->hello_len >= 5) {
			if (t->hello[0] != 0x16) /* not a handshake: let wolfSSL complain */
				break;
			want = 5 + (((size_t)t->hello[3] << 8) | t->hello[4]);
			if (want > HELLO_MAX)
				break;
		}
		if (t->hello_len >= want)
			break;
		n = t->recv(t->io_arg, t->hello + t->hello_len, want - t->hello_len);
		if (n == CRY_IO_WANT)
			return CRY_TLS_WANT_READ;
		if (n == 0) {
			snprintf(t->err, sizeof(t->err), "peer closed during the TLS handshake");
			return CRY_TLS_ERROR;
		}
		if (n < 0) {
			snprintf(t->err, sizeof(t->err), "transport error during the TLS handshake");
			return CRY_TLS_ERROR;
		}
		t->hello_len += (size_t)n;
	}
	{
		unsigned char name[256];
		word32 sz = sizeof(name) - 1;
		if (wolfSSL_SNI_GetFromBuffer(t->hello, (word32)t->hello_len, WOLFSSL_SNI_HOST_NAME,
					      name, &sz) == WOLFSSL_SUCCESS && sz < sizeof(name)) {
			name[sz] = 0;
			/* only printable names are kept (they end up in logs) */
			for (word32 i = 0; i < sz; i++)
				if (name[i] < 0x21 || name[i] > 0x7e)
					name[i] = '?';
			snprintf(t->sni, sizeof(t->sni), "%s", (char *)name);
		}
	}
	if (make_ssl(t, tls_pick_ctx(t->ctx, t->sni)) < 0)
		return CRY_TLS_ERROR;
	return CRY_TLS_OK;
}

static void record_error(struct cry_tls *t, int code, const char *what)
{
	char buf[WOLFSSL_MAX_ERROR_SZ];
	const char *reason = NULL;

	if (t->io_eof && !t->done && !t->verify_err) {
		snprintf(t->err, sizeof(t->err), "peer closed during the TLS %s", what);
		return;
	}
	if (t->verify_err && (t->ctx->verify == CRY_VERIFY_PEER || t->ctx->require_client_cert))
		reason = tls_verify_reason(t->verify_err);
	if (!reason)
		reason = tls_verify_reason(code);
	if (reason) {
		snprintf(t->err, sizeof(t->err), "certificate verify failed: %s", reason);
		return;
	}
	if (t->verify_err && (t->ctx->verify == CRY_VERIFY_PEER || t->ctx->require_client_cert)) {
		snprintf(t->err, sizeof(t->err), "certificate verify failed: %s",
			 tls_wolf_err_str(t->verify_err, buf, sizeof(buf)));
		return;
	}
	snprintf(t->err, sizeof(t->err), "TLS %s failed: %s", what, tls_wolf_err_str(code, buf, sizeof(buf)));
}

static int map_status(struct cry_tls *t, int ret, const char *what)
{
	int e = wolfSSL_get_error(t->ssl, ret);

	switch (e) {
	case WOLFSSL_ERROR_WANT_READ:
		return CRY_TLS_WANT_READ;
	case WOLFSSL_ERROR_WANT_WRITE:
		return CRY_TLS_WANT_WRITE;
	case WOLFSSL_ERROR_ZERO_RETURN:
		return CRY_TLS_CLOSED;
	default:
		if (e == SOCKET_PEER_CLOSED_E && t->done) {
			snprintf(t->err, sizeof(t->err), "peer closed without close_notify");
			return CRY_TLS_CLOSED;
		}
		record_error(t, e, what);
		return CRY_TLS_ERROR;
	}
}

int cry_tls_handshake(struct cry_tls *t)
{
	int r;

	if (t->done)
		return CRY_TLS_OK;
	if (!t->ssl) {
		r = sniff_hello(t);
		if (r != CRY_TLS_OK)
			return r;
	}
	r = t->ctx->server ? wolfSSL_accept(t->ssl) : wolfSSL_connect(t->ssl);
	if (r == WOLFSSL_SUCCESS) {
		t->done = 1;
		return CRY_TLS_OK;
	}
	r = map_status(t, r, "handshake");
	return r == CRY_TLS_CLOSED ? CRY_TLS_ERROR : r;
}

int cry_tls_handshake_done(const struct cry_tls *t)
{
	return t->done;
}

ssize_t cry_tls_read(struct cry_tls *t, void *buf, size_t len)
{
	int r;

	if (!t->ssl)
		return CRY_TLS_ERROR;
	if (len > 0x7fffffff)
		len = 0x7fffffff;
	r = wolfSSL_read(t->ssl, buf, (int)len);
	if (r > 0)
		return r;
	return map_status(t, r, "read");
}

ssize_t cry_tls_write(struct cry_tls *t, const void *buf, size_t len)
{
	int r;

	if (!t->ssl)
		return CRY_TLS_ERROR;
	if (len == 0)
		return CRY_TLS_ERROR;
	if (len > 0x7fffffff)
		len = 0x7fffffff;
	r = wolfSSL_write(t->ssl, buf, (int)len);
	if (r > 0)
		return r;
	return map_status(t, r, "write");
}

size_t cry_tls_pending(const struct cry_tls *t)
{
	int n = t->ssl ? wolfSSL_pending(t->ssl) : 0;
	return n > 0 ? (size_t)n : 0;
}

int cry_tls_shutdown(struct cry_tls *t)
{
	int r;

	if (!t->ssl || !t->done)
		return CRY_TLS_OK;
	save_session(t);
	r = wolfSSL_shutdown(t->ssl);
	if (r == WOLFSSL_SUCCESS || r == WOLFSSL_SHUTDOWN_NOT_DONE)
		return CRY_TLS_OK;
	r = wolfSSL_get_error(t->ssl, r);
	if (r == WOLFSSL_ERROR_WANT_WRITE)
		return CRY_TLS_WANT_WRITE;
	return CRY_TLS_OK; /* a failed close_notify is not worth more than the close */
}

const char *cry_tls_error(const struct cry_tls *t)
{
	return t->err[0] ? t->err : "no error";
}
