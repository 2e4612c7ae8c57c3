/* dbx_web.h - the web app's static files on databox's own HTTPS listener, and the
 * security headers of every response (docs/databox-web.md). */
#ifndef DBX_WEB_H
#define DBX_WEB_H

#include <stddef.h>

struct net_http_req;
struct dbx_web;

/* web_root "auto" (the default) is where `make install` puts the web app for the
 * installed binary: BINDIR/../share/sealbox/databox-web (PREFIX/bin/sealbox ->
 * PREFIX/share/sealbox/databox-web). Resolved at run time, so PREFIX is not compiled in. */
#define DBX_WEB_ROOT_DEFAULT "auto"
#define DBX_WEB_MANIFEST "/.well-known/databox-web.json"

/* root, or for "auto" the folder next to the running binary, into buf. */
const char *dbx_web_root(const char *root, char *buf, size_t cap);

/* Loads every file the build's manifest (root/.well-known/databox-web.json) lists,
 * each checked against its SHA-256; NULL with err when there is no web app at root or a
 * file does not match (the server then answers the API only). */
struct dbx_web *dbx_web_load(const char *root, char *err, size_t errlen);
void dbx_web_free(struct dbx_web *w);

/* The listener's handler (arg: struct dbx_server *): security headers on every
 * response, /api/ to dbx_api_handle, everything else to the web app's files. */
void dbx_http_handle(struct net_http_req *r, void *arg);

/* "databox web-verify" (dbx_web_verify.c). */
int dbx_web_verify_main(int argc, char **argv);
#endif
