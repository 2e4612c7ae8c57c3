/* cli.h - what every applet's command line does the same way: --help and usage. */
#ifndef CORE_CLI_H
#define CORE_CLI_H

#include <stdio.h>

struct applet;

/* "Usage: NAME USAGE\nSUMMARY\n" to f. */
void cli_usage(const struct applet *a, FILE *f);
/* 1 when argv[1] is --help or -h. */
int cli_wants_help(int argc, char **argv);
/* A subcommand and its usage (after "APPLET NAME "), for cli_sub_help. */
struct cli_sub {
	const char *name;
	const char *usage;
};
/* `APPLET SUB [WORD...] --help` (or -h): when argv[0] names a subcommand of subs and
 * --help/-h follows it after at most two plain words ("share create --help"), prints
 * "Usage: APPLET SUB USAGE" to stdout and returns 1; otherwise 0. */
int cli_sub_help(const char *applet, const struct cli_sub *subs, size_t n, int argc, char **argv);
/* Prints "NAME: MESSAGE" and the usage line to stderr; returns EXIT_USAGE. */
int cli_usage_error(const struct applet *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
