/* libFuzzer target: base64 and hex decoders (core/encoding.c), with a round-trip check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = malloc(size + 1);
	if (!out)
		return 0;
	ssize_t n = base64_decode((const char *)data, size, out, size + 1, size & 1);
	if (n >= 0 && !(size & 1)) {
		/* Strict decoding is canonical: re-encoding gives back the input. */
		char *again = base64_encode_new(out, (size_t)n);
		if (!again || strlen(again) != size || memcmp(again, data, size) != 0)
			abort();
		free(again);
	}
	hex_decode((const char *)data, size, out, size / 2);
	free(out);
	return 0;
}
