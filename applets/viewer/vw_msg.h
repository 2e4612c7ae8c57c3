/* vw_msg.h - the viewer's messages inside a sealed TF_DATA payload, and the two
 * plaintext key-exchange payloads (docs/viewer-protocol.md). Parsers read untrusted
 * bytes through core/buf.h and are fuzzed (tests/fuzz/fuzz_vw_msg.c). */
#ifndef VW_MSG_H
#define VW_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VW_MSG_HDR 18          /* type u8, chan u32, a u8, b u32, c u64 */
#define VW_CHUNK (32 * 1024)   /* largest data bytes in one message */
#define VW_MSG_MAX (VW_MSG_HDR + VW_CHUNK + 1024)
#define VW_MAX_ARGS 64
#define VW_WINDOW (256 * 1024) /* initial per-channel credit */
#define VW_VERSION 3 /* 3: per-join secret, per-client keys (2: GMAC check, 1: SHA-256) */
#define VW_STREAM_ZEROS 2
#define VW_HOLE_MAX (64ULL * 1024 * 1024) /* per message, so loops stay responsive */

enum vw_msg_type {
	VW_M_APPROVE = 0x01,   /* b = permission bits; data = group keys (vw_group_encode),
	                          then exposed names, "\n"-separated */
	VW_M_REFUSE = 0x02,    /* data = reason */
	VW_M_REKEY = 0x03,     /* b = new group epoch; data = the new group key (32) */
	VW_M_REVEAL = 0x04,    /* client -> master after KEY: data = N_c (its HELLO commitment) */
	VW_M_OPEN = 0x10,      /* a = kind, b = window; data = args (u16 len + bytes)... */
	VW_M_OPEN_OK = 0x11,   /* b = window, c = size (get) */
	VW_M_OPEN_FAIL = 0x12, /* a = exit code for the client (77, 66, 69...), data = why */
	VW_M_DATA = 0x13,      /* a = stream (0 main/stdout, 1 stderr), data; a = 2: c zero
	                          bytes (a hole in a sparse file), no data, no credit */
	VW_M_WINDOW = 0x14,    /* b = credit granted */
	VW_M_EOF = 0x15,       /* a = stream; data = SHA-256 of the stream (files) or empty */
	VW_M_EXIT = 0x16,      /* b = status (exec exit code; files 0 ok), data = message */
	VW_M_RESIZE = 0x17,    /* b = rows << 16 | cols */
	VW_M_CLOSE = 0x18,     /* abort the channel */
};

enum vw_kind { VW_K_EXEC = 1, VW_K_SHELL, VW_K_LS, VW_K_GET, VW_K_PUT, VW_K_FORWARD, VW_K_WATCH };

/* Permission bits in APPROVE. */
#define VW_P_EXEC 0x01
#define VW_P_SHELL 0x02
#define VW_P_FILES 0x04
#define VW_P_FORWARD 0x08
#define VW_P_WATCH 0x10

/* What both sides know of a channel kind: its command name and the APPROVE permission
 * it needs. The master's table of what opening each kind does is vw_mopen.c's. */
struct vw_kind_info {
	uint8_t kind;
	const char *name;
	uint32_t perm;
};
/* NULL for a kind this version does not know. */
const struct vw_kind_info *vw_kind_info(uint8_t kind);

struct vw_msg {
	uint8_t type;
	uint32_t chan;
	uint8_t a;
	uint32_t b;
	uint64_t c;
	const uint8_t *data; /* points into the parsed buffer */
	size_t len;
};

/* Flow control, the same on both sides: a WINDOW message adds credit, never beyond
 * four windows (a peer cannot make us buffer more); what was consumed is granted back
 * once half a window of it piled up (vw_credit_due: the grant, 0 when not yet). */
void vw_credit_add(uint32_t *credit, uint32_t b);
uint32_t vw_credit_due(uint32_t *consumed);

/* Encodes into out; returns the length or -1 when it does not fit. */
ssize_t vw_msg_encode(const struct vw_msg *m, uint8_t *out, size_t cap);
/* Parses one message (the whole plaintext). -1 when malformed or of unknown type. */
int vw_msg_parse(struct vw_msg *m, const uint8_t *p, size_t len);

/* OPEN arguments: each u16 length + bytes, no NUL inside. Copies them NUL-terminated
 * into store (cap bytes) with argv pointing into it. Returns argc or -1. */
int vw_msg_args(const struct vw_msg *m, char *store, size_t cap, char **argv, int max);
/* Appends one argument to an OPEN payload being built. */
int vw_msg_add_arg(uint8_t *buf, size_t cap, size_t *len, const char *arg);

/* The transfer check of get/put (docs/viewer-protocol.md, "Transfer check"): GMAC
 * (AES-256-GCM with the records as AAD, no plaintext, nonce 12 zero bytes) under a fresh
 * random key the client puts into each OPEN, over one record per DATA message: 'D' u32
 * length + the bytes, or 'Z' u64 count for a hole. Sender and receiver feed the same
 * records, so equal tags mean the receiver wrote exactly what the sender read. GHASH runs
 * at ~2 GB/s here against ~0.4 GB/s for SHA-256 (which once took half of a transfer's
 * CPU), and holes cost nothing, so a sparse 5 GiB image is checked in no time. */
#define VW_CHECK_KEY_LEN 32
#define VW_CHECK_LEN 16
struct cry_gcm_stream;
struct cry_gcm_stream *vw_check_new(const uint8_t key[VW_CHECK_KEY_LEN]);
int vw_check_data(struct cry_gcm_stream *g, const void *p, size_t n);
int vw_check_zeros(struct cry_gcm_stream *g, uint64_t n);
/* Writes the tag and frees g (also on failure). */
int vw_check_final(struct cry_gcm_stream *g, uint8_t tag[VW_CHECK_LEN]);
/* The key travels as one OPEN argument: 64 lowercase hex digits. */
void vw_check_key_hex(const uint8_t key[VW_CHECK_KEY_LEN], char out[2 * VW_CHECK_KEY_LEN + 1]);
int vw_check_key_parse(const char *hex, uint8_t key[VW_CHECK_KEY_LEN]);

/* Where the data of a possibly sparse file goes on: reading a file at off, the hole that
 * starts there (vw_hole_at) and, when none does, how far data is known to go on, so
 * only one SEEK_DATA/SEEK_HOLE pair is spent per data region instead of per chunk. */
struct vw_sparse {
	uint64_t data_end; /* bytes below this, from the last query on, are data */
};
/* The hole at offset off of a file of the given size: its length (0 when data
 * follows at off). Read the data with pread: the file offset is not kept. */
uint64_t vw_hole_at(int fd, struct vw_sparse *sp, uint64_t off, uint64_t size);

/* HELLO: kind, version u8, SHA-256(N_c) (32), SPKI DER; *version is what the peer
 * sent (-1 if too short), also when parsing fails. KEY: kind, N_m (16), wrapped J. */
ssize_t vw_hello_encode(const uint8_t commit[32], const uint8_t *spki, size_t len, uint8_t *out,
			size_t cap);
int vw_hello_parse(const uint8_t *p, size_t len, int *version, const uint8_t **commit,
		   const uint8_t **spki, size_t *spki_len);
ssize_t vw_keymsg_encode(const uint8_t nm[16], const uint8_t *wrapped, size_t len, uint8_t *out,
			 size_t cap);
int vw_keymsg_parse(const uint8_t *p, size_t len, const uint8_t **nm, const uint8_t **wrapped,
		    size_t *wlen);
#endif
