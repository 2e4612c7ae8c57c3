/* fuzz_proxy_auth.c - the Proxy-Authenticate challenge parser and the answer built
 * from whatever it accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_http_challenge ch;
	char *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (net_http_parse_challenge(copy, size, &ch) == 0) {
		char *v;
		if (strlen(ch.realm) >= sizeof(ch.realm) || strlen(ch.nonce) >= sizeof(ch.nonce))
			abort();
		v = net_http_auth_value_new(&ch, "user", "pass", "CONNECT", "host:443", 1, "cnonce");
		free(v);
	}
	free(copy);
	return 0;
}
