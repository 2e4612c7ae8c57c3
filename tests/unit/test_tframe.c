/* Unit tests for core/tframe.c: header round trip, limits, control payload strictness. */
#include "core/tframe.h"
#include "unit.h"

static void header_roundtrip(void)
{
	struct tframe_hdr h = { TFRAME_VERSION, TF_DATA, 2, 1, 0x01020304, 7, 1000 }, g;
	uint8_t b[TFRAME_HDR_LEN];

	tframe_hdr_encode(&h, b);
	CHECK(b[0] == 1 && b[1] == TF_DATA && b[2] == 0 && b[3] == 2 && b[6] == 1 && b[9] == 4);
	CHECK(tframe_hdr_decode(b, sizeof(b), 4096, &g) == 0);
	CHECK(g.type == TF_DATA && g.source == 2 && g.target == 1 && g.seq == 0x01020304 &&
	      g.ack == 7 && g.length == 1000);
	CHECK(tframe_hdr_decode(b, sizeof(b), 999, &g) < 0);       /* over the limit */
	CHECK(tframe_hdr_decode(b, sizeof(b) - 1, 4096, &g) < 0);  /* short */
	b[0] = 2;
	CHECK(tframe_hdr_decode(b, sizeof(b), 4096, &g) < 0);      /* wrong version */
}

static void control_roundtrip(void)
{
	char out[128];
	size_t len = 0;
	struct tfctl c;

	CHECK(tfctl_add(out, sizeof(out), &len, "session", "12345") == 0);
	CHECK(tfctl_add(out, sizeof(out), &len, "lan", "10.0.0.2:4663,[::1]:4663") == 0);
	CHECK(tfctl_parse(&c, (uint8_t *)out, len) == 0);
	CHECK_STR(tfctl_get(&c, "session"), "12345");
	CHECK_STR(tfctl_get(&c, "lan"), "10.0.0.2:4663,[::1]:4663");
	CHECK(tfctl_get(&c, "x") == NULL);
	CHECK(tfctl_add(out, sizeof(out), &len, "Bad", "x") < 0);
	CHECK(tfctl_add(out, sizeof(out), &len, "k", "a\nb") < 0);
}

static void control_rejects_malformed(void)
{
	static const char *const bad[] = { "novalue\n", "=v\n", "k=v", "k=v\nk=w\n", "K=v\n",
					   "k=a\x01" "b\n" };
	struct tfctl c;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(tfctl_parse(&c, (const uint8_t *)bad[i], strlen(bad[i])) < 0);
	CHECK(tfctl_parse(&c, (const uint8_t *)"k=v\0\n", 5) < 0);
	CHECK(tfctl_parse(&c, (const uint8_t *)"", 0) == 0 && c.n == 0);
}

static void drop_payload(void)
{
	uint8_t out[64];
	const char *ctl = "op=data\n";
	ssize_t n = tfdrop_encode_head(out, sizeof(out), ctl, strlen(ctl));
	struct tfctl c;
	const uint8_t *d;
	size_t dl;

	CHECK(n == 10 && out[0] == 0 && out[1] == 8);
	memcpy(out + n, "\x00\xffxy", 4);
	CHECK(tfdrop_parse(&c, out, (size_t)n + 4, &d, &dl) == 0);
	CHECK_STR(tfctl_get(&c, "op"), "data");
	CHECK(dl == 4 && d == out + n && d[1] == 0xff);
	CHECK(tfdrop_parse(&c, out, (size_t)n - 1, &d, &dl) < 0);  /* ctl_len past the end */
	CHECK(tfdrop_parse(&c, out, 1, &d, &dl) < 0);
	out[2] = 'O';
	CHECK(tfdrop_parse(&c, out, (size_t)n, &d, &dl) < 0);      /* bad key */
	CHECK(tfdrop_encode_head(out, 5, ctl, strlen(ctl)) < 0);
}

UNIT_SUITE(tframe, UNIT_TEST(drop_payload), UNIT_TEST(header_roundtrip), UNIT_TEST(control_roundtrip),
	   UNIT_TEST(control_rejects_malformed));
