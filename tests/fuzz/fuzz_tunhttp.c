/* libFuzzer target: tunneld's HTTP Upgrade request check (applets/tunneld/tun_http.c). */
#include <stdint.h>
#include <stdlib.h>

#include "applets/tunneld/tun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rc = tun_http_check((const char *)data, size);
	if (rc != 101 && rc != 400 && rc != 404)
		abort();
	return 0;
}
