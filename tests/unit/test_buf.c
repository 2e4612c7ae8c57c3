/* Unit tests for core/buf.c: bounds, sticky errors, big-endian, growth limits. */
#include <stdlib.h>

#include "core/buf.h"
#include "unit.h"

static void reader_reads_big_endian(void)
{
	const uint8_t d[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	struct buf_reader r;
	uint8_t a; uint16_t b; uint32_t c; uint64_t e;

	buf_reader_init(&r, d, sizeof(d));
	CHECK(buf_get_u8(&r, &a) == 0 && a == 1);
	CHECK(buf_get_u16(&r, &b) == 0 && b == 0x0203);
	CHECK(buf_get_u32(&r, &c) == 0 && c == 0x04050607);
	CHECK(buf_get_u64(&r, &e) == 0 && e == 0x08090a0b0c0d0e0fULL);
	CHECK_EQ(buf_left(&r), 0);
}

static void short_read_is_sticky(void)
{
	const uint8_t d[] = { 1, 2, 3 };
	struct buf_reader r;
	uint32_t v = 99;
	uint8_t u = 7;

	buf_reader_init(&r, d, sizeof(d));
	CHECK(buf_get_u32(&r, &v) < 0);
	CHECK_EQ(v, 0);
	/* One byte would be there, but the reader is already in error. */
	CHECK(buf_get_u8(&r, &u) < 0);
	CHECK_EQ(u, 0);
	CHECK(r.err);
	CHECK_EQ(buf_left(&r), 0);
}

static void huge_length_does_not_wrap(void)
{
	const uint8_t d[8] = { 0 };
	struct buf_reader r, sub;

	buf_reader_init(&r, d, sizeof(d));
	CHECK(buf_skip(&r, 4) == 0);
	CHECK(buf_get_ptr(&r, SIZE_MAX) == NULL);
	buf_reader_init(&r, d, sizeof(d));
	CHECK(buf_get_sub(&r, 9, &sub) < 0);
	CHECK(sub.err);
	buf_reader_init(&r, d, sizeof(d));
	CHECK(buf_get_sub(&r, 8, &sub) == 0 && buf_left(&sub) == 8 && buf_left(&r) == 0);
}

static void fixed_writer_refuses_overflow(void)
{
	uint8_t mem[5];
	struct buf_writer w;

	buf_writer_fixed(&w, mem, sizeof(mem));
	CHECK(buf_put_u32(&w, 0xdeadbeef) == 0);
	CHECK(buf_put_u16(&w, 1) < 0);
	CHECK(buf_put_u8(&w, 1) < 0);   /* sticky */
	CHECK_EQ(w.len, 4);
	CHECK(mem[0] == 0xde && mem[3] == 0xef);
}

static void growable_writer_stops_at_max(void)
{
	struct buf_writer w;
	uint8_t block[100] = { 0 };

	buf_writer_growable(&w, 1000);
	for (int i = 0; i < 10; i++)
		CHECK(buf_put_bytes(&w, block, sizeof(block)) == 0);
	CHECK_EQ(w.len, 1000);
	CHECK(buf_put_u8(&w, 1) < 0);
	buf_writer_free(&w);
	CHECK(w.p == NULL);

	buf_writer_growable(&w, 10);
	CHECK(buf_put_str(&w, "0123456789") == 0);
	CHECK(buf_put_str(&w, "x") < 0);
	buf_writer_free(&w);
}

UNIT_SUITE(buf, UNIT_TEST(reader_reads_big_endian), UNIT_TEST(short_read_is_sticky),
	   UNIT_TEST(huge_length_does_not_wrap), UNIT_TEST(fixed_writer_refuses_overflow),
	   UNIT_TEST(growable_writer_stops_at_max));
