/* fuzz_http_reqhead.c - the request-head parser net/http_conn.c runs on every request a
 * client sends to an evhttp server, before any body byte is read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_reqhead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_http_reqhead h;
	char *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	long n = net_http_reqhead_parse(copy, size, &h);
	if (n > 0 && ((size_t)n > size || (size_t)n > NET_HTTP_MAX_HEAD || !h.method[0] || !h.target[0] ||
		      strlen(h.target) >= sizeof(h.target) || h.content_length > 999999999999999999ULL))
		abort();
	if (n < 0 && (h.status < 400 || h.status > 599))
		abort();
	if (n == 0 && size >= NET_HTTP_MAX_HEAD)
		abort();
	free(copy);
	return 0;
}
