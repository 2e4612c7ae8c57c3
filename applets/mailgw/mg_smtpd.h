/* mg_smtpd.h - the SMTP server session, shared by mg_smtpd.c (the protocol) and
 * mg_smtpd_auth.c (SMTP AUTH). Private to those two files. */
#ifndef MG_SMTPD_H
#define MG_SMTPD_H

#include "applets/mailgw/mg_ctx.h"
#include "applets/mailgw/mg_queue.h"
#include "applets/mailgw/mg_sasl.h"
#include "applets/mailgw/mg_smtp.h"

struct net_conn;
struct net_timer;
struct mg_auth_req;

#define DATA_MAX_LINE 65536

/* PH_AUTH: reading SASL responses; PH_AUTH_WAIT: the backend or a failure delay is
 * working, nothing is read. */
enum phase { PH_TLS_WAIT, PH_CMD, PH_DATA, PH_COMMIT, PH_DONE, PH_AUTH, PH_AUTH_WAIT, PH_RCPT_WAIT };

struct sess {
	struct mg_live live;   /* first: the list gives back a struct sess */
	struct mg_listener *ls;
	struct mg_ctx *ctx;
	struct net_conn *c;
	enum phase phase;
	int implicit;        /* smtps: the greeting waits for the handshake */
	int helo;            /* 0 none, 1 HELO, 2 EHLO */
	char helo_name[256];
	int have_mail;
	struct mg_env env;
	struct mg_msg_writer *w;
	struct mg_commit_req *creq;  /* PH_COMMIT: waiting for the group commit (it owns w) */
	struct mg_data_rx data;
	int write_failed;
	long errors;
	char tls_desc[160];  /* "TLSv1.3 TLS_AES_..." once TLS is up */
	/* Our own idle timer, not net's: after NET_EV_TIMEOUT net/ refuses writes, and a
	 * timed-out client is owed "421 4.4.2" (RFC 5321 4.5.3.2). */
	struct net_timer *idle;
	/* SMTP AUTH (mg_smtpd_auth.c) */
	struct mg_sasl *sasl;        /* the exchange under way (holds the password) */
	struct mg_auth_req *areq;    /* the backend check under way */
	struct net_timer *adelay;    /* resumes the session after a verdict (a 535 maybe late) */
	int auth_535;                /* that timer sends 535 first */
	char auth_user[MG_SASL_LOGIN_MAX + 1];   /* "" until authenticated */
	const char *auth_mech;
	char auth_backend[160];      /* its URI, for the log */
	/* recipient checks on the loop (mg_smtpd_rcpt.c); PH_RCPT_WAIT meanwhile */
	struct mg_auth_req *rreq;
	char rcpt_addr[MG_ADDR_MAX + 1];
	char rcpt_src[600];          /* the source's URI: cache key and log */
	int rcpt_unknown;            /* unknown recipients from lookups in this session */
};

void mg_smtpd_reply(struct sess *s, int code, const char *enh, const char *text);
void mg_smtpd_arm_idle(struct sess *s);
int mg_smtpd_is_tls(struct sess *s);
/* Reads and runs what the client sent (pipelined lines). */
void mg_smtpd_on_read(struct net_conn *c, void *arg);

/* mg_smtpd_auth.c */
int mg_smtpd_auth_offered(struct sess *s);
/* The AUTH command (arg: mechanism [initial response]). */
void mg_smtpd_auth_cmd(struct sess *s, const char *arg, size_t len);
/* One line while phase == PH_AUTH. */
void mg_smtpd_auth_line(struct sess *s, const char *line, size_t len);
/* MAIL from an unauthenticated client on a listener that wants AUTH, or a sender the
 * login may not use: the reply to give (0 = fine). */
int mg_smtpd_auth_mail_check(struct sess *s, const char *from, const char **enh, const char **text);
/* Session end: cancels the check, wipes the exchange. */
void mg_smtpd_auth_free(struct sess *s);

/* mg_smtpd_rcpt.c: the recipient validation of an accepted RCPT (relay domain or ETRN
 * domain). Replies (and adds the recipient) itself, at once or, for an ldap / callout
 * source, once the lookup answered: then phase is PH_RCPT_WAIT until the session goes
 * on reading by itself. */
void mg_smtpd_rcpt_check(struct sess *s, const char *addr);
void mg_smtpd_rcpt_free(struct sess *s);
/* mg_smtpd.c: takes the recipient (250, or 452 when there are too many). */
void mg_smtpd_rcpt_add(struct sess *s, const char *addr);
#endif
