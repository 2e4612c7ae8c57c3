/* tls.h - TLS as an engine with pluggable I/O. crypto/ owns wolfSSL; net/ pumps the
 * bytes (through wolfSSL's custom I/O callbacks over evbuffers), so neither layer
 * includes the other's library. Nothing here blocks: operations return CRY_TLS_WANT_*
 * and are called again when the transport has data or room. */
#ifndef CRYPTO_TLS_H
#define CRYPTO_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum cry_verify {
	CRY_VERIFY_NONE = 0,  /* encrypt only (opportunistic SMTP, self-signed peers) */
	CRY_VERIFY_PEER = 1,  /* chain to ca_file (or system CAs) + host name check */
};

struct cry_tls_conf {
	int server;                 /* 1 = server context */
	const char *cert_file;      /* PEM chain; server: required; client: optional client cert */
	const char *key_file;       /* PEM private key for cert_file */
	const char *ca_file;        /* verification roots; NULL = system bundle */
	enum cry_verify verify;     /* client: of the server; server: of client certificates */
	int require_client_cert;    /* server: refuse clients without a valid certificate */
	int tls13_only;             /* otherwise TLS 1.2 is the minimum */
	int session_tickets;        /* server: issue tickets (keys rotate hourly); client: resume */
	int aead_only;              /* TLS 1.2: only ECDHE/DHE with AES-GCM or ChaCha20-Poly1305
				     * (HTTPS listeners; docs/crypto.md). Never the -OLD suites. */
};

struct cry_tls_ctx;
/* On error returns NULL and writes one line (naming the file) into err. */
struct cry_tls_ctx *cry_tls_ctx_new(const struct cry_tls_conf *conf, char *err, size_t errlen);
/* Server: an extra certificate chosen when the client's SNI equals name (or matches a
 * "*.example.com" wildcard). The context's own certificate stays the default. */
int cry_tls_ctx_add_sni(struct cry_tls_ctx *ctx, const char *name, const char *cert_file,
			const char *key_file, char *err, size_t errlen);
/* Drops the owner's reference. Sessions made from ctx hold their own, so the context
 * lives until the last of them is freed: an owner may free it while a connection's
 * release is still pending. Not thread-safe (all TLS runs on the loop's thread). */
void cry_tls_ctx_free(struct cry_tls_ctx *ctx);

/* Transport callbacks. recv returns bytes read, 0 at EOF, CRY_IO_WANT when nothing is
 * buffered yet, -1 on error. send returns bytes taken (it may take fewer) or CRY_IO_WANT. */
#define CRY_IO_WANT (-2)
typedef ssize_t (*cry_io_recv)(void *arg, uint8_t *buf, size_t len);
typedef ssize_t (*cry_io_send)(void *arg, const uint8_t *buf, size_t len);

enum cry_tls_status {
	CRY_TLS_OK = 0,
	CRY_TLS_ERROR = -1,
	CRY_TLS_WANT_READ = -2,
	CRY_TLS_WANT_WRITE = -3,
	CRY_TLS_CLOSED = -4,        /* close_notify received */
};

struct cry_tls;
/* host: client side, the SNI name and the name checked with CRY_VERIFY_PEER (NULL = no
 * SNI, no name check). */
struct cry_tls *cry_tls_new(struct cry_tls_ctx *ctx, const char *host, cry_io_recv r,
			    cry_io_send s, void *io_arg);
void cry_tls_free(struct cry_tls *t);
int cry_tls_handshake(struct cry_tls *t);               /* enum cry_tls_status */
int cry_tls_handshake_done(const struct cry_tls *t);
/* > 0 bytes, or an enum cry_tls_status (never 0). */
ssize_t cry_tls_read(struct cry_tls *t, void *buf, size_t len);
ssize_t cry_tls_write(struct cry_tls *t, const void *buf, size_t len);
size_t cry_tls_pending(const struct cry_tls *t); /* decrypted bytes ready to read */
int cry_tls_shutdown(struct cry_tls *t);          /* sends close_notify */
/* Last error as one line ("certificate verify failed: hostname mismatch"). */
const char *cry_tls_error(const struct cry_tls *t);

/* What a finished handshake negotiated, for logs, Received: headers and diagnostics. */
struct cry_tls_info {
	char version[16];          /* "TLSv1.3" */
	char cipher[64];           /* "TLS_AES_256_GCM_SHA384" */
	char sni[256];             /* server: what the client asked for; client: what we sent */
	int resumed;
	int has_peer_cert;
	char peer_subject[256];
	char peer_issuer[256];
	char peer_not_before[32];  /* "2026-01-01 00:00:00 UTC" */
	char peer_not_after[32];
	int verified;              /* 1 = chain and name verified */
	char verify_result[128];   /* "ok", "not verified (verify=none)", or the reason */
};
int cry_tls_describe(const struct cry_tls *t, struct cry_tls_info *info);
/* The peer's chain as PEM blocks, leaf first; caller frees. NULL if none. */
char *cry_tls_peer_chain_pem_new(const struct cry_tls *t);
#endif
