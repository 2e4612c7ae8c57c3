/* Unit tests for mailgw's queue: envelope format round trip, strict reader, spool
 * files (commit order, leftovers after a crash, listing, removal). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/mailgw/mg_queue.h"
#include "core/buf.h"
#include "core/fs.h"
#include "unit.h"

#define CHECK_S(a, b) CHECK(strcmp((a), (b)) == 0)

static void sample(struct mg_env *e)
{
	mg_env_init(e);
	strcpy(e->id, "0065A1B2C3000010001Ab");
	e->created = 1700000000;
	strcpy(e->from, "sender@example.org");
	e->size = 1234;
	e->body = MG_BODY_8BITMIME;
	strcpy(e->client, "192.0.2.7");
	strcpy(e->helo, "client\r\n.example");
	strcpy(e->tls, "TLSv1.3 TLS_AES_256_GCM_SHA384");
	mg_env_add_rcpt(e, "a@example.com");
	mg_env_add_rcpt(e, "\"b c\"@example.net");
	e->rcpt[1].state = MG_RCPT_FAILED;
	e->rcpt[1].attempts = 3;
	e->rcpt[1].next_try = 1700000600;
	strcpy(e->rcpt[1].error, "550 5.1.1 <b> no such user\n250 fake");
}

static int fmt(const struct mg_env *e, struct buf_writer *w)
{
	buf_writer_growable(w, MG_ENV_MAX);
	return mg_env_format(e, w);
}

static void env_roundtrip(void)
{
	struct mg_env e, r;
	struct buf_writer w;

	sample(&e);
	CHECK(fmt(&e, &w) == 0);
	CHECK(mg_env_parse(w.p, w.len, &r) == 0);
	CHECK_S(r.id, e.id);
	CHECK_EQ(r.created, 1700000000);
	CHECK_S(r.from, "sender@example.org");
	CHECK_EQ(r.size, 1234);
	CHECK_EQ(r.body, MG_BODY_8BITMIME);
	CHECK_S(r.helo, "client??.example");   /* control bytes never reach the file */
	CHECK_S(r.tls, "TLSv1.3 TLS_AES_256_GCM_SHA384");
	CHECK_EQ(r.nrcpt, 2);
	CHECK_S(r.rcpt[1].addr, "\"b c\"@example.net");
	CHECK_EQ(r.rcpt[1].state, MG_RCPT_FAILED);
	CHECK_EQ(r.rcpt[1].attempts, 3);
	CHECK_EQ(r.rcpt[1].next_try, 1700000600);
	CHECK_S(r.rcpt[1].error, "550 5.1.1 <b> no such user?250 fake");
	CHECK(!mg_env_done(&r));
	r.rcpt[0].state = MG_RCPT_SENT;
	r.rcpt[1].state = MG_RCPT_BOUNCED;
	CHECK(mg_env_done(&r));
	mg_env_free(&r);
	/* null sender */
	e.from[0] = '\0';
	buf_writer_free(&w);
	CHECK(fmt(&e, &w) == 0);
	CHECK(mg_env_parse(w.p, w.len, &r) == 0);
	CHECK_S(r.from, "");
	mg_env_free(&r);
	buf_writer_free(&w);
	mg_env_free(&e);
}

static int parse_str(const char *s)
{
	struct mg_env r;
	int rc = mg_env_parse((const uint8_t *)s, strlen(s), &r);
	mg_env_free(&r);
	return rc;
}

static void env_reader_strict(void)
{
	const char *ok = "mailgw-queue 1\nid ABCDEFGH12\ncreated 5\nfrom <>\nrcpt pending 0 0 <a@b.c> \nend\n";
	CHECK(parse_str(ok) == 0);
	CHECK(parse_str("mailgw-queue 2\nid ABCDEFGH12\ncreated 5\nfrom <>\nrcpt pending 0 0 <a@b.c> \nend\n") < 0);
	/* torn: no end line, or last line without LF */
	CHECK(parse_str("mailgw-queue 1\nid ABCDEFGH12\ncreated 5\nfrom <>\nrcpt pending 0 0 <a@b.c> \n") < 0);
	CHECK(parse_str("mailgw-queue 1\nid ABCDEFGH12\ncreated 5\nfrom <>\nrcpt pending 0 0 <a@b.c> \nend") < 0);
	/* no recipient, duplicate field, bad id, bad address, bad state, data after end */
	CHECK(parse_str("mailgw-queue 1\nid ABCDEFGH12\ncreated 5\nfrom <>\nend\n") < 0);
	CHECK(parse_str("mailgw-queue 1\nid ABCDEFGH12\nid ABCDEFGH12\ncreated 5\nfrom <>\nrcpt pending 0 0 <a@b.c> \nend\n") < 0);
	CHECK(parse_str("mailgw-queue 1\nid ../../etc\ncreated 5\nfrom <>\nrcpt pending 0 0 <a@b.c> \nend\n") < 0);
	CHECK(parse_str("mailgw-queue 1\nid ABCDEFGH12\ncreated 5\nfrom <>\nrcpt pending 0 0 <a b@c> \nend\n") < 0);
	CHECK(parse_str("mailgw-queue 1\nid ABCDEFGH12\ncreated 5\nfrom <>\nrcpt lost 0 0 <a@b.c> \nend\n") < 0);
	CHECK(parse_str("mailgw-queue 1\nid ABCDEFGH12\ncreated 5\nfrom <>\nrcpt pending 0 0 <a@b.c> \nend\nrcpt pending 0 0 <a@b.c> \n") < 0);
	CHECK(parse_str("mailgw-queue 1\nid ABCDEFGH12\ncreated -5\nfrom <>\nrcpt pending 0 0 <a@b.c> \nend\n") < 0);
	CHECK(parse_str("mailgw-queue 1\nid ABCDEFGH12\ncreated 5\nfrom <>\nrcpt pending 0 0 <a@b.c> \x01\nend\n") < 0);
	CHECK(!mg_id_valid("abc"));
	CHECK(!mg_id_valid("abcdefgh/"));
	CHECK(mg_id_valid("abcdefgh"));
}

static char spool[64];

static int exists(const char *d, const char *id)
{
	char p[256];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s/%s", spool, d, id);
	return stat(p, &st) == 0;
}

static void spool_files(void)
{
	char id[MG_ID_MAX + 1], id2[MG_ID_MAX + 1];
	struct mg_msg_writer w;
	struct mg_env e, r;
	char **ids;
	size_t n;

	snprintf(spool, sizeof(spool), "/tmp/sealbox-mgq.XXXXXX");
	CHECK(mkdtemp(spool) != NULL);
	CHECK(mg_spool_init(spool) == 0);
	CHECK(mg_spool_new_id(id, sizeof(id)) == 0);
	CHECK(mg_spool_new_id(id2, sizeof(id2)) == 0);
	CHECK(mg_id_valid(id) && mg_id_valid(id2) && strcmp(id, id2) != 0);
	CHECK(strcmp(id, id2) < 0);   /* ids sort by arrival */

	CHECK(mg_msg_writer_open(&w, spool, id) == 0);
	CHECK(exists("tmp", id) && !exists("msg", id));
	char big[40000];
	memset(big, 'x', sizeof(big));
	CHECK(mg_msg_writer_write(&w, "Subject: t\r\n\r\n", 14) == 0);
	CHECK(mg_msg_writer_write(&w, big, sizeof(big)) == 0);
	CHECK(mg_msg_writer_commit(&w) == 0);
	CHECK(exists("msg", id) && !exists("tmp", id));
	sample(&e);
	strcpy(e.id, id);
	CHECK(mg_env_save(spool, &e) == 0);
	CHECK(mg_env_load(spool, id, &r) == 0);
	CHECK_S(r.rcpt[0].addr, "a@example.com");
	mg_env_free(&r);

	/* a second message that "crashed" before its envelope: removed at start-up */
	CHECK(mg_msg_writer_open(&w, spool, id2) == 0);
	CHECK(mg_msg_writer_write(&w, "x\r\n", 3) == 0);
	CHECK(mg_msg_writer_commit(&w) == 0);
	CHECK(mg_msg_writer_open(&w, spool, "TMPLEFTOVER1") == 0);
	CHECK(mg_spool_init(spool) == 0);
	CHECK(!exists("msg", id2) && !exists("tmp", "TMPLEFTOVER1"));
	CHECK(exists("msg", id));
	mg_msg_writer_abort(&w);

	CHECK(mg_spool_ids(spool, &ids, &n) == 0);
	CHECK(n == 1 && strcmp(ids[0], id) == 0);
	mg_spool_ids_free(ids, n);
	CHECK(mg_env_load(spool, "../../etc/passwd", &r) < 0);
	CHECK(mg_spool_remove(spool, id) == 0);
	CHECK(!exists("env", id) && !exists("msg", id));
	CHECK(mg_spool_remove(spool, id) < 0);
	mg_env_free(&e);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", spool);
	CHECK(system(cmd) == 0);
}

UNIT_SUITE(mg_queue, UNIT_TEST(env_roundtrip), UNIT_TEST(env_reader_strict), UNIT_TEST(spool_files));
