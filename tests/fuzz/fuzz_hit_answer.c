/* libFuzzer target: hitc's answer-line parser (applets/hitc/hitc_proto.c), plus the
 * charset conversion every answer goes through before it is printed, and the
 * command checker. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "applets/hitc/hitc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes: ASan catches any read past the line. */
	char *line = malloc(size ? size : 1);
	struct hitc_answer a;
	size_t n;

	if (!line)
		return 0;
	memcpy(line, data, size);
	if (hitc_parse_answer(line, size, &a) == 0) {
		const char *end = line + size;
		if (a.entity < line || a.entity + a.entity_len > end || a.text < line ||
		    a.text + a.text_len > end || a.severity < 0 || a.severity > 9 || a.seq < 0 ||
		    (a.field && (a.field < a.entity || a.field + a.field_len > end)))
			abort();
		if (memchr(a.entity, ':', a.entity_len) || (a.field && memchr(a.field, ':', a.field_len)))
			abort();
	}
	for (int from = 0; from < 2; from++) {
		char *s = hitc_recode_new(line, size, (enum hitc_charset)from,
					  (enum hitc_charset)!from, &n);
		free(s);
	}
	/* The command checker runs on NUL-terminated user input. */
	char *cmd = malloc(size + 1);
	if (cmd) {
		memcpy(cmd, data, size);
		cmd[size] = '\0';
		const char *body = hitc_command_body(cmd);
		if (body && (body < cmd || body > cmd + size))
			abort();
		free(cmd);
	}
	free(line);
	return 0;
}
