/* vw_crypto.c - session keys, key transport, SAS and sealed frames for the viewer.
 * The relay sees every byte we send, so: the header is bound as associated data, the
 * nonce is (epoch, sender, seq) which never repeats under one key because every sender
 * numbers its frames strictly upwards, and receivers refuse a seq they have passed. */
#include <string.h>

#include "core/buf.h"
#include "crypto/crypto.h"
#include "crypto/rsa.h"
#include "applets/viewer/vw_crypto.h"

#define SAS_SALT "sealbox-sas-v1"
#define MIN_RSA_BITS 2048

int vw_key_init(struct vw_key *key, uint16_t epoch, const uint8_t *k)
{
	vw_key_clear(key);
	if (k)
		memcpy(key->k, k, VW_KEY_LEN);
	else if (cry_random(key->k, VW_KEY_LEN) < 0)
		return -1;
	key->aead = cry_aead_new(key->k);
	if (!key->aead) {
		cry_wipe(key->k, VW_KEY_LEN);
		return -1;
	}
	key->epoch = epoch;
	key->set = 1;
	return 0;
}

void vw_key_clear(struct vw_key *key)
{
	if (key->aead)
		cry_aead_free(key->aead);
	cry_wipe(key, sizeof(*key));
}

ssize_t vw_key_wrap(const struct vw_key *key, const uint8_t *spki, size_t spki_len,
		    uint8_t *out, size_t cap)
{
	struct cry_rsa *pub;
	ssize_t n = -1;

	if (!key->set || !(pub = cry_rsa_from_public_der(spki, spki_len)))
		return -1;
	if (cry_rsa_bits(pub) >= MIN_RSA_BITS && cry_rsa_bits(pub) <= 8192)
		n = cry_rsa_oaep_encrypt(pub, CRY_MGF1_SHA256, key->k, VW_KEY_LEN, out, cap);
	cry_rsa_free(pub);
	return n;
}

int vw_key_unwrap(struct vw_key *key, uint16_t epoch, struct cry_rsa *priv,
		  const uint8_t *in, size_t len)
{
	uint8_t k[512];
	ssize_t n = cry_rsa_oaep_decrypt(priv, CRY_MGF1_SHA256, in, len, k, sizeof(k));
	int rc = -1;

	vw_key_clear(key); /* a failed unwrap leaves no key behind */
	if (n == VW_KEY_LEN)
		rc = vw_key_init(key, epoch, k);
	cry_wipe(k, sizeof(k));
	return rc;
}

int vw_sas(const struct vw_key *key, uint32_t session, const uint8_t *spki, size_t spki_len,
	   char out[VW_SAS_DIGITS + 1])
{
	uint8_t info[4 + CRY_SHA256_LEN + 2], okm[8];
	uint64_t v = 0;

	if (!key->set)
		return -1;
	info[0] = (uint8_t)(session >> 24);
	info[1] = (uint8_t)(session >> 16);
	info[2] = (uint8_t)(session >> 8);
	info[3] = (uint8_t)session;
	if (cry_sha256(spki, spki_len, info + 4) < 0)
		return -1;
	info[4 + CRY_SHA256_LEN] = (uint8_t)(key->epoch >> 8);
	info[5 + CRY_SHA256_LEN] = (uint8_t)key->epoch;
	if (cry_hkdf_sha256(key->k, VW_KEY_LEN, SAS_SALT, strlen(SAS_SALT), info, sizeof(info),
			    okm, sizeof(okm)) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(okm); i++)
		v = v << 8 | okm[i];
	/* 2^64 mod 10^8 is tiny against 2^64: the bias is below 2^-37. */
	v %= 100000000ULL;
	for (int i = VW_SAS_DIGITS - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
	out[VW_SAS_DIGITS] = '\0';
	cry_wipe(okm, sizeof(okm));
	return 0;
}

static void make_nonce(uint8_t nonce[CRY_GCM_NONCE_LEN], uint16_t epoch, uint16_t source,
		       uint32_t seq)
{
	memset(nonce, 0, CRY_GCM_NONCE_LEN);
	nonce[0] = (uint8_t)(epoch >> 8);
	nonce[1] = (uint8_t)epoch;
	nonce[2] = (uint8_t)(source >> 8);
	nonce[3] = (uint8_t)source;
	/* bytes 4..11: seq as u64 big-endian; the frame carries 32 bits of it */
	nonce[8] = (uint8_t)(seq >> 24);
	nonce[9] = (uint8_t)(seq >> 16);
	nonce[10] = (uint8_t)(seq >> 8);
	nonce[11] = (uint8_t)seq;
}

ssize_t vw_seal_frame(const struct vw_key *key, struct tframe_hdr *h, const void *pt,
		      size_t len, uint8_t *out, size_t cap)
{
	uint8_t nonce[CRY_GCM_NONCE_LEN];
	size_t total = TFRAME_HDR_LEN + VW_SEAL_OVERHEAD + len;
	uint8_t *p;

	if (!key->set || total > cap || VW_SEAL_OVERHEAD + len > TFRAME_MAX_PAYLOAD || h->seq == 0)
		return -1;
	h->version = TFRAME_VERSION;
	h->type = TF_DATA;
	h->length = (uint32_t)(VW_SEAL_OVERHEAD + len);
	tframe_hdr_encode(h, out);
	p = out + TFRAME_HDR_LEN;
	p[0] = VW_OUT_SEALED;
	p[1] = (uint8_t)(key->epoch >> 8);
	p[2] = (uint8_t)key->epoch;
	make_nonce(nonce, key->epoch, h->source, h->seq);
	/* AAD: the 18 header bytes and the kind/epoch prefix */
	if (cry_aead_seal(key->aead, nonce, sizeof(nonce), out, TFRAME_HDR_LEN + VW_SEAL_PREFIX,
			  pt, len, p + VW_SEAL_PREFIX, p + VW_SEAL_PREFIX + len) < 0)
		return -1;
	return (ssize_t)total;
}

ssize_t vw_open_frame(const struct vw_key *const *keys, size_t n, struct vw_replay *rp,
		      const struct tframe_hdr *h, const uint8_t hdr_raw[TFRAME_HDR_LEN],
		      const uint8_t *payload, uint8_t *out, size_t cap, uint16_t *epoch_out,
		      const char **why)
{
	uint8_t nonce[CRY_GCM_NONCE_LEN], aad[TFRAME_HDR_LEN + VW_SEAL_PREFIX];
	const struct vw_key *key = NULL;
	size_t len;
	uint16_t epoch;
	const char *dummy;

	if (!why)
		why = &dummy;
	if (h->type != TF_DATA || h->length < VW_SEAL_OVERHEAD || payload[0] != VW_OUT_SEALED) {
		*why = "not a sealed frame";
		return -1;
	}
	len = h->length - VW_SEAL_OVERHEAD;
	if (len > cap) {
		*why = "too long";
		return -1;
	}
	if (h->seq <= rp->last_seq) {
		*why = "replayed or reordered frame";
		return -1;
	}
	epoch = (uint16_t)(payload[1] << 8 | payload[2]);
	for (size_t i = 0; i < n; i++)
		if (keys[i] && keys[i]->set && keys[i]->epoch == epoch)
			key = keys[i];
	if (!key) {
		*why = "unknown key epoch";
		return -1;
	}
	memcpy(aad, hdr_raw, TFRAME_HDR_LEN);
	memcpy(aad + TFRAME_HDR_LEN, payload, VW_SEAL_PREFIX);
	make_nonce(nonce, epoch, h->source, h->seq);
	if (cry_aead_open(key->aead, nonce, sizeof(nonce), aad, sizeof(aad),
			  payload + VW_SEAL_PREFIX, len, out, payload + VW_SEAL_PREFIX + len) < 0) {
		*why = "authentication failed";
		return -1;
	}
	rp->last_seq = h->seq;
	if (epoch_out)
		*epoch_out = epoch;
	return (ssize_t)len;
}
