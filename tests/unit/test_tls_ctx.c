/* test_tls_ctx.c - crypto/tls.c context errors name the file and the reason. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crypto/tls.h"
#include "unit.h"

static void missing_cert(void)
{
	struct cry_tls_conf c = { .server = 1, .cert_file = "/nonexistent/x.pem", .key_file = "/nonexistent/x.key" };
	char err[256] = "";

	CHECK(cry_tls_ctx_new(&c, err, sizeof(err)) == NULL);
	CHECK_STR(err, "cannot load certificate /nonexistent/x.pem: No such file or directory");
}

static void not_pem(void)
{
	char path[200], err[256] = "", want[256];
	struct cry_tls_conf c = { .server = 1, .cert_file = path, .key_file = path };

	snprintf(path, sizeof(path), "%s/mkcerts.sh", unit_data_dir());
	CHECK(cry_tls_ctx_new(&c, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "cannot load certificate %s: not a PEM certificate chain", path);
	CHECK_STR(err, want);
}

static void server_needs_cert(void)
{
	struct cry_tls_conf c = { .server = 1 };
	char err[256] = "";

	CHECK(cry_tls_ctx_new(&c, err, sizeof(err)) == NULL);
	CHECK_STR(err, "a TLS server needs a certificate");
}

static void missing_ca(void)
{
	struct cry_tls_conf c = { .verify = CRY_VERIFY_PEER, .ca_file = "/nonexistent/ca.pem" };
	char err[256] = "";

	CHECK(cry_tls_ctx_new(&c, err, sizeof(err)) == NULL);
	CHECK_STR(err, "cannot load CA file /nonexistent/ca.pem: No such file or directory");
}

static void client_without_verify(void)
{
	struct cry_tls_conf c = { .verify = CRY_VERIFY_NONE };
	char err[256] = "";
	struct cry_tls_ctx *ctx = cry_tls_ctx_new(&c, err, sizeof(err));

	CHECK(ctx != NULL);
	CHECK(cry_tls_ctx_add_sni(ctx, "a.test", "/x", "/y", err, sizeof(err)) < 0); /* client */
	cry_tls_ctx_free(ctx);
}

static ssize_t no_recv(void *arg, uint8_t *buf, size_t len)
{
	(void)arg, (void)buf, (void)len;
	return CRY_IO_WANT;
}

static ssize_t no_send(void *arg, const uint8_t *buf, size_t len)
{
	(void)arg, (void)buf;
	return (ssize_t)len;
}

/* The owner frees its context while a session made from it is still alive (the viewer's
 * relay dial gave up a TLS step inside the connection's callback; the connection, and
 * with it the session, was released only after the callback returned). The session's
 * free reads the context: under ASan this was a heap-use-after-free. */
static void session_outlives_ctx(void)
{
	struct cry_tls_conf c = { .verify = CRY_VERIFY_NONE, .session_tickets = 1 };
	char err[256] = "";
	struct cry_tls_ctx *ctx = cry_tls_ctx_new(&c, err, sizeof(err));

	CHECK(ctx != NULL);
	if (!ctx)
		return;
	struct cry_tls *t = cry_tls_new(ctx, "relay.test", no_recv, no_send, NULL);
	CHECK(t != NULL);
	cry_tls_ctx_free(ctx);
	CHECK(cry_tls_handshake(t) == CRY_TLS_WANT_READ); /* still usable */
	cry_tls_free(t);
}

UNIT_SUITE(tls_ctx, UNIT_TEST(missing_cert), UNIT_TEST(not_pem), UNIT_TEST(server_needs_cert),
	   UNIT_TEST(missing_ca), UNIT_TEST(client_without_verify), UNIT_TEST(session_outlives_ctx));
