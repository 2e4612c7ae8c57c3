/* cli.c - shared command-line conventions. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "applet.h"
#include "core/cli.h"
#include "core/exitcode.h"

void cli_usage(const struct applet *a, FILE *f)
{
	fprintf(f, "Usage: %s %s\n%s\n", a->name, a->usage, a->summary);
}

int cli_wants_help(int argc, char **argv)
{
	return argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
}

int cli_sub_help(const char *applet, const struct cli_sub *subs, size_t n, int argc, char **argv)
{
	int help = 0;
	for (int i = 1; i < argc && i <= 3 && !help; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			help = 1;
		else if (argv[i][0] == '-')
			return 0;
	}
	if (!help || argc < 1)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(subs[i].name, argv[0]) == 0) {
			printf("Usage: %s %s %s\n", applet, subs[i].name, subs[i].usage);
			return 1;
		}
	return 0;
}

int cli_usage_error(const struct applet *a, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", a->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: %s %s\n", a->name, a->usage);
	return EXIT_USAGE;
}
