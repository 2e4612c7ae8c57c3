/* libFuzzer target: what tunneld reads back from Redis in a fleet (applets/tunneld/
 * tun_cluster_info.c) - relay heartbeats, and session hashes as HGETALL returns them
 * (the input is parsed as a RESP reply first, net/resp.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "applets/tunneld/tun_cluster.h"
#include "net/resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_relay_info x;
	memset(&x, 0, sizeof(x));
	if (tc_info_parse((const char *)data, size, &x) == 0 &&
	    (strlen(x.tcp) > TC_ADDR_MAX || strlen(x.https) > TC_ADDR_MAX || strlen(x.http) > TC_ADDR_MAX ||
	     x.draining > 1))
		abort();
	struct resp_reply r;
	size_t used;
	if (resp_parse(data, size, &r, &used) == 1) {
		struct tc_sess s;
		int rc = tc_sess_parse(&r, 16, &s);
		if (rc == 0) {
			if (!tc_id_ok(s.owner) || s.next < 2 || s.nm > 16)
				abort();
			for (size_t i = 0; i < s.nm; i++)
				if (s.m[i].id < 1 || s.m[i].id > 65534)
					abort();
			tc_sess_free(&s);
		} else if (rc == 1 && s.m) {
			abort();
		}
		resp_free(&r);
	}
	return 0;
}
