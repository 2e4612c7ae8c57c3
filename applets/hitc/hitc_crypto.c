/* hitc_crypto.c - the two encrypted layers of HITP: the `$` logon line (RSA with the
 * server's public key) and `#` session lines (SESS_KEY with the ENC_SYM cipher).
 * The block scheme, the IV layout and the cipher list are reconstructions from the
 * public HIT documents, not verified against the real HitServer (docs/hitc.md). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "applets/hitc/hitc.h"
#include "core/encoding.h"
#include "crypto/crypto.h"
#include "crypto/rsa.h"

#define CBC_IV_LEN 16

size_t hitc_tbc_padded_len(size_t len, size_t block)
{
	return (len / block + 1) * block;
}

int hitc_tbc_pad(const uint8_t *in, size_t len, size_t block, uint8_t *out)
{
	if (block == 0 || len == 0)
		return -1;
	size_t total = hitc_tbc_padded_len(len, block);
	uint8_t pad = (in[len - 1] & 1) ? 0x00 : 0xff;
	memmove(out, in, len);
	memset(out + len, pad, total - len);
	return 0;
}

ssize_t hitc_tbc_unpad(const uint8_t *buf, size_t len)
{
	if (len == 0)
		return -1;
	uint8_t pad = buf[len - 1];
	if (pad != 0x00 && pad != 0xff)
		return -1;
	size_t n = len;
	while (n > 0 && buf[n - 1] == pad)
		n--;
	/* The last data byte's low bit is the complement of the pad's; anything else was
	 * not padded by TBC (or there is no data at all). */
	if (n == 0 || ((buf[n - 1] & 1) == (pad & 1)))
		return -1;
	return (ssize_t)n;
}

/* Raw RSA over (k-1)-byte chunks of the TBC-padded line, each written as k bytes. */
static uint8_t *rsa_tbc(struct cry_rsa *k, const uint8_t *in, size_t len, size_t *outlen)
{
	size_t ks = cry_rsa_size(k), chunk = ks - 1;
	size_t plen = hitc_tbc_padded_len(len, chunk);
	size_t nblocks = plen / chunk;
	uint8_t *padded = malloc(plen), *out = malloc(nblocks * ks), *m = malloc(ks);

	if (!padded || !out || !m || hitc_tbc_pad(in, len, chunk, padded) < 0)
		goto fail;
	for (size_t i = 0; i < nblocks; i++) {
		m[0] = 0; /* m < n for any modulus of ks bytes */
		memcpy(m + 1, padded + i * chunk, chunk);
		if (cry_rsa_raw_public(k, m, ks, out + i * ks) < 0)
			goto fail;
	}
	cry_wipe(padded, plen);
	cry_wipe(m, ks);
	free(padded);
	free(m);
	*outlen = nblocks * ks;
	return out;
fail:
	if (padded)
		cry_wipe(padded, plen);
	if (m)
		cry_wipe(m, ks);
	free(padded);
	free(m);
	free(out);
	return NULL;
}

/* PKCS#1 v1.5 type 2 over chunks of k-11 bytes, for a server that wants it. */
static uint8_t *rsa_pkcs1(struct cry_rsa *k, const uint8_t *in, size_t len, size_t *outlen)
{
	size_t ks = cry_rsa_size(k), chunk = ks - 11;
	size_t nblocks = (len + chunk - 1) / chunk;
	uint8_t *out = malloc(nblocks * ks);

	if (!out)
		return NULL;
	for (size_t i = 0; i < nblocks; i++) {
		size_t n = len - i * chunk < chunk ? len - i * chunk : chunk;
		if (cry_rsa_pkcs1_encrypt(k, in + i * chunk, n, out + i * ks, ks) != (ssize_t)ks) {
			free(out);
			return NULL;
		}
	}
	*outlen = nblocks * ks;
	return out;
}

static char *hex_line_new(char prefix, const uint8_t *bytes, size_t n)
{
	char *line = malloc(2 * n + 2);
	if (!line)
		return NULL;
	line[0] = prefix;
	if (hex_encode(bytes, n, line + 1, 2 * n + 1, 1) < 0) {
		free(line);
		return NULL;
	}
	return line;
}

char *hitc_rsa_line_new(struct cry_rsa *k, enum hitc_rsa_padding pad, const char *plain,
			size_t len)
{
	size_t n = 0;
	if (len == 0 || cry_rsa_size(k) < 64)
		return NULL;
	uint8_t *ct = pad == HITC_RSA_PKCS1 ? rsa_pkcs1(k, (const uint8_t *)plain, len, &n)
					    : rsa_tbc(k, (const uint8_t *)plain, len, &n);
	if (!ct)
		return NULL;
	char *line = hex_line_new('$', ct, n);
	free(ct);
	return line;
}

int hitc_enc_sym_parse(const char *s, enum hitc_cipher *out)
{
	static const struct {
		const char *name;
		enum hitc_cipher c;
	} names[] = {
		{ "AES/CBC/PKCS7Padding", HITC_AES_CBC },
		{ "AES/CBC/PKCS5Padding", HITC_AES_CBC },
		{ "AES/ECB/PKCS7Padding", HITC_AES_ECB },
		{ "AES/ECB/PKCS5Padding", HITC_AES_ECB },
		{ "AES/GCM/NoPadding", HITC_AES_GCM },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].c;
			return 0;
		}
	return -1;
}

int hitc_cipher_key_ok(enum hitc_cipher c, size_t keylen)
{
	if (c == HITC_AES_GCM)
		return keylen == CRY_AES256_KEY_LEN; /* the crypto core's AEAD is AES-256 */
	return keylen == 16 || keylen == 24 || keylen == 32;
}

struct hitc_sym {
	enum hitc_cipher cipher;
	enum hitc_iv_mode iv;
	uint8_t key[32];
	size_t keylen;
	struct cry_aead *aead;
};

struct hitc_sym *hitc_sym_new(enum hitc_cipher c, const uint8_t *key, size_t keylen,
			      enum hitc_iv_mode iv)
{
	if (!hitc_cipher_key_ok(c, keylen))
		return NULL;
	/* A fixed GCM nonce would repeat under one key on every line: never. */
	if (c == HITC_AES_GCM && iv == HITC_IV_ZERO)
		return NULL;
	struct hitc_sym *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cipher = c;
	s->iv = iv;
	memcpy(s->key, key, keylen);
	s->keylen = keylen;
	if (c == HITC_AES_GCM && !(s->aead = cry_aead_new(s->key))) {
		hitc_sym_free(s);
		return NULL;
	}
	return s;
}

void hitc_sym_free(struct hitc_sym *s)
{
	if (!s)
		return;
	cry_aead_free(s->aead);
	cry_wipe(s, sizeof(*s));
	free(s);
}

char *hitc_sym_encrypt_line_new(struct hitc_sym *s, const void *line, size_t len)
{
	/* Room for the largest layout: IV/nonce + data + one pad block or the tag. */
	size_t cap = CBC_IV_LEN + len + 16;
	uint8_t *buf = malloc(cap);
	uint8_t zero_iv[CBC_IV_LEN] = { 0 };
	size_t n = 0;
	char *out = NULL;
	ssize_t r;

	if (!buf)
		return NULL;
	switch (s->cipher) {
	case HITC_AES_CBC:
		if (s->iv == HITC_IV_ZERO) {
			r = cry_cbc_encrypt(s->key, s->keylen, zero_iv, line, len, buf);
			if (r < 0)
				goto done;
			n = (size_t)r;
		} else {
			if (cry_random(buf, CBC_IV_LEN) < 0)
				goto done;
			r = cry_cbc_encrypt(s->key, s->keylen, buf, line, len, buf + CBC_IV_LEN);
			if (r < 0)
				goto done;
			n = CBC_IV_LEN + (size_t)r;
		}
		break;
	case HITC_AES_ECB:
		if ((r = cry_ecb_encrypt(s->key, s->keylen, line, len, buf)) < 0)
			goto done;
		n = (size_t)r;
		break;
	case HITC_AES_GCM:
		if (cry_random(buf, CRY_GCM_NONCE_LEN) < 0 ||
		    cry_aead_seal(s->aead, buf, CRY_GCM_NONCE_LEN, NULL, 0, line, len,
				  buf + CRY_GCM_NONCE_LEN, buf + CRY_GCM_NONCE_LEN + len) < 0)
			goto done;
		n = CRY_GCM_NONCE_LEN + len + CRY_GCM_TAG_LEN;
		break;
	}
	out = hex_line_new('#', buf, n);
done:
	cry_wipe(buf, cap);
	free(buf);
	return out;
}

uint8_t *hitc_sym_decrypt_line_new(struct hitc_sym *s, const char *hex, size_t hexlen,
				   size_t *outlen)
{
	size_t n = hexlen / 2;
	uint8_t *ct = malloc(n + 1), *pt = malloc(n + 1);
	uint8_t zero_iv[CBC_IV_LEN] = { 0 };
	ssize_t r = -1;

	if (!ct || !pt || hexlen % 2 || hex_decode(hex, hexlen, ct, n + 1) != (ssize_t)n)
		goto fail;
	switch (s->cipher) {
	case HITC_AES_CBC:
		if (s->iv == HITC_IV_ZERO) {
			if (n == 0 || n % 16)
				goto fail;
			r = cry_cbc_decrypt(s->key, s->keylen, zero_iv, ct, n, pt);
		} else {
			if (n < CBC_IV_LEN + 16 || (n - CBC_IV_LEN) % 16)
				goto fail;
			r = cry_cbc_decrypt(s->key, s->keylen, ct, ct + CBC_IV_LEN, n - CBC_IV_LEN, pt);
		}
		break;
	case HITC_AES_ECB:
		if (n == 0 || n % 16)
			goto fail;
		r = cry_ecb_decrypt(s->key, s->keylen, ct, n, pt);
		break;
	case HITC_AES_GCM:
		if (n < CRY_GCM_NONCE_LEN + CRY_GCM_TAG_LEN)
			goto fail;
		r = (ssize_t)(n - CRY_GCM_NONCE_LEN - CRY_GCM_TAG_LEN);
		if (cry_aead_open(s->aead, ct, CRY_GCM_NONCE_LEN, NULL, 0, ct + CRY_GCM_NONCE_LEN,
				  (size_t)r, pt, ct + n - CRY_GCM_TAG_LEN) < 0)
			r = -1;
		break;
	}
	if (r < 0)
		goto fail;
	pt[r] = '\0';
	*outlen = (size_t)r;
	free(ct);
	return pt;
fail:
	if (pt)
		cry_wipe(pt, n + 1);
	free(ct);
	free(pt);
	return NULL;
}
