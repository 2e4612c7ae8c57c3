/* tframe.h - the tunnel wire format shared by tunneld and viewer (docs/tunnel-protocol.md).
 *
 * Every frame is an 18-byte plaintext header followed by `length` payload bytes:
 *   u8  version   TFRAME_VERSION
 *   u8  type      enum tframe_type
 *   u16 source    sender's participant id (0 relay, 1 master, 2.. clients)
 *   u16 target    receiver (0 relay, 1 master, 2.. clients, 0xffff all clients)
 *   u32 seq       sender's packet number (per sender, strictly increasing)
 *   u32 ack       highest seq the sender has received from target
 *   u32 length    payload bytes (<= the negotiated maximum)
 * all big-endian. Control frames (to/from the relay) carry "key=value\n" text;
 * TF_DATA payloads are end-to-end encrypted and opaque to the relay, which binds the
 * header as AEAD associated data so it cannot alter it unnoticed. */
#ifndef CORE_TFRAME_H
#define CORE_TFRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TFRAME_VERSION 1
#define TFRAME_HDR_LEN 18
#define TFRAME_MAX_PAYLOAD (256 * 1024) /* hard ceiling; config may lower it */
#define TF_ID_RELAY 0
#define TF_ID_MASTER 1
#define TF_ID_FIRST_CLIENT 2
#define TF_ID_ALL 0xffff

enum tframe_type {
	TF_REGISTER = 0x01,   /* master -> relay: open a session */
	TF_REGISTERED = 0x02, /* relay -> master: session=NNNNN id=1 token=... */
	TF_JOIN = 0x03,       /* client -> relay: session=NNNNN */
	TF_JOINED = 0x04,     /* relay -> client: id=N token=... lan=... */
	TF_PEER_JOINED = 0x05,/* relay -> master: id=N addr=... */
	TF_PEER_LEFT = 0x06,  /* relay -> participants: id=N reason=... */
	TF_KICK = 0x07,       /* master -> relay: id=N */
	TF_END = 0x08,        /* master -> relay: end the session */
	TF_ERROR = 0x09,      /* relay -> any: code=... msg=... */
	TF_PING = 0x0a,
	TF_PONG = 0x0b,
	TF_RESUME = 0x0c,     /* reconnect after a dropped relay link: session= id= token= */
	TF_DROP = 0x0d,       /* file drop requests and answers (op=put|get|ls|data|end ...) */
	TF_REDIRECT = 0x0e,   /* relay -> participant: ask that relay instead: relay= tcp= https= http= */
	TF_DATA = 0x10,       /* end-to-end payload, relayed source -> target */
};

struct tframe_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t source;
	uint16_t target;
	uint32_t seq;
	uint32_t ack;
	uint32_t length;
};

void tframe_hdr_encode(const struct tframe_hdr *h, uint8_t out[TFRAME_HDR_LEN]);
/* Checks version and length <= max_payload; -1 on anything else. */
int tframe_hdr_decode(const uint8_t *in, size_t len, size_t max_payload, struct tframe_hdr *h);
const char *tframe_type_name(uint8_t type);

/* Control payloads: lines "key=value" (key [a-z0-9_-]{1,32}, value printable, no NUL,
 * at most TFCTL_MAX_PAIRS pairs). Parsed in place into pointers of a copy it owns. */
#define TFCTL_MAX_PAIRS 32
#define TFCTL_MAX_LEN 4096
struct tfctl {
	char buf[TFCTL_MAX_LEN + 1];
	size_t n;
	const char *key[TFCTL_MAX_PAIRS];
	const char *val[TFCTL_MAX_PAIRS];
};
int tfctl_parse(struct tfctl *c, const uint8_t *payload, size_t len);
const char *tfctl_get(const struct tfctl *c, const char *key); /* NULL if absent */
/* Appends "key=value\n" to out (cap bytes, *len in/out); -1 if it does not fit or the
 * key/value is not allowed. */
int tfctl_add(char *out, size_t cap, size_t *len, const char *key, const char *value);

/* DROP payloads (docs/tunnel-protocol.md 3.3): u16 ctl_len, control text, raw data.
 * tfdrop_parse fills c from the control part and points *data into payload (the
 * caller's memory) for the rest; -1 on a bad length or bad control text. */
int tfdrop_parse(struct tfctl *c, const uint8_t *payload, size_t len, const uint8_t **data,
		 size_t *datalen);
/* Writes u16 ctl_len + ctl into out (cap bytes); returns the bytes written (the raw data,
 * if any, is appended by the caller) or -1 if it does not fit. */
ssize_t tfdrop_encode_head(uint8_t *out, size_t cap, const char *ctl, size_t ctllen);
#endif
