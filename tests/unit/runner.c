/* runner.c - runs every unit suite (or those named on the command line) and prints one
 * TAP-like line per test ("ok - suite.test" / "not ok - suite.test" / "skip - suite.test:
 * why"), which tests/run.sh counts. Exit 1 if any test failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define SUITE(n) extern const struct unit_suite unit_suite_##n;
#include "suites.h"
#undef SUITE

static const struct unit_suite *const suites[] = {
#define SUITE(n) &unit_suite_##n,
#include "suites.h"
#undef SUITE
	NULL,
};

int unit_failed;
static const char *skip_why;

void unit_skip(const char *why)
{
	skip_why = why;
}

void unit_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, expr);
	unit_failed = 1;
}

const char *unit_data_dir(void)
{
	const char *d = getenv("UNIT_DATA");
	return d ? d : "tests/data";
}

static int selected(int argc, char **argv, const char *suite)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], suite) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int pass = 0, fail = 0, skipped = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t s = 0; suites[s]; s++) {
		if (!selected(argc, argv, suites[s]->name))
			continue;
		for (size_t t = 0; t < suites[s]->n; t++) {
			unit_failed = 0;
			skip_why = NULL;
			suites[s]->tests[t].fn();
			if (skip_why && !unit_failed) {
				printf("skip - unit %s.%s: %s\n", suites[s]->name,
				       suites[s]->tests[t].name, skip_why);
				skipped++;
				continue;
			}
			printf("%s - unit %s.%s\n", unit_failed ? "not ok" : "ok", suites[s]->name,
			       suites[s]->tests[t].name);
			if (unit_failed)
				fail++;
			else
				pass++;
		}
	}
	fprintf(stderr, "unit: %d passed, %d failed, %d skipped\n", pass, fail, skipped);
	return fail ? 1 : 0;
}
