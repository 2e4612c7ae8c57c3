/* mg_dovecot.h - the client side of Dovecot's authentication protocol (v1, the one
 * Postfix's smtpd_sasl_type = dovecot speaks): formatting our lines and reading the
 * server's, one line at a time. Pure code, no I/O; fuzzed by tests/fuzz/fuzz_mg_dovecot.c.
 *
 *   C: VERSION 1 2 / CPID pid            S: VERSION 1 x / MECH ... / SPID / CUID / COOKIE / DONE
 *   C: AUTH id PLAIN service=smtp secured nologin rip=.. lip=.. resp=base64(\0user\0pass)
 *   S: OK id ... | FAIL id [temp] ... | CONT id ...   (fields TAB-separated, lines LF) */
#ifndef MG_DOVECOT_H
#define MG_DOVECOT_H

#include <stddef.h>

#define MG_DOVECOT_LINE_MAX 16384

enum { MG_DOV_BAD = -1, MG_DOV_MORE = 0, MG_DOV_READY, MG_DOV_OK, MG_DOV_FAIL, MG_DOV_TEMP };

struct mg_dovecot_rx {
	int done;        /* DONE seen: the handshake is over */
	int version_ok;  /* major version 1 */
	int plain;       /* the server offers PLAIN */
	unsigned id;     /* the request id we wait for (set before feeding replies) */
	char why[128];   /* MG_DOV_BAD / FAIL: a short reason, safe to log */
};

/* Our handshake. Returns the length written, -1 if cap is too small. */
int mg_dovecot_hello(char *out, size_t cap, long pid);
/* AUTH request for PLAIN; rip/lip: client and local address (may be ""). The buffer
 * holds the password (base64): wipe it. Returns the length, -1 on overflow or on a
 * value that could break the line (TAB, LF). */
int mg_dovecot_auth(char *out, size_t cap, unsigned id, const char *login, const char *pass,
		    const char *rip, const char *lip);
/* One server line without LF. Before DONE: MG_DOV_MORE, MG_DOV_READY at DONE (PLAIN
 * offered, version 1) or MG_DOV_BAD. After: MG_DOV_OK, MG_DOV_FAIL, MG_DOV_TEMP (FAIL
 * with "temp"), MG_DOV_MORE for lines we ignore, MG_DOV_BAD for a protocol error. */
int mg_dovecot_line(struct mg_dovecot_rx *r, const char *line, size_t len);
#endif
