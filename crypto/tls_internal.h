/* tls_internal.h - what the three files of the TLS engine share (tls.c: sessions and
 * I/O; tls_ctx.c: contexts, certificates, suites, SNI; tls_info.c: what a session says
 * about its peer). Only crypto/ includes it. */
#ifndef CRYPTO_TLS_INTERNAL_H
#define CRYPTO_TLS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

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
	/* the owner's reference plus one per cry_tls made from it: a session may outlive the
	 * owner's cry_tls_ctx_free (a connection whose release is deferred to the end of
	 * its callback), and its free still reads the context (save_session) */
	int refs;
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

void tls_set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *tls_wolf_err_str(int code, char *buf, size_t len);
/* A reason a person understands for a certificate check's error code, or NULL. */
const char *tls_verify_reason(int code);
/* The verify callback every context installs (tls.c). */
int tls_verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store);
/* The context whose SNI pattern matches name, else the default one. */
WOLFSSL_CTX *tls_pick_ctx(struct cry_tls_ctx *c, const char *name);
#endif
