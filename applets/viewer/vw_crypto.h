/* vw_crypto.h - the viewer's end-to-end crypto (docs/viewer-protocol.md, version 3): the
 * per-join secret J (RSA-OAEP key transport), the per-client keys derived from it (one
 * AEAD key per direction and the direct-path proof key), the short authentication
 * string, and AES-256-GCM sealing of TF_DATA payloads with the frame header as
 * associated data and replay/reorder rejection. Pure computation: no I/O. */
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
#define VW_OUT_KEY 0x02    /* master -> client, plaintext: N_m || J wrapped with RSA-OAEP */
#define VW_OUT_SEALED 0x03 /* anyone: epoch u16 || AES-GCM(ciphertext) || tag */
#define VW_OUT_BYE 0x04    /* master -> client, plaintext, before any key: why it is refused */
#define VW_SEAL_PREFIX 3   /* kind + epoch */
#define VW_JOIN_LEN 32     /* J: the per-join secret */
#define VW_NM_LEN 16       /* N_m: the master's nonce in KEY */
#define VW_NC_LEN 32       /* N_c: the client's nonce, committed in HELLO, revealed after KEY */
#define VW_SEAL_OVERHEAD (VW_SEAL_PREFIX + VW_TAG_LEN)

struct cry_aead;
struct cry_rsa;

/* An AES-256-GCM key (a per-client direction key, or a group key epoch). Owned by its
 * holder; vw_key_clear wipes it. */
struct vw_key {
	int set;
	uint16_t epoch;
	uint8_t k[VW_KEY_LEN];
	struct cry_aead *aead;
};

/* k NULL: a fresh random key from the CSPRNG. */
int vw_key_init(struct vw_key *key, uint16_t epoch, const uint8_t *k);
void vw_key_clear(struct vw_key *key);

/* Wraps the per-join secret j for the holder of the RSA public key spki (DER
 * SubjectPublicKeyInfo, 2048..8192 bits). Returns the ciphertext length. */
ssize_t vw_join_wrap(const uint8_t j[VW_JOIN_LEN], const uint8_t *spki, size_t spki_len,
		     uint8_t *out, size_t cap);
/* Unwraps with the client's private key; j is wiped on failure. */
int vw_join_unwrap(uint8_t j[VW_JOIN_LEN], struct cry_rsa *priv, const uint8_t *in, size_t len);

/* What binds a join: the session, the client's id, SHA-256 of the client SPKI each side
 * saw, and the master's nonce from KEY. */
struct vw_bind {
	uint32_t session;
	uint16_t id;
	uint8_t spki_hash[32];
	uint8_t nm[VW_NM_LEN];
};
int vw_bind_init(struct vw_bind *b, uint32_t session, uint16_t id, const uint8_t *spki,
		 size_t spki_len, const uint8_t nm[VW_NM_LEN]);

/* The keys of one client's link with the master, derived from J alone (HKDF-SHA256,
 * salt "sealbox-client-v3", info = label 0x00 || bind): m2c seals what the master sends
 * that client, c2m what the client sends the master, direct keys the LAN proof. Nobody
 * but that client and the master can derive them. */
struct vw_link {
	struct vw_key m2c, c2m;
	uint8_t direct[VW_KEY_LEN];
};
int vw_link_derive(struct vw_link *l, const uint8_t j[VW_JOIN_LEN], const struct vw_bind *b);
void vw_link_clear(struct vw_link *l);

/* The 8-digit SAS (NUL-terminated): HKDF-SHA256(J, salt "sealbox-sas-v3",
 * info = bind || N_c, 8 bytes) as u64 mod 10^8. */
int vw_sas(const uint8_t j[VW_JOIN_LEN], const struct vw_bind *b, const uint8_t nc[VW_NC_LEN],
	   char out[VW_SAS_DIGITS + 1]);

/* The group keys, for what every approved member shares (only the file drop):
 * g[0] is the current epoch, then older ones (a new member can read older drops), at
 * most VW_GROUP_KEEP; name_key names drop objects and stays for the session. A new epoch
 * is made whenever a member leaves, is kicked or a join is refused. */
#define VW_GROUP_KEEP 64
struct vw_group {
	int n;
	struct vw_key g[VW_GROUP_KEEP];
	uint8_t name_key[VW_KEY_LEN];
};
/* Adds a new current epoch (k NULL: random), forgetting (wiping) the oldest if full. */
int vw_group_push(struct vw_group *gr, uint16_t epoch, const uint8_t *k);
void vw_group_clear(struct vw_group *gr);
/* APPROVE's key block: u8 n || n x (u16 epoch || 32-byte key), newest first || name key. */
ssize_t vw_group_encode(const struct vw_group *gr, uint8_t *out, size_t cap);
/* Parses that block at the start of p into gr; returns the bytes it took or -1. */
ssize_t vw_group_decode(struct vw_group *gr, const uint8_t *p, size_t len);

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
