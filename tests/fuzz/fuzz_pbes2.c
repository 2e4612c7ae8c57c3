/* libFuzzer target: the PBES2 EncryptedPrivateKeyInfo parser (crypto/pbes2.c), and the
 * decryption path behind it when the iteration count is small enough to be quick. */
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "crypto/pkcs8.h"
#include "crypto/rsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cry_pbes2 p;
	volatile uint8_t sink = 0;

	if (cry_pbes2_parse(data, size, &p) < 0)
		return 0;
	/* every pointer the parser hands out must stay inside the input */
	for (size_t i = 0; i < p.saltlen; i++)
		sink ^= p.salt[i];
	for (size_t i = 0; i < 16; i++)
		sink ^= p.iv[i];
	for (size_t i = 0; i < p.ctlen; i++)
		sink ^= p.ct[i];
	if (p.iterations <= 64) {
		int wrong;
		cry_rsa_free(cry_pkcs8_decrypt(data, size, 1, "fuzz", 4, &wrong));
	}
	(void)sink;
	return 0;
}
