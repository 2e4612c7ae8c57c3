/* hitc_key.c - the HitServer's public key. Its published format is not known (it may be
 * PEM or a hex modulus and exponent), so both are read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "applets/hitc/hitc.h"
#include "core/encoding.h"
#include "core/fs.h"
#include "core/str.h"
#include "crypto/rsa.h"

#define KEY_FILE_MAX (64 * 1024)
#define MAX_MOD_BYTES 2048

/* Collects the hex digits of one value, skipping whitespace and ':' separators. */
static ssize_t hex_value(const char *p, const char *end, uint8_t *out, size_t cap)
{
	char *digits = malloc((size_t)(end - p) + 1);
	size_t n = 0;
	ssize_t r;
	if (!digits)
		return -1;
	for (; p < end; p++) {
		if (*p == ' ' || *p == '\t' || *p == ':' || *p == '\r')
			continue;
		digits[n++] = *p;
	}
	if (n >= 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
		memmove(digits, digits + 2, n - 2);
		n -= 2;
	}
	if (n % 2) { /* "10001": a leading nibble */
		memmove(digits + 1, digits, n);
		digits[0] = '0';
		n++;
	}
	r = n ? hex_decode(digits, n, out, cap) : -1;
	free(digits);
	return r;
}

struct cry_rsa *hitc_key_parse(const char *text, size_t len, char *err, size_t errlen)
{
	uint8_t *n = NULL, *e = NULL;
	ssize_t nlen = -1, elen = -1;
	struct cry_rsa *k = NULL;
	size_t lineno = 0;

	if (len >= 11 && memmem(text, len, "-----BEGIN ", 11)) {
		if (!(k = cry_rsa_from_pem(text, len)))
			str_copy(err, "not a readable RSA public key (PEM)", errlen);
		return k;
	}
	n = malloc(MAX_MOD_BYTES);
	e = malloc(MAX_MOD_BYTES);
	if (!n || !e) {
		str_copy(err, "out of memory", errlen);
		goto done;
	}
	for (const char *p = text, *end = text + len; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		lineno++;
		const char *q = p;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		const char *eq = memchr(q, '=', (size_t)(eol - q));
		if (q < eol && *q != '#' && *q != '\r') {
			size_t nl = eq ? (size_t)(eq - q) : 0;
			while (nl > 0 && (q[nl - 1] == ' ' || q[nl - 1] == '\t'))
				nl--;
			int is_n = (nl == 1 && *q == 'n') || (nl == 7 && strncasecmp(q, "modulus", 7) == 0);
			int is_e = (nl == 1 && *q == 'e') || (nl == 8 && strncasecmp(q, "exponent", 8) == 0);
			if (!eq || (!is_n && !is_e)) {
				str_fmt(err, errlen, "line %zu: expected 'n = HEX' or 'e = HEX'", lineno);
				goto done;
			}
			ssize_t r = hex_value(eq + 1, eol, is_n ? n : e, MAX_MOD_BYTES);
			if (r <= 0) {
				str_fmt(err, errlen, "line %zu: not a hex number", lineno);
				goto done;
			}
			*(is_n ? &nlen : &elen) = r;
		}
		p = eol + (eol < end);
	}
	if (nlen <= 0 || elen <= 0) {
		str_copy(err, "needs both 'n = HEX' (modulus) and 'e = HEX' (exponent), or PEM", errlen);
		goto done;
	}
	if (!(k = cry_rsa_from_modexp(n, (size_t)nlen, e, (size_t)elen)))
		str_copy(err, "modulus/exponent do not form an RSA key", errlen);
done:
	free(n);
	free(e);
	return k;
}

struct cry_rsa *hitc_key_load(const char *path, char *err, size_t errlen)
{
	size_t len;
	char *text = (char *)fs_read_file_new(path, KEY_FILE_MAX, &len);
	char why[200];
	struct cry_rsa *k;

	if (!text) {
		str_fmt(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	why[0] = '\0';
	k = hitc_key_parse(text, len, why, sizeof(why));
	free(text);
	if (!k) {
		str_fmt(err, errlen, "%s: %s", path, why);
		return NULL;
	}
	if (cry_rsa_bits(k) < 1024) {
		str_fmt(err, errlen, "%s: RSA key of %u bits is too small", path, cry_rsa_bits(k));
		cry_rsa_free(k);
		return NULL;
	}
	return k;
}
