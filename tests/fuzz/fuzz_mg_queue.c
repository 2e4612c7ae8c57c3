/* libFuzzer target: the queue envelope reader and the TLS memory file (mailgw). A
 * parsed envelope must format and parse back to the same thing. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "applets/mailgw/mg_policy.h"
#include "applets/mailgw/mg_queue.h"
#include "core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_env e, r;
	struct mg_tlsmem m;

	if (mg_env_parse(data, size, &e) == 0) {
		struct buf_writer w;
		buf_writer_growable(&w, MG_ENV_MAX);
		if (mg_env_format(&e, &w) == 0) {
			if (mg_env_parse(w.p, w.len, &r) != 0 || r.nrcpt != e.nrcpt ||
			    strcmp(r.from, e.from) != 0 || strcmp(r.id, e.id) != 0)
				__builtin_trap();
			mg_env_free(&r);
		}
		buf_writer_free(&w);
		(void)mg_env_done(&e);
		mg_env_free(&e);
	}
	mg_tlsmem_init(&m, 16);
	mg_tlsmem_parse(&m, (const char *)data, size, 0);
	mg_tlsmem_free(&m);
	return 0;
}
