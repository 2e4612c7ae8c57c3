/* buf.h - bounds-checked reading and writing of bytes. Every parser of untrusted input
 * reads through a buf_reader. Errors are sticky: after the first short read every further
 * read fails and returns zeros, so a parser can read a whole header and check once. */
#ifndef CORE_BUF_H
#define CORE_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct buf_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err;
};

void buf_reader_init(struct buf_reader *r, const void *p, size_t len);
size_t buf_left(const struct buf_reader *r);
int buf_get_u8(struct buf_reader *r, uint8_t *v);
int buf_get_u16(struct buf_reader *r, uint16_t *v); /* big-endian */
int buf_get_u32(struct buf_reader *r, uint32_t *v); /* big-endian */
int buf_get_u64(struct buf_reader *r, uint64_t *v); /* big-endian */
int buf_get_bytes(struct buf_reader *r, void *out, size_t n);
/* Returns a pointer into the reader's memory for n bytes, or NULL if fewer are left. */
const uint8_t *buf_get_ptr(struct buf_reader *r, size_t n);
int buf_skip(struct buf_reader *r, size_t n);
/* Splits off a sub-reader of n bytes (for length-prefixed fields). */
int buf_get_sub(struct buf_reader *r, size_t n, struct buf_reader *sub);

/* A writer over caller memory (fixed) or its own heap memory (growable up to max). */
struct buf_writer {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max;   /* growable writers never exceed this */
	int growable;
	int err;
};

void buf_writer_fixed(struct buf_writer *w, void *mem, size_t cap);
void buf_writer_growable(struct buf_writer *w, size_t max);
int buf_put_u8(struct buf_writer *w, uint8_t v);
int buf_put_u16(struct buf_writer *w, uint16_t v);
int buf_put_u32(struct buf_writer *w, uint32_t v);
int buf_put_u64(struct buf_writer *w, uint64_t v);
int buf_put_bytes(struct buf_writer *w, const void *p, size_t n);
int buf_put_str(struct buf_writer *w, const char *s);
/* Reserves n bytes and returns where to write them (NULL on overflow). */
uint8_t *buf_put_space(struct buf_writer *w, size_t n);
/* Growable writers: wipes and frees the memory. */
void buf_writer_free(struct buf_writer *w);
#endif
