/* hsbench.c - TLS 1.3 full handshakes per second over loopback with net/ and
 * crypto/tls.c: connect, handshake, close, again, for SECONDS (one at a time, like
 * openssl s_time -new). Usage: hsbench HOST PORT SECONDS */
#include <stdio.h>
#include <stdlib.h>

#include "crypto/tls.h"
#include "net/conn.h"
#include "net/loop.h"

static struct net_loop *loop;
static struct cry_tls_ctx *ctx;
static const char *host;
static int port;
static unsigned long long start, until;
static long done, failed;

static void next(void);

static void on_event(struct net_conn *c, enum net_event ev, void *arg)
{
	(void)arg;
	if (ev == NET_EV_CONNECTED) {
		if (net_conn_start_tls(c, ctx, host) == 0)
			return;
	}
	if (ev == NET_EV_TLS_READY)
		done++;
	else
		failed++;
	net_conn_free(c);
	if (failed > 100) {
		net_loop_exit(loop);
		return;
	}
	next();
}

static void next(void)
{
	static const struct net_conn_cbs cbs = { NULL, NULL, on_event };

	if (net_loop_now_ms(loop) >= until) {
		net_loop_exit(loop);
		return;
	}
	if (!net_connect(loop, host, port, 5000, &cbs, NULL)) {
		failed++;
		net_loop_exit(loop);
	}
}

int main(int argc, char **argv)
{
	struct cry_tls_conf conf = { 0 };
	char err[256];
	double secs;

	if (argc != 4) {
		fprintf(stderr, "usage: hsbench HOST PORT SECONDS\n");
		return 64;
	}
	host = argv[1];
	port = atoi(argv[2]);
	conf.tls13_only = 1;
	conf.verify = CRY_VERIFY_NONE;
	ctx = cry_tls_ctx_new(&conf, err, sizeof(err));
	loop = net_loop_new();
	if (!ctx || !loop) {
		fprintf(stderr, "hsbench: %s\n", ctx ? "no loop" : err);
		return 1;
	}
	start = net_loop_now_ms(loop);
	until = start + (unsigned long long)atoi(argv[3]) * 1000ULL;
	next();
	net_loop_run(loop);
	secs = (double)(net_loop_now_ms(loop) - start) / 1000.0;
	printf("%ld handshakes in %.2f s: %.1f handshakes/s (%ld failed)\n", done, secs,
	       secs > 0 ? (double)done / secs : 0.0, failed);
	net_loop_free(loop);
	cry_tls_ctx_free(ctx);
	return 0;
}
