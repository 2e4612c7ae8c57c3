/* libFuzzer target: tunnel frame header and control payload parsers (core/tframe.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tframe_hdr h;
	static struct tfctl c;

	if (tframe_hdr_decode(data, size, TFRAME_MAX_PAYLOAD, &h) == 0) {
		uint8_t again[TFRAME_HDR_LEN];
		tframe_hdr_encode(&h, again);
		if (memcmp(again, data, TFRAME_HDR_LEN) != 0)
			abort();
	}
	if (tfctl_parse(&c, data, size) == 0)
		for (size_t i = 0; i < c.n; i++)
			if (tfctl_get(&c, c.key[i]) != c.val[i])
				abort();
	const uint8_t *d;
	size_t dl;
	if (tfdrop_parse(&c, data, size, &d, &dl) == 0 && (d < data || d + dl != data + size))
		abort();
	return 0;
}
