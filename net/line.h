/* line.h - the line scanner under net_conn_readline, kept apart over plain bytes so it
 * can be fuzzed and unit tested without sockets. */
#ifndef NET_LINE_H
#define NET_LINE_H

#include <stddef.h>
#include <stdint.h>

/* Looks for one line (ending in LF, an optional CR before it is part of the terminator)
 * at the start of p[0..n). Returns 1 with *linelen (content without terminator),
 * *consumed (content plus terminator) and *had_cr set; 0 when no LF is there yet and the
 * line could still fit; -1 when the line is (or must become) longer than max bytes.
 * Never reads beyond p[n-1] and never more than max + 2 bytes. */
int net_line_scan(const uint8_t *p, size_t n, size_t max, size_t *linelen, size_t *consumed,
		  int *had_cr);
#endif
