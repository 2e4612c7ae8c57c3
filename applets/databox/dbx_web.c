/* dbx_web.c - serves the built web app (index.html, content-hashed assets, the service
 * worker, the manifest) from memory, and sets the security headers on every response
 * of the listener, the API's included.
 *
 * Only the files the build's manifest lists are served, each loaded once at start-up
 * and checked against the SHA-256 the manifest gives: no path from a request ever
 * reaches the file system, and a file changed after the build is refused at start. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/databox/dbx_server.h"
#include "applets/databox/dbx_web.h"
#include "core/encoding.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/str.h"
#include "crypto/crypto.h"
#include "net/http.h"

#define MAX_FILES 256
#define MAX_FILE (16u << 20)

/* No inline script or style, nothing from another origin, no framing. The service
 * worker and fetch() reach only this origin. */
#define CSP_PAGE "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " \
	"connect-src 'self'; worker-src 'self'; manifest-src 'self'; form-action 'self'; " \
	"base-uri 'none'; frame-ancestors 'none'"
#define CSP_API "default-src 'none'; frame-ancestors 'none'; sandbox"

struct web_file {
	char *path;       /* as requested, e.g. "/assets/app-0123.js" */
	uint8_t *data;
	size_t len;
	const char *type;
	int immutable;    /* content-hashed name: cache for a year */
};

struct dbx_web {
	struct web_file f[MAX_FILES];
	size_t n;
	struct web_file manifest;
};

static const char *content_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (!dot)
		return "application/octet-stream";
	if (strcmp(dot, ".js") == 0)
		return "text/javascript; charset=utf-8";
	if (strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	if (strcmp(dot, ".html") == 0)
		return "text/html; charset=utf-8";
	if (strcmp(dot, ".json") == 0)
		return "application/json";
	return "application/octet-stream";
}

/* A manifest path: absolute, only [A-Za-z0-9._/-], no "..", no "//". */
static int path_ok(const char *p)
{
	if (p[0] != '/' || strlen(p) > 200 || strstr(p, "..") || strstr(p, "//"))
		return 0;
	for (const char *c = p; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '.' || *c == '_' || *c == '-' || *c == '/'))
			return 0;
	return 1;
}

const char *dbx_web_root(const char *root, char *buf, size_t cap)
{
	char exe[4096];
	if (!root || strcmp(root, "auto") != 0)
		return root;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return "";
	exe[n] = '\0';
	for (int i = 0; i < 2; i++) { /* strip "/sealbox", then "/bin" */
		char *slash = strrchr(exe, '/');
		if (!slash)
			return "";
		*slash = '\0';
	}
	if (str_fmt(buf, cap, "%s/share/sealbox/databox-web", exe) < 0)
		return "";
	return buf;
}

void dbx_web_free(struct dbx_web *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++) {
		free(w->f[i].path);
		free(w->f[i].data);
	}
	free(w->manifest.data);
	free(w);
}

static int load_one(struct dbx_web *w, const char *root, const char *path, const char *hexsum,
		    char *err, size_t errlen)
{
	char full[4096];
	uint8_t want[CRY_SHA256_LEN], got[CRY_SHA256_LEN];
	struct web_file *f = &w->f[w->n];

	if (!path_ok(path) || strcmp(path, DBX_WEB_MANIFEST) == 0) {
		str_fmt(err, errlen, "manifest lists a bad path \"%.100s\"", path);
		return -1;
	}
	if (!hexsum || strlen(hexsum) != 64 || hex_decode(hexsum, 64, want, sizeof(want)) != CRY_SHA256_LEN) {
		str_fmt(err, errlen, "manifest: %s has no SHA-256", path);
		return -1;
	}
	if (str_fmt(full, sizeof(full), "%s%s", root, path) < 0)
		return -1;
	f->data = fs_read_file_new(full, MAX_FILE, &f->len);
	if (!f->data) {
		str_fmt(err, errlen, "%s: %s", full, strerror(errno));
		return -1;
	}
	f->path = strdup(path);
	f->type = content_type(path);
	f->immutable = str_has_prefix(path, "/assets/");
	w->n++;
	if (!f->path || cry_sha256(f->data, f->len, got) < 0 || !cry_memeq(got, want, sizeof(got))) {
		str_fmt(err, errlen, "%s does not match the SHA-256 in the manifest (changed after the build?)", full);
		return -1;
	}
	return 0;
}

struct dbx_web *dbx_web_load(const char *root, char *err, size_t errlen)
{
	char mpath[4096], rbuf[4096];
	json_error_t je;
	const char *key;
	json_t *v;

	root = dbx_web_root(root, rbuf, sizeof(rbuf));
	if (!root || !*root) {
		str_copy(err, "web_root is empty: the web app is off", errlen);
		return NULL;
	}
	struct dbx_web *w = calloc(1, sizeof(*w));
	if (!w || str_fmt(mpath, sizeof(mpath), "%s%s", root, DBX_WEB_MANIFEST) < 0) {
		free(w);
		str_copy(err, "out of memory", errlen);
		return NULL;
	}
	w->manifest.data = fs_read_file_new(mpath, 1 << 20, &w->manifest.len);
	if (!w->manifest.data) {
		str_fmt(err, errlen, "no web app at %s (%s: %s)", root, mpath, strerror(errno));
		dbx_web_free(w);
		return NULL;
	}
	w->manifest.type = "application/json";
	json_t *m = json_loadb((const char *)w->manifest.data, w->manifest.len, JSON_REJECT_DUPLICATES, &je);
	json_t *files = json_object_get(m, "files");
	if (!json_is_object(files) || json_object_size(files) == 0 || json_object_size(files) > MAX_FILES ||
	    !json_object_get(files, "/index.html")) {
		str_fmt(err, errlen, "%s: not a databox-web manifest", mpath);
		goto fail;
	}
	json_object_foreach(files, key, v) {
		if (load_one(w, root, key, json_string_value(v), err, errlen) < 0)
			goto fail;
	}
	json_decref(m);
	return w;
fail:
	json_decref(m);
	dbx_web_free(w);
	return NULL;
}

static const struct web_file *find(const struct dbx_web *w, const char *path)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->f[i].path, path) == 0)
			return &w->f[i];
	return NULL;
}

/* The paths the single page answers: the app and the share links. */
static int is_page(const char *p)
{
	return strcmp(p, "/") == 0 || strcmp(p, "/index.html") == 0 || str_has_prefix(p, "/s/") ||
	       str_has_prefix(p, "/u/");
}

static void reply_text(struct net_http_req *r, int code, const char *text)
{
	net_http_set_header(r, "Content-Type", "text/plain; charset=utf-8");
	net_http_reply(r, code, text, strlen(text));
}

static void serve(struct dbx_web *w, struct net_http_req *r, const char *path)
{
	const char *method = net_http_method(r);
	const struct web_file *f = NULL;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		net_http_set_header(r, "Allow", "GET, HEAD");
		reply_text(r, 405, "method not allowed\n");
		return;
	}
	if (!w) {
		reply_text(r, 404, "not found (the web app is not installed on this server)\n");
		return;
	}
	if (strcmp(path, DBX_WEB_MANIFEST) == 0)
		f = &w->manifest;
	else if (is_page(path))
		f = find(w, "/index.html");
	else
		f = find(w, path);
	if (!f) {
		reply_text(r, 404, "not found\n");
		return;
	}
	net_http_set_header(r, "Content-Type", f->type);
	net_http_set_header(r, "Cache-Control", f->immutable ? "public, max-age=31536000, immutable" : "no-cache");
	if (strcmp(path, "/sw.js") == 0)
		net_http_set_header(r, "Service-Worker-Allowed", "/");
	net_http_reply(r, 200, f->data, f->len);
}

void dbx_http_handle(struct net_http_req *r, void *arg)
{
	struct dbx_server *s = arg;
	const char *path = net_http_path(r);
	int api = !path || str_has_prefix(path, "/api/");

	/* Share links carry their secret in the path: no Referer ever leaves a page. */
	net_http_set_header(r, "Referrer-Policy", "no-referrer");
	net_http_set_header(r, "X-Content-Type-Options", "nosniff");
	net_http_set_header(r, "X-Frame-Options", "DENY");
	net_http_set_header(r, "Content-Security-Policy", api ? CSP_API : CSP_PAGE);
	net_http_set_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	net_http_set_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	if (s->tls)
		net_http_set_header(r, "Strict-Transport-Security", "max-age=31536000");
	if (api) {
		dbx_api_handle(r, s);
		return;
	}
	serve(s->web, r, path);
}
