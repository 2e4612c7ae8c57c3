/* der.c - minimal DER reading and writing for the PBES2 container (pkcs8.c, pbes2.c).
 * All reads go through core/buf.h so a short or hostile input can only fail. */
#include <string.h>

#include "core/buf.h"
#include "crypto/internal.h"

int cry_der_peek(const struct buf_reader *r)
{
	if (r->err || buf_left(r) == 0)
		return -1;
	return r->p[r->off];
}

int cry_der_get(struct buf_reader *r, uint8_t tag, struct buf_reader *sub)
{
	uint8_t t, l;
	size_t len;

	if (buf_get_u8(r, &t) < 0 || t != tag || buf_get_u8(r, &l) < 0)
		return -1;
	if (l < 0x80) {
		len = l;
	} else {
		unsigned nb = l & 0x7f;
		if (nb == 0 || nb > 4) /* indefinite or absurd lengths */
			return -1;
		len = 0;
		for (unsigned i = 0; i < nb; i++) {
			uint8_t b;
			if (buf_get_u8(r, &b) < 0)
				return -1;
			len = (len << 8) | b;
		}
		if (len < 0x80) /* DER: long form only when needed */
			return -1;
	}
	return buf_get_sub(r, len, sub);
}

int cry_der_get_oid(struct buf_reader *r, const uint8_t **oid, size_t *oidlen)
{
	struct buf_reader o;

	if (cry_der_get(r, DER_OID, &o) < 0 || buf_left(&o) == 0)
		return -1;
	*oidlen = buf_left(&o);
	*oid = buf_get_ptr(&o, *oidlen);
	return *oid ? 0 : -1;
}

size_t cry_der_hdr_len(size_t len)
{
	if (len < 0x80)
		return 2;
	if (len < 0x100)
		return 3;
	if (len < 0x10000)
		return 4;
	if (len < 0x1000000)
		return 5;
	return 6;
}

int cry_der_put_hdr(struct buf_writer *w, uint8_t tag, size_t len)
{
	size_t hl = cry_der_hdr_len(len);

	if (len > UINT32_MAX || buf_put_u8(w, tag) < 0)
		return -1;
	if (hl == 2)
		return buf_put_u8(w, (uint8_t)len);
	if (buf_put_u8(w, (uint8_t)(0x80 | (hl - 2))) < 0)
		return -1;
	for (size_t i = hl - 2; i > 0; i--)
		if (buf_put_u8(w, (uint8_t)(len >> (8 * (i - 1)))) < 0)
			return -1;
	return 0;
}
