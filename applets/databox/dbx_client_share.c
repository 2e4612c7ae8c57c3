/* dbx_client_share.c - "databox share create" (a fresh key pair for the share, its
 * private key under the share password, the file key wrapped for it) and "databox
 * share get LINK OUT" (needs no account: the link and the share password), the same
 * for upload shares, and the dispatch to "ls" and "rm" (dbx_client_share_list.c). */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "applets/databox/dbx_client.h"
#include "applets/databox/dbx_keys.h"
#include "applets/databox/dbx_stream.h"
#include "core/fs.h"
#include "core/conf.h"
#include "core/exitcode.h"
#include "core/secret.h"
#include "core/str.h"
#include "crypto/crypto.h"
#include "crypto/rsa.h"
#include "net/httpc.h"

#define SHARE_PW_ENV "DATABOX_SHARE_PASSWORD"

struct sopts {
	const char *keypw, *sharepw, *expires, *ca, *version;
	long max_downloads;
	unsigned long iterations;
	int nargs;
	char **args;
};

/* The browser's share page for an API link's access key (docs/databox-web.md). */
static void print_web_link(json_t *cfg, json_t *rep, const char *page)
{
	const char *key = json_string_value(json_object_get(rep, "accessKey"));
	if (key)
		fprintf(stderr, "in a browser: %s/%s/%s\n", json_string_value(json_object_get(cfg, "server")), page, key);
}

/* A browser link (/s/KEY, /u/KEY) as the API path of the same share, in buf; other
 * paths are returned as they are. */
static const char *api_path(const char *p, char *buf, size_t cap)
{
	char key[33];
	int n = 0;
	if (sscanf(p, "/s/%32[0-9a-f]%n", key, &n) == 1 && strlen(key) == 32 && p[n] == '\0')
		str_fmt(buf, cap, "/api/v1/public/shares/downloads/%s", key);
	else if (sscanf(p, "/u/%32[0-9a-f]%n", key, &n) == 1 && strlen(key) == 32 && p[n] == '\0')
		str_fmt(buf, cap, "/api/v1/public/shares/uploads/%s", key);
	else
		return p;
	return buf;
}

static const struct option sopt_table[] = {
	{ "key-password-file", required_argument, NULL, 'k' },
	{ "share-password-file", required_argument, NULL, 's' },
	{ "expires", required_argument, NULL, 'e' },
	{ "max-downloads", required_argument, NULL, 'm' },
	{ "max-uploads", required_argument, NULL, 'm' },
	{ "ca", required_argument, NULL, 'a' },
	{ "version", required_argument, NULL, 'V' },
	{ "iterations", required_argument, NULL, 'i' }, /* hidden: tests */
	{ NULL, 0, NULL, 0 },
};

static int sparse(int argc, char **argv, struct sopts *o)
{
	int ch;
	memset(o, 0, sizeof(*o));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", sopt_table, NULL)) != -1) {
		switch (ch) {
		case 'k': o->keypw = optarg; break;
		case 's': o->sharepw = optarg; break;
		case 'e': o->expires = optarg; break;
		case 'm': o->max_downloads = strtol(optarg, NULL, 10); break;
		case 'a': o->ca = optarg; break;
		case 'V': o->version = optarg; break;
		case 'i': o->iterations = strtoul(optarg, NULL, 10); break;
		default: return -1;
		}
	}
	o->nargs = argc - optind;
	o->args = argv + optind;
	return 0;
}

static int share_create(struct sopts *o)
{
	struct dbx_client c;
	struct dbx_file_key enc, plain, senc;
	struct dbx_keypair skp;
	struct cry_rsa *k = NULL, *spub = NULL;
	json_t *node = NULL, *fkj = NULL, *kp = NULL, *body = NULL, *rep = NULL;
	char path[128], err[300], *pw = NULL;
	int rc, version, sversion = DBX_KP_RSA4096;
	long long expires = 0;

	memset(&plain, 0, sizeof(plain));
	if (o->nargs != 1 || (o->version && !(sversion = dbx_kp_version_parse(o->version)))) {
		fprintf(stderr, "Usage: databox share create ROOM/PATH [--expires 7d] [--max-downloads N] "
			"[--share-password-file FILE] [--version A|RSA-4096]\n");
		return EXIT_USAGE;
	}
	if (o->expires && conf_parse_duration(o->expires, &expires) < 0) {
		fprintf(stderr, "databox share create: --expires: not a duration (30m, 12h, 7d)\n");
		return EXIT_USAGE;
	}
	if ((rc = dbx_cl_open(&c, "share create", 1)) != EXIT_OK)
		return rc;
	if (!(node = dbx_cl_resolve(&c, o->args[0]))) {
		rc = EXIT_NOINPUT;
		goto out;
	}
	long long id = json_integer_value(json_object_get(node, "id"));
	if (strcmp(json_string_value(json_object_get(node, "type")), "file") != 0) {
		fprintf(stderr, "databox share create: %s: shares are only for files\n", o->args[0]);
		rc = EXIT_DATAERR;
		goto out;
	}
	str_fmt(path, sizeof(path), "/nodes/files/%lld/user_file_key", id);
	int st = dbx_cl_call(&c, "GET", path, NULL, &fkj);
	if (st != 200) {
		rc = dbx_cl_fail(&c, st, fkj, "your file key");
		goto out;
	}
	if (!(k = dbx_cl_unlock(&c, o->keypw, &version, &rc)))
		goto out;
	rc = EXIT_DATAERR;
	if (dbx_file_key_from_json(fkj, 1, &enc, err, sizeof(err)) < 0 ||
	    dbx_file_key_unwrap(&enc, k, version, &plain, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox share create: %s\n", err);
		goto out;
	}
	int prompting = !o->sharepw && !getenv(SHARE_PW_ENV);
	pw = secret_read(o->sharepw, SHARE_PW_ENV, "Share password (give it to the recipient): ", err, sizeof(err));
	if (pw && prompting) {
		char *again = secret_read(NULL, NULL, "Repeat it: ", err, sizeof(err));
		if (!again || strcmp(again, pw) != 0) {
			secret_free_str(pw);
			pw = NULL;
			str_copy(err, "the passwords differ", sizeof(err));
		}
		secret_free_str(again);
	}
	if (!pw || strlen(pw) < 8) {
		fprintf(stderr, "databox share create: a share password of at least 8 characters is required%s%s\n",
			pw ? "" : ": ", pw ? "" : err);
		goto out;
	}
	kp = dbx_keypair_generate(sversion, pw, o->iterations ? (uint32_t)o->iterations : DBX_PBKDF2_ITERATIONS,
				  err, sizeof(err));
	if (!kp || dbx_keypair_from_json(kp, &skp, err, sizeof(err)) < 0 ||
	    !(spub = dbx_keypair_public(&skp, err, sizeof(err))) ||
	    dbx_file_key_wrap(&plain, spub, sversion, &senc, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox share create: %s\n", err);
		rc = EXIT_SOFTWARE;
		goto out;
	}
	body = json_pack("{s:I,s:O,s:o}", "nodeId", (json_int_t)id, "keyPair", kp, "fileKey", dbx_file_key_to_json(&senc));
	if (expires)
		json_object_set_new(body, "expireAt", json_integer((json_int_t)time(NULL) + expires));
	if (o->max_downloads > 0)
		json_object_set_new(body, "maxDownloads", json_integer(o->max_downloads));
	st = dbx_cl_call(&c, "POST", "/shares/downloads", body, &rep);
	if (st != 201) {
		rc = dbx_cl_fail(&c, st, rep, "creating the share");
		goto out;
	}
	printf("%s%s\n", json_string_value(json_object_get(c.cfg, "server")),
	       json_string_value(json_object_get(rep, "link")));
	print_web_link(c.cfg, rep, "s");
	rc = EXIT_OK;
out:
	dbx_file_key_wipe(&plain);
	secret_free_str(pw);
	cry_rsa_free(k);
	cry_rsa_free(spub);
	json_decref(node);
	json_decref(fkj);
	json_decref(kp);
	json_decref(body);
	json_decref(rep);
	dbx_cl_close(&c);
	return rc;
}

struct sget {
	struct cry_gcm_stream *gs;
	int fd;
	uint8_t *obuf;
	size_t cap;
};

static int sget_sink(const uint8_t *data, size_t len, void *arg)
{
	struct sget *g = arg;
	while (len) {
		size_t n = len > g->cap ? g->cap : len;
		if (cry_gcm_stream_update(g->gs, data, n, g->obuf) < 0)
			return -1;
		if (fs_write_all(g->fd, g->obuf, n) < 0)
			return -1;
		data += n;
		len -= n;
	}
	return 0;
}

static int share_get(struct sopts *o)
{
	struct net_httpc *h = NULL;
	struct dbx_keypair kp;
	struct dbx_unlock_info info;
	struct dbx_file_key enc, plain;
	struct dbx_outfile of = { .fd = -1 };
	struct sget g = { 0 };
	struct cry_rsa *k = NULL;
	json_t *j = NULL;
	char base[512], err[300], *resp = NULL, *pw = NULL, dlpath[600];
	int rc = EXIT_USAGE, wrong;

	memset(&plain, 0, sizeof(plain));
	if (o->nargs != 2) {
		fprintf(stderr, "Usage: databox share get LINK OUT [--share-password-file FILE] [--ca FILE]\n");
		return EXIT_USAGE;
	}
	const char *link = o->args[0], *scheme = strstr(link, "://");
	const char *p = scheme ? strchr(scheme + 3, '/') : NULL;
	char pbuf[100];
	size_t blen = p ? (size_t)(p - link) : 0;
	if (p)
		p = api_path(p, pbuf, sizeof(pbuf));
	if (!p || blen >= sizeof(base) || strlen(p) > 400 || !strstr(p, "/public/shares/downloads/")) {
		fprintf(stderr, "databox share get: not a share link: %s\n", link);
		return EXIT_USAGE;
	}
	str_copy(base, link, blen + 1);
	if (!(h = net_httpc_new(base, o->ca, err, sizeof(err)))) {
		fprintf(stderr, "databox share get: %s\n", err);
		return EXIT_CONFIG;
	}
	size_t rl;
	int st = net_httpc_request(h, "GET", p, NULL, NULL, 0, NULL, NULL, &resp, &rl, 1 << 20, err, sizeof(err));
	if (st != 200) {
		fprintf(stderr, "databox share get: %s\n", st < 0 ? err : st == 404 ? "no such share (or it expired or was used up)" : "failed");
		rc = st < 0 ? EXIT_UNAVAILABLE : EXIT_NOINPUT;
		goto out;
	}
	rc = EXIT_DATAERR;
	j = json_loadb(resp, rl, 0, NULL);
	json_t *kpj = json_pack("{s:O,s:O}", "privateKeyContainer", json_object_get(j, "privateKeyContainer"),
				"publicKeyContainer", json_object_get(j, "publicKeyContainer"));
	if (!kpj || dbx_keypair_from_json(kpj, &kp, err, sizeof(err)) < 0 ||
	    dbx_file_key_from_json(json_object_get(j, "fileKey"), 1, &enc, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox share get: the share's keys: %s\n", kpj ? err : "missing");
		json_decref(kpj);
		goto out;
	}
	pw = secret_read(o->sharepw, SHARE_PW_ENV, "Share password: ", err, sizeof(err));
	if (!pw) {
		fprintf(stderr, "databox share get: share password: %s\n", err);
		json_decref(kpj);
		goto out;
	}
	k = dbx_keypair_unlock(&kp, pw, &info, &wrong, err, sizeof(err));
	if (!k || dbx_file_key_unwrap(&enc, k, kp.priv_version, &plain, err, sizeof(err)) < 0) {
		fprintf(stderr, "databox share get: %s\n", wrong ? "wrong share password" : err);
		json_decref(kpj);
		goto out;
	}
	json_decref(kpj);
	g.cap = 1 << 20;
	g.obuf = malloc(g.cap);
	g.gs = cry_gcm_stream_new(plain.key, plain.iv, DBX_FILE_IV_LEN, 0);
	if (!g.obuf || !g.gs) {
		rc = EXIT_SOFTWARE;
		goto out;
	}
	if (dbx_outfile_open(&of, o->args[1], 0644) < 0) {
		fprintf(stderr, "databox share get: %s: %s\n", o->args[1], strerror(errno));
		rc = EXIT_CANTCREAT;
		goto out;
	}
	g.fd = of.fd;
	str_fmt(dlpath, sizeof(dlpath), "%s/download", p);
	st = net_httpc_request(h, "GET", dlpath, NULL, NULL, 0, sget_sink, &g, NULL, NULL, 0, err, sizeof(err));
	if (st != 200) {
		fprintf(stderr, "databox share get: download: %s\n", st < 0 ? err : "the share expired or was used up");
		rc = st < 0 ? EXIT_IOERR : EXIT_NOINPUT;
		goto out;
	}
	if (!plain.has_tag || cry_gcm_stream_final(g.gs, plain.tag) < 0) {
		fprintf(stderr, "databox share get: authentication failed: the data or its file key was altered "
			"(GCM tag mismatch); no output written\n");
		goto out;
	}
	if (dbx_outfile_commit(&of) < 0) {
		fprintf(stderr, "databox share get: %s: %s\n", o->args[1], strerror(errno));
		rc = EXIT_IOERR;
		goto out;
	}
	printf("saved %s\n", o->args[1]);
	rc = EXIT_OK;
out:
	dbx_outfile_abort(&of);
	cry_gcm_stream_free(g.gs);
	free(g.obuf);
	dbx_file_key_wipe(&plain);
	cry_rsa_free(k);
	secret_free_str(pw);
	json_decref(j);
	free(resp);
	net_httpc_free(h);
	return rc;
}

/* ---- upload shares ---- */

static int upload_share_create(struct sopts *o)
{
	struct dbx_client c;
	json_t *node = NULL, *body = NULL, *rep = NULL;
	long long expires = 0;
	int rc;

	if (o->nargs != 1) {
		fprintf(stderr, "Usage: databox upload-share create ROOM[/PATH] [--expires 7d] [--max-uploads N]\n");
		return EXIT_USAGE;
	}
	if (o->expires && conf_parse_duration(o->expires, &expires) < 0) {
		fprintf(stderr, "databox upload-share create: --expires: not a duration (30m, 12h, 7d)\n");
		return EXIT_USAGE;
	}
	if ((rc = dbx_cl_open(&c, "upload-share create", 1)) != EXIT_OK)
		return rc;
	if (!(node = dbx_cl_resolve(&c, o->args[0]))) {
		rc = EXIT_NOINPUT;
		goto out;
	}
	body = json_pack("{s:O}", "targetId", json_object_get(node, "id"));
	if (expires)
		json_object_set_new(body, "expireAt", json_integer((json_int_t)time(NULL) + expires));
	if (o->max_downloads > 0)
		json_object_set_new(body, "maxUploads", json_integer(o->max_downloads));
	int st = dbx_cl_call(&c, "POST", "/shares/uploads", body, &rep);
	if (st != 201) {
		rc = dbx_cl_fail(&c, st, rep, "creating the upload share");
		goto out;
	}
	printf("%s%s\n", json_string_value(json_object_get(c.cfg, "server")),
	       json_string_value(json_object_get(rep, "link")));
	print_web_link(c.cfg, rep, "u");
	rc = EXIT_OK;
out:
	json_decref(node);
	json_decref(body);
	json_decref(rep);
	dbx_cl_close(&c);
	return rc;
}

/* One JSON exchange without a login; returns the status (or -1) and the reply. */
static int pub_call(struct net_httpc *h, const char *method, const char *path, json_t *body, json_t **out)
{
	char err[300], *resp = NULL, *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	const char *hdrs[] = { "Content-Type: application/json", NULL };
	size_t rl = 0;
	int st = net_httpc_request(h, method, path, hdrs, text, text ? strlen(text) : 0, NULL, NULL, &resp, &rl,
				   1 << 20, err, sizeof(err));
	free(text);
	*out = resp && rl ? json_loadb(resp, rl, 0, NULL) : NULL;
	if (st < 0)
		fprintf(stderr, "databox upload-share put: %s\n", err);
	free(resp);
	return st;
}

static int upload_share_put(struct sopts *o)
{
	struct net_httpc *h = NULL;
	struct dbx_file_key fk;
	struct cry_gcm_stream *gs = NULL;
	json_t *info = NULL, *rep = NULL, *body = NULL, *keys = NULL, *it;
	char base[512], err[300], path[700], up[40];
	int fd = -1, rc = EXIT_USAGE, st;
	size_t i;
	uint64_t off = 0;

	memset(&fk, 0, sizeof(fk));
	if (o->nargs != 2) {
		fprintf(stderr, "Usage: databox upload-share put LINK FILE [--ca FILE]\n");
		return EXIT_USAGE;
	}
	const char *link = o->args[0], *file = o->args[1], *scheme = strstr(link, "://");
	const char *p = scheme ? strchr(scheme + 3, '/') : NULL;
	const char *name = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	char pbuf[100];
	size_t blen = p ? (size_t)(p - link) : 0;
	if (p)
		p = api_path(p, pbuf, sizeof(pbuf));
	if (!p || blen >= sizeof(base) || strlen(p) > 300 || !strstr(p, "/public/shares/uploads/")) {
		fprintf(stderr, "databox upload-share put: not an upload share link: %s\n", link);
		return EXIT_USAGE;
	}
	str_copy(base, link, blen + 1);
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "databox upload-share put: %s: %s\n", file, strerror(errno));
		return EXIT_NOINPUT;
	}
	if (!(h = net_httpc_new(base, o->ca, err, sizeof(err)))) {
		fprintf(stderr, "databox upload-share put: %s\n", err);
		rc = EXIT_CONFIG;
		goto out;
	}
	st = pub_call(h, "GET", p, NULL, &info);
	if (st != 200) {
		fprintf(stderr, "databox upload-share put: %s\n", st == 404 ? "no such upload share (or it expired or was used up)" : "failed");
		rc = st < 0 ? EXIT_UNAVAILABLE : EXIT_NOINPUT;
		goto out;
	}
	/* wrap a fresh file key for every listed key (managers, rescue key) first: a file
	 * nobody could read is refused before any byte is sent */
	rc = EXIT_SOFTWARE;
	if (dbx_file_key_new(&fk) < 0 || !(gs = cry_gcm_stream_new(fk.key, fk.iv, DBX_FILE_IV_LEN, 1)))
		goto out;
	json_t *list = json_object_get(json_object_get(info, "userUserPublicKeyList"), "items");
	if (json_array_size(list) == 0) {
		fprintf(stderr, "databox upload-share put: the room has no manager with a key pair to encrypt for\n");
		rc = EXIT_DATAERR;
		goto out;
	}
	st = pub_call(h, "POST", p, body = json_pack("{s:s}", "name", name), &rep);
	json_decref(body);
	body = NULL;
	if (st != 201 || !json_is_string(json_object_get(rep, "uploadId"))) {
		fprintf(stderr, "databox upload-share put: %s\n", json_string_value(json_object_get(rep, "message")) ?
			json_string_value(json_object_get(rep, "message")) : "cannot start the upload");
		rc = st == 404 ? EXIT_NOINPUT : EXIT_DATAERR;
		goto out;
	}
	str_copy(up, json_string_value(json_object_get(rep, "uploadId")), sizeof(up));
	json_int_t maxc = json_integer_value(json_object_get(rep, "maxChunkSize"));
	json_decref(rep);
	rep = NULL;
	struct stat sb;
	str_fmt(path, sizeof(path), "%s/%s", p, up);
	struct dbx_chunks u = { h, path, NULL, dbx_chunk_size(maxc),
				fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0, "upload-share put", file, name };
	if ((rc = dbx_send_chunks(&u, fd, gs, &off)) != EXIT_OK)
		goto out;
	rc = EXIT_SOFTWARE;
	if (cry_gcm_stream_final(gs, fk.tag) < 0)
		goto out;
	fk.has_tag = 1;
	keys = json_array();
	json_array_foreach(list, i, it) {
		struct dbx_keypair kp;
		struct dbx_file_key enc;
		struct cry_rsa *pub;
		if (dbx_keypair_from_json(json_object_get(it, "publicKeyContainer"), &kp, err, sizeof(err)) < 0 ||
		    !(pub = dbx_keypair_public(&kp, err, sizeof(err))))
			continue;
		if (dbx_file_key_wrap(&fk, pub, kp.pub_version, &enc, err, sizeof(err)) == 0)
			json_array_append_new(keys, json_pack("{s:O,s:o}", "userId", json_object_get(it, "id"),
							      "fileKey", dbx_file_key_to_json(&enc)));
		cry_rsa_free(pub);
	}
	body = json_pack("{s:{s:O}}", "userFileKeyList", "items", keys);
	str_fmt(path, sizeof(path), "%s/%s", p, up);
	st = pub_call(h, "PUT", path, body, &rep);
	if (st != 201) {
		fprintf(stderr, "databox upload-share put: %s\n", json_string_value(json_object_get(rep, "message")) ?
			json_string_value(json_object_get(rep, "message")) : "cannot complete the upload");
		rc = EXIT_DATAERR;
		goto out;
	}
	printf("uploaded %s (%llu bytes, encrypted for %zu key%s)\n", name, (unsigned long long)off,
	       json_array_size(keys), json_array_size(keys) == 1 ? "" : "s");
	rc = EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	cry_gcm_stream_free(gs);
	dbx_file_key_wipe(&fk);
	json_decref(info);
	json_decref(rep);
	json_decref(body);
	json_decref(keys);
	net_httpc_free(h);
	return rc;
}

static int share_ls(struct sopts *o) { return dbx_share_ls(0, o->nargs, o->args); }
static int share_rm(struct sopts *o) { return dbx_share_rm(0, o->nargs, o->args); }
static int upload_share_ls(struct sopts *o) { return dbx_share_ls(1, o->nargs, o->args); }
static int upload_share_rm(struct sopts *o) { return dbx_share_rm(1, o->nargs, o->args); }

struct sub {
	const char *name;
	int (*fn)(struct sopts *o);
};

/* Runs the sub-command named by the first argument after the options. */
static int dispatch(int argc, char **argv, const char *cmd, const char *usage, const struct sub *subs, size_t n)
{
	struct sopts o;
	if (sparse(argc, argv, &o) < 0 || o.nargs < 1) {
		fprintf(stderr, "Usage: %s\n", usage);
		return EXIT_USAGE;
	}
	const char *sub = o.args[0];
	o.args++;
	o.nargs--;
	for (size_t i = 0; i < n; i++)
		if (strcmp(sub, subs[i].name) == 0)
			return subs[i].fn(&o);
	fprintf(stderr, "databox %s: unknown sub-command %s\n", cmd, sub);
	return EXIT_USAGE;
}

int dbx_cmd_upload_share(int argc, char **argv)
{
	static const struct sub subs[] = {
		{ "create", upload_share_create }, { "put", upload_share_put },
		{ "ls", upload_share_ls }, { "rm", upload_share_rm },
	};
	return dispatch(argc, argv, "upload-share", "databox upload-share create ROOM[/PATH] ... | upload-share put "
			"LINK FILE ... | upload-share ls | upload-share rm ID", subs, sizeof(subs) / sizeof(subs[0]));
}

int dbx_cmd_share(int argc, char **argv)
{
	static const struct sub subs[] = {
		{ "create", share_create }, { "get", share_get },
		{ "ls", share_ls }, { "rm", share_rm },
	};
	return dispatch(argc, argv, "share", "databox share create ROOM/PATH ... | share get LINK OUT ... | share ls | "
			"share rm ID", subs, sizeof(subs) / sizeof(subs[0]));
}
