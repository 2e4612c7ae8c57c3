/* hitc_text.c - Latin-1 <-> UTF-8. The HitServer talks ISO-8859-1 by default and UTF-8
 * on request; scripts and terminals on the client side usually talk UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "applets/hitc/hitc.h"
#include "core/encoding.h"

char *hitc_recode_new(const char *in, size_t len, enum hitc_charset from, enum hitc_charset to,
		      size_t *outlen)
{
	if (from == to) {
		char *out = malloc(len + 1);
		if (!out)
			return NULL;
		memcpy(out, in, len);
		out[len] = '\0';
		*outlen = len;
		return out;
	}
	if (from == HITC_CS_LATIN1)
		return latin1_to_utf8_new((const uint8_t *)in, len, outlen);
	return utf8_to_latin1_new((const uint8_t *)in, len, outlen);
}
