/* core/clock: monotonic milliseconds and the poll timeout until a deadline. */
#include <limits.h>
#include <time.h>

#include "core/clock.h"
#include "unit.h"

static void clock_moves_forward(void)
{
	long long a = clock_ms(), b;
	struct timespec d = { 0, 20 * 1000 * 1000 };

	nanosleep(&d, NULL);
	b = clock_ms();
	CHECK(b - a >= 19);
	CHECK(b - a < 5000);
}

static void left_is_clamped(void)
{
	long long now = clock_ms();
	int l = clock_ms_left(now + 1000);

	CHECK_EQ(clock_ms_left(now - 5), 0);
	CHECK(l > 0 && l <= 1000);
	CHECK_EQ(clock_ms_left(now + (long long)INT_MAX * 4), INT_MAX);
}

UNIT_SUITE(clock,
	   UNIT_TEST(clock_moves_forward),
	   UNIT_TEST(left_is_clamped));
