/* vw_crypto.c - per-join secret, per-client and group keys, SAS and sealed frames.
 * The relay sees every byte we send, so: the header is bound as associated data, the
 * nonce is (epoch, sender, seq) which never repeats under one key because each per-client
 * key has one sender, every sender numbers its frames strictly upwards, and receivers
 * refuse a seq they have passed. */
#include <string.h>

#include "core/buf.h"
#include "crypto/crypto.h"
#include "crypto/rsa.h"
#include "applets/viewer/vw_crypto.h"

#define SAS_SALT "sealbox-sas-v3"
#define LINK_SALT "sealbox-client-v3"
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

static struct cry_rsa *usable_key(const uint8_t *spki, size_t spki_len)
{
	struct cry_rsa *pub = cry_rsa_from_public_der(spki, spki_len);

	if (pub && (cry_rsa_bits(pub) < MIN_RSA_BITS || cry_rsa_bits(pub) > 8192)) {
		cry_rsa_free(pub);
		pub = NULL;
	}
	return pub;
}

ssize_t vw_join_wrap(const uint8_t j[VW_JOIN_LEN], const uint8_t *spki, size_t spki_len,
		     uint8_t *out, size_t cap)
{
	struct cry_rsa *pub = usable_key(spki, spki_len);
	ssize_t n = -1;

	if (pub)
		n = cry_rsa_oaep_encrypt(pub, CRY_MGF1_SHA256, j, VW_JOIN_LEN, out, cap);
	cry_rsa_free(pub);
	return n;
}

int vw_join_unwrap(uint8_t j[VW_JOIN_LEN], struct cry_rsa *priv, const uint8_t *in, size_t len)
{
	uint8_t k[512];
	ssize_t n = cry_rsa_oaep_decrypt(priv, CRY_MGF1_SHA256, in, len, k, sizeof(k));
	int rc = -1;

	if (n == VW_JOIN_LEN) {
		memcpy(j, k, VW_JOIN_LEN);
		rc = 0;
	} else {
		cry_wipe(j, VW_JOIN_LEN);
	}
	cry_wipe(k, sizeof(k));
	return rc;
}

int vw_bind_init(struct vw_bind *b, uint32_t session, uint16_t id, const uint8_t *spki,
		 size_t spki_len, const uint8_t nm[VW_NM_LEN])
{
	b->session = session;
	b->id = id;
	memcpy(b->nm, nm, VW_NM_LEN);
	return cry_sha256(spki, spki_len, b->spki_hash);
}

#define BIND_LEN (4 + 2 + 32 + VW_NM_LEN)
static size_t bind_bytes(const struct vw_bind *b, uint8_t out[BIND_LEN])
{
	out[0] = (uint8_t)(b->session >> 24);
	out[1] = (uint8_t)(b->session >> 16);
	out[2] = (uint8_t)(b->session >> 8);
	out[3] = (uint8_t)b->session;
	out[4] = (uint8_t)(b->id >> 8);
	out[5] = (uint8_t)b->id;
	memcpy(out + 6, b->spki_hash, 32);
	memcpy(out + 38, b->nm, VW_NM_LEN);
	return BIND_LEN;
}

/* HKDF(J, "sealbox-client-v3", label 0x00 || bind) */
static int link_hkdf(const uint8_t j[VW_JOIN_LEN], const struct vw_bind *b, const char *label,
		     uint8_t out[VW_KEY_LEN])
{
	uint8_t info[16 + BIND_LEN];
	size_t n = strlen(label);

	memcpy(info, label, n);
	info[n++] = 0;
	n += bind_bytes(b, info + n);
	return cry_hkdf_sha256(j, VW_JOIN_LEN, LINK_SALT, strlen(LINK_SALT), info, n, out, VW_KEY_LEN);
}

int vw_link_derive(struct vw_link *l, const uint8_t j[VW_JOIN_LEN], const struct vw_bind *b)
{
	uint8_t k[VW_KEY_LEN];
	int rc = -1;

	vw_link_clear(l);
	if (link_hkdf(j, b, "m2c", k) == 0 && vw_key_init(&l->m2c, 0, k) == 0 &&
	    link_hkdf(j, b, "c2m", k) == 0 && vw_key_init(&l->c2m, 0, k) == 0 &&
	    link_hkdf(j, b, "direct", l->direct) == 0)
		rc = 0;
	cry_wipe(k, sizeof(k));
	if (rc < 0)
		vw_link_clear(l);
	return rc;
}

void vw_link_clear(struct vw_link *l)
{
	vw_key_clear(&l->m2c);
	vw_key_clear(&l->c2m);
	cry_wipe(l->direct, sizeof(l->direct));
}

int vw_sas(const uint8_t j[VW_JOIN_LEN], const struct vw_bind *b, const uint8_t nc[VW_NC_LEN],
	   char out[VW_SAS_DIGITS + 1])
{
	uint8_t info[BIND_LEN + VW_NC_LEN], okm[8];
	uint64_t v = 0;

	bind_bytes(b, info);
	memcpy(info + BIND_LEN, nc, VW_NC_LEN);
	if (cry_hkdf_sha256(j, VW_JOIN_LEN, SAS_SALT, strlen(SAS_SALT), info, sizeof(info), okm,
			    sizeof(okm)) < 0)
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

int vw_group_push(struct vw_group *gr, uint16_t epoch, const uint8_t *k)
{
	struct vw_key nk = { 0 };

	if (vw_key_init(&nk, epoch, k) < 0)
		return -1;
	if (gr->n == VW_GROUP_KEEP)
		vw_key_clear(&gr->g[--gr->n]);
	memmove(&gr->g[1], &gr->g[0], (size_t)gr->n * sizeof(gr->g[0]));
	gr->g[0] = nk; /* moved, not copied: nk's memory is wiped below */
	gr->n++;
	cry_wipe(&nk, sizeof(nk));
	return 0;
}

void vw_group_clear(struct vw_group *gr)
{
	for (int i = 0; i < gr->n; i++)
		vw_key_clear(&gr->g[i]);
	cry_wipe(gr, sizeof(*gr));
}

ssize_t vw_group_encode(const struct vw_group *gr, uint8_t *out, size_t cap)
{
	size_t n = 1 + (size_t)gr->n * (2 + VW_KEY_LEN) + VW_KEY_LEN, o = 1;

	if (n > cap || gr->n < 1)
		return -1;
	out[0] = (uint8_t)gr->n;
	for (int i = 0; i < gr->n; i++) {
		out[o++] = (uint8_t)(gr->g[i].epoch >> 8);
		out[o++] = (uint8_t)gr->g[i].epoch;
		memcpy(out + o, gr->g[i].k, VW_KEY_LEN);
		o += VW_KEY_LEN;
	}
	memcpy(out + o, gr->name_key, VW_KEY_LEN);
	return (ssize_t)n;
}

ssize_t vw_group_decode(struct vw_group *gr, const uint8_t *p, size_t len)
{
	size_t n, o;

	vw_group_clear(gr);
	if (len < 1 || p[0] < 1 || p[0] > VW_GROUP_KEEP)
		return -1;
	n = 1 + (size_t)p[0] * (2 + VW_KEY_LEN) + VW_KEY_LEN;
	if (len < n)
		return -1;
	/* oldest first, so that the newest ends up in g[0] */
	for (int i = p[0] - 1; i >= 0; i--) {
		o = 1 + (size_t)i * (2 + VW_KEY_LEN);
		if (vw_group_push(gr, (uint16_t)(p[o] << 8 | p[o + 1]), p + o + 2) < 0) {
			vw_group_clear(gr);
			return -1;
		}
	}
	memcpy(gr->name_key, p + n - VW_KEY_LEN, VW_KEY_LEN);
	return (ssize_t)n;
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
