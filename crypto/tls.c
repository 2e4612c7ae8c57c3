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

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "core/buf.h"
#include "crypto/tls.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define MAX_SNI 32
#define MAX_CHAIN 8
/* A ClientHello record: 5 byte header + at most 16 KiB + expansion. */
#define HELLO_MAX (5 + 16384 + 2048)

struct sni_entry {
	char *name;
	WOLFSSL_CTX *ctx;
};

struct cry_tls_ctx {
	WOLFSSL_CTX *ctx;
	int server;
	enum cry_verify verify;
	int require_client_cert;
	int tickets;
	int aead_only;
	struct sni_entry sni[MAX_SNI];
	size_t nsni;
	/* Client: the last session per host for resumption (tickets). */
	WOLFSSL_SESSION *sess;
	char *sess_host;
	int tls13_only;
	char *ca_file;
};

struct chain_cert {
	uint8_t *der;
	size_t len;
};

struct cry_tls {
	struct cry_tls_ctx *ctx;
	WOLFSSL *ssl;
	cry_io_recv recv;
	cry_io_send send;
	void *io_arg;
	char *host;
	int done;
	int io_eof;
	/* server: the ClientHello record read before choosing the context */
	uint8_t *hello;
	size_t hello_len, hello_off;
	char sni[256];
	/* verify callback's findings */
	int verify_err;         /* first wolfSSL error seen by the callback, 0 = none */
	int verify_called;
	struct chain_cert chain[MAX_CHAIN];
	size_t nchain;
	/* client, host is an IP literal: checked against the leaf's iPAddress SANs */
	uint8_t ip[16];
	size_t iplen;
	char err[256];
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *wolf_err_str(int code, char *buf, size_t len)
{
	wolfSSL_ERR_error_string_n((unsigned long)code, buf, len);
	return buf;
}

/* A reason a person understands, for the errors certificate checks produce. */
static const char *verify_reason(int code)
{
	switch (code) {
	case DOMAIN_NAME_MISMATCH:
	case IPADDR_MISMATCH:
		return "hostname mismatch";
	case ASN_AFTER_DATE_E:
		return "certificate expired";
	case ASN_BEFORE_DATE_E:
		return "certificate not yet valid";
	case ASN_NO_SIGNER_E:
		return "unknown CA";
	case ASN_SELF_SIGNED_E:
		return "self-signed certificate";
	case ASN_SIG_CONFIRM_E:
	case ASN_SIG_OID_E:
		return "bad certificate signature";
	case NO_PEER_CERT:
		return "no peer certificate";
	case ASN_PATHLEN_INV_E:
	case ASN_PATHLEN_SIZE_E:
		return "bad certificate chain";
	default:
		return NULL;
	}
}

static int file_readable(const char *path, char *why, size_t whylen)
{
	if (access(path, R_OK) == 0)
		return 1;
	snprintf(why, whylen, "%s", strerror(errno));
	return 0;
}

static int load_cert_key(WOLFSSL_CTX *wctx, const char *cert, const char *key, char *err,
			 size_t errlen)
{
	char why[160];
	int r;

	if (!file_readable(cert, why, sizeof(why))) {
		set_err(err, errlen, "cannot load certificate %s: %s", cert, why);
		return -1;
	}
	r = wolfSSL_CTX_use_certificate_chain_file(wctx, cert);
	if (r != WOLFSSL_SUCCESS) {
		set_err(err, errlen, "cannot load certificate %s: %s", cert,
			"not a PEM certificate chain");
		return -1;
	}
	if (!key) {
		set_err(err, errlen, "no private key for certificate %s%s", cert, "");
		return -1;
	}
	if (!file_readable(key, why, sizeof(why))) {
		set_err(err, errlen, "cannot load private key %s: %s", key, why);
		return -1;
	}
	r = wolfSSL_CTX_use_PrivateKey_file(wctx, key, WOLFSSL_FILETYPE_PEM);
	if (r != WOLFSSL_SUCCESS) {
		set_err(err, errlen, "cannot load private key %s: %s", key,
			"not a PEM private key (or encrypted)");
		return -1;
	}
	if (wolfSSL_CTX_check_private_key(wctx) != WOLFSSL_SUCCESS) {
		set_err(err, errlen, "private key %s does not match certificate %s", key, cert);
		return -1;
	}
	return 0;
}

static int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store);

/* The suites on offer: never the pre-standard ChaCha20-Poly1305 "-OLD" suites (0xcc13,
 * 0xcc15); with aead_only, for TLS 1.2 only forward-secret AEAD suites (Mozilla's
 * "intermediate": ECDHE or DHE with AES-GCM or ChaCha20-Poly1305). The TLS 1.3 suites
 * are all AEAD and stay. Filtered by name from what this wolfSSL was built with. */
static int set_suites(WOLFSSL_CTX *w, int aead_only)
{
	char all[8192], out[8192];
	size_t o = 0;

	if (wolfSSL_get_ciphers(all, (int)sizeof(all)) != WOLFSSL_SUCCESS)
		return -1;
	/* pass 0: TLS 1.3 and the forward-secret AEAD suites, first in preference;
	 * pass 1 (mail only): the rest */
	for (int pass = 0; pass < (aead_only ? 1 : 2); pass++) {
		for (const char *t = all; *t;) {
			size_t n = strcspn(t, ":");
			int fs = strncmp(t, "ECDHE-", 6) == 0 || strncmp(t, "DHE-", 4) == 0;
			int aead = (memmem(t, n, "-GCM-", 5) != NULL) ||
				   (n >= 17 && memcmp(t + n - 17, "CHACHA20-POLY1305", 17) == 0);
			int good = strncmp(t, "TLS13-", 6) == 0 || (fs && aead);
			int old = n > 4 && memcmp(t + n - 4, "-OLD", 4) == 0;
			if (!old && good == (pass == 0)) {
				if (o + n + 2 > sizeof(out))
					return -1;
				memcpy(out + o, t, n);
				o += n;
				out[o++] = ':';
			}
			t += n;
			if (*t == ':')
				t++;
		}
	}
	if (!o)
		return -1;
	out[o - 1] = '\0';
	return wolfSSL_CTX_set_cipher_list(w, out) == WOLFSSL_SUCCESS ? 0 : -1;
}

/* Builds one WOLFSSL_CTX with everything but the certificate. */
static WOLFSSL_CTX *make_wctx(const struct cry_tls_conf *conf, const char *ca_file, char *err,
			      size_t errlen)
{
	WOLFSSL_METHOD *m;
	WOLFSSL_CTX *w;
	char why[160];
	int mode;

	if (conf->server)
		m = conf->tls13_only ? wolfTLSv1_3_server_method() : wolfSSLv23_server_method();
	else
		m = conf->tls13_only ? wolfTLSv1_3_client_method() : wolfSSLv23_client_method();
	w = m ? wolfSSL_CTX_new(m) : NULL;
	if (!w) {
		set_err(err, errlen, "cannot create TLS context");
		return NULL;
	}
	if (!conf->tls13_only && wolfSSL_CTX_SetMinVersion(w, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS) {
		set_err(err, errlen, "cannot set TLS 1.2 minimum");
		goto fail;
	}
	if (set_suites(w, conf->aead_only) < 0) {
		set_err(err, errlen, "cannot set the cipher suites");
		goto fail;
	}
	if (ca_file && (conf->verify == CRY_VERIFY_PEER || conf->require_client_cert ||
			(!conf->server && conf->ca_file))) {
		if (!file_readable(ca_file, why, sizeof(why))) {
			set_err(err, errlen, "cannot load CA file %s: %s", ca_file, why);
			goto fail;
		}
		if (wolfSSL_CTX_load_verify_locations(w, ca_file, NULL) != WOLFSSL_SUCCESS) {
			set_err(err, errlen, "cannot load CA file %s: %s", ca_file,
				"no usable PEM certificate in it");
			goto fail;
		}
	}
	if (conf->server) {
		if (conf->require_client_cert)
			mode = WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT;
		else if (conf->verify == CRY_VERIFY_PEER)
			mode = WOLFSSL_VERIFY_PEER; /* optional client certificate */
		else
			mode = WOLFSSL_VERIFY_NONE;
		if (!conf->session_tickets) {
			wolfSSL_CTX_NoTicketTLSv12(w);
			wolfSSL_CTX_no_ticket_TLSv13(w);
		}
	} else {
		/* Always checked, so that describe() can say what verify=none let through;
		 * with verify=none the callback accepts whatever the check found. */
		mode = WOLFSSL_VERIFY_PEER;
	}
	wolfSSL_CTX_set_verify(w, mode, verify_cb);
	return w;
fail:
	wolfSSL_CTX_free(w);
	return NULL;
}

struct cry_tls_ctx *cry_tls_ctx_new(const struct cry_tls_conf *conf, char *err, size_t errlen)
{
	struct cry_tls_ctx *c;
	const char *ca = conf->ca_file;

	if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
		set_err(err, errlen, "cannot initialise wolfSSL");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		set_err(err, errlen, "out of memory");
		wolfSSL_Cleanup();
		return NULL;
	}
	c->server = conf->server;
	c->verify = conf->verify;
	c->require_client_cert = conf->require_client_cert;
	c->tickets = conf->session_tickets;
	c->aead_only = conf->aead_only;
	c->tls13_only = conf->tls13_only;
	if (!ca && !conf->server)
		ca = SYSTEM_CA_BUNDLE;
	if (ca && !(c->ca_file = strdup(ca))) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	if (conf->server && conf->require_client_cert && !conf->ca_file) {
		set_err(err, errlen, "client certificates required but no CA file given");
		goto fail;
	}
	c->ctx = make_wctx(conf, c->ca_file, err, errlen);
	if (!c->ctx)
		goto fail;
	if (conf->server && !conf->cert_file) {
		set_err(err, errlen, "a TLS server needs a certificate");
		goto fail;
	}
	if (conf->cert_file && load_cert_key(c->ctx, conf->cert_file, conf->key_file, err, errlen) < 0)
		goto fail;
	return c;
fail:
	cry_tls_ctx_free(c);
	return NULL;
}

int cry_tls_ctx_add_sni(struct cry_tls_ctx *ctx, const char *name, const char *cert_file,
			const char *key_file, char *err, size_t errlen)
{
	struct cry_tls_conf conf;
	struct sni_entry *e;

	if (!ctx->server || !name || !*name) {
		set_err(err, errlen, "SNI certificates are for servers with a name");
		return -1;
	}
	if (ctx->nsni >= MAX_SNI) {
		set_err(err, errlen, "too many SNI certificates (max %d)", MAX_SNI);
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	conf.server = 1;
	conf.verify = ctx->verify;
	conf.require_client_cert = ctx->require_client_cert;
	conf.tls13_only = ctx->tls13_only;
	conf.session_tickets = ctx->tickets;
	conf.aead_only = ctx->aead_only;
	e = &ctx->sni[ctx->nsni];
	e->ctx = make_wctx(&conf, ctx->ca_file, err, errlen);
	if (!e->ctx)
		return -1;
	if (load_cert_key(e->ctx, cert_file, key_file, err, errlen) < 0 || !(e->name = strdup(name))) {
		wolfSSL_CTX_free(e->ctx);
		e->ctx = NULL;
		return -1;
	}
	ctx->nsni++;
	return 0;
}

void cry_tls_ctx_free(struct cry_tls_ctx *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nsni; i++) {
		wolfSSL_CTX_free(c->sni[i].ctx);
		free(c->sni[i].name);
	}
	if (c->sess)
		wolfSSL_SESSION_free(c->sess);
	free(c->sess_host);
	free(c->ca_file);
	if (c->ctx)
		wolfSSL_CTX_free(c->ctx);
	free(c);
	wolfSSL_Cleanup();
}

/* "*.example.com" matches exactly one label in front of example.com. */
static int sni_match(const char *pattern, const char *name)
{
	if (strcasecmp(pattern, name) == 0)
		return 1;
	if (pattern[0] == '*' && pattern[1] == '.') {
		const char *dot = strchr(name, '.');
		return dot && dot != name && strcasecmp(dot + 1, pattern + 2) == 0;
	}
	return 0;
}

static WOLFSSL_CTX *pick_ctx(struct cry_tls_ctx *c, const char *name)
{
	if (name && *name) {
		for (size_t i = 0; i < c->nsni; i++)
			if (strcasecmp(c->sni[i].name, name) == 0)
				return c->sni[i].ctx;
		for (size_t i = 0; i < c->nsni; i++)
			if (sni_match(c->sni[i].name, name))
				return c->sni[i].ctx;
	}
	return c->ctx;
}

/* ---- I/O glue ---- */

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

static int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
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
		explicit_bzero(t->hello, t->hello_len);
		free(t->hello);
	}
	chain_clear(t);
	free(t->host);
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
	if (make_ssl(t, pick_ctx(t->ctx, t->sni)) < 0)
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
		reason = verify_reason(t->verify_err);
	if (!reason)
		reason = verify_reason(code);
	if (reason) {
		snprintf(t->err, sizeof(t->err), "certificate verify failed: %s", reason);
		return;
	}
	if (t->verify_err && (t->ctx->verify == CRY_VERIFY_PEER || t->ctx->require_client_cert)) {
		snprintf(t->err, sizeof(t->err), "certificate verify failed: %s",
			 wolf_err_str(t->verify_err, buf, sizeof(buf)));
		return;
	}
	snprintf(t->err, sizeof(t->err), "TLS %s failed: %s", what, wolf_err_str(code, buf, sizeof(buf)));
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

static void name_line(WOLFSSL_X509_NAME *n, char *out, size_t cap)
{
	char tmp[512];

	out[0] = 0;
	if (!n || !wolfSSL_X509_NAME_oneline(n, tmp, sizeof(tmp)))
		return;
	tmp[sizeof(tmp) - 1] = 0;
	if (strlen(tmp) >= cap)
		tmp[cap - 1] = 0;
	memcpy(out, tmp, strlen(tmp) + 1);
}

static void time_line(const WOLFSSL_ASN1_TIME *at, char *out, size_t cap)
{
	struct tm tm;

	out[0] = 0;
	memset(&tm, 0, sizeof(tm));
	if (!at || wolfSSL_ASN1_TIME_to_tm(at, &tm) != WOLFSSL_SUCCESS)
		return;
	strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

int cry_tls_describe(const struct cry_tls *t, struct cry_tls_info *info)
{
	WOLFSSL_X509 *peer;
	const char *s;

	memset(info, 0, sizeof(*info));
	if (!t->ssl || !t->done)
		return -1;
	s = wolfSSL_get_version(t->ssl);
	snprintf(info->version, sizeof(info->version), "%s", s ? s : "?");
	{
		/* IANA names ("TLS_AES_128_GCM_SHA256"), as OpenSSL and RFCs print them */
		int suite = wolfSSL_get_current_cipher_suite(t->ssl);
		s = suite >= 0 ? wolfSSL_get_cipher_name_iana_from_suite((byte)(suite >> 8), (byte)suite)
			       : NULL;
		if (!s)
			s = wolfSSL_get_cipher_name(t->ssl);
	}
	snprintf(info->cipher, sizeof(info->cipher), "%s", s ? s : "?");
	snprintf(info->sni, sizeof(info->sni), "%s", t->sni);
	info->resumed = wolfSSL_session_reused(t->ssl) ? 1 : 0;
	peer = wolfSSL_get_peer_certificate(t->ssl);
	if (peer) {
		info->has_peer_cert = 1;
		name_line(wolfSSL_X509_get_subject_name(peer), info->peer_subject,
			  sizeof(info->peer_subject));
		name_line(wolfSSL_X509_get_issuer_name(peer), info->peer_issuer,
			  sizeof(info->peer_issuer));
		time_line(wolfSSL_X509_get_notBefore(peer), info->peer_not_before,
			  sizeof(info->peer_not_before));
		time_line(wolfSSL_X509_get_notAfter(peer), info->peer_not_after,
			  sizeof(info->peer_not_after));
		wolfSSL_X509_free(peer);
	}
	if (t->ctx->verify != CRY_VERIFY_PEER && !t->ctx->require_client_cert) {
		const char *r = t->verify_err ? verify_reason(t->verify_err) : NULL;
		if (r)
			snprintf(info->verify_result, sizeof(info->verify_result),
				 "not verified (verify=none; %s)", r);
		else
			snprintf(info->verify_result, sizeof(info->verify_result),
				 "not verified (verify=none)");
	} else if (!info->has_peer_cert) {
		snprintf(info->verify_result, sizeof(info->verify_result), "no peer certificate");
	} else if (t->verify_err) {
		const char *r = verify_reason(t->verify_err);
		snprintf(info->verify_result, sizeof(info->verify_result), "%s",
			 r ? r : "verify failed");
	} else {
		info->verified = 1;
		snprintf(info->verify_result, sizeof(info->verify_result), "ok");
	}
	return 0;
}

char *cry_tls_peer_chain_pem_new(const struct cry_tls *t)
{
	char *out = NULL;
	size_t len = 0;

	for (size_t i = 0; i < t->nchain; i++) {
		size_t cap = t->chain[i].len * 2 + 128;
		char *nb = realloc(out, len + cap + 1);
		int n;
		if (!nb)
			goto fail;
		out = nb;
		n = wc_DerToPem(t->chain[i].der, (word32)t->chain[i].len, (byte *)out + len,
				(word32)cap, CERT_TYPE);
		if (n <= 0)
			goto fail;
		len += (size_t)n;
		out[len] = 0;
	}
	return out;
fail:
	free(out);
	return NULL;
}
