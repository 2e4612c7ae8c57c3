/* libFuzzer target: hitc's `#` line decoder (hex, IV/nonce split, AES-CBC/ECB/GCM
 * decryption, padding and tag checks) under a fixed key. The first byte picks the
 * cipher layout; the rest is what follows the '#'. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "applets/hitc/hitc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		enum hitc_cipher c;
		size_t keylen;
		enum hitc_iv_mode iv;
	} modes[] = {
		{ HITC_AES_CBC, 32, HITC_IV_PREFIX },
		{ HITC_AES_CBC, 16, HITC_IV_ZERO },
		{ HITC_AES_ECB, 32, HITC_IV_PREFIX },
		{ HITC_AES_GCM, 32, HITC_IV_PREFIX },
	};
	uint8_t key[32];
	size_t n;

	if (size < 1)
		return 0;
	memset(key, 0x5a, sizeof(key));
	size_t m = data[0] % 4;
	struct hitc_sym *s = hitc_sym_new(modes[m].c, key, modes[m].keylen, modes[m].iv);
	if (!s)
		return 0;
	char *hex = malloc(size);
	if (hex) {
		memcpy(hex, data + 1, size - 1);
		uint8_t *pt = hitc_sym_decrypt_line_new(s, hex, size - 1, &n);
		if (pt && (n > size || pt[n] != '\0'))
			abort();
		free(pt);
	}
	free(hex);
	hitc_sym_free(s);
	return 0;
}
