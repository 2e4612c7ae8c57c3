/* hitc_text.c - Latin-1 <-> UTF-8. The HitServer talks ISO-8859-1 by default and UTF-8
 * on request; scripts and terminals on the client side usually talk UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "applets/hitc/hitc.h"

static char *latin1_to_utf8(const uint8_t *in, size_t len, size_t *outlen)
{
	char *out = malloc(2 * len + 1);
	size_t n = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (in[i] < 0x80) {
			out[n++] = (char)in[i];
		} else {
			out[n++] = (char)(0xc0 | (in[i] >> 6));
			out[n++] = (char)(0x80 | (in[i] & 0x3f));
		}
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

/* Only U+0000..U+00FF fit; anything else (or broken UTF-8) is refused, never guessed. */
static char *utf8_to_latin1(const uint8_t *in, size_t len, size_t *outlen)
{
	char *out = malloc(len + 1);
	size_t n = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (in[i] < 0x80) {
			out[n++] = (char)in[i];
		} else if ((in[i] == 0xc2 || in[i] == 0xc3) && i + 1 < len && (in[i + 1] & 0xc0) == 0x80) {
			out[n++] = (char)(((in[i] & 0x03) << 6) | (in[i + 1] & 0x3f));
			i++;
		} else {
			free(out);
			return NULL;
		}
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

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
		return latin1_to_utf8((const uint8_t *)in, len, outlen);
	return utf8_to_latin1((const uint8_t *)in, len, outlen);
}
