/* libFuzzer target: the RESP2 reply parser of the Redis client (net/resp.c). A reply
 * it accepts must fit the bounds and consume no more than it was given; parsing the
 * consumed prefix again must give the same result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count(const struct resp_reply *r, int depth)
{
	if (depth > RESP_MAX_DEPTH)
		abort();
	size_t n = 1;
	if ((r->type == RESP_BULK || r->type == RESP_STATUS || r->type == RESP_ERROR) &&
	    (!r->s || r->len > RESP_MAX_BULK || r->s[r->len] != '\0'))
		abort();
	for (size_t i = 0; i < r->n; i++)
		n += count(&r->el[i], depth + 1);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resp_reply r, again;
	size_t used = 0, used2 = 0;
	int rc = resp_parse(data, size, &r, &used);
	if (rc < -1 || rc > 1)
		abort();
	if (rc == 1) {
		if (used == 0 || used > size || count(&r, 0) > RESP_MAX_NODES)
			abort();
		if (resp_parse(data, used, &again, &used2) != 1 || used2 != used || again.type != r.type)
			abort();
		resp_free(&again);
		resp_free(&r);
	}
	/* every prefix of a complete reply is incomplete, never garbage */
	if (rc == 1 && used > 1 && resp_parse(data, used - 1, &again, &used2) != 0)
		abort();
	return 0;
}
