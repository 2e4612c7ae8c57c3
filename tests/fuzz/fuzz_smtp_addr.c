/* libFuzzer target: RFC 5321 path parsing (mailgw). Whatever the parser accepts must
 * be printable ASCII without spaces outside quotes and must re-validate as stored. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "applets/mailgw/mg_smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[MG_ADDR_MAX + 1];

	if (mg_addr_parse((const char *)data, size, 1, out, sizeof(out)) == 0) {
		size_t n = strlen(out);
		if (n > MG_ADDR_MAX)
			__builtin_trap();
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)out[i] < 32 || (unsigned char)out[i] >= 127)
				__builtin_trap();
		if (mg_addr_valid(out) != 0)
			__builtin_trap();
	}
	(void)mg_domain_valid((const char *)data, size);
	return 0;
}
