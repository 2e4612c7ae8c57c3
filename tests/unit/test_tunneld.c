/* Unit tests for tunneld's socket-free parts: number allocator and its persistence,
 * throttling and its bounded table, drop store, HTTP Upgrade check, config. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/tunneld/tun.h"
#include "crypto/crypto.h"
#include "unit.h"

static char *tmpdir(void)
{
	static char d[64];
	strcpy(d, "/tmp/tun-unit.XXXXXX");
	return mkdtemp(d);
}

static void rmrf(const char *d)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	CHECK(system(cmd) == 0);
}

static void numbers_unique_persisted_exhausted(void)
{
	struct tun_numbers n;
	char err[256], *d = tmpdir();
	static unsigned char seen[100];
	uint32_t v;

	cry_init();
	memset(seen, 0, sizeof(seen));
	CHECK(tun_numbers_open(&n, d, 2, 10, err, sizeof(err)) == 0);
	CHECK_EQ(n.space, 90);
	for (int i = 0; i < 50; i++) {
		CHECK(tun_numbers_issue(&n, &v) == 0);
		CHECK(v >= 10 && v <= 99 && !seen[v]);
		seen[v] = 1;
	}
	tun_numbers_close(&n);
	/* restart: the 50 stay burned, the other 40 come out, then refusal */
	CHECK(tun_numbers_open(&n, d, 2, 10, err, sizeof(err)) == 0);
	CHECK_EQ(tun_numbers_left(&n), 40);
	for (int i = 0; i < 40; i++) {
		CHECK(tun_numbers_issue(&n, &v) == 0);
		CHECK(v >= 10 && v <= 99 && !seen[v]);
		seen[v] = 1;
	}
	CHECK(tun_numbers_issue(&n, &v) < 0);
	tun_numbers_close(&n);
	/* another digit count is another space; a torn last line is ignored */
	char p[128];
	snprintf(p, sizeof(p), "%s/issued", d);
	int fd = open(p, O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && write(fd, "12", 2) == 2);
	close(fd);
	CHECK(tun_numbers_open(&n, d, 3, 10, err, sizeof(err)) == 0);
	CHECK_EQ(tun_numbers_left(&n), 900);
	CHECK(tun_numbers_issue(&n, &v) == 0 && v >= 100 && v <= 999);
	tun_numbers_close(&n);
	CHECK(tun_numbers_open(&n, d, 2, 10, err, sizeof(err)) == 0);
	CHECK_EQ(tun_numbers_left(&n), 0);
	tun_numbers_close(&n);
	CHECK(tun_numbers_open(&n, "/proc/nonexistent/x", 5, 10, err, sizeof(err)) < 0);
	rmrf(d);
}

/* a number glued to a torn line (an older tunneld's short write on a full disk) counts
 * as issued wherever it is; a torn last line is cut off at start-up */
static void numbers_torn_lines(void)
{
	struct tun_numbers n;
	char err[256], p[128], *d = tmpdir();
	struct stat st;
	uint32_t v;

	snprintf(p, sizeof(p), "%s/issued", d);
	FILE *f = fopen(p, "w");
	fputs("10\n1" "23\n11\nxx\n4", f); /* "1" torn, 23 glued to it; "4" torn at the end */
	fclose(f);
	CHECK(tun_numbers_open(&n, d, 2, 10, err, sizeof(err)) == 0);
	CHECK(tun_numbers_is_issued(&n, 10) && tun_numbers_is_issued(&n, 23) && tun_numbers_is_issued(&n, 11));
	CHECK_EQ(tun_numbers_left(&n), 87);
	CHECK(stat(p, &st) == 0 && st.st_size == 13); /* the torn "4" is gone */
	CHECK(tun_numbers_issue(&n, &v) == 0 && v != 10 && v != 11 && v != 23);
	tun_numbers_close(&n);
	CHECK(tun_numbers_open(&n, d, 2, 10, err, sizeof(err)) == 0);
	CHECK(tun_numbers_is_issued(&n, v) && tun_numbers_left(&n) == 86);
	tun_numbers_close(&n);
	rmrf(d);
}

static void throttle_limits_and_block(void)
{
	struct tun_throttle t;
	unsigned long long now = 1000000;

	cry_init();
	CHECK(tun_throttle_init(&t, 64, 30, 10, 600) == 0);
	for (int i = 0; i < 30; i++)
		CHECK(tun_throttle_join(&t, "192.0.2.1", now) == TUN_ALLOW);
	CHECK(tun_throttle_join(&t, "192.0.2.1", now) == TUN_THROTTLED);
	CHECK(tun_throttle_join(&t, "192.0.2.2", now) == TUN_ALLOW);
	CHECK(tun_throttle_join(&t, "192.0.2.1", now + 2000) == TUN_ALLOW); /* refilled 1 */
	/* 9 unknowns allowed, the 10th blocks for block_time */
	for (int i = 0; i < 9; i++)
		CHECK(tun_throttle_unknown(&t, "198.51.100.7", now) == TUN_ALLOW);
	CHECK(tun_throttle_unknown(&t, "198.51.100.7", now) == TUN_BLOCKED);
	CHECK(tun_throttle_join(&t, "198.51.100.7", now + 59000) == TUN_BLOCKED);
	CHECK(tun_throttle_join(&t, "198.51.100.7", now + 601000) == TUN_ALLOW);
	/* REGISTER has its own ration (default 10/min in the table) */
	for (int i = 0; i < 10; i++)
		CHECK(tun_throttle_register(&t, "192.0.2.9", now) == TUN_ALLOW);
	CHECK(tun_throttle_register(&t, "192.0.2.9", now) == TUN_THROTTLED);
	CHECK(tun_throttle_register(&t, "192.0.2.9", now + 6000) == TUN_ALLOW);
	/* one IPv6 /64 is one entry */
	CHECK(tun_throttle_join(&t, "2001:db8::1", now) == TUN_ALLOW);
	size_t c = tun_throttle_count(&t);
	CHECK(tun_throttle_join(&t, "2001:db8::ffff:1", now) == TUN_ALLOW);
	CHECK_EQ(tun_throttle_count(&t), c);
	/* a flood of addresses never grows the table */
	char ip[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
		tun_throttle_join(&t, ip, now);
	}
	CHECK_EQ(tun_throttle_count(&t), 64);
	CHECK(t.evictions > 4000);
	tun_throttle_free(&t);
}

static void drop_store(void)
{
	struct tun_drop d;
	struct tun_drop_put p;
	char *dir = tmpdir();
	unsigned long long size;
	size_t len;
	unsigned count;

	CHECK(tun_drop_name_ok("a.bin") && !tun_drop_name_ok("../x") && !tun_drop_name_ok(".h") &&
	      !tun_drop_name_ok("a/b") && !tun_drop_name_ok("x.part") && !tun_drop_name_ok(""));
	CHECK(tun_drop_open(&d, dir, 12345) == 0);
	CHECK(tun_drop_put_begin(&d, &p, "a", 10, 15, 15, 4) == NULL);
	CHECK_STR(tun_drop_put_begin(&d, &p, "b", 6, 15, 15, 4), "quota");
	CHECK(tun_drop_put_data(&d, &p, "0123456789", 10) == NULL);
	CHECK_STR(tun_drop_put_data(&d, &p, "x", 1), "protocol");
	CHECK(tun_drop_put_done(&p));
	CHECK(tun_drop_put_commit(&d, &p) == NULL);
	CHECK_STR(tun_drop_put_begin(&d, &p, "a", 1, 15, 15, 4), "exists");
	int fd = tun_drop_get_open(&d, "a", &size);
	CHECK(fd >= 0 && size == 10);
	close(fd);
	CHECK(tun_drop_get_open(&d, "zz", &size) < 0);
	char *l = tun_drop_list_new(&d, &len, &count);
	CHECK(l && count == 1);
	CHECK_STR(l, "a 10\n");
	free(l);
	/* an aborted put leaves nothing and frees its reservation */
	CHECK(tun_drop_put_begin(&d, &p, "b", 5, 15, 15, 4) == NULL);
	tun_drop_put_abort(&d, &p);
	CHECK_EQ(d.used, 10);
	CHECK(tun_drop_del(&d, "a", 0, 1) == NULL && d.used == 0);
	CHECK_STR(tun_drop_del(&d, "a", 0, 1), "no-such-file");
	CHECK(tun_drop_put_begin(&d, &p, "c", 3, 15, 15, 4) == NULL);
	p.owner = 7;
	CHECK(tun_drop_put_data(&d, &p, "abc", 3) == NULL && tun_drop_put_commit(&d, &p) == NULL);
	/* only the participant that put it deletes it (or a caller allowed any, the master) */
	CHECK_STR(tun_drop_del(&d, "c", 8, 0), "not-allowed");
	CHECK(tun_drop_del(&d, "c", 7, 0) == NULL && d.used == 0 && d.nown == 0);
	CHECK(tun_drop_put_begin(&d, &p, "c", 3, 15, 15, 4) == NULL);
	CHECK(tun_drop_put_data(&d, &p, "abc", 3) == NULL && tun_drop_put_commit(&d, &p) == NULL);
	tun_drop_destroy(&d);
	struct stat st;
	CHECK(stat(d.dir, &st) < 0);
	CHECK(tun_drop_purge_all(dir) == 0);
	rmrf(dir);
}

static void http_upgrade(void)
{
	const char *good = "GET /sealbox-tunnel HTTP/1.1\r\nHost: x\r\nUpgrade: sealbox-tunnel\r\n"
			   "Connection: keep-alive, Upgrade\r\n";
	CHECK_EQ(tun_http_check(good, strlen(good)), 101);
	const char *lower = "GET /sealbox-tunnel?x=1 HTTP/1.1\nupgrade:sealbox-tunnel\nconnection: upgrade\n";
	CHECK_EQ(tun_http_check(lower, strlen(lower)), 101);
	const char *plain = "GET /sealbox-tunnel HTTP/1.1\r\nHost: x\r\n";
	CHECK_EQ(tun_http_check(plain, strlen(plain)), 404);
	const char *other = "GET /index.html HTTP/1.1\r\nHost: x\r\n";
	CHECK_EQ(tun_http_check(other, strlen(other)), 404);
	const char *ws = "GET /sealbox-tunnel HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
	CHECK_EQ(tun_http_check(ws, strlen(ws)), 400);
	const char *post = "POST /sealbox-tunnel HTTP/1.1\r\n";
	CHECK_EQ(tun_http_check(post, strlen(post)), 400);
	const char *junk = "\x16\x03\x01\x02\x00\x01\n";
	CHECK_EQ(tun_http_check(junk, strlen(junk)), 400);
	const char *fold = "GET /sealbox-tunnel HTTP/1.1\r\n Upgrade: sealbox-tunnel\r\n";
	CHECK_EQ(tun_http_check(fold, strlen(fold)), 400);
	CHECK_EQ(tun_http_check("", 0), 400);
}

static void conf_rules(void)
{
	struct tun_conf c;
	char err[256], path[128], *d = tmpdir();

	CHECK(tun_conf_load(&c, NULL, err, sizeof(err)) == 0);
	CHECK_STR(c.listen, "*:4663");
	CHECK_EQ(c.digits, 5);
	CHECK_EQ(c.idle_timeout, 3600);
	CHECK_EQ(c.join_rate, 30);
	CHECK_EQ(c.unknown_rate, 10);
	CHECK_EQ(c.register_rate, 10);
	CHECK_EQ(c.max_connections, 8192);
	CHECK_EQ(c.max_connections_per_ip, 64);
	CHECK_EQ(c.register_rate_total, 60);
	tun_conf_free(&c);
	snprintf(path, sizeof(path), "%s/t.ini", d);
	FILE *f = fopen(path, "w");
	fputs("[tunneld]\ndigits = 3\n\nmax_frame = 1M\n", f);
	fclose(f);
	CHECK(tun_conf_load(&c, path, err, sizeof(err)) < 0);
	CHECK(strstr(err, ":4:") && strstr(err, "max_frame"));
	tun_conf_free(&c);
	f = fopen(path, "w");
	fputs("[tunneld]\nhttps_listen = *:443\n", f);
	fclose(f);
	CHECK(tun_conf_load(&c, path, err, sizeof(err)) < 0 && strstr(err, "tls_cert"));
	tun_conf_free(&c);
	rmrf(d);
}

/* connections per source are counted exactly (IPv6 per /64), entries go with the last
 * connection; the global register rate is one bucket for everyone */
static void limits_per_source_and_global(void)
{
	struct tun_limits l;
	struct tun_addr_count *a[3], *b, *v6[2];

	CHECK(tun_limits_init(&l, 2, 1000) == 0);
	for (int i = 0; i < 3; i++)
		CHECK((a[i] = tun_limits_conn_add(&l, "192.0.2.1", 3)) != NULL);
	CHECK(tun_limits_conn_add(&l, "192.0.2.1", 3) == NULL);
	CHECK(tun_limits_conn_add(&l, "::ffff:192.0.2.1", 3) == NULL); /* v4-mapped: the same source */
	CHECK((b = tun_limits_conn_add(&l, "192.0.2.2", 3)) != NULL);
	CHECK((v6[0] = tun_limits_conn_add(&l, "2001:db8:0:1::1", 2)) != NULL);
	CHECK((v6[1] = tun_limits_conn_add(&l, "2001:db8:0:1:ffff::9", 2)) != NULL);
	CHECK(tun_limits_conn_add(&l, "2001:db8:0:1::77", 2) == NULL); /* same /64 */
	CHECK(tun_limits_conn_add(&l, "2001:db8:0:2::1", 2) != NULL);  /* another /64 */
	CHECK_EQ(tun_limits_conn_count(a[0]), 3);
	CHECK_EQ(l.sources, 4);
	tun_limits_conn_del(&l, a[0]);
	CHECK((a[0] = tun_limits_conn_add(&l, "192.0.2.1", 3)) != NULL);
	for (int i = 0; i < 3; i++)
		tun_limits_conn_del(&l, a[i]);
	tun_limits_conn_del(&l, b);
	CHECK_EQ(l.sources, 2);
	CHECK(tun_limits_register(&l, 1000) == 0 && tun_limits_register(&l, 1000) == 0);
	CHECK(tun_limits_register(&l, 1000) < 0);
	CHECK(tun_limits_register(&l, 1000 + 30000) == 0); /* 2/min: one back after 30 s */
	tun_limits_free(&l);
}

UNIT_SUITE(tunneld, UNIT_TEST(numbers_unique_persisted_exhausted), UNIT_TEST(numbers_torn_lines),
	   UNIT_TEST(throttle_limits_and_block),
	   UNIT_TEST(drop_store), UNIT_TEST(limits_per_source_and_global), UNIT_TEST(http_upgrade),
	   UNIT_TEST(conf_rules));
