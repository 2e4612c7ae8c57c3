/* tlsdrv.c - test driver for net/ and crypto/tls.c, used by tests/integration/tls.sh.
 *
 *   tlsdrv client HOST PORT [--ca F] [--verify] [--sni NAME] [--cert F --key F]
 *                 [--starttls smtp] [--tls13] [--no-data] [--expect S] [--timeout MS]
 *                 [--resume] [--proxy URL] [--plain] [--chain] [--connect-timeout MS]
 *       connects, prints "tls: ..." (cry_tls_describe), sends stdin, prints what comes
 *       back until the peer closes, S was seen, or 1.5 s pass without data.
 *   tlsdrv server ADDR:PORT [--cert F --key F] [--sni NAME=CERT,KEY]... [--ca F]
 *                 [--require-client-cert] [--verify-client] [--starttls smtp]
 *                 [--max-line N] [--read-limit N] [--idle MS] [--tls13] [--tickets]
 *       line echo server (implicit TLS with --cert, plaintext without); with
 *       --starttls smtp a minimal SMTP-ish server that upgrades on STARTTLS. Prints
 *       "listening PORT", then per connection "tls: ...", "cmd[plain|tls]: LINE",
 *       "error: ...". Output to a client that does not read is bounded: reading pauses
 *       while more than 256 KiB wait to be sent.
 *   tlsdrv lines ADDR:PORT --max-line N    (plaintext line server, same as server)
 *   tlsdrv relay ADDR:PORT HOST PORT [--tls-to] [--ca F] [--verify]
 *       joins each accepted connection to HOST:PORT (net_conn_forward, pause/drain)
 */
#include <errno.h>
#include <signal.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "crypto/tls.h"
#include "net/conn.h"
#include "net/loop.h"
#include "net/proxy.h"

#define WRITE_HIGH (256 * 1024)
#define MAX_SNI 8

struct opts {
	const char *ca, *cert, *key, *sni, *starttls, *expect, *proxy;
	const char *sni_arg[MAX_SNI];
	int nsni;
	int verify, tls13, no_data, require_cc, verify_cc, tickets, resume, plain, chain;
	size_t max_line, read_limit;
	unsigned long timeout, connect_timeout, idle;
};

static struct net_loop *loop;
static struct opts o;
static int exit_code = 0;

static void print_info(const char *who, struct net_conn *c)
{
	struct cry_tls_info i;

	if (net_conn_tls_info(c, &i) < 0) {
		printf("%s: no TLS info\n", who);
		return;
	}
	printf("tls: version=%s cipher=%s sni=%s resumed=%d verified=%d verify=\"%s\" "
	       "peer_subject=\"%s\" peer_issuer=\"%s\" not_before=\"%s\" not_after=\"%s\"\n",
	       i.version, i.cipher, i.sni[0] ? i.sni : "-", i.resumed, i.verified, i.verify_result,
	       i.peer_subject, i.peer_issuer, i.peer_not_before, i.peer_not_after);
	fflush(stdout);
}

/* ---------------- client ---------------- */

struct client {
	struct net_conn *c;
	struct cry_tls_ctx *ctx;
	const char *host;
	char *data;
	size_t len;
	int smtp_state; /* 0 greeting, 1 ehlo reply, 2 starttls reply, 3 tls */
	struct net_timer *idle;
	char *seen;
	size_t seen_len;
	int runs;       /* --resume: connect twice */
	int port;
};

static struct client cl;

static void client_connect(void);

static void client_done(int code)
{
	exit_code = code;
	net_loop_exit(loop);
}

static void idle_cb(void *arg)
{
	(void)arg;
	client_done(0);
}

static void client_send_data(void)
{
	if (cl.len)
		net_conn_write(cl.c, cl.data, cl.len);
	net_timer_arm(cl.idle, o.timeout);
}

static void client_start_tls(void)
{
	if (net_conn_start_tls(cl.c, cl.ctx, o.sni ? o.sni : cl.host) < 0) {
		printf("error: %s\n", net_conn_error(cl.c));
		client_done(1);
	}
}

static void client_read(struct net_conn *c, void *arg)
{
	(void)arg;
	if (o.starttls && cl.smtp_state < 3) {
		char *line;
		size_t len;
		int r;
		while ((r = net_conn_readline(c, &line, &len)) == 1) {
			int last = len < 4 || line[3] != '-';
			printf("smtp: %s\n", line);
			free(line);
			if (!last)
				continue;
			if (cl.smtp_state == 0) {
				net_conn_printf(c, "EHLO tlsdrv\r\n");
				cl.smtp_state = 1;
			} else if (cl.smtp_state == 1) {
				net_conn_printf(c, "STARTTLS\r\n");
				cl.smtp_state = 2;
			} else if (cl.smtp_state == 2) {
				cl.smtp_state = 3;
				client_start_tls();
				return;
			}
		}
		if (r < 0) {
			printf("error: line too long\n");
			client_done(1);
		}
		return;
	}
	if (o.resume && cl.runs == 0) {
		cl.runs++;
		net_conn_drain(c, net_conn_input_len(c));
		net_conn_close(c);
		client_connect();
		return;
	}
	for (;;) {
		char buf[4096];
		size_t n = net_conn_read(c, buf, sizeof(buf));
		if (n == 0)
			break;
		fwrite(buf, 1, n, stdout);
		if (o.expect) {
			char *ns = realloc(cl.seen, cl.seen_len + n + 1);
			if (ns) {
				cl.seen = ns;
				memcpy(cl.seen + cl.seen_len, buf, n);
				cl.seen_len += n;
				cl.seen[cl.seen_len] = 0;
				if (strstr(cl.seen, o.expect)) {
					fflush(stdout);
					client_done(0);
					return;
				}
			}
		}
	}
	fflush(stdout);
	net_timer_arm(cl.idle, o.timeout);
}

static void client_event(struct net_conn *c, enum net_event ev, void *arg)
{
	(void)arg;
	switch (ev) {
	case NET_EV_CONNECTED:
		printf("connected %s\n", net_conn_peer(c));
		if (o.plain)
			client_send_data();
		else if (!o.starttls)
			client_start_tls();
		else
			net_timer_arm(cl.idle, o.timeout);
		break;
	case NET_EV_TLS_READY:
		print_info("client", c);
		if (o.chain) {
			char *pem = net_conn_tls_peer_chain_new(c);
			printf("%s", pem ? pem : "no chain\n");
			free(pem);
		}
		if (o.resume && cl.runs == 0) {
			/* a TLS 1.3 ticket comes after the handshake: read once, then reconnect */
			net_conn_printf(c, "resume probe\n");
			return;
		}
		if (o.no_data) {
			client_done(0);
			return;
		}
		client_send_data();
		break;
	case NET_EV_EOF:
		printf("eof\n");
		client_done(o.expect ? 1 : 0);
		break;
	case NET_EV_ERROR:
	case NET_EV_TIMEOUT:
		printf("error: %s\n", net_conn_error(c));
		client_done(1);
		break;
	}
	fflush(stdout);
}

static void client_connect(void)
{
	static const struct net_conn_cbs cbs = { client_read, NULL, client_event };

	if (o.proxy) {
		struct net_proxy p;
		if (net_proxy_parse(o.proxy, &p) < 0) {
			printf("error: bad proxy URL\n");
			client_done(1);
			return;
		}
		cl.c = net_connect_via_proxy(loop, &p, cl.host, cl.port, o.connect_timeout, &cbs, NULL);
		net_proxy_clear(&p);
	} else {
		cl.c = net_connect(loop, cl.host, cl.port, o.connect_timeout, &cbs, NULL);
	}
	if (!cl.c) {
		printf("error: cannot connect\n");
		client_done(1);
	}
}

static int run_client(const char *host, int port)
{
	struct cry_tls_conf conf;
	char err[256];
	size_t cap = 0;

	memset(&conf, 0, sizeof(conf));
	conf.ca_file = o.ca;
	conf.verify = o.verify ? CRY_VERIFY_PEER : CRY_VERIFY_NONE;
	conf.cert_file = o.cert;
	conf.key_file = o.key;
	conf.tls13_only = o.tls13;
	conf.session_tickets = o.resume;
	cl.ctx = cry_tls_ctx_new(&conf, err, sizeof(err));
	if (!cl.ctx) {
		printf("error: %s\n", err);
		return 1;
	}
	if (!o.no_data) {
		for (;;) {
			ssize_t n;
			if (cl.len + 4096 > cap) {
				cap = cap ? cap * 2 : 65536;
				cl.data = realloc(cl.data, cap);
				if (!cl.data)
					return 1;
			}
			n = read(0, cl.data + cl.len, cap - cl.len);
			if (n <= 0)
				break;
			cl.len += (size_t)n;
		}
	}
	cl.host = host;
	cl.port = port;
	cl.idle = net_timer_new(loop, idle_cb, NULL);
	client_connect();
	net_loop_run(loop);
	if (cl.c)
		net_conn_free(cl.c);
	net_timer_free(cl.idle);
	cry_tls_ctx_free(cl.ctx);
	free(cl.data);
	free(cl.seen);
	return exit_code;
}

/* ---------------- server ---------------- */

struct sconn {
	struct net_conn *c;
	struct cry_tls_ctx *ctx;
	int tls;
};

static struct cry_tls_ctx *srv_ctx;

static void srv_close(struct sconn *s)
{
	net_conn_close(s->c);
	free(s);
}

static void srv_read(struct net_conn *c, void *arg)
{
	struct sconn *s = arg;
	char *line;
	size_t len;
	int r = 0;

	while (net_conn_output_len(c) < WRITE_HIGH && (r = net_conn_readline(c, &line, &len)) == 1) {
		if (o.starttls) {
			printf("cmd[%s]: %s\n", s->tls ? "tls" : "plain", line);
			fflush(stdout);
			if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0) {
				net_conn_printf(c, s->tls ? "250 tlsdrv\r\n" : "250-tlsdrv\r\n250 STARTTLS\r\n");
			} else if (strcasecmp(line, "STARTTLS") == 0 && !s->tls) {
				net_conn_printf(c, "220 go ahead\r\n");
				free(line);
				if (net_conn_start_tls(c, s->ctx, NULL) < 0) {
					printf("error: %s\n", net_conn_error(c));
					srv_close(s);
				}
				return; /* anything pipelined behind STARTTLS is gone now */
			} else if (strcasecmp(line, "QUIT") == 0) {
				net_conn_printf(c, "221 bye\r\n");
				free(line);
				srv_close(s);
				return;
			} else {
				net_conn_printf(c, "250 got %zu bytes\r\n", len);
			}
		} else {
			line[len] = '\n'; /* one write, one TLS record */
			net_conn_write(c, line, len + 1);
		}
		free(line);
	}
	if (net_conn_output_len(c) >= WRITE_HIGH) {
		/* the peer does not read: stop reading it until our output drains */
		net_conn_pause_read(c);
		return;
	}
	if (r < 0) {
		printf("error: %s: line too long (max %zu)\n", net_conn_peer(c), o.max_line);
		fflush(stdout);
		net_conn_printf(c, "500 line too long\r\n");
		srv_close(s);
	}
}

static void srv_drain(struct net_conn *c, void *arg)
{
	(void)arg;
	net_conn_resume_read(c);
}

static void srv_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct sconn *s = arg;

	switch (ev) {
	case NET_EV_TLS_READY:
		s->tls = 1;
		print_info("server", c);
		return;
	case NET_EV_EOF:
		printf("closed %s\n", net_conn_peer(c));
		break;
	case NET_EV_ERROR:
	case NET_EV_TIMEOUT:
		printf("error: %s: %s\n", net_conn_peer(c), net_conn_error(c));
		break;
	default:
		return;
	}
	fflush(stdout);
	/* close, not free: a TLS alert explaining the refusal still goes out */
	net_conn_close(c);
	free(s);
}

static void srv_accept(struct net_conn *c, void *arg)
{
	static const struct net_conn_cbs cbs = { srv_read, srv_drain, srv_event };
	struct sconn *s = calloc(1, sizeof(*s));

	(void)arg;
	if (!s) {
		net_conn_free(c);
		return;
	}
	s->c = c;
	s->ctx = srv_ctx;
	net_conn_set_cbs(c, &cbs, s);
	net_conn_set_max_line(c, o.max_line);
	if (o.read_limit)
		net_conn_set_read_limit(c, o.read_limit);
	net_conn_set_idle_timeout(c, o.idle);
	printf("accept %s\n", net_conn_peer(c));
	fflush(stdout);
	if (o.starttls)
		net_conn_printf(c, "220 tlsdrv ESMTP\r\n");
}

static void on_term(int signo, void *arg)
{
	(void)signo;
	(void)arg;
	net_loop_exit(loop);
}

static int run_server(const char *addr)
{
	struct cry_tls_conf conf;
	struct net_listener *ls;
	char err[256];

	memset(&conf, 0, sizeof(conf));
	if (o.cert) {
		conf.server = 1;
		conf.cert_file = o.cert;
		conf.key_file = o.key;
		conf.ca_file = o.ca;
		conf.verify = o.verify_cc || o.require_cc ? CRY_VERIFY_PEER : CRY_VERIFY_NONE;
		conf.require_client_cert = o.require_cc;
		conf.tls13_only = o.tls13;
		conf.session_tickets = o.tickets;
		srv_ctx = cry_tls_ctx_new(&conf, err, sizeof(err));
		if (!srv_ctx) {
			printf("error: %s\n", err);
			return 78;
		}
		for (int i = 0; i < o.nsni; i++) {
			char buf[1024], *eq, *comma;
			snprintf(buf, sizeof(buf), "%s", o.sni_arg[i]);
			eq = strchr(buf, '=');
			comma = eq ? strchr(eq, ',') : NULL;
			if (!comma) {
				printf("error: --sni wants NAME=CERT,KEY\n");
				return 64;
			}
			*eq = *comma = 0;
			if (cry_tls_ctx_add_sni(srv_ctx, buf, eq + 1, comma + 1, err, sizeof(err)) < 0) {
				printf("error: %s\n", err);
				return 78;
			}
		}
	}
	ls = net_listen(loop, addr, o.starttls ? NULL : srv_ctx, srv_accept, NULL, err, sizeof(err));
	if (!ls) {
		printf("error: %s\n", err);
		cry_tls_ctx_free(srv_ctx);
		return 69;
	}
	printf("listening %d\n", net_listener_port(ls));
	fflush(stdout);
	net_signal_add(loop, SIGTERM, on_term, NULL);
	net_signal_add(loop, SIGINT, on_term, NULL);
	net_loop_run(loop);
	net_listener_free(ls);
	cry_tls_ctx_free(srv_ctx);
	return 0;
}


/* ---------------- relay ---------------- */

/* relay LISTEN HOST PORT [--tls-to] [--ca F --verify]: every accepted connection is
 * joined to a new connection to HOST:PORT (TLS with --tls-to); bytes move with
 * net_conn_forward, and a side whose peer has more than WRITE_HIGH unsent is paused
 * until that peer drains. */
struct pair {
	struct net_conn *a, *b;
	int b_ready;
};

static struct cry_tls_ctx *relay_ctx;
static const char *relay_host;
static int relay_port;

static struct net_conn *other(struct pair *p, struct net_conn *c)
{
	return c == p->a ? p->b : p->a;
}

static void pair_close(struct pair *p)
{
	if (p->a)
		net_conn_close(p->a);
	if (p->b)
		net_conn_close(p->b);
	free(p);
}

static void relay_read(struct net_conn *c, void *arg)
{
	struct pair *p = arg;
	struct net_conn *o2 = other(p, c);

	if (c == p->a && !p->b_ready)
		return; /* held until the target is ready */
	if (net_conn_forward(c, o2) < 0) {
		printf("error: forward: %s\n", net_conn_error(o2));
		pair_close(p);
		return;
	}
	if (net_conn_output_len(o2) > WRITE_HIGH)
		net_conn_pause_read(c);
}

static void relay_drain(struct net_conn *c, void *arg)
{
	struct pair *p = arg;

	net_conn_resume_read(other(p, c));
}

static void relay_ready(struct pair *p)
{
	p->b_ready = 1;
	net_conn_resume_read(p->a);
}

static void relay_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct pair *p = arg;

	if (ev == NET_EV_CONNECTED) {
		if (relay_ctx) {
			if (net_conn_start_tls(c, relay_ctx, relay_host) < 0) {
				printf("error: %s\n", net_conn_error(c));
				pair_close(p);
			}
			return;
		}
		relay_ready(p);
		return;
	}
	if (ev == NET_EV_TLS_READY) {
		print_info("relay", c);
		relay_ready(p);
		return;
	}
	printf("%s %s: %s\n", ev == NET_EV_EOF ? "closed" : "error",
	       c == p->a ? "client" : "target", net_conn_error(c));
	fflush(stdout);
	/* what one side still has in flight goes out before both close */
	if (net_conn_input_len(c) && p->b_ready)
		net_conn_forward(c, other(p, c));
	pair_close(p);
}

static void relay_accept(struct net_conn *c, void *arg)
{
	static const struct net_conn_cbs cbs = { relay_read, relay_drain, relay_event };
	struct pair *p = calloc(1, sizeof(*p));

	(void)arg;
	if (!p) {
		net_conn_free(c);
		return;
	}
	p->a = c;
	net_conn_set_cbs(c, &cbs, p);
	net_conn_pause_read(c);
	p->b = net_connect(loop, relay_host, relay_port, o.connect_timeout, &cbs, p);
	if (!p->b) {
		printf("error: cannot connect to target\n");
		pair_close(p);
		return;
	}
	printf("relay %s\n", net_conn_peer(c));
	fflush(stdout);
}

static int run_relay(const char *addr, const char *host, int port, int tls_to)
{
	struct net_listener *ls;
	char err[256];

	relay_host = host;
	relay_port = port;
	if (tls_to) {
		struct cry_tls_conf conf = { 0 };
		conf.ca_file = o.ca;
		conf.verify = o.verify ? CRY_VERIFY_PEER : CRY_VERIFY_NONE;
		relay_ctx = cry_tls_ctx_new(&conf, err, sizeof(err));
		if (!relay_ctx) {
			printf("error: %s\n", err);
			return 78;
		}
	}
	ls = net_listen(loop, addr, NULL, relay_accept, NULL, err, sizeof(err));
	if (!ls) {
		printf("error: %s\n", err);
		return 69;
	}
	printf("listening %d\n", net_listener_port(ls));
	fflush(stdout);
	net_signal_add(loop, SIGTERM, on_term, NULL);
	net_loop_run(loop);
	net_listener_free(ls);
	cry_tls_ctx_free(relay_ctx);
	return 0;
}

static int parse_opts(int argc, char **argv, int i)
{
	o.max_line = 8192;
	o.timeout = 1500;
	o.connect_timeout = 5000;
	o.idle = 30000;
	for (; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name, field) if (strcmp(a, name) == 0 && v) { field = v; i++; continue; }
		ARG("--ca", o.ca)
		ARG("--cert", o.cert)
		ARG("--key", o.key)
		ARG("--starttls", o.starttls)
		ARG("--expect", o.expect)
		ARG("--proxy", o.proxy)
		if (strcmp(a, "--sni") == 0 && v) {
			if (strchr(v, '=')) {
				if (o.nsni < MAX_SNI)
					o.sni_arg[o.nsni++] = v;
			} else {
				o.sni = v;
			}
			i++;
			continue;
		}
		if (strcmp(a, "--read-limit") == 0 && v) {
			o.read_limit = strtoul(v, NULL, 10);
			i++;
			continue;
		}
		if (strcmp(a, "--max-line") == 0 && v) {
			o.max_line = strtoul(v, NULL, 10);
			i++;
			continue;
		}
		if (strcmp(a, "--idle") == 0 && v) {
			o.idle = strtoul(v, NULL, 10);
			i++;
			continue;
		}
		if (strcmp(a, "--connect-timeout") == 0 && v) {
			o.connect_timeout = strtoul(v, NULL, 10);
			i++;
			continue;
		}
		if (strcmp(a, "--timeout") == 0 && v) {
			o.timeout = strtoul(v, NULL, 10);
			i++;
			continue;
		}
		if (strcmp(a, "--verify") == 0) { o.verify = 1; continue; }
		if (strcmp(a, "--plain") == 0) { o.plain = 1; continue; }
		if (strcmp(a, "--chain") == 0) { o.chain = 1; continue; }
		if (strcmp(a, "--tls13") == 0) { o.tls13 = 1; continue; }
		if (strcmp(a, "--no-data") == 0) { o.no_data = 1; continue; }
		if (strcmp(a, "--require-client-cert") == 0) { o.require_cc = 1; continue; }
		if (strcmp(a, "--verify-client") == 0) { o.verify_cc = 1; continue; }
		if (strcmp(a, "--tickets") == 0) { o.tickets = 1; continue; }
		if (strcmp(a, "--resume") == 0) { o.resume = 1; continue; }
		fprintf(stderr, "tlsdrv: unknown option %s\n", a);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	log_init("tlsdrv", 0);
	if (argc < 3) {
		fprintf(stderr, "usage: tlsdrv client HOST PORT ... | server ADDR:PORT ... | lines ADDR:PORT ...\n");
		return 64;
	}
	loop = net_loop_new();
	if (!loop)
		return 71;
	if (strcmp(argv[1], "client") == 0) {
		if (argc < 4 || parse_opts(argc, argv, 4) < 0)
			return 64;
		r = run_client(argv[2], atoi(argv[3]));
	} else if (strcmp(argv[1], "relay") == 0) {
		int tls_to = argc > 5 && strcmp(argv[5], "--tls-to") == 0;
		if (argc < 5 || parse_opts(argc, argv, tls_to ? 6 : 5) < 0)
			return 64;
		r = run_relay(argv[2], argv[3], atoi(argv[4]), tls_to);
	} else if (strcmp(argv[1], "server") == 0 || strcmp(argv[1], "lines") == 0) {
		if (parse_opts(argc, argv, 3) < 0)
			return 64;
		r = run_server(argv[2]);
	} else {
		fprintf(stderr, "tlsdrv: unknown mode %s\n", argv[1]);
		r = 64;
	}
	net_loop_free(loop);
	return r;
}
