/* line.c - finding a line in received bytes with a hard length limit. */
#include <stdint.h>
#include <string.h>

#include "net/line.h"

int net_line_scan(const uint8_t *p, size_t n, size_t max, size_t *linelen, size_t *consumed,
		  int *had_cr)
{
	/* Content of max bytes plus CR plus LF is the longest acceptable line. */
	size_t lim = max >= SIZE_MAX - 2 ? n : max + 2;
	size_t scan = n < lim ? n : lim;
	const uint8_t *lf = scan ? memchr(p, '\n', scan) : NULL;
	size_t len;
	int cr = 0;

	if (!lf)
		/* too long already: more than max bytes that cannot all be terminator */
		return n > max && (n - 1 > max || p[max] != '\r') ? -1 : 0;
	len = (size_t)(lf - p);
	if (len > 0 && p[len - 1] == '\r') {
		len--;
		cr = 1;
	}
	if (len > max)
		return -1;
	if (linelen)
		*linelen = len;
	if (consumed)
		*consumed = (size_t)(lf - p) + 1;
	if (had_cr)
		*had_cr = cr;
	return 1;
}
