/* mg_tlscheck.c - `mailgw tls-check`: connect, speak STARTTLS (SMTP, POP3, IMAP) or
 * implicit TLS, and print every step, like Postfix's posttls-finger: the dialogue,
 * what was offered, the negotiated protocol and cipher, the peer certificate and the
 * verification result. The handshake is tried with verification first; when that
 * fails, the reason is printed and a second, unverified handshake shows the details.
 * Exit: 0 verified TLS, 1 TLS without verification, 69 no TLS at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applet.h"
#include "applets/mailgw/mg_cli.h"
#include "applets/mailgw/mg_smtp.h"
#include "core/cli.h"
#include "core/exitcode.h"
#include "core/str.h"
#include "crypto/tls.h"
#include "net/conn.h"
#include "net/loop.h"

enum proto { P_NONE, P_SMTP, P_POP3, P_IMAP };
enum cst { T_CONNECT, T_GREET, T_CAPA, T_STARTTLS, T_TLS, T_DONE };

struct check {
	struct net_loop *loop;
	struct net_conn *c;
	struct cry_tls_ctx *ctx;
	enum proto proto;
	enum cst st;
	char host[256], sni[256];
	int port;
	int verify;
	int offered;
	int nlines;          /* plaintext lines read: a server that never ends its reply is cut off */
	int result;          /* 0 verified, 1 unverified TLS, 69 no TLS */
	char tls_error[300];
};

static void out(const char *pfx, const char *s)
{
	char clean[600];
	mg_sanitize(clean, sizeof(clean), s, strlen(s));
	printf("%s%s\n", pfx, clean);
}

static void send_cmd(struct check *k, const char *cmd)
{
	out("C: ", cmd);
	net_conn_write(k->c, cmd, strlen(cmd));
	net_conn_write(k->c, "\r\n", 2);
}

static void stop(struct check *k, int result)
{
	k->result = result;
	k->st = T_DONE;
	net_loop_exit(k->loop);
}

static void start_tls(struct check *k)
{
	printf("TLS handshake with %s (SNI %s, %s)\n", k->host, k->sni,
	       k->verify ? "verifying the chain and the name" : "without verification");
	k->st = T_TLS;
	if (net_conn_start_tls(k->c, k->ctx, k->sni) < 0) {
		printf("cannot start TLS: %s\n", net_conn_error(k->c));
		stop(k, EXIT_UNAVAILABLE);
	}
}

/* One line from the server in the plaintext phase. */
static void line_in(struct check *k, const char *l, size_t len)
{
	out("S: ", l);
	switch (k->st) {
	case T_GREET:
		if ((k->proto == P_SMTP && (len < 4 || strncmp(l, "220", 3) != 0)) ||
		    (k->proto == P_POP3 && strncmp(l, "+OK", 3) != 0) ||
		    (k->proto == P_IMAP && strncmp(l, "* OK", 4) != 0)) {
			if (k->proto == P_SMTP && len >= 4 && l[3] == '-')
				return;
			printf("unexpected greeting\n");
			stop(k, EXIT_UNAVAILABLE);
			return;
		}
		if (k->proto == P_SMTP && l[3] == '-')
			return;
		k->st = T_CAPA;
		send_cmd(k, k->proto == P_SMTP ? "EHLO mailgw-tls-check" :
			    k->proto == P_POP3 ? "CAPA" : "c1 CAPABILITY");
		return;
	case T_CAPA: {
		int last = 0;
		if (k->proto == P_SMTP) {
			if (len >= 8 && str_casecmp_prefix(l + 4, "STARTTLS"))
				k->offered = 1;
			last = len < 4 || l[3] != '-';
		} else if (k->proto == P_POP3) {
			if (str_casecmp_prefix(l, "STLS"))
				k->offered = 1;
			last = (len == 1 && l[0] == '.') || strncmp(l, "-ERR", 4) == 0;
		} else {
			if (strstr(l, "STARTTLS"))
				k->offered = 1;
			last = strncmp(l, "c1 ", 3) == 0;
		}
		if (!last)
			return;
		printf("STARTTLS offered: %s\n", k->offered ? "yes" : "no");
		if (!k->offered) {
			stop(k, EXIT_UNAVAILABLE);
			return;
		}
		k->st = T_STARTTLS;
		send_cmd(k, k->proto == P_SMTP ? "STARTTLS" : k->proto == P_POP3 ? "STLS" : "c2 STARTTLS");
		return;
	}
	case T_STARTTLS:
		if ((k->proto == P_SMTP && strncmp(l, "220", 3) == 0) ||
		    (k->proto == P_POP3 && strncmp(l, "+OK", 3) == 0) ||
		    (k->proto == P_IMAP && strncmp(l, "c2 OK", 5) == 0)) {
			start_tls(k);
			return;
		}
		if (k->proto == P_IMAP && l[0] == '*')
			return;
		printf("STARTTLS refused\n");
		stop(k, EXIT_UNAVAILABLE);
		return;
	default:
		return;
	}
}

static void on_read(struct net_conn *c, void *arg)
{
	struct check *k = arg;
	while (k->st != T_DONE && k->st != T_TLS) {
		char *l;
		size_t len;
		int r = net_conn_readline(c, &l, &len);
		if (r == 0)
			return;
		if (r < 0) {
			printf("line too long from the server\n");
			stop(k, EXIT_UNAVAILABLE);
			return;
		}
		if (++k->nlines > MG_REPLY_MAX_LINES) {
			free(l);
			printf("more than %d lines from the server before TLS, giving up\n", MG_REPLY_MAX_LINES);
			stop(k, EXIT_UNAVAILABLE);
			return;
		}
		line_in(k, l, len);
		free(l);
	}
}

static void report(struct check *k)
{
	struct cry_tls_info ti;
	char *chain;

	if (net_conn_tls_info(k->c, &ti) < 0) {
		printf("no TLS details available\n");
		stop(k, EXIT_FAIL);
		return;
	}
	printf("protocol: %s\ncipher: %s\nsni sent: %s\nresumed: %s\n", ti.version, ti.cipher,
	       ti.sni[0] ? ti.sni : "-", ti.resumed ? "yes" : "no");
	if (ti.has_peer_cert) {
		printf("certificate:\n  subject: %s\n  issuer: %s\n  valid: %s .. %s\n", ti.peer_subject,
		       ti.peer_issuer, ti.peer_not_before, ti.peer_not_after);
	}
	chain = net_conn_tls_peer_chain_new(k->c);
	if (chain) {
		int n = 0;
		for (const char *p = chain; (p = strstr(p, "-----BEGIN CERTIFICATE-----")); p++)
			n++;
		printf("chain: %d certificate%s (PEM follows)\n%s", n, n == 1 ? "" : "s", chain);
		free(chain);
	}
	if (k->verify && ti.verified) {
		printf("verification: ok\n");
		stop(k, EXIT_OK);
	} else {
		printf("verification: FAILED: %s\n", k->tls_error[0] ? k->tls_error : ti.verify_result);
		stop(k, EXIT_FAIL);
	}
}

static void on_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct check *k = arg;

	switch (ev) {
	case NET_EV_CONNECTED:
		printf("connected to %s\n", net_conn_peer(c));
		if (k->proto == P_NONE)
			start_tls(k);
		else
			k->st = T_GREET;
		return;
	case NET_EV_TLS_READY:
		printf("TLS handshake done\n");
		report(k);
		return;
	default:
		break;
	}
	if (k->st == T_TLS) {
		str_copy(k->tls_error, net_conn_error(c), sizeof(k->tls_error));
		printf("TLS handshake failed: %s\n", k->tls_error);
		stop(k, k->verify ? -1 : EXIT_UNAVAILABLE);   /* -1: retry without verification */
	} else if (k->st != T_DONE) {
		printf("%s: %s\n", k->st == T_CONNECT ? "connect failed" : "connection lost",
		       ev == NET_EV_TIMEOUT ? "timeout" : net_conn_error(c));
		stop(k, EXIT_UNAVAILABLE);
	}
}

static int run_once(struct check *k, const char *ca)
{
	static const struct net_conn_cbs cbs = { on_read, NULL, on_event };
	struct cry_tls_conf tc = { 0 };
	char err[256];

	tc.verify = k->verify ? CRY_VERIFY_PEER : CRY_VERIFY_NONE;
	tc.ca_file = ca;
	if (!(k->ctx = cry_tls_ctx_new(&tc, err, sizeof(err)))) {
		printf("TLS setup: %s\n", err);
		return EXIT_CONFIG;
	}
	if (!(k->loop = net_loop_new())) {
		cry_tls_ctx_free(k->ctx);
		return EXIT_OSERR;
	}
	k->st = T_CONNECT;
	k->offered = 0;
	printf("connecting to %s port %d\n", k->host, k->port);
	k->c = net_connect(k->loop, k->host, k->port, 15000, &cbs, k);
	if (!k->c) {
		printf("cannot connect\n");
		k->result = EXIT_UNAVAILABLE;
	} else {
		net_conn_set_idle_timeout(k->c, 30000);
		net_loop_run(k->loop);
		net_conn_free(k->c);
	}
	net_loop_free(k->loop);
	cry_tls_ctx_free(k->ctx);
	return k->result;
}

int mg_tlscheck_main(const struct applet *a, int argc, char **argv)
{
	struct check k;
	const char *target = NULL, *ca = NULL, *sni = NULL;
	int defport;

	memset(&k, 0, sizeof(k));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--starttls") == 0 && i + 1 < argc) {
			const char *p = argv[++i];
			k.proto = strcmp(p, "smtp") == 0 ? P_SMTP : strcmp(p, "pop3") == 0 ? P_POP3 :
				  strcmp(p, "imap") == 0 ? P_IMAP : P_NONE;
			if (k.proto == P_NONE)
				return cli_usage_error(a, "tls-check: --starttls smtp|pop3|imap");
		} else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc) {
			ca = argv[++i];
		} else if (strcmp(argv[i], "--sni") == 0 && i + 1 < argc) {
			sni = argv[++i];
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			i++;   /* the config is not needed here */
		} else if (argv[i][0] == '-' || target) {
			return cli_usage_error(a, "tls-check: unexpected '%s'", argv[i]);
		} else {
			target = argv[i];
		}
	}
	if (!target)
		return cli_usage_error(a, "tls-check: HOST[:PORT] required");
	defport = k.proto == P_SMTP ? 25 : k.proto == P_POP3 ? 110 : k.proto == P_IMAP ? 143 : 465;
	if (net_split_hostport(target, k.host, sizeof(k.host), &k.port, defport) < 0)
		return cli_usage_error(a, "tls-check: bad address '%s'", target);
	str_copy(k.sni, sni ? sni : k.host, sizeof(k.sni));
	setvbuf(stdout, NULL, _IOLBF, 0);
	k.verify = 1;
	int rc = run_once(&k, ca);
	if (rc == -1) {
		printf("retrying without verification to show the details\n");
		k.verify = 0;
		rc = run_once(&k, ca);
		if (rc == EXIT_OK || rc == EXIT_FAIL)
			rc = EXIT_FAIL;
	}
	return rc;
}
