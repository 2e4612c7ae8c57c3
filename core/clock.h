/* clock.h - monotonic milliseconds for timeouts and ages (never the wall clock, which an
 * operator or NTP may step). */
#ifndef CORE_CLOCK_H
#define CORE_CLOCK_H

/* Milliseconds since an arbitrary start (CLOCK_MONOTONIC), read on every call. */
long long clock_ms(void);
/* Milliseconds until deadline (a clock_ms value), clamped to 0..INT_MAX: a poll timeout. */
int clock_ms_left(long long deadline);
#endif
