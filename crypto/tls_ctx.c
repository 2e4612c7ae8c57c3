/* tls_ctx.c - TLS contexts: certificates and keys, CA files, the cipher-suite profiles
 * (docs/crypto.md), session tickets, SNI certificates; and the engine's error texts. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "crypto/tls_internal.h"

void tls_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}


const char *tls_wolf_err_str(int code, char *buf, size_t len)
{
	wolfSSL_ERR_error_string_n((unsigned long)code, buf, len);
	return buf;
}

/* A reason a person understands, for the errors certificate checks produce. */
const char *tls_verify_reason(int code)
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
		tls_set_err(err, errlen, "cannot load certificate %s: %s", cert, why);
		return -1;
	}
	r = wolfSSL_CTX_use_certificate_chain_file(wctx, cert);
	if (r != WOLFSSL_SUCCESS) {
		tls_set_err(err, errlen, "cannot load certificate %s: %s", cert,
			"not a PEM certificate chain");
		return -1;
	}
	if (!key) {
		tls_set_err(err, errlen, "no private key for certificate %s%s", cert, "");
		return -1;
	}
	if (!file_readable(key, why, sizeof(why))) {
		tls_set_err(err, errlen, "cannot load private key %s: %s", key, why);
		return -1;
	}
	r = wolfSSL_CTX_use_PrivateKey_file(wctx, key, WOLFSSL_FILETYPE_PEM);
	if (r != WOLFSSL_SUCCESS) {
		tls_set_err(err, errlen, "cannot load private key %s: %s", key,
			"not a PEM private key (or encrypted)");
		return -1;
	}
	if (wolfSSL_CTX_check_private_key(wctx) != WOLFSSL_SUCCESS) {
		tls_set_err(err, errlen, "private key %s does not match certificate %s", key, cert);
		return -1;
	}
	return 0;
}


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
		tls_set_err(err, errlen, "cannot create TLS context");
		return NULL;
	}
	if (!conf->tls13_only && wolfSSL_CTX_SetMinVersion(w, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS) {
		tls_set_err(err, errlen, "cannot set TLS 1.2 minimum");
		goto fail;
	}
	if (set_suites(w, conf->aead_only) < 0) {
		tls_set_err(err, errlen, "cannot set the cipher suites");
		goto fail;
	}
	if (ca_file && (conf->verify == CRY_VERIFY_PEER || conf->require_client_cert ||
			(!conf->server && conf->ca_file))) {
		if (!file_readable(ca_file, why, sizeof(why))) {
			tls_set_err(err, errlen, "cannot load CA file %s: %s", ca_file, why);
			goto fail;
		}
		if (wolfSSL_CTX_load_verify_locations(w, ca_file, NULL) != WOLFSSL_SUCCESS) {
			tls_set_err(err, errlen, "cannot load CA file %s: %s", ca_file,
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
	wolfSSL_CTX_set_verify(w, mode, tls_verify_cb);
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
		tls_set_err(err, errlen, "cannot initialise wolfSSL");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		tls_set_err(err, errlen, "out of memory");
		wolfSSL_Cleanup();
		return NULL;
	}
	c->refs = 1; /* the owner's */
	c->server = conf->server;
	c->verify = conf->verify;
	c->require_client_cert = conf->require_client_cert;
	c->tickets = conf->session_tickets;
	c->aead_only = conf->aead_only;
	c->tls13_only = conf->tls13_only;
	if (!ca && !conf->server)
		ca = SYSTEM_CA_BUNDLE;
	if (ca && !(c->ca_file = strdup(ca))) {
		tls_set_err(err, errlen, "out of memory");
		goto fail;
	}
	if (conf->server && conf->require_client_cert && !conf->ca_file) {
		tls_set_err(err, errlen, "client certificates required but no CA file given");
		goto fail;
	}
	c->ctx = make_wctx(conf, c->ca_file, err, errlen);
	if (!c->ctx)
		goto fail;
	if (conf->server && !conf->cert_file) {
		tls_set_err(err, errlen, "a TLS server needs a certificate");
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
		tls_set_err(err, errlen, "SNI certificates are for servers with a name");
		return -1;
	}
	if (ctx->nsni >= MAX_SNI) {
		tls_set_err(err, errlen, "too many SNI certificates (max %d)", MAX_SNI);
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
	if (!c || --c->refs > 0)
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

WOLFSSL_CTX *tls_pick_ctx(struct cry_tls_ctx *c, const char *name)
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
