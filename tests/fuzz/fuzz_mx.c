/* libFuzzer target: DNS MX answers (net/mx.c, used by mailgw). The id is taken from
 * the packet itself so that the parser gets past the header. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/mx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_mx mx[NET_MX_MAX];
	size_t n;
	enum net_mx_status st;
	uint16_t id = size >= 2 ? (uint16_t)((data[0] << 8) | data[1]) : 0;

	if (net_mx_parse(data, size, id, mx, NET_MX_MAX, &n, &st) == 0) {
		if (n > NET_MX_MAX)
			__builtin_trap();
		for (size_t i = 0; i < n; i++) {
			if (strlen(mx[i].host) > 255 || (i && mx[i - 1].pref > mx[i].pref))
				__builtin_trap();
		}
	}
	uint8_t q[512];
	char name[300];
	size_t l = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
	memcpy(name, data, l);
	name[l] = '\0';
	(void)net_mx_query(name, id, q, sizeof(q));
	return 0;
}
