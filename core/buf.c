/* buf.c - bounds-checked byte reader and writer (see buf.h for the sticky-error rule). */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/secret.h"

void buf_reader_init(struct buf_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->off = 0;
	r->err = 0;
}

size_t buf_left(const struct buf_reader *r)
{
	return r->err ? 0 : r->len - r->off;
}

const uint8_t *buf_get_ptr(struct buf_reader *r, size_t n)
{
	if (r->err || n > r->len - r->off) {
		r->err = 1;
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

int buf_get_bytes(struct buf_reader *r, void *out, size_t n)
{
	const uint8_t *p = buf_get_ptr(r, n);
	if (!p) {
		if (n)
			memset(out, 0, n);
		return -1;
	}
	if (n)
		memcpy(out, p, n);
	return 0;
}

int buf_skip(struct buf_reader *r, size_t n)
{
	return buf_get_ptr(r, n) ? 0 : -1;
}

int buf_get_sub(struct buf_reader *r, size_t n, struct buf_reader *sub)
{
	const uint8_t *p = buf_get_ptr(r, n);
	buf_reader_init(sub, p, p ? n : 0);
	if (!p)
		sub->err = 1;
	return p ? 0 : -1;
}

static int get_be(struct buf_reader *r, size_t n, uint64_t *v)
{
	const uint8_t *p = buf_get_ptr(r, n);
	*v = 0;
	if (!p)
		return -1;
	for (size_t i = 0; i < n; i++)
		*v = (*v << 8) | p[i];
	return 0;
}

int buf_get_u8(struct buf_reader *r, uint8_t *v)
{
	uint64_t x;
	int rc = get_be(r, 1, &x);
	*v = (uint8_t)x;
	return rc;
}

int buf_get_u16(struct buf_reader *r, uint16_t *v)
{
	uint64_t x;
	int rc = get_be(r, 2, &x);
	*v = (uint16_t)x;
	return rc;
}

int buf_get_u32(struct buf_reader *r, uint32_t *v)
{
	uint64_t x;
	int rc = get_be(r, 4, &x);
	*v = (uint32_t)x;
	return rc;
}

int buf_get_u64(struct buf_reader *r, uint64_t *v)
{
	return get_be(r, 8, v);
}

void buf_writer_fixed(struct buf_writer *w, void *mem, size_t cap)
{
	w->p = mem;
	w->len = 0;
	w->cap = cap;
	w->max = cap;
	w->growable = 0;
	w->err = 0;
}

void buf_writer_growable(struct buf_writer *w, size_t max)
{
	w->p = NULL;
	w->len = 0;
	w->cap = 0;
	w->max = max;
	w->growable = 1;
	w->err = 0;
}

uint8_t *buf_put_space(struct buf_writer *w, size_t n)
{
	if (w->err || n > w->max - w->len) {
		w->err = 1;
		return NULL;
	}
	if (w->len + n > w->cap) {
		if (!w->growable) {
			w->err = 1;
			return NULL;
		}
		size_t ncap = w->cap ? w->cap : (w->max < 256 ? w->max : 256);
		while (ncap < w->len + n)
			ncap = ncap > w->max / 2 ? w->max : ncap * 2;
		/* Not realloc: the old block may hold secrets and must be wiped. */
		uint8_t *np = malloc(ncap);
		if (!np) {
			w->err = 1;
			return NULL;
		}
		if (w->len)
			memcpy(np, w->p, w->len);
		if (w->p) {
			secret_wipe(w->p, w->cap);
			free(w->p);
		}
		w->p = np;
		w->cap = ncap;
	}
	uint8_t *p = w->p + w->len;
	w->len += n;
	return p;
}

int buf_put_bytes(struct buf_writer *w, const void *p, size_t n)
{
	uint8_t *d = buf_put_space(w, n);
	if (!d)
		return -1;
	if (n)
		memcpy(d, p, n);
	return 0;
}

int buf_put_str(struct buf_writer *w, const char *s)
{
	return buf_put_bytes(w, s, strlen(s));
}

static int put_be(struct buf_writer *w, uint64_t v, size_t n)
{
	uint8_t *d = buf_put_space(w, n);
	if (!d)
		return -1;
	for (size_t i = 0; i < n; i++)
		d[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return 0;
}

int buf_put_u8(struct buf_writer *w, uint8_t v)
{
	return put_be(w, v, 1);
}

int buf_put_u16(struct buf_writer *w, uint16_t v)
{
	return put_be(w, v, 2);
}

int buf_put_u32(struct buf_writer *w, uint32_t v)
{
	return put_be(w, v, 4);
}

int buf_put_u64(struct buf_writer *w, uint64_t v)
{
	return put_be(w, v, 8);
}

void buf_writer_free(struct buf_writer *w)
{
	if (w->growable && w->p) {
		secret_wipe(w->p, w->cap);
		free(w->p);
	}
	w->p = NULL;
	w->len = w->cap = 0;
}
