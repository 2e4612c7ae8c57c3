/* mg_cli.h - the operator commands: queue, flush, delete, tls-check, auth-test, rcpt-test. */
#ifndef MG_CLI_H
#define MG_CLI_H

struct applet;

/* argv[0] is the subcommand. config: the -c FILE given before it (or the default);
 * "-c FILE" may also follow the subcommand. Returns an exit code. */
int mg_cli_main(const struct applet *a, const char *config, int argc, char **argv);
/* tls-check HOST[:PORT] [--starttls smtp|pop3|imap] [--sni NAME] [--ca FILE] */
int mg_tlscheck_main(const struct applet *a, int argc, char **argv);
struct mg_conf;
/* auth-test LOGIN [--password-file FILE] (mg_authtest.c) */
int mg_authtest_main(const struct applet *a, const struct mg_conf *c, int argc, char **argv);
/* rcpt-test ADDRESS (mg_authtest.c) */
int mg_rcpttest_main(const struct applet *a, const struct mg_conf *c, int argc, char **argv);
#endif
