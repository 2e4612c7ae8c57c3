/* libFuzzer target: RSA key import (crypto/pem.c, crypto/rsa_pem.c): PEM armour and
 * the DER forms behind it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "crypto/crypto.h"
#include "crypto/rsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use(struct cry_rsa *k)
{
	if (!k)
		return;
	(void)cry_rsa_size(k);
	(void)cry_rsa_bits(k);
	char *pem = cry_rsa_public_pem_new(k);
	free(pem);
	cry_rsa_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	use(cry_rsa_from_pem((const char *)data, size));
	use(cry_rsa_from_public_der(data, size));
	use(cry_rsa_from_private_der(data, size));
	return 0;
}
