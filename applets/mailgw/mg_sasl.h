/* mg_sasl.h - the server side of SMTP AUTH (RFC 4954) for the mechanisms PLAIN (RFC 4616)
 * and LOGIN (the two-prompt one every mail client has). Pure code, no I/O: the session
 * feeds the AUTH argument and each response line, and sends what this says. Fuzzed by
 * tests/fuzz/fuzz_mg_sasl.c. The struct holds the password: mg_sasl_wipe() it. */
#ifndef MG_SASL_H
#define MG_SASL_H

#include <stddef.h>

#define MG_SASL_LINE_MAX 12288   /* RFC 4954 4: a response line, base64 */
#define MG_SASL_LOGIN_MAX 255
#define MG_SASL_PASS_MAX 1023

enum mg_sasl_mech { MG_SASL_NONE = 0, MG_SASL_PLAIN, MG_SASL_LOGIN };
enum { MG_SASL_ERROR = -1, MG_SASL_CHALLENGE = 1, MG_SASL_DONE = 2 };

struct mg_sasl {
	enum mg_sasl_mech mech;
	int step;                          /* LOGIN: 0 = user name next, 1 = password next */
	char login[MG_SASL_LOGIN_MAX + 1]; /* authentication identity */
	char pass[MG_SASL_PASS_MAX + 1];
	const char *challenge;             /* MG_SASL_CHALLENGE: base64 text after "334 " */
	int code;                          /* MG_SASL_ERROR: the reply */
	const char *enh, *text;
	int cancelled;                     /* the client sent "*" (not a failed login) */
};

/* arg: the AUTH command's argument ("PLAIN", "PLAIN dGVzdA==", "LOGIN"). Returns
 * MG_SASL_CHALLENGE (send "334 challenge"), MG_SASL_DONE (login/pass are set) or
 * MG_SASL_ERROR (send code/enh/text; the exchange is over). */
int mg_sasl_start(struct mg_sasl *s, const char *arg, size_t len);
/* One response line (no CRLF), same returns. */
int mg_sasl_step(struct mg_sasl *s, const char *line, size_t len);
/* The names to announce after "AUTH " in EHLO. */
extern const char mg_sasl_mechs[];
void mg_sasl_wipe(struct mg_sasl *s);
#endif
