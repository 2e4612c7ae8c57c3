/* libFuzzer target: mailgw's SMTP AUTH exchange (mg_sasl.h). The first line is the AUTH
 * argument, every further line a response, as a client would send them. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "applets/mailgw/mg_sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_sasl s;
	const char *p = (const char *)data, *end = p + size;
	int rc = MG_SASL_ERROR, first = 1;

	while (p <= end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (first) {
			rc = mg_sasl_start(&s, p, len);
			first = 0;
		} else if (rc == MG_SASL_CHALLENGE) {
			rc = mg_sasl_step(&s, p, len);
		} else {
			break;
		}
		if (rc == MG_SASL_CHALLENGE && !s.challenge)
			__builtin_trap();
		if (rc == MG_SASL_ERROR && (!s.text || s.code < 500 || s.code > 599))
			__builtin_trap();
		if (rc == MG_SASL_DONE) {
			size_t ul = strlen(s.login), pl = strlen(s.pass);
			if (ul == 0 || ul > MG_SASL_LOGIN_MAX || pl == 0 || pl > MG_SASL_PASS_MAX)
				__builtin_trap();
			for (size_t i = 0; i < ul; i++)
				if ((unsigned char)s.login[i] <= ' ')
					__builtin_trap();   /* a login goes into backend protocol lines */
			for (size_t i = 0; i < pl; i++)
				if ((unsigned char)s.pass[i] < ' ')
					__builtin_trap();
			break;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	mg_sasl_wipe(&s);
	return 0;
}
