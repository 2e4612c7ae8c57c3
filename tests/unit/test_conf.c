/* Unit tests for core/conf.c: typed values, defaults, strict errors with file:line. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/conf.h"
#include "unit.h"

struct tconf {
	char *name;
	long port;
	int tls;
	long idle;
	long long quota;
	int policy;
	struct conf_list listen;
};

static const struct conf_key tkeys[] = {
	{ "t", "name", CONF_STR, offsetof(struct tconf, name), "relay", 0, 0, NULL, "a name" },
	{ "t", "port", CONF_INT, offsetof(struct tconf, port), "4663", 1, 65535, NULL, "a port" },
	{ "t", "tls", CONF_BOOL, offsetof(struct tconf, tls), "yes", 0, 0, NULL, NULL },
	{ "t", "idle", CONF_DURATION, offsetof(struct tconf, idle), "1h", 0, 0, NULL, NULL },
	{ "t", "quota", CONF_SIZE, offsetof(struct tconf, quota), "10M", 0, 0, NULL, NULL },
	{ "t", "policy", CONF_ENUM, offsetof(struct tconf, policy), "none", 0, 0, "none|encrypt|verify", NULL },
	{ "t", "listen", CONF_LIST, offsetof(struct tconf, listen), "127.0.0.1:1", 0, 0, NULL, NULL },
};
static const struct conf_spec tspec = { tkeys, sizeof(tkeys) / sizeof(tkeys[0]), NULL, NULL };

static int load(const char *text, struct tconf *c, char *err)
{
	memset(c, 0, sizeof(*c));
	CHECK(conf_defaults(&tspec, c) == 0);
	return conf_load_string(&tspec, c, text, "x.ini", err, CONF_ERR_LEN);
}

static void defaults_apply(void)
{
	struct tconf c;
	char err[CONF_ERR_LEN];
	CHECK(load("", &c, err) == 0);
	CHECK_STR(c.name, "relay");
	CHECK_EQ(c.port, 4663);
	CHECK_EQ(c.tls, 1);
	CHECK_EQ(c.idle, 3600);
	CHECK_EQ(c.quota, 10 * 1024 * 1024);
	CHECK_EQ(c.policy, 0);
	CHECK_EQ(c.listen.n, 1);
	conf_free(&tspec, &c);
}

static void values_parse(void)
{
	struct tconf c;
	char err[CONF_ERR_LEN];
	CHECK(load("[t]\nname = edge\nport=25\ntls = off\nidle = 5d\nquota = 2G\npolicy = verify\n"
		   "listen = [::1]:25\nlisten = 127.0.0.2:25\n", &c, err) == 0);
	CHECK_STR(c.name, "edge");
	CHECK_EQ(c.port, 25);
	CHECK_EQ(c.tls, 0);
	CHECK_EQ(c.idle, 5 * 86400);
	CHECK_EQ(c.quota, 2LL * 1024 * 1024 * 1024);
	CHECK_EQ(c.policy, 2);
	/* A repeated list key replaces the default, then appends. */
	CHECK_EQ(c.listen.n, 2);
	CHECK_STR(c.listen.v[0], "[::1]:25");
	conf_free(&tspec, &c);
}

static void errors_name_file_line_and_key(void)
{
	struct tconf c;
	char err[CONF_ERR_LEN];

	CHECK(load("[t]\nname = a\n\nprot = 5\n", &c, err) < 0);
	CHECK_STR(err, "x.ini:4: [t] prot: unknown key");
	conf_free(&tspec, &c);
	CHECK(load("[t]\nport = 70000\n", &c, err) < 0);
	CHECK_STR(err, "x.ini:2: [t] port: '70000' is not a whole number from 1 to 65535");
	conf_free(&tspec, &c);
	CHECK(load("[t]\ntls = maybe\n", &c, err) < 0);
	CHECK(strstr(err, "x.ini:2: [t] tls:") == err);
	conf_free(&tspec, &c);
	CHECK(load("[t]\nport = 1\nport = 2\n", &c, err) < 0);
	CHECK_STR(err, "x.ini:3: [t] port: set twice");
	conf_free(&tspec, &c);
	CHECK(load("[zzz]\na = 1\n", &c, err) < 0);
	CHECK_STR(err, "x.ini:2: [zzz] a: unknown section 'zzz'");
	conf_free(&tspec, &c);
	CHECK(load("[t]\njunk line\n", &c, err) < 0);
	CHECK(strstr(err, "x.ini:2: syntax error") == err);
	conf_free(&tspec, &c);
	CHECK(load("[t]\npolicy = strict\n", &c, err) < 0);
	CHECK_STR(err, "x.ini:2: [t] policy: 'strict' is not one of none|encrypt|verify");
	conf_free(&tspec, &c);
	CHECK(load("[t]\nidle = -5s\n", &c, err) < 0);
	conf_free(&tspec, &c);
}

/* What main.c tells the core: the sections the other applets of the binary read. */
static int others_own(const char *section)
{
	return strcmp(section, "hitc") == 0 || strncmp(section, "listener ", 9) == 0;
}

static void other_applets_sections_are_skipped(void)
{
	struct tconf c;
	char err[CONF_ERR_LEN];
	/* Without the applet table every foreign section is an error... */
	CHECK(load("[hitc]\nhost = x\n[t]\nport = 7\n", &c, err) < 0);
	conf_free(&tspec, &c);
	/* ...with it, the sections some applet reads are skipped, and only those. */
	conf_set_shared_sections(others_own);
	CHECK(load("[hitc]\nhost = x\n[listener a]\nmode = smtp\n[t]\nport = 7\n", &c, err) == 0);
	CHECK_EQ(c.port, 7);
	conf_free(&tspec, &c);
	CHECK(load("[t]\nport = 7\n[listener]\nx = 1\n", &c, err) < 0);
	CHECK_STR(err, "x.ini:4: [listener] x: unknown section 'listener'");
	conf_free(&tspec, &c);
	conf_set_shared_sections(NULL);
}

static void missing_file_is_clear(void)
{
	struct tconf c;
	char err[CONF_ERR_LEN];
	memset(&c, 0, sizeof(c));
	conf_defaults(&tspec, &c);
	CHECK(conf_load(&tspec, &c, "/nonexistent/x.ini", err, sizeof(err)) < 0);
	CHECK_STR(err, "/nonexistent/x.ini: cannot open: No such file or directory");
	conf_free(&tspec, &c);
}

static void scalar_parsers(void)
{
	long long v;
	int b;
	CHECK(conf_parse_duration("90", &v) == 0 && v == 90);
	CHECK(conf_parse_duration("2m", &v) == 0 && v == 120);
	CHECK(conf_parse_duration("2x", &v) < 0);
	CHECK(conf_parse_duration("2mm", &v) < 0);
	CHECK(conf_parse_size("64k", &v) == 0 && v == 65536);
	CHECK(conf_parse_size("99999999999999999999", &v) < 0);
	CHECK(conf_parse_size("9999999999999G", &v) < 0);
	CHECK(conf_parse_bool("TRUE", &b) == 0 && b == 1);
	CHECK(conf_parse_long("12x", 0, 0, &v) < 0);
}

/* An applet's own check refuses a value the table took; the error names its line. */
static int no_x(void *conf, const struct conf_key *k, const char *value, char *why, size_t wl)
{
	(void)conf;
	if (strcmp(k->name, "name") == 0 && strchr(value, 'x')) {
		snprintf(why, wl, "'%s' holds an x", value);
		return -1;
	}
	return 0;
}

static void checked_load_names_line(void)
{
	struct tconf c;
	char err[CONF_ERR_LEN], path[] = "/tmp/test_conf_XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "[t]\nport = 9\n\nname = fox\n";

	CHECK(fd >= 0);
	CHECK(write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1));
	close(fd);
	memset(&c, 0, sizeof(c));
	conf_defaults(&tspec, &c);
	CHECK(conf_load_checked(&tspec, &c, path, no_x, err, sizeof(err)) < 0);
	CHECK(strstr(err, ":4: [t] name: 'fox' holds an x") != NULL);
	conf_free(&tspec, &c);
	conf_defaults(&tspec, &c);
	CHECK(conf_load_checked(&tspec, &c, path, NULL, err, sizeof(err)) == 0);
	CHECK_STR(c.name, "fox");
	conf_free(&tspec, &c);
	unlink(path);
}

UNIT_SUITE(conf, UNIT_TEST(defaults_apply), UNIT_TEST(values_parse),
	   UNIT_TEST(errors_name_file_line_and_key), UNIT_TEST(other_applets_sections_are_skipped),
	   UNIT_TEST(missing_file_is_clear), UNIT_TEST(scalar_parsers), UNIT_TEST(checked_load_names_line));
