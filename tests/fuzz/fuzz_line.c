/* fuzz_line.c - net_line_scan over arbitrary bytes: the first byte picks the limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max, ll, used, off = 0;
	int cr, r;
	uint8_t *copy;

	if (size == 0)
		return 0;
	max = data[0] * 4u;
	data++;
	size--;
	/* an exact-size heap copy so ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	while (off < size) {
		r = net_line_scan(copy + off, size - off, max, &ll, &used, &cr);
		if (r != 1)
			break;
		if (ll > max || used > size - off || used < ll + 1 || copy[off + used - 1] != '\n')
			abort();
		if (cr != (used == ll + 2))
			abort();
		off += used;
	}
	free(copy);
	return 0;
}
