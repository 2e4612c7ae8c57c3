/* tun_conf.c - tunneld's configuration keys: one table gives defaults, checks,
 * the sample (etc/tunneld.ini) and file:line errors. */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/str.h"
#include "tun.h"
#include "tun_cluster.h"

#define K(name, type, field, def, min, max, help) \
	{ "tunneld", name, type, offsetof(struct tun_conf, field), def, min, max, NULL, help }
/* R: a key SIGHUP applies to the running relay (tun_relay_apply_conf) */
#define R(name, type, field, def, min, max, help) \
	{ "tunneld", name, (type) | CONF_RELOAD, offsetof(struct tun_conf, field), def, min, max, NULL, help }

static const struct conf_key keys[] = {
	K("listen", CONF_STR, listen, "*:4663", 0, 0, "TCP listener for frames (ADDR:PORT, *:PORT, or none)"),
	K("https_listen", CONF_STR, https_listen, "none", 0, 0,
	  "TLS listener with HTTP Upgrade, e.g. *:443 (needs tls_cert/tls_key); none = off"),
	K("http_listen", CONF_STR, http_listen, "none", 0, 0, "plain HTTP Upgrade listener, e.g. *:80; none = off"),
	K("tls_cert", CONF_STR, tls_cert, NULL, 0, 0, "PEM certificate chain for https_listen"),
	K("tls_key", CONF_STR, tls_key, NULL, 0, 0, "PEM private key for tls_cert"),
	K("state_dir", CONF_STR, state_dir, "/var/lib/sealbox-tunneld", 0, 0,
	  "issued session numbers and file drops live here"),
	{ "tunneld", "log_level", CONF_ENUM | CONF_RELOAD, offsetof(struct tun_conf, log_level), "info", 0, 0,
	  LOG_LEVEL_CHOICES, "how much to log (reloaded on SIGHUP)" },
	K("pidfile", CONF_STR, pidfile, NULL, 0, 0, "write the process id here"),
	K("user", CONF_STR, user, NULL, 0, 0, "drop root to this user after binding the ports"),
	K("digits", CONF_INT, digits, "5", 2, 7, "decimal digits of a session number"),
	R("low_water", CONF_INT, low_water, "10", 0, 100, "warn when fewer than this percent of numbers are left"),
	R("max_sessions", CONF_INT, max_sessions, "2000", 1, 1000000, "live sessions at most"),
	R("max_clients", CONF_INT, max_clients, "16", 1, 1000, "clients per session at most"),
	R("max_frame", CONF_SIZE, max_frame, "64k", 4096, 256 * 1024, "largest frame payload accepted"),
	R("idle_timeout", CONF_DURATION, idle_timeout, "1h", 1, 0x7fffffff,
	  "a master without any client is ended after this"),
	R("hello_timeout", CONF_DURATION, hello_timeout, "30s", 1, 3600,
	  "a connection must register, join or resume within this"),
	R("dead_after", CONF_DURATION, dead_after, "60s", 1, 86400, "a link silent this long counts as dropped"),
	R("resume_grace", CONF_DURATION, resume_grace, "30s", 0, 3600,
	  "a dropped participant may RESUME within this; 0 = never"),
	R("join_rate", CONF_INT, join_rate, "30", 1, 100000, "JOIN/RESUME attempts per minute per address"),
	R("register_rate", CONF_INT, register_rate, "10", 1, 100000,
	  "REGISTERs per minute per address (each burns a session number for ever)"),
	R("max_connections", CONF_INT, max_connections, "8192", 2, 1000000,
	  "open connections at most; more are closed at once (raise LimitNOFILE to match)"),
	R("max_connections_per_ip", CONF_INT, max_connections_per_ip, "64", 1, 1000000,
	  "open connections per address (IPv6: per /64) at most; more are closed at once"),
	R("register_rate_total", CONF_INT, register_rate_total, "60", 1, 1000000,
	  "REGISTERs per minute from all addresses together (many IPv6 /64s each have their own register_rate)"),
	R("unknown_rate", CONF_INT, unknown_rate, "10", 1, 100000,
	  "attempts with an unknown number per minute per address before it is blocked"),
	R("block_time", CONF_DURATION, block_time, "10m", 1, 86400 * 30, "how long a blocked address stays blocked"),
	K("throttle_table", CONF_INT, throttle_table, "4096", 16, 1 << 22,
	  "addresses tracked for throttling at most (least recently seen evicted)"),
	R("pair_buffer", CONF_SIZE, pair_buffer, "256k", 16 * 1024, 64LL << 20,
	  "unsent bytes queued for one receiver before its senders are paused"),
	R("drop_quota", CONF_SIZE, drop_quota, "64M", 0, 1LL << 40, "file drop bytes per session; 0 = drop off"),
	R("drop_max_size", CONF_SIZE, drop_max_size, "64M", 0, 1LL << 40, "largest single dropped file"),
	R("drop_max_files", CONF_INT, drop_max_files, "64", 1, 1024, "files per session at most"),
#define C(name, type, field, def, min, max, help) \
	{ "cluster", name, type, offsetof(struct tun_conf, field), def, min, max, NULL, help }
	C("redis", CONF_STR, cl_redis, NULL, 0, 0,
	  "HOST:PORT of the fleet's Redis; unset (no [cluster]) = one relay on its own"),
	C("password_file", CONF_STR, cl_password_file, NULL, 0, 0, "file whose first line is Redis's AUTH password"),
	C("relay_id", CONF_STR, cl_relay_id, NULL, 0, 0, "this relay's name in the fleet, [a-z0-9_-]{1,32}, unique"),
	C("key_prefix", CONF_STR, cl_key_prefix, "sealbox:tun", 0, 0,
	  "prefix of every Redis key (one Redis may serve several fleets)"),
	C("public_tcp", CONF_STR, cl_public_tcp, NULL, 0, 0, "HOST:PORT clients reach this relay's listen at (redirects)"),
	C("public_https", CONF_STR, cl_public_https, NULL, 0, 0, "HOST:PORT of this relay's https_listen, for redirects"),
	C("public_http", CONF_STR, cl_public_http, NULL, 0, 0, "HOST:PORT of this relay's http_listen, for redirects"),
	C("lease", CONF_DURATION, cl_lease, "3s", 3, 600,
	  "a relay (and so its sessions) counts as gone this long after its last heartbeat"),
	C("redis_timeout", CONF_DURATION, cl_redis_timeout, "2s", 1, 60,
	  "an answer from Redis later than this drops the connection (then: reconnect)"),
	C("local_range", CONF_STR, cl_local_range, NULL, 0, 0,
	  "LO-HI: numbers reserved to this relay in Redis, issued only while Redis is unreachable (at most 10000)"),
#undef C
};

const struct conf_spec tun_conf_spec = { keys, sizeof(keys) / sizeof(keys[0]), NULL, NULL };

int tun_conf_off(const char *s)
{
	return !s || !*s || strcasecmp(s, "none") == 0 || strcasecmp(s, "off") == 0;
}

int tun_conf_load(struct tun_conf *c, const char *path, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (conf_defaults(&tun_conf_spec, c) < 0) {
		str_copy(err, "internal: bad default", errlen);
		return -1;
	}
	if (conf_load(&tun_conf_spec, c, path, err, errlen) < 0) /* NULL path: the command line only */
		return -1;
	/* Cross-key rules; no line number to name, so name the file and the key. */
	const char *f = path ? path : "(defaults)";
	if (!tun_conf_off(c->https_listen) && (!c->tls_cert || !c->tls_key)) {
		str_fmt(err, errlen, "%s: https_listen: needs tls_cert and tls_key", f);
		return -1;
	}
	if (tun_conf_off(c->listen) && tun_conf_off(c->https_listen) && tun_conf_off(c->http_listen)) {
		str_fmt(err, errlen, "%s: listen: every listener is off", f);
		return -1;
	}
	if (!c->state_dir || c->state_dir[0] != '/' || strlen(c->state_dir) > 400) {
		str_fmt(err, errlen, "%s: state_dir: must be an absolute path (at most 400 chars)", f);
		return -1;
	}
	if (!c->cl_redis && (c->cl_relay_id || c->cl_local_range || c->cl_password_file || c->cl_public_tcp || c->cl_public_https ||
			     c->cl_public_http)) {
		str_fmt(err, errlen, "%s: [cluster] redis: needed by the other [cluster] keys", f);
		return -1;
	}
	if (c->cl_redis && tun_cluster_conf_check(c, f, err, errlen) < 0)
		return -1;
	if (c->drop_max_size > c->drop_quota)
		c->drop_max_size = c->drop_quota;
	return 0;
}

void tun_conf_free(struct tun_conf *c)
{
	conf_free(&tun_conf_spec, c);
}
