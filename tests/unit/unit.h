/* unit.h - the unit test framework: one runner, suites found by file name.
 * tests/unit/test_foo.c defines UNIT_SUITE(foo, ...) and nothing else is registered. */
#ifndef TESTS_UNIT_H
#define TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

struct unit_suite {
	const char *name;
	const struct unit_test *tests;
	size_t n;
};

/* Set by the CHECK macros when the current test fails. */
extern int unit_failed;
void unit_fail(const char *file, int line, const char *expr);
/* The current test cannot run here (why: what is missing); the runner prints
 * "skip - unit suite.test: why" instead of "ok", unless a check failed too. */
void unit_skip(const char *why);

#define CHECK(e) do { if (!(e)) unit_fail(__FILE__, __LINE__, #e); } while (0)
#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
	if (_a != _b) { char _m[256]; if (snprintf(_m, sizeof(_m), "%s == %s (%lld != %lld)", #a, #b, _a, _b) < 0) _m[0] = 0; \
	unit_fail(__FILE__, __LINE__, _m); } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); \
	if (!_a || !_b || strcmp(_a, _b) != 0) { char _m[512]; \
	if (snprintf(_m, sizeof(_m), "%s == %s (\"%s\" != \"%s\")", #a, #b, _a ? _a : "(null)", _b ? _b : "(null)") < 0) _m[0] = 0; \
	unit_fail(__FILE__, __LINE__, _m); } } while (0)
#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

#define UNIT_SUITE(sname, ...) \
	static const struct unit_test sname##_tests_[] = { __VA_ARGS__ }; \
	const struct unit_suite unit_suite_##sname = { #sname, sname##_tests_, \
		sizeof(sname##_tests_) / sizeof(sname##_tests_[0]) }
#define UNIT_TEST(f) { #f, f }

/* A directory holding the shared test data (tests/data) and vectors, from the runner. */
const char *unit_data_dir(void);
#endif
