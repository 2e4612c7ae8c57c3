/* mg_ldap_ber.h - the few LDAPv3 messages (RFC 4511) mailgw needs, in a small, pure,
 * bounded BER codec of its own: BindRequest, SearchRequest, the StartTLS
 * ExtendedRequest (RFC 4511 4.14, OID 1.3.6.1.4.1.1466.20037) and UnbindRequest out;
 * BindResponse, SearchResultEntry/Reference/Done and ExtendedResponse in.
 *
 * Why not OpenLDAP's liblber: linking it (and libldap, which brings its own TLS) into the
 * static musl and cross-built router binaries is heavy, and wolfSSL is to stay the one
 * TLS library. The subset here is small enough to read in one sitting and is fuzzed
 * (tests/fuzz/fuzz_mg_ldap.c).
 *
 * Rules: definite lengths only (RFC 4511 5.1), single-byte tags, a message is at most
 * MG_LDAP_MSG_MAX bytes, every read through core/buf.h. Decoding never allocates. */
#ifndef MG_LDAP_BER_H
#define MG_LDAP_BER_H

#include <stddef.h>
#include <stdint.h>

struct buf_writer;

#define MG_LDAP_MSG_MAX (64 * 1024)   /* a larger response is a protocol error */
#define MG_LDAP_DN_MAX 1024
#define MG_LDAP_FILTER_MAX 2048       /* of the filter's text and of its BER */

/* protocolOp tags ([APPLICATION n], constructed unless noted) */
enum {
	MG_LDAP_BIND_RESP = 1,
	MG_LDAP_SEARCH_ENTRY = 4,
	MG_LDAP_SEARCH_DONE = 5,
	MG_LDAP_SEARCH_REF = 19,
	MG_LDAP_EXT_RESP = 24,
};

#define MG_LDAP_STARTTLS_OID "1.3.6.1.4.1.1466.20037"
#define MG_LDAP_NOTICE_OID "1.3.6.1.4.1.1466.20036"   /* notice of disconnection */

enum { MG_LDAP_SCOPE_BASE = 0, MG_LDAP_SCOPE_ONE = 1, MG_LDAP_SCOPE_SUB = 2 };

/* ---- encoding (each 0, or -1 when it does not fit w) ---- */
/* Simple bind (version 3). pw may hold NULs; it is copied into w only. */
int mg_ldap_enc_bind(struct buf_writer *w, int id, const char *dn, const char *pw, size_t pwlen);
/* Search for entries under base matching filter (its BER from mg_ldap_filter_ber), no
 * attributes returned ("1.1", RFC 4511 4.5.1.8), derefAliases never. */
int mg_ldap_enc_search(struct buf_writer *w, int id, const char *base, int scope, const uint8_t *filter,
		       size_t flen, int sizelimit, int timelimit);
int mg_ldap_enc_starttls(struct buf_writer *w, int id);
int mg_ldap_enc_unbind(struct buf_writer *w, int id);

/* ---- decoding ---- */
/* The size of the whole first message at p, from its header alone: > 0 once the tag and
 * length are there (the caller then waits for that many bytes), 0 when the header is
 * not complete, -1 when it cannot be an LDAPMessage (not a SEQUENCE, indefinite length,
 * larger than max). */
long mg_ldap_frame(const uint8_t *p, size_t n, size_t max);

struct mg_ldap_msg {
	int id;                        /* messageID */
	int op;                        /* the protocolOp's tag number (MG_LDAP_*) */
	int code;                      /* resultCode of a response, -1 for an entry */
	char dn[MG_LDAP_DN_MAX + 1];   /* an entry's objectName, or a result's matchedDN */
	char diag[200];                /* diagnosticMessage, made printable */
	char oid[64];                  /* ExtendedResponse responseName, "" when absent */
};

/* Decodes one whole message (exactly what mg_ldap_frame measured). Returns 0, or -1
 * with why (a static text). Unknown protocolOps decode (op set, code -1); the caller
 * decides. A DN with a NUL or longer than MG_LDAP_DN_MAX is an error. */
int mg_ldap_decode(const uint8_t *p, size_t n, struct mg_ldap_msg *m, const char **why);

/* ---- filters (RFC 4515) ---- */
/* Escapes value for use inside a filter's assertion: '*', '(', ')', '\' and NUL as \XX,
 * so a login like "*)(uid=*" is matched literally and can never widen the filter.
 * Returns the length written, or -1 when out is too small. */
int mg_ldap_escape(char *out, size_t cap, const char *value, size_t len);
/* Parses a filter's text (and, or, not, equality, presence, substrings, >=, <=, ~=;
 * \XX escapes; at most 16 levels and MG_LDAP_FILTER_MAX bytes) into its BER. 0 or -1
 * with why. */
int mg_ldap_filter_ber(struct buf_writer *w, const char *text, const char **why);
#endif
