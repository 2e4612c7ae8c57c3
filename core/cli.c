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
