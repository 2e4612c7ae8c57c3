/* vw_conf.c - the relay options of viewer-master and viewer-client and their [viewer]
 * configuration file (see vw_conf.h for the precedence). The file exists mostly for
 * the proxy: its password must not be typed on a command line, where every user of the
 * machine can read it (ps, /proc). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/viewer/vw_conf.h"
#include "applets/viewer/vw_servers.h"
#include "core/conf.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "core/secret.h"
#include "net/conn.h"
#include "net/proxy.h"

#define K(name, type, field, def, min, max, help) \
	{ "viewer", name, type, offsetof(struct vw_conf, field), def, min, max, NULL, help }
static const struct conf_key keys[] = {
	K("server", CONF_STR, server, NULL, 0, 0, "the relay's TCP port, HOST:PORT (tunneld, 4663); a fleet: several, comma-separated, tried in order; --server wins"),
	K("https_port", CONF_INT, https_port, "443", 0, 65535, "the relay's HTTPS port on the same host, tried when TCP fails; 0 = never"),
	K("http_port", CONF_INT, http_port, "80", 0, 65535, "the relay's plain HTTP Upgrade port, tried when HTTPS fails too; 0 = never"),
	K("relay_ca", CONF_STR, relay_ca, NULL, 0, 0, "PEM roots the relay's HTTPS certificate must chain to; unset: the system's CAs"),
	K("relay_insecure", CONF_BOOL, relay_insecure, "no", 0, 0, "do not check the relay's HTTPS certificate (warned about at start)"),
	K("https_proxy", CONF_STR, https_proxy, NULL, 0, 0, "proxy for the HTTPS path: http://[user:password@]host[:port]; none = direct; unset: $https_proxy"),
	K("http_proxy", CONF_STR, http_proxy, NULL, 0, 0, "proxy for the plain HTTP path; none = direct; unset: $http_proxy, else https_proxy"),
	K("no_proxy", CONF_STR, no_proxy, NULL, 0, 0, "relay hosts reached without a proxy, as in $no_proxy (host, .domain, IP, CIDR, *); unset: $no_proxy"),
};
#undef K
const struct conf_spec vw_conf_spec = { keys, sizeof(keys) / sizeof(keys[0]), NULL, NULL };

static const char sample_head[] =
	"# viewer.ini - how viewer-master and viewer-client reach the relay, section [viewer].\n"
	"# Read from -c FILE, else from /etc/sealbox/viewer.ini when it exists. The command\n"
	"# line wins over this file, this file over the environment (https_proxy, ...).\n"
	"# Proxy passwords belong here (user:password@ in the URL; %-encode ':' '@' '%'),\n"
	"# never on a command line; keep the file from other users (chmod 600 or 640).\n"
	"# Every key with its default; see docs/viewer.md.\n";

void vw_relay_opts_init(struct vw_relay_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->https_port = -1; /* -1: not on the command line; the file or 443 */
	o->http_port = -1;
}

static int port_arg(const char *v, int *out)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (!*v || *end || n < 0 || n > 65535)
		return -1;
	*out = (int)n;
	return 0;
}

int vw_relay_opt(struct vw_relay_opts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	int has_val = *i + 1 < argc;

	if (strcmp(a, "--relay-insecure") == 0) {
		o->insecure = 1;
		return 1;
	}
	if (strcmp(a, "-n") == 0 || strcmp(a, "--check-config") == 0) {
		o->check_only = 1;
		return 1;
	}
	if (!has_val)
		return 0;
	if (strcmp(a, "--https-port") == 0)
		return port_arg(argv[++*i], &o->https_port) < 0 ? -1 : 1;
	if (strcmp(a, "--http-port") == 0)
		return port_arg(argv[++*i], &o->http_port) < 0 ? -1 : 1;
	if (strcmp(a, "--relay-ca") == 0) {
		o->ca_file = argv[++*i];
		return 1;
	}
	if (strcmp(a, "--server") == 0) {
		o->server = argv[++*i];
		return 1;
	}
	if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
		o->config = argv[++*i];
		return 1;
	}
	return 0;
}

/* Values the table takes as text but that must parse: caught here so the error names
 * the line. */
static int check_value(void *conf, const struct conf_key *k, const char *value, char *why, size_t wl)
{
	(void)conf;
	if (strcmp(k->name, "server") == 0) {
		struct vw_servers list; /* HOST:PORT, or a fleet's relays: a,b,c */
		if (vw_servers_parse(value, &list, why, wl) < 0)
			return -1;
	} else if (strcmp(k->name, "https_proxy") == 0 || strcmp(k->name, "http_proxy") == 0) {
		struct net_proxy p;
		int r = net_proxy_setting_parse(value, &p);
		net_proxy_clear(&p);
		if (r < 0) {
			/* the value may hold a password: not repeated in the message */
			snprintf(why, wl, "not a proxy URL (want http://[user:password@]host[:port], or none)");
			return -1;
		}
	}
	return 0;
}

static int has_password(const char *value)
{
	struct net_proxy p;
	int r = net_proxy_setting_parse(value, &p) == 1 && p.pass[0];
	net_proxy_clear(&p);
	return r;
}

int vw_relay_opts_load(struct vw_relay_opts *o, const char *prog)
{
	struct vw_conf *cf = calloc(1, sizeof(*cf));
	const char *path = o->config;
	char err[CONF_ERR_LEN + 64];
	struct stat sb;

	if (!cf || conf_defaults(&vw_conf_spec, cf) < 0) {
		free(cf);
		fprintf(stderr, "%s: out of memory\n", prog);
		return EXIT_CONFIG;
	}
	o->cf = cf;
	if (!path) {
		/* the default file is optional; unreadable (a password kept from this user):
		 * said, and the command line and the environment still work */
		if (access(VW_DEFAULT_CONFIG, F_OK) == 0 && access(VW_DEFAULT_CONFIG, R_OK) < 0)
			log_warn("%s: %s; not used", VW_DEFAULT_CONFIG, strerror(errno));
		else if (access(VW_DEFAULT_CONFIG, R_OK) == 0)
			path = VW_DEFAULT_CONFIG;
	}
	if (path) {
		if (conf_load_checked(&vw_conf_spec, cf, path, check_value, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: %s\n", prog, err);
			return EXIT_CONFIG;
		}
		o->config_used = path;
		if ((has_password(cf->https_proxy) || has_password(cf->http_proxy)) &&
		    stat(path, &sb) == 0 && (sb.st_mode & S_IROTH))
			log_warn("%s holds a proxy password and every user of this machine can read it "
				 "(chmod o-r %s)", path, path);
	}
	if (!o->server)
		o->server = cf->server;
	if (o->https_port < 0)
		o->https_port = (int)cf->https_port;
	if (o->http_port < 0)
		o->http_port = (int)cf->http_port;
	if (!o->ca_file && cf->relay_ca && *cf->relay_ca)
		o->ca_file = cf->relay_ca;
	o->insecure |= cf->relay_insecure;
	o->proxy.https_proxy = cf->https_proxy;
	o->proxy.http_proxy = cf->http_proxy;
	o->proxy.no_proxy = cf->no_proxy;
	return 0;
}

int vw_relay_opts_checked(const struct vw_relay_opts *o)
{
	if (!o->check_only)
		return 0;
	printf("%s: configuration ok\n", o->config_used ? o->config_used : "(no configuration file)");
	return 1;
}

void vw_relay_opts_free(struct vw_relay_opts *o)
{
	if (!o->cf)
		return;
	if (o->cf->https_proxy) /* may hold the proxy password */
		secret_wipe(o->cf->https_proxy, strlen(o->cf->https_proxy));
	if (o->cf->http_proxy)
		secret_wipe(o->cf->http_proxy, strlen(o->cf->http_proxy));
	conf_free(&vw_conf_spec, o->cf);
	free(o->cf);
	o->cf = NULL;
	memset(&o->proxy, 0, sizeof(o->proxy));
}

int vw_conf_print_sample(int argc, char **argv, FILE *f)
{
	if (argc < 2 || strcmp(argv[1], "--print-config") != 0)
		return 0;
	fputs(sample_head, f);
	conf_print_sample(&vw_conf_spec, f);
	return 1;
}
