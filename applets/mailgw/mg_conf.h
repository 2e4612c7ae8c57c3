/* mg_conf.h - mailgw's configuration: the keyword table (every key documented in
 * etc/mailgw.ini) and the [listener NAME] sections. */
#ifndef MG_CONF_H
#define MG_CONF_H

#include <stddef.h>

#include "applets/mailgw/mg_authconf.h"
#include "applets/mailgw/mg_policy.h"
#include "applets/mailgw/mg_rcptmap.h"
#include "core/conf.h"

enum mg_mode {
	MG_MODE_SMTP = 0,    /* STARTTLS offered */
	MG_MODE_SMTPS,       /* implicit TLS (465) */
	MG_MODE_SUBMISSION,  /* STARTTLS required before MAIL (587) */
	MG_MODE_POP3,        /* STLS offered, required before login (110) */
	MG_MODE_POP3S,       /* implicit TLS (995) */
	MG_MODE_IMAP,        /* STARTTLS offered, LOGINDISABLED before it (143) */
	MG_MODE_IMAPS,       /* implicit TLS (993) */
};
const char *mg_mode_name(enum mg_mode m);

struct mg_sni {
	char *name, *cert, *key;
};

struct mg_listener_conf {
	char *name;
	char *listen;       /* ADDR:PORT */
	int mode;           /* enum mg_mode; -1 until set */
	char *cert, *key;
	struct mg_sni *sni;
	size_t nsni;
	char *backend;      /* POP3/IMAP: plaintext server host:port */
	int require_tls;    /* SMTP: everyone must STARTTLS before MAIL */
	int auth;           /* SMTP AUTH offered (after TLS); -1 = mode default */
	int line;           /* for error messages */
};

enum mg_commit_sync { MG_SYNC_SYNCFS = 0, MG_SYNC_FSYNC = 1 };

struct mg_conf {
	/* [mailgw] */
	char *hostname;
	char *spool;
	int commit_sync;             /* MG_SYNC_SYNCFS | MG_SYNC_FSYNC */
	char *pidfile;
	char *user;
	int log_level;         /* enum log_level */
	struct conf_list relay_domains;
	struct conf_list relay_clients;
	struct conf_list require_tls_clients;
	struct conf_list etrn_domains;
	struct conf_list etrn_clients;
	long long max_message_size;
	long max_recipients;
	int bare_lf;                /* enum mg_bare_lf */
	long smtp_timeout;
	long data_timeout;
	long max_errors;
	long max_connections;
	long max_connections_per_ip;
	struct conf_list auth_backend;
	char *auth_ca_file;
	int auth_tls_verify;
	int auth_allow_plaintext;
	long auth_timeout;
	long auth_cache_time;
	long auth_fail_delay_after;
	long auth_fail_delay;
	long auth_fail_max;
	long auth_fail_lockout;
	int sender_login;           /* 0 any, 1 own */
	int received_auth_user;
	char *ldap_bind_dn;         /* service account of the ldap backends and sources */
	char *ldap_bind_password_file;
	struct conf_list rcpt_source;
	int rcpt_unavailable;       /* 0 defer (451 4.4.3), 1 accept */
	long rcpt_timeout;
	long rcpt_cache_time;
	long rcpt_negative_cache_time;
	/* [delivery] */
	char *smarthost;
	struct conf_list smarthost_map;
	struct conf_list tls_policy;
	int tls_default;            /* enum mg_tls_level */
	char *tls_ca_file;
	long tls_memory_time;
	long retry_min;
	long retry_max;
	long max_queue_lifetime;
	long concurrency_per_destination;
	long concurrency_total;
	long connect_timeout;
	long command_timeout;
	long queue_scan_interval;
	int dns;                    /* 1 = MX lookups enabled */
	char *dns_server;           /* NULL = /etc/resolv.conf */
	long smtp_port;             /* port for MX / implicit-MX next hops */
	/* [listener NAME] sections */
	struct mg_listener_conf *listeners;
	size_t nlisteners;

	/* derived at load time */
	struct mg_cidr_list relay_nets, tls_nets, etrn_nets;
	struct mg_tls_policy tlspol;
	struct mg_auth_table auth_table;
	struct mg_rcpt_table rcpt_table;
};

extern const struct conf_spec mg_conf_spec;

/* Defaults, file, then cross-checks (listeners need cert/key where TLS is possible,
 * CIDR lists parse, policy lines parse). err: "file:line: ..." or a key name. */
int mg_conf_load(struct mg_conf *c, const char *path, char *err, size_t errlen);
int mg_conf_load_string(struct mg_conf *c, const char *text, char *err, size_t errlen);
void mg_conf_free(struct mg_conf *c);
/* Next hop for a domain from smarthost_map / smarthost: host:port into out, or "" for
 * MX lookup. */
void mg_conf_nexthop(const struct mg_conf *c, const char *domain, char *out, size_t cap);
/* 1 when SMTP AUTH is offered on this listener (after TLS): auth = yes, or by default
 * on submission and smtps, and only when there is an auth_backend. */
int mg_conf_listener_auth(const struct mg_conf *c, const struct mg_listener_conf *l);
int mg_conf_is_etrn_domain(const struct mg_conf *c, const char *domain);
/* mg_conf_ldap.c: the service account (its password file read now) given to every ldap
 * backend and source, and the callout sources' next hops checked. */
int mg_conf_ldap_check(struct mg_conf *c, char *err, size_t errlen);
#endif
