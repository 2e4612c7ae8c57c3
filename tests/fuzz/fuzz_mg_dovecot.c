/* libFuzzer target: the Dovecot auth protocol reader of mailgw (mg_dovecot.h): a hostile
 * or broken auth server's lines, handshake first, then replies to request 1. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "applets/mailgw/mg_dovecot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_dovecot_rx r;
	const char *p = (const char *)data, *end = p + size;
	char req[MG_DOVECOT_LINE_MAX];

	memset(&r, 0, sizeof(r));
	r.id = 1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int rc = mg_dovecot_line(&r, p, len);
		if (rc == MG_DOV_BAD && !r.why[0])
			__builtin_trap();
		if (rc == MG_DOV_READY && (!r.plain || !r.version_ok))
			__builtin_trap();
		if (rc == MG_DOV_OK && !r.done)
			__builtin_trap();   /* never an accept before the handshake */
		if (rc == MG_DOV_BAD || rc == MG_DOV_OK || rc == MG_DOV_FAIL || rc == MG_DOV_TEMP)
			break;
		if (!nl)
			break;
		p = nl + 1;
	}
	if (mg_dovecot_auth(req, sizeof(req), 7, "user@example.org", "pw", "192.0.2.1", "::1") < 0)
		__builtin_trap();
	if (mg_dovecot_auth(req, sizeof(req), 7, "u", "p", "a\tb", "") >= 0)
		__builtin_trap();   /* a TAB in a field must never reach the line */
	return 0;
}
