/* mg_capa.h - the pure parts of the POP3/IMAP TLS front ends (RFC 2595, 2449, 3501):
 * what a client may say before TLS on the STLS/STARTTLS ports, the capabilities we
 * announce there (no plaintext login: LOGINDISABLED, no USER/SASL), and the
 * backend's greeting, whose capability list is filtered (STARTTLS/STLS/LOGINDISABLED
 * make no sense to a client that already speaks TLS to us). */
#ifndef MG_CAPA_H
#define MG_CAPA_H

#include <stddef.h>

enum mg_pre_tls {
	MG_PRE_CAPA = 1,     /* answer with our pre-TLS capability list */
	MG_PRE_STARTTLS,     /* STLS / STARTTLS: go ahead, then handshake */
	MG_PRE_QUIT,         /* QUIT / LOGOUT */
	MG_PRE_NOOP,
	MG_PRE_LOGIN,        /* USER, PASS, APOP, AUTH, LOGIN, AUTHENTICATE: refused */
	MG_PRE_OTHER,        /* anything else: refused, TLS first */
	MG_PRE_BAD,          /* IMAP: no valid tag */
};

#define MG_IMAP_TAG_MAX 64

enum mg_pre_tls mg_pop3_pre_tls(const char *line, size_t len);
/* tag receives the IMAP tag ("*" when there is none, for the BAD reply). */
enum mg_pre_tls mg_imap_pre_tls(const char *line, size_t len, char *tag, size_t tagcap);

/* Our replies before TLS (static strings, CRLF included). */
extern const char mg_pop3_greeting[];
extern const char mg_pop3_capa_reply[];
extern const char mg_imap_greeting[];
extern const char mg_imap_capa_line[];

/* Backend greeting: 1 usable (POP3 "+OK", IMAP "* OK"), 0 otherwise (BYE, PREAUTH,
 * garbage: the front end closes the session). */
int mg_pop3_greeting_ok(const char *line, size_t len);
int mg_imap_greeting_ok(const char *line, size_t len);
/* Copies an IMAP line, removing STARTTLS, LOGINDISABLED and STLS from a
 * "[CAPABILITY ...]" response code or a "* CAPABILITY" response. Returns the output
 * length (always < cap, NUL-terminated) or -1 if it does not fit. */
int mg_imap_capa_filter(const char *in, size_t len, char *out, size_t cap);
#endif
