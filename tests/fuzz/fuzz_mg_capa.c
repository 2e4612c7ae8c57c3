/* libFuzzer target: POP3/IMAP pre-TLS command classification, backend greetings and
 * IMAP capability filtering (mailgw front ends). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "applets/mailgw/mg_capa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char tag[MG_IMAP_TAG_MAX], out[1024];

	(void)mg_pop3_pre_tls(s, size);
	if (mg_imap_pre_tls(s, size, tag, sizeof(tag)) != 0 && strlen(tag) >= sizeof(tag))
		__builtin_trap();
	(void)mg_pop3_greeting_ok(s, size);
	(void)mg_imap_greeting_ok(s, size);
	int n = mg_imap_capa_filter(s, size, out, sizeof(out));
	if (n >= (int)sizeof(out) || (n >= 0 && (size_t)n > size))
		__builtin_trap();
	return 0;
}
