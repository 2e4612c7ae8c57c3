/* tls_info.c - what a finished handshake says about the peer: version, suite,
 * subject, issuer, validity, the verification result, and the chain as PEM. */
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
		const char *r = t->verify_err ? tls_verify_reason(t->verify_err) : NULL;
		if (r)
			snprintf(info->verify_result, sizeof(info->verify_result),
				 "not verified (verify=none; %s)", r);
		else
			snprintf(info->verify_result, sizeof(info->verify_result),
				 "not verified (verify=none)");
	} else if (!info->has_peer_cert) {
		snprintf(info->verify_result, sizeof(info->verify_result), "no peer certificate");
	} else if (t->verify_err) {
		const char *r = tls_verify_reason(t->verify_err);
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
