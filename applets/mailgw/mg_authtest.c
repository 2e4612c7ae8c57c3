/* mg_authtest.c - the operator's checks of what a client would get.
 *
 * `mailgw rcpt-test ADDRESS`: the recipient source for the address and its verdict. Exit
 * 0 valid (or not checked), 1 unknown, 69 the source is unavailable.
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
	struct mg_auth_env env = { u.loop, tls, c->auth_tls_verify, (unsigned long)c->auth_timeout * 1000 };
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
	printf("source: %s (%s, %zu entries)\n", src->uri, src->available ? "loaded" : src->why, src->naddr);
	if (v == MG_RCPT_UNAVAILABLE) {
		printf("result: source unavailable (%s)\n",
		       c->rcpt_unavailable ? "accepted: rcpt_unavailable = accept" : "451 4.4.3");
		return EXIT_UNAVAILABLE;
	}
	printf("result: %s\n", v == MG_RCPT_VALID ? "valid" : "unknown (550 5.1.1 User unknown)");
	return v == MG_RCPT_VALID ? EXIT_OK : EXIT_FAIL;
}
