/* http_auth.h - HTTP proxy authentication (RFC 7617 Basic, RFC 7616 Digest): parsing a
 * Proxy-Authenticate challenge and computing the answer. Used by proxy_conn.c, fuzzed
 * (tests/fuzz/fuzz_proxy_auth.c) and unit tested against the RFC examples. */
#ifndef NET_HTTP_AUTH_H
#define NET_HTTP_AUTH_H

#include <stddef.h>

enum net_auth_scheme { NET_AUTH_NONE = 0, NET_AUTH_BASIC = 1, NET_AUTH_DIGEST = 2 };
enum net_digest_alg { NET_DIGEST_MD5 = 0, NET_DIGEST_SHA256 = 1 };

struct net_http_challenge {
	enum net_auth_scheme scheme;
	enum net_digest_alg alg;
	int alg_supported;      /* 0 for algorithms we do not speak (e.g. -sess, SHA-512-256) */
	int qop_auth;           /* the server offered qop=auth */
	int qop_other;          /* it offered only other qops (auth-int) */
	int stale;
	int userhash;
	char realm[256];
	char nonce[256];
	char opaque[256];
};

/* Parses one challenge header value ("Digest realm=..., nonce=..."). 0 or -1. */
int net_http_parse_challenge(const char *value, size_t len, struct net_http_challenge *ch);

/* 1 when ch is a challenge we can answer and a better choice than *best (scheme
 * NET_AUTH_NONE: nothing chosen yet): Digest SHA-256 > Digest MD5 > Basic; Digest only
 * with qop=auth or without qop, and only with an algorithm we speak. */
int net_http_challenge_better(const struct net_http_challenge *ch,
			      const struct net_http_challenge *best);

/* The Digest "response" value as lowercase hex into out (65 bytes suffice).
 * qop NULL or "" gives the RFC 2069 form without nc/cnonce. */
int net_digest_response(enum net_digest_alg alg, const char *user, const char *realm,
			const char *pass, const char *method, const char *uri, const char *nonce,
			const char *nc, const char *cnonce, const char *qop, char *out, size_t outcap);

/* The whole header value for a challenge: "Basic dXNlcjpwYXNz" or "Digest username=...".
 * cnonce is the client nonce to use (Digest). Caller frees (secret_free_str). */
char *net_http_auth_value_new(const struct net_http_challenge *ch, const char *user,
			      const char *pass, const char *method, const char *uri,
			      unsigned nc, const char *cnonce);
#endif
