/* ct.c - constant-time comparison and wiping that the compiler may not optimise away. */
#include <string.h>

#include "core/secret.h"
#include "crypto/crypto.h"

int cry_memeq(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;

	for (size_t i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	/* 1 when d == 0, without a data-dependent branch. */
	return (int)(1 & (((unsigned)d - 1) >> 8));
}

/* The one wipe is core's (secret_wipe): crypto/ keeps its name for its callers. */
void cry_wipe(void *p, size_t len)
{
	secret_wipe(p, len);
}
