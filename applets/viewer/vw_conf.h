/* vw_conf.h - how viewer-master and viewer-client reach the relay: the shared options
 * (--server, --https-port, ...) and the [viewer] section of their configuration file.
 *
 * Precedence, per setting: command line, then the file, then (for the proxies) the
 * environment. Proxy credentials live in the file or the environment, never in argv. */
#ifndef VW_CONF_H
#define VW_CONF_H

#include <stdio.h>

#include "applets/viewer/vw_conn.h"

#define VW_DEFAULT_CONFIG "/etc/sealbox/viewer.ini"

/* The [viewer] section as loaded; strings are owned (vw_relay_opts_free). */
struct vw_conf {
	char *server;
	long https_port;
	long http_port;
	char *relay_ca;
	int relay_insecure;
	char *https_proxy;
	char *http_proxy;
	char *no_proxy;
};

#define VW_CONF_OPTS_USAGE "[-c FILE] [-n] [--print-config]"

extern const struct conf_spec vw_conf_spec;
void vw_relay_opts_init(struct vw_relay_opts *o);
/* argv[*i] is a relay or configuration option (--server, --https-port, --http-port,
 * --relay-ca, --relay-insecure, -c/--config, -n/--check-config): takes it (and its
 * value, moving *i) and returns 1; 0 when it is none; -1 when its value (then argv[*i])
 * is not a port number. */
int vw_relay_opt(struct vw_relay_opts *o, int argc, char **argv, int *i);
/* Reads the configuration file (--config FILE, else VW_DEFAULT_CONFIG when it exists)
 * and fills what the command line left unset. Returns 0, or EXIT_CONFIG after printing
 * "prog: file:line: [viewer] key: reason" to stderr. Warns when the file holds a proxy
 * password and every user may read it. */
int vw_relay_opts_load(struct vw_relay_opts *o, const char *prog);
/* With -n: prints "FILE: configuration ok" and returns 1 (the caller exits 0); else 0. */
int vw_relay_opts_checked(const struct vw_relay_opts *o);
void vw_relay_opts_free(struct vw_relay_opts *o);
/* argv[1] is --print-config: prints the commented sample (etc/viewer.ini), returns 1. */
int vw_conf_print_sample(int argc, char **argv, FILE *f);
#endif
