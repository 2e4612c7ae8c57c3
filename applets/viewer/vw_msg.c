/* vw_msg.c - encoding and strict parsing of the viewer's inner messages. Even though
 * these arrive authenticated, a client can be hostile to the master (and the other way
 * round), so every length is checked. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "crypto/crypto.h"
#include "applets/viewer/vw_crypto.h"
#include "applets/viewer/vw_msg.h"

ssize_t vw_msg_encode(const struct vw_msg *m, uint8_t *out, size_t cap)
{
	struct buf_writer w;

	buf_writer_fixed(&w, out, cap);
	buf_put_u8(&w, m->type);
	buf_put_u32(&w, m->chan);
	buf_put_u8(&w, m->a);
	buf_put_u32(&w, m->b);
	buf_put_u64(&w, m->c);
	if (m->len)
		buf_put_bytes(&w, m->data, m->len);
	return w.err ? -1 : (ssize_t)w.len;
}

static int known_type(uint8_t t)
{
	return (t >= VW_M_APPROVE && t <= VW_M_REVEAL) || (t >= VW_M_OPEN && t <= VW_M_CLOSE);
}

int vw_msg_parse(struct vw_msg *m, const uint8_t *p, size_t len)
{
	struct buf_reader r;

	memset(m, 0, sizeof(*m));
	buf_reader_init(&r, p, len);
	buf_get_u8(&r, &m->type);
	buf_get_u32(&r, &m->chan);
	buf_get_u8(&r, &m->a);
	buf_get_u32(&r, &m->b);
	buf_get_u64(&r, &m->c);
	if (r.err || !known_type(m->type))
		return -1;
	m->len = buf_left(&r);
	m->data = m->len ? buf_get_ptr(&r, m->len) : NULL;
	if (m->len > VW_CHUNK + 1024)
		return -1;
	if (m->type == VW_M_EOF && m->len != 0 && m->len != VW_CHECK_LEN)
		return -1;
	if (m->type == VW_M_DATA && (m->a > VW_STREAM_ZEROS || (m->a == VW_STREAM_ZEROS && m->len) ||
				     (m->a != VW_STREAM_ZEROS && m->c)))
		return -1;
	return 0;
}

int vw_msg_args(const struct vw_msg *m, char *store, size_t cap, char **argv, int max)
{
	struct buf_reader r;
	size_t used = 0;
	int argc = 0;

	buf_reader_init(&r, m->data, m->len);
	while (buf_left(&r)) {
		uint16_t n;
		const uint8_t *s;

		if (buf_get_u16(&r, &n) < 0 || !(s = buf_get_ptr(&r, n)) || argc >= max - 1 ||
		    used + n + 1 > cap || memchr(s, 0, n))
			return -1;
		memcpy(store + used, s, n);
		store[used + n] = '\0';
		argv[argc++] = store + used;
		used += n + 1;
	}
	argv[argc] = NULL;
	return argc;
}

int vw_msg_add_arg(uint8_t *buf, size_t cap, size_t *len, const char *arg)
{
	size_t n = strlen(arg);

	if (n > 0xffff || *len + 2 + n > cap)
		return -1;
	buf[*len] = (uint8_t)(n >> 8);
	buf[*len + 1] = (uint8_t)n;
	memcpy(buf + *len + 2, arg, n);
	*len += 2 + n;
	return 0;
}

ssize_t vw_hello_encode(const uint8_t commit[32], const uint8_t *spki, size_t len, uint8_t *out,
			size_t cap)
{
	if (len + 2 + 32 > cap)
		return -1;
	out[0] = VW_OUT_HELLO;
	out[1] = VW_VERSION;
	memcpy(out + 2, commit, 32);
	memcpy(out + 34, spki, len);
	return (ssize_t)(len + 34);
}

int vw_hello_parse(const uint8_t *p, size_t len, int *version, const uint8_t **commit,
		   const uint8_t **spki, size_t *spki_len)
{
	*version = len >= 2 ? p[1] : -1;
	/* an RSA-2048..8192 SPKI is 294..1062 bytes; refuse anything far outside */
	if (len < 34 + 64 || len > 34 + 2048 || p[0] != VW_OUT_HELLO || p[1] != VW_VERSION)
		return -1;
	*commit = p + 2;
	*spki = p + 34;
	*spki_len = len - 34;
	return 0;
}

ssize_t vw_keymsg_encode(const uint8_t nm[16], const uint8_t *wrapped, size_t len, uint8_t *out,
			 size_t cap)
{
	if (len + 17 > cap)
		return -1;
	out[0] = VW_OUT_KEY;
	memcpy(out + 1, nm, 16);
	memcpy(out + 17, wrapped, len);
	return (ssize_t)(len + 17);
}

int vw_keymsg_parse(const uint8_t *p, size_t len, const uint8_t **nm, const uint8_t **wrapped,
		    size_t *wlen)
{
	if (len < 17 + 256 || len > 17 + 1024 || p[0] != VW_OUT_KEY)
		return -1;
	*nm = p + 1;
	*wrapped = p + 17;
	*wlen = len - 17;
	return 0;
}

struct cry_gcm_stream *vw_check_new(const uint8_t key[VW_CHECK_KEY_LEN])
{
	static const uint8_t zero_nonce[CRY_GCM_NONCE_LEN]; /* the key is used once */

	return cry_gcm_stream_new(key, zero_nonce, sizeof(zero_nonce), 1);
}

int vw_check_data(struct cry_gcm_stream *g, const void *p, size_t n)
{
	uint8_t rec[5] = { 'D', (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };

	if (n > UINT32_MAX)
		return -1;
	return cry_gcm_stream_aad(g, rec, sizeof(rec)) < 0 || cry_gcm_stream_aad(g, p, n) < 0 ? -1 : 0;
}

int vw_check_zeros(struct cry_gcm_stream *g, uint64_t n)
{
	uint8_t rec[9] = { 'Z' };

	for (int i = 0; i < 8; i++)
		rec[1 + i] = (uint8_t)(n >> (56 - 8 * i));
	return cry_gcm_stream_aad(g, rec, sizeof(rec));
}

int vw_check_final(struct cry_gcm_stream *g, uint8_t tag[VW_CHECK_LEN])
{
	int rc = cry_gcm_stream_final(g, tag);

	cry_gcm_stream_free(g);
	return rc;
}

void vw_check_key_hex(const uint8_t key[VW_CHECK_KEY_LEN], char out[2 * VW_CHECK_KEY_LEN + 1])
{
	hex_encode(key, VW_CHECK_KEY_LEN, out, 2 * VW_CHECK_KEY_LEN + 1, 0);
}

int vw_check_key_parse(const char *hex, uint8_t key[VW_CHECK_KEY_LEN])
{
	if (strlen(hex) != 2 * VW_CHECK_KEY_LEN)
		return -1;
	return hex_decode(hex, 2 * VW_CHECK_KEY_LEN, key, VW_CHECK_KEY_LEN) == VW_CHECK_KEY_LEN ? 0 : -1;
}

uint64_t vw_hole_at(int fd, struct vw_sparse *sp, uint64_t off, uint64_t size)
{
	off_t d, h;

	if (off >= size || off < sp->data_end)
		return 0;
	d = lseek(fd, (off_t)off, SEEK_DATA);
	if (d < 0)
		return errno == ENXIO ? size - off : 0; /* ENXIO: only a hole up to the end */
	if ((uint64_t)d > off)
		return ((uint64_t)d > size ? size : (uint64_t)d) - off;
	/* data at off: it goes on up to the next hole (the end of the file at the latest) */
	h = lseek(fd, (off_t)off, SEEK_HOLE);
	sp->data_end = h > (off_t)off ? (uint64_t)h : off + 1;
	return 0;
}

const struct vw_kind_info *vw_kind_info(uint8_t kind)
{
	static const struct vw_kind_info kinds[] = {
		{ VW_K_EXEC, "exec", VW_P_EXEC },
		{ VW_K_SHELL, "shell", VW_P_SHELL },
		{ VW_K_LS, "ls", VW_P_FILES },
		{ VW_K_GET, "get", VW_P_FILES },
		{ VW_K_PUT, "put", VW_P_FILES },
		{ VW_K_FORWARD, "forward", VW_P_FORWARD },
		{ VW_K_WATCH, "watch", VW_P_WATCH },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == kind)
			return &kinds[i];
	return NULL;
}

void vw_credit_add(uint32_t *credit, uint32_t b)
{
	if ((uint64_t)*credit + b <= VW_WINDOW * 4)
		*credit += b;
}

uint32_t vw_credit_due(uint32_t *consumed)
{
	uint32_t grant = *consumed;

	if (grant < VW_WINDOW / 2)
		return 0;
	*consumed = 0;
	return grant;
}
