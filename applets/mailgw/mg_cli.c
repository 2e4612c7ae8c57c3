/* mg_cli.c - operator commands working on the spool: `queue` reads it directly,
 * `flush` and `delete` leave a request in SPOOL/ctl/ and signal the daemon (SIGUSR1),
 * so the daemon stays the only writer of messages it may be delivering. Without a
 * running daemon `delete` removes the files itself. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applet.h"
#include "applets/mailgw/mg_cli.h"
#include "applets/mailgw/mg_conf.h"
#include "applets/mailgw/mg_queue.h"
#include "core/cli.h"
#include "core/exitcode.h"
#include "core/fs.h"
#include "core/str.h"
#include "net/conn.h"

static void age_str(char *out, size_t cap, long long secs)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(out, cap, "%llds", secs);
	else if (secs < 7200)
		snprintf(out, cap, "%lldm", secs / 60);
	else if (secs < 172800)
		snprintf(out, cap, "%lldh", secs / 3600);
	else
		snprintf(out, cap, "%lldd", secs / 86400);
}

static int cmd_queue(const struct mg_conf *c)
{
	char **ids, tmp[600], when[32], age[32], hp[300], host[256];
	size_t n, total = 0;
	struct mg_tlsmem mem;
	long long now = (long long)time(NULL);

	if (mg_spool_ids(c->spool, &ids, &n) < 0) {
		fprintf(stderr, "mailgw: cannot read the queue in %s: %s\n", c->spool, strerror(errno));
		return EXIT_NOINPUT;
	}
	mg_tlsmem_init(&mem, 4096);
	if (str_fmt(tmp, sizeof(tmp), "%s/tlsmem", c->spool) >= 0)
		mg_tlsmem_load(&mem, tmp, now);
	for (size_t i = 0; i < n; i++) {
		struct mg_env e;
		if (mg_env_load(c->spool, ids[i], &e) < 0) {
			printf("%s  (unreadable envelope)\n", ids[i]);
			continue;
		}
		total++;
		age_str(age, sizeof(age), now - e.created);
		printf("%s  age %s  size %lld  from <%s>%s%s\n", e.id, age, e.size, e.from,
		       e.bounce ? "  (bounce)" : "", e.hold ? "  (ETRN hold)" : "");
		for (size_t k = 0; k < e.nrcpt; k++) {
			const struct mg_rcpt *r = &e.rcpt[k];
			const char *dom = mg_addr_domain(r->addr);
			int port = 25;
			const struct mg_tlsmem_entry *me;
			mg_conf_nexthop(c, dom, hp, sizeof(hp));
			if (!hp[0])
				str_copy(host, dom, sizeof(host));
			else if (net_split_hostport(hp, host, sizeof(host), &port, 25) < 0)
				str_copy(host, hp, sizeof(host));
			net_join_hostport(tmp, sizeof(tmp), host, port); /* the key mg_smtpc.c remembers */
			enum mg_tlsmem_state ms = mg_tlsmem_get(&mem, tmp, now, &me);
			if (r->state == MG_RCPT_PENDING && r->next_try > now)
				age_str(when, sizeof(when), r->next_try - now);
			else
				str_copy(when, "now", sizeof(when));
			printf("    <%s>  %s  attempts %ld%s%s  via %s  tls-memory %s\n", r->addr,
			       mg_rcpt_state_name(r->state), r->attempts,
			       r->state == MG_RCPT_PENDING ? "  next " : "",
			       r->state == MG_RCPT_PENDING ? when : "", tmp,
			       ms == MG_TLSMEM_UNKNOWN ? "none" : mg_tlsmem_state_name(ms));
			if (r->error[0])
				printf("        last: %s\n", r->error);
		}
		mg_env_free(&e);
	}
	printf("%zu message%s in the queue\n", total, total == 1 ? "" : "s");
	mg_tlsmem_free(&mem);
	mg_spool_ids_free(ids, n);
	return EXIT_OK;
}

/* The daemon's pid if it runs, else 0. */
static pid_t daemon_pid(const struct mg_conf *c)
{
	char p[600];
	size_t len;
	uint8_t *d;
	long pid;

	if (c->pidfile)
		str_copy(p, c->pidfile, sizeof(p));
	else if (str_fmt(p, sizeof(p), "%s/mailgw.pid", c->spool) < 0)
		return 0;
	if (!(d = fs_read_file_new(p, 64, &len)))
		return 0;
	pid = strtol((char *)d, NULL, 10);
	free(d);
	if (pid <= 1 || kill((pid_t)pid, 0) < 0)
		return 0;
	return (pid_t)pid;
}

/* Leaves SPOOL/ctl/NAME and signals the daemon; waits until it took the request. */
static int request(const struct mg_conf *c, const char *name, pid_t pid)
{
	char p[700];
	struct stat st;

	if (str_fmt(p, sizeof(p), "%s/ctl/%s", c->spool, name) < 0 || fs_write_atomic(p, "", 0, 0600) < 0) {
		fprintf(stderr, "mailgw: cannot write %s: %s\n", p, strerror(errno));
		return EXIT_CANTCREAT;
	}
	kill(pid, SIGUSR1);
	for (int i = 0; i < 100; i++) {
		if (stat(p, &st) < 0)
			return EXIT_OK;
		usleep(50 * 1000);
	}
	fprintf(stderr, "mailgw: the daemon (pid %ld) has not taken the request yet; it will at its next queue scan\n",
		(long)pid);
	return EXIT_TEMPFAIL;
}

static int cmd_flush(const struct mg_conf *c, const char *domain)
{
	char name[300];
	pid_t pid = daemon_pid(c);

	if (domain && mg_domain_valid(domain, strlen(domain)) < 0) {
		fprintf(stderr, "mailgw: flush: '%s' is not a domain\n", domain);
		return EXIT_USAGE;
	}
	if (!pid) {
		fprintf(stderr, "mailgw: flush: the daemon is not running\n");
		return EXIT_UNAVAILABLE;
	}
	snprintf(name, sizeof(name), domain ? "flush.%s" : "flush", domain);
	int rc = request(c, name, pid);
	if (rc == EXIT_OK)
		printf("flush%s%s: delivery started\n", domain ? " " : "", domain ? domain : "");
	return rc;
}

static int cmd_delete(const struct mg_conf *c, const char *id)
{
	char name[80], p[700];
	struct stat st;
	pid_t pid;

	if (!mg_id_valid(id) || str_fmt(p, sizeof(p), "%s/env/%s", c->spool, id) < 0 || stat(p, &st) < 0) {
		fprintf(stderr, "mailgw: delete: no message %s in the queue\n", id);
		return EXIT_NOINPUT;
	}
	pid = daemon_pid(c);
	if (!pid) {
		if (mg_spool_remove(c->spool, id) < 0) {
			fprintf(stderr, "mailgw: delete %s: %s\n", id, strerror(errno));
			return EXIT_IOERR;
		}
	} else {
		snprintf(name, sizeof(name), "delete.%s", id);
		int rc = request(c, name, pid);
		if (rc != EXIT_OK)
			return rc;
	}
	printf("deleted %s\n", id);
	return EXIT_OK;
}

int mg_cli_main(const struct applet *a, const char *config, int argc, char **argv)
{
	const char *cmd = argv[0], *arg = NULL;
	char err[CONF_ERR_LEN];
	struct mg_conf c;
	int rc;

	static const struct cli_sub subs[] = {
		{ "queue", "[-c FILE]   list the queued messages" },
		{ "flush", "[DOMAIN] [-c FILE]   retry delivery now (all, or one domain)" },
		{ "delete", "ID [-c FILE]   remove a queued message" },
		{ "tls-check", "HOST[:PORT] [--starttls smtp|pop3|imap] [--sni NAME] [--ca FILE]   "
			       "show a server's TLS version, cipher and certificate chain" },
		{ "auth-test", "LOGIN [--password-file FILE] [-c FILE]   check a login at its auth_backend "
			       "(dovecot, imap, pop3, smtp, ldap), printing each step: TLS, certificate, "
			       "LDAP service bind, search and user bind; the password from FILE or a prompt" },
		{ "rcpt-test", "ADDRESS [-c FILE]   check a recipient against its rcpt_source (file, ldap or "
			       "callout), printing each step; exit 0 valid, 1 unknown, 69 unavailable" },
	};
	if (cli_sub_help(a->name, subs, sizeof(subs) / sizeof(subs[0]), argc, argv))
		return EXIT_OK;
	if (strcmp(cmd, "tls-check") == 0)
		return mg_tlscheck_main(a, argc, argv);
	if (strcmp(cmd, "auth-test") == 0 || strcmp(cmd, "rcpt-test") == 0) {
		for (int i = 1; i + 1 < argc; i++)
			if (strcmp(argv[i], "-c") == 0)
				config = argv[i + 1];
		if (mg_conf_load(&c, config, err, sizeof(err)) < 0) {
			fprintf(stderr, "mailgw: %s: %s\n", config, err);
			return EXIT_CONFIG;
		}
		rc = cmd[0] == 'a' ? mg_authtest_main(a, &c, argc, argv) : mg_rcpttest_main(a, &c, argc, argv);
		mg_conf_free(&c);
		return rc;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (argv[i][0] == '-')
			return cli_usage_error(a, "%s: unknown option %s", cmd, argv[i]);
		else if (!arg)
			arg = argv[i];
		else
			return cli_usage_error(a, "%s: too many arguments", cmd);
	}
	if (strcmp(cmd, "queue") != 0 && strcmp(cmd, "flush") != 0 && strcmp(cmd, "delete") != 0)
		return cli_usage_error(a, "unknown command '%s'", cmd);
	if ((strcmp(cmd, "delete") == 0 && !arg) || (strcmp(cmd, "queue") == 0 && arg))
		return cli_usage_error(a, "%s: wrong arguments", cmd);
	if (mg_conf_load(&c, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "mailgw: %s: %s\n", config, err);
		return EXIT_CONFIG;
	}
	if (strcmp(cmd, "queue") == 0)
		rc = cmd_queue(&c);
	else if (strcmp(cmd, "flush") == 0)
		rc = cmd_flush(&c, arg);
	else
		rc = cmd_delete(&c, arg);
	mg_conf_free(&c);
	return rc;
}
