/* encoding.c - hex and base64. Decoders are strict: they are fed untrusted input
 * (PEM bodies, JSON fields, protocol lines) and must never read or write out of bounds. */
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/secret.h"

int hex_encode(const void *in, size_t len, char *out, size_t outcap, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	const uint8_t *p = in;

	if (outcap < 1 || len > (outcap - 1) / 2)
		return -1;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
	return 0;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

ssize_t hex_decode(const char *in, size_t len, uint8_t *out, size_t outcap)
{
	if (len % 2 || len / 2 > outcap)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_val(in[i]), lo = hex_val(in[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (ssize_t)(len / 2);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

int base64_encode(const void *in, size_t len, char *out, size_t outcap)
{
	const uint8_t *p = in;
	size_t o = 0;

	if (len > (SIZE_MAX - 3) / 4 * 3 || base64_encoded_len(len) + 1 > outcap)
		return -1;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return 0;
}

char *base64_encode_new(const void *in, size_t len)
{
	size_t n = base64_encoded_len(len) + 1;
	char *s = malloc(n);
	if (s && base64_encode(in, len, s, n) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

ssize_t base64_decode(const char *in, size_t len, uint8_t *out, size_t outcap, int skip_space)
{
	uint32_t acc = 0;
	size_t o = 0, nchars = 0, pad = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (skip_space && is_space(c))
			continue;
		if (c == '=') {
			pad++;
			nchars++;
			continue;
		}
		int v = b64_val(c);
		if (v < 0 || pad)   /* data after padding is malformed */
			return -1;
		acc = acc << 6 | (uint32_t)v;
		nchars++;
		if (nchars % 4 == 0) {
			if (o + 3 > outcap)
				return -1;
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
		}
	}
	if (nchars % 4 || pad > 2)
		return -1;
	if (pad) {
		/* The last quantum was completed by '=' characters: re-derive its bytes. */
		size_t keep = 3 - pad;
		uint32_t q = acc << (6 * pad);
		uint8_t last[3] = { (uint8_t)(q >> 16), (uint8_t)(q >> 8), (uint8_t)q };
		/* Non-zero bits under the padding mean a non-canonical encoding. */
		if ((pad == 1 && (q & 0xff)) || (pad == 2 && (q & 0xffff)))
			return -1;
		if (o + keep > outcap)
			return -1;
		memcpy(out + o, last, keep);
		o += keep;
	}
	return (ssize_t)o;
}

char *latin1_to_utf8_new(const uint8_t *in, size_t len, size_t *outlen)
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

char *utf8_to_latin1_new(const uint8_t *in, size_t len, size_t *outlen)
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
			secret_wipe(out, n);
			free(out);
			return NULL;
		}
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}
