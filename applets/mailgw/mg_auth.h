/* mg_auth.h - verifying a login and password at a backend (mg_authconf.h), on the loop,
 * never blocking: connect (UNIX socket or TCP), TLS (implicit or STARTTLS/STLS) verified
 * against auth_ca_file unless auth_tls_verify = no, the backend's own login exchange,
 * logout. One connection per check. The per-protocol steps are a table of operations
 * (mg_auth_ops); mg_auth.c drives them. The request holds the password and wipes it. */
#ifndef MG_AUTH_H
#define MG_AUTH_H

#include <stddef.h>

#include "applets/mailgw/mg_authconf.h"
#include "applets/mailgw/mg_dovecot.h"
#include "applets/mailgw/mg_ldap_ber.h"
#include "applets/mailgw/mg_sasl.h"
#include "applets/mailgw/mg_smtp.h"

struct mg_ctx;
struct net_conn;
struct net_timer;
struct net_loop;
struct cry_tls_ctx;

enum mg_auth_result { MG_AUTH_OK = 0, MG_AUTH_FAIL = 1, MG_AUTH_TEMP = 2 };

/* The result, once, from the loop (never from inside mg_auth_start). detail is a short
 * text safe to log (never the password). The request is freed after the call. */
typedef void (*mg_auth_cb)(void *arg, enum mg_auth_result r, const char *detail);
/* Optional: each step, for `mailgw auth-test`. */
typedef void (*mg_auth_trace)(void *arg, const char *line);

struct mg_auth_env {              /* what a check needs from its caller */
	struct net_loop *loop;
	struct cry_tls_ctx *tls;      /* client context for the backends */
	int verify;                   /* the context verifies: say so in traces */
	unsigned long timeout_ms;
	const char *helo;             /* our name, for the callout's EHLO */
};

struct mg_auth_req;
struct mg_auth_ops {
	const char *name;
	/* The connection (and implicit TLS) is up / STARTTLS finished. */
	void (*ready)(struct mg_auth_req *r);
	/* One line from the backend. */
	void (*line)(struct mg_auth_req *r, const char *l, size_t n);
	/* Binary protocols (LDAP): new input, instead of line. */
	void (*data)(struct mg_auth_req *r);
};

struct mg_auth_req {
	struct mg_auth_env env;
	struct mg_auth_backend be;    /* a copy: a reload may free the table */
	const struct mg_auth_ops *ops;
	struct net_conn *c;
	struct net_timer *timer;      /* the deadline, and the deferred result */
	char login[MG_SASL_LOGIN_MAX + 1];
	char pass[MG_SASL_PASS_MAX + 1];
	char rip[64], lip[64];
	int st;                       /* the protocol's own step */
	int tls_up;
	int result;                   /* -1 until known */
	char detail[200];
	struct mg_dovecot_rx dov;
	struct mg_reply_rx rx;        /* SMTP replies */
	int nlines;                   /* lines in this state (bounded) */
	int probe;                    /* a recipient check: no password, "found" is the answer */
	int ldap_id;                  /* LDAP: the messageID we wait for */
	int nentries;                 /* LDAP: entries of the search */
	int nrefs;                    /* LDAP: references of the search */
	char dn[MG_LDAP_DN_MAX + 1];  /* LDAP: the entry found */
	mg_auth_cb cb;
	mg_auth_trace trace;
	void *arg;
};

/* Starts a check of login/pass at be. rip/lip: the client's and our address ("" when
 * unknown). Returns the request (mg_auth_cancel to abandon it) or NULL when it could not
 * start (then nothing is called back: treat it as MG_AUTH_TEMP). */
struct mg_auth_req *mg_auth_start(const struct mg_auth_env *env, const struct mg_auth_backend *be,
				  const char *login, const char *pass, const char *rip, const char *lip,
				  mg_auth_cb cb, mg_auth_trace trace, void *arg);
/* A recipient check (mg_rcptmap.h) on the same driver: be is an ldap/ldaps backend
 * (search only: OK = an entry matches, FAIL = none) or a callout (a RCPT probe: OK =
 * 2xx, FAIL = 5xx, TEMP otherwise). */
struct mg_auth_req *mg_auth_probe_start(const struct mg_auth_env *env, const struct mg_auth_backend *be,
					const char *addr, mg_auth_cb cb, mg_auth_trace trace, void *arg);
/* The caller went away: no callback, everything freed and wiped. */
void mg_auth_cancel(struct mg_auth_req *r);

struct mg_conf;
/* The client TLS context for the backends: verifying against auth_ca_file (or the
 * system bundle) unless auth_tls_verify = no. */
struct cry_tls_ctx *mg_auth_tls_new(const struct mg_conf *c, char *err, size_t errlen);

/* For the protocol steps (mg_auth_*.c). */
void mg_auth_send(struct mg_auth_req *r, const char *data, size_t len);
void mg_auth_printf(struct mg_auth_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mg_auth_starttls(struct mg_auth_req *r);
/* The verdict; the connection is closed after what was written is flushed. */
void mg_auth_done(struct mg_auth_req *r, enum mg_auth_result res, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mg_auth_tracef(struct mg_auth_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* TLS details of r's connection, as trace lines. */
void mg_auth_trace_tls(struct mg_auth_req *r);

extern const struct mg_auth_ops mg_auth_dovecot_ops, mg_auth_imap_ops, mg_auth_pop3_ops,
	mg_auth_smtp_ops, mg_auth_ldap_ops;
#endif
