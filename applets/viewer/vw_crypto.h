/* vw_crypto.h - the viewer's end-to-end session crypto (docs/viewer-protocol.md):
 * per-epoch session key K, RSA-OAEP key transport, the short authentication string, and
 * AES-256-GCM sealing of TF_DATA payloads with the frame header as associated data and
 * replay/reorder rejection. Everything here is pure computation: no I/O. */
#ifndef VW_CRYPTO_H
#define VW_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/tframe.h"

#define VW_KEY_LEN 32
#define VW_SAS_DIGITS 8
#define VW_TAG_LEN 16
/* Outer DATA payload kinds (first byte of every TF_DATA payload). */
#define VW_OUT_HELLO 0x01  /* client -> master, plaintext: the client's SPKI */
#define VW_OUT_KEY 0x02    /* master -> client, plaintext: K wrapped with RSA-OAEP */
#define VW_OUT_SEALED 0x03 /* anyone: epoch u16 || AES-GCM(ciphertext) || tag */
#define VW_SEAL_PREFIX 3   /* kind + epoch */
#define VW_SEAL_OVERHEAD (VW_SEAL_PREFIX + VW_TAG_LEN)

struct cry_aead;
struct cry_rsa;

/* One epoch's session key. Owned by its holder; vw_key_clear wipes it. */
struct vw_key {
	int set;
	uint16_t epoch;
	uint8_t k[VW_KEY_LEN];
	struct cry_aead *aead;
};

/* k NULL: a fresh random key from the CSPRNG. */
int vw_key_init(struct vw_key *key, uint16_t epoch, const uint8_t *k);
void vw_key_clear(struct vw_key *key);

/* Wraps key->k for the holder of the RSA public key spki (DER SubjectPublicKeyInfo,
 * at least 2048 bits). Returns the ciphertext length. */
ssize_t vw_key_wrap(const struct vw_key *key, const uint8_t *spki, size_t spki_len,
		    uint8_t *out, size_t cap);
/* Unwraps with the client's private key into a new key of this epoch. */
int vw_key_unwrap(struct vw_key *key, uint16_t epoch, struct cry_rsa *priv,
		  const uint8_t *in, size_t len);

/* The 8-digit SAS (NUL-terminated) for (K, session number, client SPKI, epoch). */
int vw_sas(const struct vw_key *key, uint32_t session, const uint8_t *spki, size_t spki_len,
	   char out[VW_SAS_DIGITS + 1]);

/* Seals pt into a whole TF_DATA frame (header + payload) in out: h gives type
 * (TF_DATA), source, target, seq, ack; length is filled in. Returns the frame length. */
ssize_t vw_seal_frame(const struct vw_key *key, struct tframe_hdr *h, const void *pt,
		      size_t len, uint8_t *out, size_t cap);

/* The receiver's state per sender: the highest seq it has accepted. */
struct vw_replay {
	uint32_t last_seq; /* 0: nothing yet; senders start at 1 */
};

/* Opens a sealed TF_DATA payload (after its decoded header h and the raw 18 header
 * bytes). keys: the keys the receiver accepts (current and, during a re-key, the
 * previous epoch), n of them. Rejects a seq not above rp->last_seq before decrypting,
 * and updates it only after the tag verified. Plaintext goes to out (cap >= length).
 * Returns the plaintext length, or -1 (bad tag, replay, unknown epoch, malformed);
 * *why (when not NULL) names the reason for the log. *epoch_out: the key used. */
ssize_t vw_open_frame(const struct vw_key *const *keys, size_t n, struct vw_replay *rp,
		      const struct tframe_hdr *h, const uint8_t hdr_raw[TFRAME_HDR_LEN],
		      const uint8_t *payload, uint8_t *out, size_t cap, uint16_t *epoch_out,
		      const char **why);
#endif
