/* fuzz_http_head.c - net/http_head.c, the one parser of HTTP response heads every
 * client path runs on what a server (or a proxy answering CONNECT) sends. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_auth.h"
#include "net/http_head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_http_resphead h;
	char *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	long n = net_http_resphead_parse(copy, size, &h);
	if (n > 0) {
		if ((size_t)n > size || n > NET_HTTP_RESP_MAX_HEAD || h.status < 100 || h.status > 599 ||
		    strlen(h.status_line) >= sizeof(h.status_line) || h.content_length < -1 ||
		    h.minor < 0 || h.minor > 9)
			abort();
		if (h.auth.scheme != NET_AUTH_NONE) {
			char *v = net_http_auth_value_new(&h.auth, "user", "pass", "CONNECT", "h:443", 1, "c");
			free(v);
		}
	}
	if (n == 0 && size >= NET_HTTP_RESP_MAX_HEAD)
		abort();
	free(copy);
	return 0;
}
