/* mg_conf.c - mailgw's keyword table, [listener NAME] sections and the checks that
 * span keys. Every key here is documented in etc/mailgw.ini (kept in sync by the
 * conf.sh test, which compares it with `mailgw --print-config`). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "applets/mailgw/mg_conf.h"
#include "applets/mailgw/mg_smtp.h"
#include "core/log.h"
#include "core/str.h"

#define K(sec, name, type, field, def, min, max, choices, help) \
	{ sec, name, type, offsetof(struct mg_conf, field), def, min, max, choices, help }

static const struct conf_key keys[] = {
	K("mailgw", "hostname", CONF_STR, hostname, NULL, 0, 0, NULL,
	  "name in the banner, EHLO and Received: headers (default: the host name)"),
	K("mailgw", "spool", CONF_STR, spool, "/var/spool/sealbox-mailgw", 0, 0, NULL,
	  "queue directory (msg/, env/, tmp/, tlsmem)"),
	K("mailgw", "commit_sync", CONF_ENUM, commit_sync, "syncfs", 0, 0, "syncfs|fsync",
	  "making accepted mail durable: syncfs = 2 syncfs(2) per batch; fsync = each file and directory (a spool on a busy shared file system)"),
	K("mailgw", "pidfile", CONF_STR, pidfile, NULL, 0, 0, NULL,
	  "pid file (default SPOOL/mailgw.pid; the operator commands signal it)"),
	K("mailgw", "user", CONF_STR, user, NULL, 0, 0, NULL, "drop root to this user after binding"),
	K("mailgw", "log_level", CONF_ENUM, log_level, "info", 0, 0, LOG_LEVEL_CHOICES, "how much to log (reloaded on SIGHUP)"),
	K("mailgw", "relay_domains", CONF_LIST, relay_domains, NULL, 0, 0, NULL,
	  "domains accepted from anyone (inbound); '.example.com' = subdomains; repeatable"),
	K("mailgw", "relay_clients", CONF_LIST, relay_clients, "127.0.0.0/8 ::1", 0, 0, NULL,
	  "client networks allowed to relay to any domain (outbound); repeatable"),
	K("mailgw", "require_tls_clients", CONF_LIST, require_tls_clients, NULL, 0, 0, NULL,
	  "clients that must STARTTLS before MAIL (530 5.7.0 otherwise); repeatable"),
	K("mailgw", "etrn_domains", CONF_LIST, etrn_domains, NULL, 0, 0, NULL,
	  "mail for these domains is held until ETRN; repeatable"),
	K("mailgw", "etrn_clients", CONF_LIST, etrn_clients, "127.0.0.0/8 ::1", 0, 0, NULL,
	  "clients allowed to send ETRN; repeatable"),
	K("mailgw", "max_message_size", CONF_SIZE, max_message_size, "25M", 1024, 1LL << 34, NULL,
	  "largest message accepted (announced as SIZE)"),
	K("mailgw", "max_recipients", CONF_INT, max_recipients, "100", 1, 10000, NULL,
	  "recipients per message (452 4.5.3 beyond)"),
	K("mailgw", "bare_lf", CONF_ENUM, bare_lf, "reject", 0, 0, "reject|normalize",
	  "bare LF in DATA: refuse the message (554 5.6.0) or store it as CRLF"),
	K("mailgw", "smtp_timeout", CONF_DURATION, smtp_timeout, "5m", 1, 86400, NULL,
	  "idle time allowed between commands"),
	K("mailgw", "data_timeout", CONF_DURATION, data_timeout, "10m", 1, 86400, NULL,
	  "idle time allowed inside DATA"),
	K("mailgw", "max_errors", CONF_INT, max_errors, "10", 1, 1000, NULL,
	  "bad commands before the connection is closed (421)"),
	K("mailgw", "max_connections", CONF_INT, max_connections, "1000", 1, 1000000, NULL,
	  "inbound sessions at once, all listeners (SMTP beyond: 421 4.3.2)"),
	K("mailgw", "max_connections_per_ip", CONF_INT, max_connections_per_ip, "20", 0, 1000000, NULL,
	  "inbound sessions at once from one client address, IPv6 by /64 (421 4.7.0 beyond; 0 = no limit)"),
	K("mailgw", "auth_backend", CONF_LIST, auth_backend, NULL, 0, 0, NULL,
	  "'DOMAIN|* URI' checks AUTH logins of DOMAIN at URI: dovecot:/PATH dovecot:// imaps:// imap:// pop3s:// pop3:// smtps:// smtp:// ldaps://H:P/BASE_DN?ATTR ldap://"),
	K("mailgw", "auth_ca_file", CONF_STR, auth_ca_file, NULL, 0, 0, NULL,
	  "CA bundle for the auth backends' certificates (default: system bundle)"),
	K("mailgw", "auth_tls_verify", CONF_BOOL, auth_tls_verify, "yes", 0, 0, NULL,
	  "verify the auth backends' certificates and names (no: encrypted but unverified)"),
	K("mailgw", "auth_allow_plaintext", CONF_BOOL, auth_allow_plaintext, "no", 0, 0, NULL,
	  "allow dovecot://HOST:PORT to a host that is not loopback (passwords in plaintext; warned)"),
	K("mailgw", "auth_timeout", CONF_DURATION, auth_timeout, "20s", 1, 600, NULL,
	  "longest wait for an auth backend's answer (then 454 4.7.0)"),
	K("mailgw", "auth_cache_time", CONF_DURATION, auth_cache_time, "60s", 0, 3600, NULL,
	  "a successful login is remembered this long (salted hash in memory; 0 = never)"),
	K("mailgw", "auth_fail_delay_after", CONF_INT, auth_fail_delay_after, "3", 1, 1000, NULL,
	  "failed logins per client IP or login name before 535 replies are delayed"),
	K("mailgw", "auth_fail_delay", CONF_DURATION, auth_fail_delay, "2s", 0, 60, NULL,
	  "delay of a 535 reply past auth_fail_delay_after"),
	K("mailgw", "auth_fail_max", CONF_INT, auth_fail_max, "10", 1, 10000, NULL,
	  "failed logins per client IP or login name before AUTH is refused (454 4.7.0)"),
	K("mailgw", "auth_fail_lockout", CONF_DURATION, auth_fail_lockout, "10m", 1, 86400, NULL,
	  "how long past auth_fail_max AUTH is refused; failures are forgotten after it"),
	K("mailgw", "sender_login", CONF_ENUM, sender_login, "any", 0, 0, "any|own",
	  "authenticated clients: own = MAIL FROM must be the login (or login@domain)"),
	K("mailgw", "received_auth_user", CONF_BOOL, received_auth_user, "no", 0, 0, NULL,
	  "name the authenticated user in the Received: header"),
	K("mailgw", "ldap_bind_dn", CONF_STR, ldap_bind_dn, NULL, 0, 0, NULL,
	  "DN of the service account the ldap backends and sources bind as before searching (unset: anonymous search)"),
	K("mailgw", "ldap_bind_password_file", CONF_STR, ldap_bind_password_file, NULL, 0, 0, NULL,
	  "file whose first line is ldap_bind_dn's password (read at start and on SIGHUP)"),
	K("mailgw", "rcpt_source", CONF_LIST, rcpt_source, NULL, 0, 0, NULL,
	  "'DOMAIN|* SOURCE' valid recipients of a relay domain: file:/PATH, ldaps://H:P/BASE_DN?ATTR, ldap://..., callout[:HOST[:PORT]]; others: 550 5.1.1"),
	K("mailgw", "rcpt_unavailable", CONF_ENUM, rcpt_unavailable, "defer", 0, 0, "defer|accept",
	  "a recipient source that cannot answer: defer = 451 4.4.3, accept = take the recipient"),
	K("mailgw", "rcpt_timeout", CONF_DURATION, rcpt_timeout, "20s", 1, 600, NULL,
	  "longest wait for an ldap or callout recipient check (then rcpt_unavailable applies)"),
	K("mailgw", "rcpt_cache_time", CONF_DURATION, rcpt_cache_time, "1h", 0, 30 * 86400, NULL,
	  "an ldap or callout answer 'valid' is remembered this long (0 = never)"),
	K("mailgw", "rcpt_negative_cache_time", CONF_DURATION, rcpt_negative_cache_time, "10m", 0, 30 * 86400, NULL,
	  "an ldap or callout answer 'unknown' is remembered this long (0 = never)"),
	K("delivery", "smarthost", CONF_STR, smarthost, NULL, 0, 0, NULL,
	  "HOST[:PORT] for all outbound mail (default: MX lookup, port 25)"),
	K("delivery", "smarthost_map", CONF_LIST, smarthost_map, NULL, 0, 0, NULL,
	  "'DOMAIN HOST[:PORT]' next hop for one domain; repeatable"),
	K("delivery", "tls_policy", CONF_LIST, tls_policy, NULL, 0, 0, NULL,
	  "'DESTINATION none|may|encrypt|verify'; DESTINATION = domain, .domain, [IP] or CIDR"),
	K("delivery", "tls_default", CONF_ENUM, tls_default, "may", 0, 0, "none|may|encrypt|verify",
	  "outbound TLS level where no tls_policy line matches"),
	K("delivery", "tls_ca_file", CONF_STR, tls_ca_file, NULL, 0, 0, NULL,
	  "CA bundle for level verify (default: system bundle)"),
	K("delivery", "tls_memory_time", CONF_DURATION, tls_memory_time, "1d", 0, 90 * 86400, NULL,
	  "how long a failed opportunistic STARTTLS is remembered (0 = never)"),
	K("delivery", "retry_min", CONF_DURATION, retry_min, "5m", 1, 86400, NULL,
	  "first retry after a temporary failure (doubles each time)"),
	K("delivery", "retry_max", CONF_DURATION, retry_max, "1h", 1, 7 * 86400, NULL,
	  "longest wait between retries"),
	K("delivery", "max_queue_lifetime", CONF_DURATION, max_queue_lifetime, "5d", 1, 365 * 86400, NULL,
	  "after this a message is bounced to its sender (DSN)"),
	K("delivery", "concurrency_per_destination", CONF_INT, concurrency_per_destination, "2", 1, 100, NULL,
	  "parallel connections to one next hop"),
	K("delivery", "concurrency_total", CONF_INT, concurrency_total, "20", 1, 1000, NULL,
	  "parallel outbound connections overall"),
	K("delivery", "connect_timeout", CONF_DURATION, connect_timeout, "30s", 1, 3600, NULL,
	  "TCP connect timeout per address"),
	K("delivery", "command_timeout", CONF_DURATION, command_timeout, "5m", 1, 3600, NULL,
	  "wait for each reply of the next hop"),
	K("delivery", "queue_scan_interval", CONF_DURATION, queue_scan_interval, "30s", 1, 3600, NULL,
	  "how often the queue is scanned for due messages"),
	K("delivery", "dns", CONF_BOOL, dns, "yes", 0, 0, NULL,
	  "look up MX records (no: the domain's own A/AAAA records are used)"),
	K("delivery", "dns_server", CONF_STR, dns_server, NULL, 0, 0, NULL,
	  "IP[:PORT] of the resolver for MX queries (default: first nameserver in /etc/resolv.conf)"),
	K("delivery", "smtp_port", CONF_INT, smtp_port, "25", 1, 65535, NULL,
	  "port of next hops found through MX (or the domain's address)"),
};

static const char *const mode_names[] = { "smtp", "smtps", "submission", "pop3", "pop3s", "imap", "imaps" };

const char *mg_mode_name(enum mg_mode m)
{
	return (unsigned)m < 7 ? mode_names[m] : "?";
}

static struct mg_listener_conf *listener_for(struct mg_conf *c, const char *name)
{
	for (size_t i = 0; i < c->nlisteners; i++)
		if (strcmp(c->listeners[i].name, name) == 0)
			return &c->listeners[i];
	struct mg_listener_conf *nv = realloc(c->listeners, (c->nlisteners + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	c->listeners = nv;
	struct mg_listener_conf *l = &nv[c->nlisteners];
	memset(l, 0, sizeof(*l));
	l->mode = -1;
	l->auth = -1;
	if (!(l->name = strdup(name)))
		return NULL;
	c->nlisteners++;
	return l;
}

static int set_str(char **dst, const char *v, char *err, size_t errlen)
{
	if (*dst) {
		str_fmt(err, errlen, "set twice");
		return -1;
	}
	*dst = strdup(v);
	return *dst ? 0 : -1;
}

static int add_sni(struct mg_listener_conf *l, const char *v, char *err, size_t errlen)
{
	char a[256], b[1024], d[1024], extra[2];
	struct mg_sni *nv;

	/* "NAME CERT KEY" */
	if (sscanf(v, "%255s %1023s %1023s %1s", a, b, d, extra) != 3) {
		str_fmt(err, errlen, "expected 'NAME CERT KEY'");
		return -1;
	}
	nv = realloc(l->sni, (l->nsni + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	l->sni = nv;
	nv[l->nsni].name = strdup(a);
	nv[l->nsni].cert = strdup(b);
	nv[l->nsni].key = strdup(d);
	l->nsni++;
	return 0;
}

static int section_cb(void *conf, const char *section, const char *name, const char *value,
		      char *err, size_t errlen)
{
	struct mg_conf *c = conf;
	struct mg_listener_conf *l;
	int b;

	/* Only [listener NAME] reaches here (mg_conf_spec's section_prefix). */
	if (!(l = listener_for(c, section + 9)))
		return -1;
	if (strcmp(name, "listen") == 0)
		return set_str(&l->listen, value, err, errlen);
	if (strcmp(name, "cert") == 0)
		return set_str(&l->cert, value, err, errlen);
	if (strcmp(name, "key") == 0)
		return set_str(&l->key, value, err, errlen);
	if (strcmp(name, "backend") == 0)
		return set_str(&l->backend, value, err, errlen);
	if (strcmp(name, "sni") == 0)
		return add_sni(l, value, err, errlen);
	if (strcmp(name, "mode") == 0) {
		for (int i = 0; i < 7; i++)
			if (strcasecmp(value, mode_names[i]) == 0) {
				l->mode = i;
				return 0;
			}
		str_fmt(err, errlen, "unknown mode '%s' (smtp|smtps|submission|pop3|pop3s|imap|imaps)", value);
		return -1;
	}
	if (strcmp(name, "auth") == 0) {
		if (conf_parse_bool(value, &b) < 0) {
			str_fmt(err, errlen, "expected yes or no");
			return -1;
		}
		l->auth = b;
		return 0;
	}
	if (strcmp(name, "require_tls") == 0) {
		if (conf_parse_bool(value, &b) < 0) {
			str_fmt(err, errlen, "expected yes or no");
			return -1;
		}
		l->require_tls = b;
		return 0;
	}
	str_fmt(err, errlen, "unknown key (listen|mode|cert|key|sni|backend|require_tls|auth)");
	return -1;
}

const struct conf_spec mg_conf_spec = { keys, sizeof(keys) / sizeof(keys[0]), section_cb, "listener " };

static int cidrs(struct mg_cidr_list *out, const struct conf_list *l, const char *key, char *err,
		 size_t errlen)
{
	char why[160];
	for (size_t i = 0; i < l->n; i++)
		if (mg_cidr_list_add_all(out, l->v[i], why, sizeof(why)) < 0) {
			str_fmt(err, errlen, "%s: %s", key, why);
			return -1;
		}
	return 0;
}

/* Lists of domains may hold several words per line: split them in place. */
static int split_words(struct conf_list *l)
{
	struct conf_list out = { 0 };
	for (size_t i = 0; i < l->n; i++) {
		char *s = l->v[i], *tok, *save = NULL;
		for (tok = strtok_r(s, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save))
			if (conf_list_add(&out, tok) < 0)
				return -1;
	}
	conf_list_free(l);
	*l = out;
	return 0;
}

static int check(struct mg_conf *c, char *err, size_t errlen)
{
	char why[160];

	if (split_words(&c->relay_domains) < 0 || split_words(&c->etrn_domains) < 0)
		return -1;
	for (size_t i = 0; i < c->relay_domains.n; i++) {
		const char *d = c->relay_domains.v[i];
		const char *dd = d[0] == '.' ? d + 1 : d;
		if (mg_domain_valid(dd, strlen(dd)) < 0 || dd[0] == '[') {
			str_fmt(err, errlen, "relay_domains: '%s' is not a domain", d);
			return -1;
		}
	}
	if (cidrs(&c->relay_nets, &c->relay_clients, "relay_clients", err, errlen) < 0 ||
	    cidrs(&c->tls_nets, &c->require_tls_clients, "require_tls_clients", err, errlen) < 0 ||
	    cidrs(&c->etrn_nets, &c->etrn_clients, "etrn_clients", err, errlen) < 0)
		return -1;
	c->tlspol.def = (enum mg_tls_level)c->tls_default;
	for (size_t i = 0; i < c->tls_policy.n; i++)
		if (mg_tls_policy_add(&c->tlspol, c->tls_policy.v[i], why, sizeof(why)) < 0) {
			str_fmt(err, errlen, "tls_policy '%s': %s", c->tls_policy.v[i], why);
			return -1;
		}
	for (size_t i = 0; i < c->smarthost_map.n; i++) {
		char d[256], h[256], x[2];
		if (sscanf(c->smarthost_map.v[i], "%255s %255s %1s", d, h, x) != 2) {
			str_fmt(err, errlen, "smarthost_map '%s': expected 'DOMAIN HOST[:PORT]'", c->smarthost_map.v[i]);
			return -1;
		}
	}
	for (size_t i = 0; i < c->auth_backend.n; i++) {
		if (mg_auth_table_add(&c->auth_table, c->auth_backend.v[i], why, sizeof(why)) < 0) {
			str_fmt(err, errlen, "auth_backend '%s': %s", c->auth_backend.v[i], why);
			return -1;
		}
		const struct mg_auth_backend *ab = &c->auth_table.v[c->auth_table.n - 1];
		if (mg_auth_backend_plaintext(ab) && !c->auth_allow_plaintext) {
			str_fmt(err, errlen, "auth_backend '%s': passwords would cross the network in plaintext "
				"(dovecot:// only to loopback, or set auth_allow_plaintext = yes)", ab->uri);
			return -1;
		}
	}
	for (size_t i = 0; i < c->rcpt_source.n; i++)
		if (mg_rcpt_table_add(&c->rcpt_table, c->rcpt_source.v[i], why, sizeof(why)) < 0) {
			str_fmt(err, errlen, "rcpt_source '%s': %s", c->rcpt_source.v[i], why);
			return -1;
		}
	if (mg_conf_ldap_check(c, err, errlen) < 0)
		return -1;
	if (c->retry_max < c->retry_min)
		c->retry_max = c->retry_min;
	/* No listener is allowed: the daemon then only delivers what is queued (draining a
	 * spool, or the sample file before it is edited). mailgw.c warns about it. */
	for (size_t i = 0; i < c->nlisteners; i++) {
		struct mg_listener_conf *l = &c->listeners[i];
		if (!l->listen || l->mode < 0) {
			str_fmt(err, errlen, "[listener %s]: listen and mode are required", l->name);
			return -1;
		}
		/* Every mode can do TLS (STARTTLS or implicit), and must: no cert, no listener. */
		if (!l->cert || !l->key) {
			str_fmt(err, errlen, "[listener %s]: cert and key are required", l->name);
			return -1;
		}
		int fe = l->mode >= MG_MODE_POP3;
		if (fe && !l->backend) {
			str_fmt(err, errlen, "[listener %s]: mode %s needs backend = HOST:PORT", l->name,
				mg_mode_name((enum mg_mode)l->mode));
			return -1;
		}
		if (fe && l->auth == 1) {
			str_fmt(err, errlen, "[listener %s]: auth is for SMTP modes", l->name);
			return -1;
		}
		if (l->auth == 1 && c->auth_table.n == 0) {
			str_fmt(err, errlen, "[listener %s]: auth = yes needs an auth_backend line", l->name);
			return -1;
		}
		if (!fe && l->backend) {
			str_fmt(err, errlen, "[listener %s]: backend is for pop3/imap modes", l->name);
			return -1;
		}
	}
	return 0;
}

static int load(struct mg_conf *c, const char *path, const char *text, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (conf_defaults(&mg_conf_spec, c) < 0) {
		str_fmt(err, errlen, "bad built-in default");
		return -1;
	}
	int rc = text ? conf_load_string(&mg_conf_spec, c, text, "mailgw.ini", err, errlen)
		      : conf_load(&mg_conf_spec, c, path, err, errlen);
	if (rc < 0 || check(c, err, errlen) < 0) {
		mg_conf_free(c);
		return -1;
	}
	return 0;
}

int mg_conf_load(struct mg_conf *c, const char *path, char *err, size_t errlen)
{
	return load(c, path, NULL, err, errlen);
}

int mg_conf_load_string(struct mg_conf *c, const char *text, char *err, size_t errlen)
{
	return load(c, NULL, text, err, errlen);
}

void mg_conf_free(struct mg_conf *c)
{
	for (size_t i = 0; i < c->nlisteners; i++) {
		struct mg_listener_conf *l = &c->listeners[i];
		free(l->name);
		free(l->listen);
		free(l->cert);
		free(l->key);
		free(l->backend);
		for (size_t k = 0; k < l->nsni; k++) {
			free(l->sni[k].name);
			free(l->sni[k].cert);
			free(l->sni[k].key);
		}
		free(l->sni);
	}
	free(c->listeners);
	mg_cidr_list_free(&c->relay_nets);
	mg_cidr_list_free(&c->tls_nets);
	mg_cidr_list_free(&c->etrn_nets);
	mg_tls_policy_free(&c->tlspol);
	mg_auth_table_free(&c->auth_table);
	mg_rcpt_table_free(&c->rcpt_table);
	conf_free(&mg_conf_spec, c);
	memset(c, 0, sizeof(*c));
}

void mg_conf_nexthop(const struct mg_conf *c, const char *domain, char *out, size_t cap)
{
	char d[256], h[256];

	for (size_t i = 0; i < c->smarthost_map.n; i++)
		if (sscanf(c->smarthost_map.v[i], "%255s %255s", d, h) == 2 && strcasecmp(d, domain) == 0) {
			str_copy(out, h, cap);
			return;
		}
	str_copy(out, c->smarthost ? c->smarthost : "", cap);
}

int mg_conf_is_etrn_domain(const struct mg_conf *c, const char *domain)
{
	return mg_domain_list_match(c->etrn_domains.v, c->etrn_domains.n, domain);
}

int mg_conf_listener_auth(const struct mg_conf *c, const struct mg_listener_conf *l)
{
	if (l->mode >= MG_MODE_POP3 || c->auth_table.n == 0)
		return 0;
	if (l->auth >= 0)
		return l->auth;
	return l->mode == MG_MODE_SUBMISSION || l->mode == MG_MODE_SMTPS;
}
