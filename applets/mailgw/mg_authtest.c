/* mg_authtest.c - the operator's checks of what a client would get.
 *
 * `mailgw rcpt-test ADDRESS`: the recipient source for the address and its verdict (an
 * ldap or callout source is asked, each step printed). Exit 0 valid (or not checked), 1
 * unknown, 69 the source is unavailable.
 *
 * `mailgw auth-test LOGIN [--password-file FILE]`: checks one login at
 * the backend the configuration picks for it, the way the daemon would, and prints each
 * step (backend, connection, TLS version and certificate, result). The password comes
 * from a file or a no-echo prompt, never from argv. Exit 0 accepted, 1 refused, 69 the
 * backend could not say. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applet.h"
#include "applets/mailgw/mg_auth.h"
#include "applets/mailgw/mg_cli.h"
#include "applets/mailgw/mg_conf.h"
#include "applets/mailgw/mg_policy.h"
#include "applets/mailgw/mg_smtp.h"
#include "core/cli.h"
#include "core/exitcode.h"
#include "core/secret.h"
#include "crypto/tls.h"
#include "net/conn.h"
#include "net/loop.h"

struct run {
	struct net_loop *loop;
	int rc;
};

static void trace(void *arg, const char *line)
{
	(void)arg;
	printf("  %s\n", line);
}

static void result(void *arg, enum mg_auth_result r, const char *detail)
{
	struct run *u = arg;
	printf("%s (%s)\n", r == MG_AUTH_OK ? "accepted" : r == MG_AUTH_FAIL ? "refused" : "temporary failure", detail);
	u->rc = r == MG_AUTH_OK ? EXIT_OK : r == MG_AUTH_FAIL ? EXIT_FAIL : EXIT_UNAVAILABLE;
	net_loop_exit(u->loop);
}

int mg_authtest_main(const struct applet *a, const struct mg_conf *c, int argc, char **argv)
{
	const char *login = NULL, *pwfile = NULL;
	char err[300];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--password-file") == 0 && i + 1 < argc)
			pwfile = argv[++i];
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			i++;
		else if (argv[i][0] == '-' || login)
			return cli_usage_error(a, "auth-test: unexpected '%s'", argv[i]);
		else
			login = argv[i];
	}
	if (!login)
		return cli_usage_error(a, "auth-test: LOGIN required");
	const struct mg_auth_backend *be = mg_auth_table_find(&c->auth_table, login);
	if (!be) {
		printf("no auth_backend for %s (and no '*' line)\n", login);
		return EXIT_FAIL;
	}
	char *pw = secret_read(pwfile, NULL, "password: ", err, sizeof(err));
	if (!pw) {
		fprintf(stderr, "mailgw: auth-test: %s\n", err);
		return EXIT_NOINPUT;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct run u = { net_loop_new(), EXIT_UNAVAILABLE };
	struct cry_tls_ctx *tls = mg_auth_tls_new(c, err, sizeof(err));
	if (!u.loop || !tls) {
		fprintf(stderr, "mailgw: auth-test: %s\n", tls ? "cannot start" : err);
		secret_free_str(pw);
		if (tls)
			cry_tls_ctx_free(tls);
		if (u.loop)
			net_loop_free(u.loop);
		return EXIT_OSERR;
	}
	if (mg_auth_backend_plaintext(be))
		printf("warning: %s gets the password in PLAINTEXT\n", be->uri);
	struct mg_auth_env env = { u.loop, tls, c->auth_tls_verify, (unsigned long)c->auth_timeout * 1000, NULL };
	printf("checking %s\n", login);
	struct mg_auth_req *r = mg_auth_start(&env, be, login, pw, "", "", result, trace, &u);
	secret_free_str(pw);
	if (!r) {
		printf("temporary failure (cannot start the check)\n");
	} else {
		net_loop_run(u.loop);
	}
	net_loop_free(u.loop);
	cry_tls_ctx_free(tls);
	return u.rc;
}

static void probed(void *arg, enum mg_auth_result r, const char *detail)
{
	struct run *u = arg;
	printf("  answer: %s\n", detail);
	u->rc = r == MG_AUTH_OK ? MG_RCPT_VALID : r == MG_AUTH_FAIL ? MG_RCPT_INVALID : MG_RCPT_UNAVAILABLE;
	net_loop_exit(u->loop);
}

/* An ldap or callout source, asked the way the daemon asks (without its cache). */
static int lookup(const struct mg_conf *c, const struct mg_rcpt_source *src, const char *addr)
{
	char err[300], host[300] = "";
	struct mg_auth_backend be = src->be;
	struct run u = { net_loop_new(), MG_RCPT_UNAVAILABLE };
	struct cry_tls_conf tc = { 0 };
	int ldap = src->kind == MG_RS_LDAP;
	struct cry_tls_ctx *tls = ldap ? mg_auth_tls_new(c, err, sizeof(err)) : cry_tls_ctx_new(&tc, err, sizeof(err));

	printf("source: %s (%s)\n", src->uri, ldap ? "LDAP search" : "callout: RCPT probe at the next hop");
	if (src->kind == MG_RS_CALLOUT && src->route) {
		mg_conf_nexthop(c, mg_addr_domain(addr), host, sizeof(host));
		if (!host[0] || net_split_hostport(host, be.host, sizeof(be.host), &be.port, (int)c->smtp_port) < 0) {
			printf("  no next hop for %s (smarthost_map, smarthost)\n", mg_addr_domain(addr));
			u.rc = MG_RCPT_UNAVAILABLE;
			goto out;
		}
	}
	if (!u.loop || !tls) {
		printf("  cannot start: %s\n", tls ? "no loop" : err);
		goto out;
	}
	struct mg_auth_env env = { u.loop, tls, ldap ? c->auth_tls_verify : 0, (unsigned long)c->rcpt_timeout * 1000,
				   c->hostname ? c->hostname : "localhost" };
	if (mg_auth_probe_start(&env, &be, addr, probed, trace, &u))
		net_loop_run(u.loop);
	else
		printf("  cannot start the lookup\n");
out:
	secret_wipe(&be, sizeof(be));
	if (u.loop)
		net_loop_free(u.loop);
	if (tls)
		cry_tls_ctx_free(tls);
	return u.rc;
}

int mg_rcpttest_main(const struct applet *a, const struct mg_conf *c, int argc, char **argv)
{
	const char *addr = NULL;
	char low[MG_ADDR_MAX + 1];
	const struct mg_rcpt_source *src;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			i++;
		else if (argv[i][0] == '-' || addr)
			return cli_usage_error(a, "rcpt-test: unexpected '%s'", argv[i]);
		else
			addr = argv[i];
	}
	char br[MG_ADDR_MAX + 3];
	if (!addr || strlen(addr) > MG_ADDR_MAX || snprintf(br, sizeof(br), "<%s>", addr) < 0 ||
	    mg_addr_parse(br, strlen(br), 0, low, sizeof(low)) < 0)
		return cli_usage_error(a, "rcpt-test: ADDRESS (user@domain) required");
	int relay = mg_domain_list_match(c->relay_domains.v, c->relay_domains.n, mg_addr_domain(low)) ||
		    mg_conf_is_etrn_domain(c, mg_addr_domain(low));
	int v = mg_rcpt_check(&c->rcpt_table, low, &src);
	printf("address: %s\n", low);
	printf("relay domain: %s\n", relay ? "yes" : "no (recipients of other domains are not validated)");
	if (!src) {
		printf("source: none for %s\nresult: not checked (accepted)\n", mg_addr_domain(low));
		return EXIT_OK;
	}
	if (v == MG_RCPT_LOOKUP) {
		v = lookup(c, src, low);
	} else {
		printf("source: %s (%s, %zu entries)\n", src->uri, src->available ? "loaded" : src->why, src->naddr);
	}
	if (v == MG_RCPT_UNAVAILABLE) {
		printf("result: source unavailable (%s)\n",
		       c->rcpt_unavailable ? "accepted: rcpt_unavailable = accept" : "451 4.4.3");
		return EXIT_UNAVAILABLE;
	}
	printf("result: %s\n", v == MG_RCPT_VALID ? "valid" : "unknown (550 5.1.1 User unknown)");
	return v == MG_RCPT_VALID ? EXIT_OK : EXIT_FAIL;
}
