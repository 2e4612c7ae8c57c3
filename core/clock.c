/* clock.c - monotonic milliseconds (see clock.h). */
#include <limits.h>
#include <time.h>

#include "core/clock.h"

long long clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int clock_ms_left(long long deadline)
{
	long long l = deadline - clock_ms();

	return l < 0 ? 0 : l > INT_MAX ? INT_MAX : (int)l;
}
