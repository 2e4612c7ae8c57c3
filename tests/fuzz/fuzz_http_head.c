/* fuzz_http_head.c - the HTTP response-head parser behind the viewer's relay upgrade (a
 * proxy's answer to CONNECT is untrusted input). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_http_head h;
	char *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (net_http_head_parse(copy, size, &h) == 0) {
		if (h.status < 100 || h.status > 599 || strlen(h.status_line) >= sizeof(h.status_line) ||
		    h.content_length < -1)
			abort();
		if (h.auth.scheme != NET_AUTH_NONE) {
			char *v = net_http_auth_value_new(&h.auth, "user", "pass", "CONNECT", "h:443", 1, "c");
			free(v);
		}
	}
	free(copy);
	return 0;
}
