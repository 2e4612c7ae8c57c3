/* tframe.c - encoding and strict decoding of tunnel frames and control payloads. Both
 * parsers see bytes from the network first; they go through buf_ and are fuzzed. */
#include <string.h>

#include "core/buf.h"
#include "core/tframe.h"

void tframe_hdr_encode(const struct tframe_hdr *h, uint8_t out[TFRAME_HDR_LEN])
{
	struct buf_writer w;
	buf_writer_fixed(&w, out, TFRAME_HDR_LEN);
	buf_put_u8(&w, h->version);
	buf_put_u8(&w, h->type);
	buf_put_u16(&w, h->source);
	buf_put_u16(&w, h->target);
	buf_put_u32(&w, h->seq);
	buf_put_u32(&w, h->ack);
	buf_put_u32(&w, h->length);
}

int tframe_hdr_decode(const uint8_t *in, size_t len, size_t max_payload, struct tframe_hdr *h)
{
	struct buf_reader r;
	buf_reader_init(&r, in, len);
	buf_get_u8(&r, &h->version);
	buf_get_u8(&r, &h->type);
	buf_get_u16(&r, &h->source);
	buf_get_u16(&r, &h->target);
	buf_get_u32(&r, &h->seq);
	buf_get_u32(&r, &h->ack);
	buf_get_u32(&r, &h->length);
	if (r.err || h->version != TFRAME_VERSION)
		return -1;
	if (max_payload > TFRAME_MAX_PAYLOAD)
		max_payload = TFRAME_MAX_PAYLOAD;
	if (h->length > max_payload)
		return -1;
	return 0;
}

const char *tframe_type_name(uint8_t type)
{
	switch (type) {
	case TF_REGISTER: return "register";
	case TF_REGISTERED: return "registered";
	case TF_JOIN: return "join";
	case TF_JOINED: return "joined";
	case TF_PEER_JOINED: return "peer-joined";
	case TF_PEER_LEFT: return "peer-left";
	case TF_KICK: return "kick";
	case TF_END: return "end";
	case TF_ERROR: return "error";
	case TF_PING: return "ping";
	case TF_PONG: return "pong";
	case TF_RESUME: return "resume";
	case TF_DROP: return "drop";
	case TF_REDIRECT: return "redirect";
	case TF_DATA: return "data";
	default: return "unknown";
	}
}

static int key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int value_ok(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return 0;
	return 1;
}

int tfctl_parse(struct tfctl *c, const uint8_t *payload, size_t len)
{
	c->n = 0;
	if (len > TFCTL_MAX_LEN)
		return -1;
	memcpy(c->buf, payload, len);
	c->buf[len] = '\0';
	if (memchr(c->buf, '\0', len))
		return -1;
	char *p = c->buf, *end = c->buf + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return -1;  /* every pair ends with a newline */
		*nl = '\0';
		char *eq = strchr(p, '=');
		if (!eq || eq == p || eq - p > 32 || c->n == TFCTL_MAX_PAIRS)
			return -1;
		*eq = '\0';
		for (char *k = p; *k; k++)
			if (!key_char(*k))
				return -1;
		if (!value_ok(eq + 1, strlen(eq + 1)) || tfctl_get(c, p))
			return -1;  /* control chars, or a duplicate key */
		c->key[c->n] = p;
		c->val[c->n] = eq + 1;
		c->n++;
		p = nl + 1;
	}
	return 0;
}

const char *tfctl_get(const struct tfctl *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->key[i], key) == 0)
			return c->val[i];
	return NULL;
}

int tfctl_add(char *out, size_t cap, size_t *len, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);
	if (kl == 0 || kl > 32 || !value_ok(value, vl))
		return -1;
	for (size_t i = 0; i < kl; i++)
		if (!key_char(key[i]))
			return -1;
	if (*len + kl + vl + 2 > cap)
		return -1;
	memcpy(out + *len, key, kl);
	out[*len + kl] = '=';
	memcpy(out + *len + kl + 1, value, vl);
	out[*len + kl + 1 + vl] = '\n';
	*len += kl + vl + 2;
	return 0;
}

int tfdrop_parse(struct tfctl *c, const uint8_t *payload, size_t len, const uint8_t **data,
		 size_t *datalen)
{
	struct buf_reader r;
	uint16_t n;
	const uint8_t *ctl;

	c->n = 0;
	buf_reader_init(&r, payload, len);
	if (buf_get_u16(&r, &n) < 0 || !(ctl = buf_get_ptr(&r, n)))
		return -1;
	if (tfctl_parse(c, ctl, n) < 0)
		return -1;
	*data = payload + r.off;
	*datalen = buf_left(&r);
	return 0;
}

ssize_t tfdrop_encode_head(uint8_t *out, size_t cap, const char *ctl, size_t ctllen)
{
	if (ctllen > TFCTL_MAX_LEN || cap < 2 || ctllen > cap - 2)
		return -1;
	out[0] = (uint8_t)(ctllen >> 8);
	out[1] = (uint8_t)ctllen;
	memcpy(out + 2, ctl, ctllen);
	return (ssize_t)(ctllen + 2);
}
