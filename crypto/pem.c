/* pem.c - PEM armour (RFC 7468) around DER, read leniently and written strictly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "crypto/crypto.h"
#include "crypto/internal.h"

static const char *find(const char *hay, size_t haylen, const char *needle)
{
	size_t n = strlen(needle);

	if (n > haylen)
		return NULL;
	for (size_t i = 0; i + n <= haylen; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

uint8_t *cry_pem_decode_new(const char *pem, size_t len, char *label, size_t labelcap,
			    size_t *derlen)
{
	static const char begin[] = "-----BEGIN ", dashes[] = "-----";
	char endline[128];
	const char *p, *lab, *labend, *body, *end;
	uint8_t *der;
	size_t lablen, bodylen, cap;
	ssize_t n;

	if (!pem || !derlen || !label || labelcap == 0)
		return NULL;
	p = find(pem, len, begin);
	if (!p)
		return NULL;
	lab = p + strlen(begin);
	labend = find(lab, len - (size_t)(lab - pem), dashes);
	if (!labend)
		return NULL;
	lablen = (size_t)(labend - lab);
	if (lablen == 0 || lablen >= 64 || memchr(lab, '\n', lablen))
		return NULL;
	body = labend + strlen(dashes);
	snprintf(endline, sizeof(endline), "-----END %.*s-----", (int)lablen, lab);
	end = find(body, len - (size_t)(body - pem), endline);
	if (!end)
		return NULL;
	bodylen = (size_t)(end - body);
	cap = bodylen / 4 * 3 + 3;
	der = malloc(cap ? cap : 1);
	if (!der)
		return NULL;
	n = base64_decode(body, bodylen, der, cap, 1);
	if (n <= 0) {
		cry_wipe(der, cap);
		free(der);
		return NULL;
	}
	snprintf(label, labelcap, "%.*s", (int)lablen, lab);
	*derlen = (size_t)n;
	return der;
}

char *cry_pem_encode_new(const char *label, const uint8_t *der, size_t len)
{
	char *b64, *out, *o;
	size_t b64len, lines, total;

	if (!label || !der || len == 0)
		return NULL;
	b64 = base64_encode_new(der, len);
	if (!b64)
		return NULL;
	b64len = strlen(b64);
	lines = (b64len + 63) / 64;
	total = 2 * (strlen(label) + 17) + b64len + lines + 1;
	out = malloc(total);
	if (!out)
		goto out;
	o = out + sprintf(out, "-----BEGIN %s-----\n", label);
	for (size_t i = 0; i < b64len; i += 64) {
		size_t n = b64len - i < 64 ? b64len - i : 64;
		memcpy(o, b64 + i, n);
		o += n;
		*o++ = '\n';
	}
	sprintf(o, "-----END %s-----\n", label);
out:
	cry_wipe(b64, b64len);
	free(b64);
	return out;
}
