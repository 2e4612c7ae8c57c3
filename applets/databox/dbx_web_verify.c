/* dbx_web_verify.c - "databox web-verify https://HOST": is the web app a server hands
 * to browsers the one the operator built and installed? The server's manifest must list
 * exactly the local build's files and hashes, and every file the server actually sends
 * (fetched here, not taken from its manifest) must hash to the local value. A server
 * whose bundle was altered (the standing risk of crypto in the browser) fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "applets/databox/dbx_web.h"
#include "core/encoding.h"
#include "core/exitcode.h"
#include "core/fs.h"
#include "core/str.h"
#include "crypto/crypto.h"
#include "net/httpc.h"

static const char usage[] =
	"Usage: databox web-verify https://HOST[:PORT] [--web-root DIR] [--ca FILE]\n"
	"Compares the web app the server sends with the build installed in DIR\n"
	"(default: BINDIR/../share/sealbox/databox-web, where make install puts it).\n";

static int sink(const uint8_t *data, size_t len, void *arg)
{
	return cry_sha256_update(arg, data, len);
}

/* Fetches path and hashes what arrives; the HTTP status, or -1. */
static int fetch_hash(struct net_httpc *h, const char *path, char hex[65], char *err, size_t errlen)
{
	uint8_t sum[CRY_SHA256_LEN];
	struct cry_sha256_ctx *c = cry_sha256_new();
	if (!c)
		return -1;
	int st = net_httpc_request(h, "GET", path, NULL, NULL, 0, sink, c, NULL, NULL, 0, err, errlen);
	if (cry_sha256_final(c, sum) < 0)
		return -1;
	hex_encode(sum, sizeof(sum), hex, 65, 0);
	return st;
}

int dbx_web_verify_main(int argc, char **argv)
{
	const char *url = NULL, *root = DBX_WEB_ROOT_DEFAULT, *ca = NULL;
	char err[512], mpath[4096], rbuf[4096];
	int bad = 0, n = 0, rc = EXIT_DATAERR;
	json_t *local = NULL, *remote = NULL;
	struct net_httpc *h = NULL;
	char *text = NULL;
	size_t len;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--web-root") == 0 && i + 1 < argc)
			root = argv[++i];
		else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
			ca = argv[++i];
		else if (!url && argv[i][0] != '-')
			url = argv[i];
		else {
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (!url) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	root = dbx_web_root(root, rbuf, sizeof(rbuf));
	str_fmt(mpath, sizeof(mpath), "%s%s", root, DBX_WEB_MANIFEST);
	text = (char *)fs_read_file_new(mpath, 1 << 20, &len);
	local = text ? json_loadb(text, len, 0, NULL) : NULL;
	free(text);
	text = NULL;
	json_t *lf = json_object_get(local, "files");
	if (!json_is_object(lf)) {
		fprintf(stderr, "databox web-verify: %s: not a databox-web build manifest\n", mpath);
		rc = EXIT_NOINPUT;
		goto out;
	}
	if (!(h = net_httpc_new(url, ca, err, sizeof(err)))) {
		fprintf(stderr, "databox web-verify: %s\n", err);
		rc = EXIT_USAGE;
		goto out;
	}
	int st = net_httpc_request(h, "GET", DBX_WEB_MANIFEST, NULL, NULL, 0, NULL, NULL, &text, &len, 1 << 20,
				   err, sizeof(err));
	if (st < 0) {
		fprintf(stderr, "databox web-verify: %s: %s\n", url, err);
		rc = EXIT_UNAVAILABLE;
		goto out;
	}
	remote = st == 200 ? json_loadb(text, len, 0, NULL) : NULL;
	json_t *rf = json_object_get(remote, "files");
	if (!json_is_object(rf)) {
		printf("MISMATCH %s: the server has no web app manifest (HTTP %d)\n", DBX_WEB_MANIFEST, st);
		bad++;
	}
	const char *path;
	json_t *v;
	json_object_foreach(rf, path, v) {
		if (!json_object_get(lf, path)) {
			printf("MISMATCH %s: served, but not in the installed build\n", path);
			bad++;
		}
	}
	json_object_foreach(lf, path, v) {
		const char *want = json_string_value(v);
		const char *listed = json_string_value(json_object_get(rf, path));
		char got[65];
		if (rf && (!listed || strcmp(listed, want ? want : "") != 0)) {
			printf("MISMATCH %s: the server's manifest gives %s\n", path, listed ? listed : "nothing");
			bad++;
		}
		st = fetch_hash(h, path, got, err, sizeof(err));
		if (st != 200 || !want || strcmp(got, want) != 0) {
			printf("MISMATCH %s: the server sends %s (HTTP %d), the build has %s\n", path,
			       st == 200 ? got : "nothing", st, want ? want : "?");
			bad++;
		} else {
			printf("ok %s %s\n", path, got);
			n++;
		}
	}
	/* the pages a browser opens are index.html too */
	const char *index = json_string_value(json_object_get(lf, "/index.html"));
	static const char *const pages[] = { "/", "/s/00000000000000000000000000000000", "/u/00000000000000000000000000000000" };
	for (size_t i = 0; index && i < sizeof(pages) / sizeof(pages[0]); i++) {
		char got[65];
		st = fetch_hash(h, pages[i], got, err, sizeof(err));
		if (st != 200 || strcmp(got, index) != 0) {
			printf("MISMATCH %s: not the build's index.html\n", pages[i]);
			bad++;
		}
	}
	if (bad) {
		printf("databox web-verify: %s does NOT serve the build in %s (%d difference(s))\n", url, root, bad);
		rc = EXIT_DATAERR;
	} else {
		printf("databox web-verify: %s serves the build in %s (%d files, SHA-256 equal)\n", url, root, n);
		rc = EXIT_OK;
	}
out:
	free(text);
	json_decref(local);
	json_decref(remote);
	net_httpc_free(h);
	return rc;
}
