/* dbx_conf.c - the server's configuration keys (etc/databox.ini). */
#include <stddef.h>
#include <string.h>

#include "applets/databox/dbx_server.h"
#include "applets/databox/dbx_web.h"
#include "core/conf.h"
#include "core/log.h"
#include "core/str.h"

static const struct conf_key keys[] = {
	{ "databox", "listen", CONF_STR, offsetof(struct dbx_conf, listen), "127.0.0.1:8443", 0, 0, NULL,
	  "address and port of the HTTPS API" },
	{ "databox", "plain_http", CONF_BOOL, offsetof(struct dbx_conf, plain_http), "no", 0, 0, NULL,
	  "serve plain HTTP (refused unless listen is a loopback address)" },
	{ "databox", "tls_cert", CONF_STR, offsetof(struct dbx_conf, tls_cert), NULL, 0, 0, NULL,
	  "PEM certificate chain" },
	{ "databox", "tls_key", CONF_STR, offsetof(struct dbx_conf, tls_key), NULL, 0, 0, NULL,
	  "PEM private key of tls_cert" },
	{ "databox", "state_dir", CONF_STR, offsetof(struct dbx_conf, state_dir), "/var/lib/sealbox-databox",
	  0, 0, NULL, "database and encrypted blobs" },
	{ "databox", "token_lifetime", CONF_DURATION | CONF_RELOAD, offsetof(struct dbx_conf, token_lifetime), "8h",
	  60, 30 * 86400, NULL, "how long a login token is valid" },
	{ "databox", "password_iterations", CONF_INT | CONF_RELOAD, offsetof(struct dbx_conf, password_iterations),
	  "200000", 1000, 10000000, NULL, "PBKDF2-HMAC-SHA256 iterations for new login passwords" },
	{ "databox", "max_chunk", CONF_SIZE, offsetof(struct dbx_conf, max_chunk), "16M", 4096,
	  256LL * 1024 * 1024, NULL, "largest upload chunk (one request body)" },
	{ "databox", "max_json", CONF_SIZE, offsetof(struct dbx_conf, max_json), "1M", 4096,
	  64LL * 1024 * 1024, NULL, "largest JSON request body of a logged-in user (64K without login)" },
	{ "databox", "header_timeout", CONF_DURATION, offsetof(struct dbx_conf, header_timeout), "30s", 1,
	  3600, NULL, "time for a whole request head, and for an idle connection" },
	{ "databox", "max_connections", CONF_INT, offsetof(struct dbx_conf, max_connections), "256", 1,
	  100000, NULL, "open connections in all" },
	{ "databox", "max_connections_per_address", CONF_INT,
	  offsetof(struct dbx_conf, max_connections_per_address), "32", 1, 100000, NULL,
	  "open connections from one client address" },
	{ "databox", "login_max_failures", CONF_INT | CONF_RELOAD, offsetof(struct dbx_conf, login_max_failures), "5",
	  1, 1000, NULL, "failed logins per user or address before a lockout" },
	{ "databox", "login_lockout", CONF_DURATION | CONF_RELOAD, offsetof(struct dbx_conf, login_lockout), "15m", 1,
	  86400, NULL, "lockout after too many failed logins" },
	{ "databox", "log_level", CONF_ENUM | CONF_RELOAD, offsetof(struct dbx_conf, log_level), "info", 0, 0,
	  LOG_LEVEL_CHOICES, "how much to log (reloaded on SIGHUP)" },
	{ "databox", "pidfile", CONF_STR, offsetof(struct dbx_conf, pidfile), NULL, 0, 0, NULL,
	  "write the process id here" },
	{ "databox", "user", CONF_STR, offsetof(struct dbx_conf, user), NULL, 0, 0, NULL,
	  "drop root to this user after binding (it must own state_dir)" },
	{ "databox", "web_root", CONF_STR, offsetof(struct dbx_conf, web_root), DBX_WEB_ROOT_DEFAULT, 0, 0, NULL,
	  "the built web app; auto: BINDIR/../share/sealbox/databox-web, where make install puts it; empty: the API only" },
};
const struct conf_spec dbx_conf_spec = { keys, sizeof(keys) / sizeof(keys[0]), NULL, NULL };

static int is_loopback(const char *listen)
{
	return str_has_prefix(listen, "127.") || str_has_prefix(listen, "[::1]:") ||
	       str_has_prefix(listen, "localhost:");
}

int dbx_conf_load(struct dbx_conf *c, const char *path, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (conf_defaults(&dbx_conf_spec, c) < 0 || conf_load(&dbx_conf_spec, c, path, err, errlen) < 0)
		return -1;
	if (!path)
		path = "(no file)";
	if (c->plain_http && !is_loopback(c->listen)) {
		str_fmt(err, errlen, "%s: plain_http is only allowed on a loopback listen address", path);
		return -1;
	}
	if (!c->plain_http && (!c->tls_cert || !c->tls_key)) {
		str_fmt(err, errlen, "%s: tls_cert and tls_key are required (or plain_http on loopback)", path);
		return -1;
	}
	return 0;
}

void dbx_conf_free(struct dbx_conf *c)
{
	conf_free(&dbx_conf_spec, c);
}
