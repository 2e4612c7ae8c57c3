/* libFuzzer target: databox's HTTP request handlers (applets/databox/dbx_api*.c) behind
 * the real net/http server. The input is sent as raw bytes over loopback to an
 * in-process `databox serve` (plain HTTP, a temporary state directory, one user with
 * a room, an encrypted room and a key pair); "TOKEN" in the input becomes a valid
 * bearer token so the authenticated handlers are reached. The server must answer or
 * close, never crash, whatever arrives. */
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "applets/databox/dbx_keys.h"
#include "applets/databox/dbx_server.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "net/http.h"
#include "net/loop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dbx_server srv;
static char token[80];
static int port;

struct poll_state {
	int fd;
	int ticks;
};

static void poll_cb(void *arg)
{
	struct poll_state *p = arg;
	char buf[65536];
	for (;;) {
		ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			if (getenv("DBX_FUZZ_VERBOSE"))
				fprintf(stderr, "%.*s\n", (int)strcspn(buf, "\r\n") < n ? (int)strcspn(buf, "\r\n") : (int)n, buf);
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || ++p->ticks > 150)
			net_loop_exit(srv.loop);
		return;
	}
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	if (srv.conf.state_dir)
		nftw(srv.conf.state_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void)
{
	char dir[] = "/tmp/sealbox-fuzzapi.XXXXXX", err[300];
	if (!mkdtemp(dir))
		return -1;
	cry_init();
	log_init("fuzz", 0);
	log_set_level(LOG_LVL_ERR);
	srv.conf.state_dir = strdup(dir);
	atexit(cleanup);
	srv.conf.listen = strdup("127.0.0.1:0");
	srv.conf.plain_http = 1;
	srv.conf.token_lifetime = 3600;
	srv.conf.password_iterations = 1000;
	srv.conf.max_chunk = 1 << 20;
	srv.conf.max_json = 1 << 20;
	srv.conf.login_max_failures = 1000000;
	srv.conf.login_lockout = 1;
	if (dbx_db_open(&srv, err, sizeof(err)) < 0 || !(srv.loop = net_loop_new()))
		return -1;
	srv.http = net_http_new(srv.loop, srv.conf.listen, NULL, (size_t)srv.conf.max_chunk + 65536,
				dbx_api_handle, &srv, err, sizeof(err));
	if (srv.http)
		net_http_set_admit(srv.http, dbx_api_admit, &srv);
	if (!srv.http || dbx_user_add(&srv, "fuzz", "fuzz-password", 0, err, sizeof(err)) < 0)
		return -1;
	port = net_http_port(srv.http);
	long long exp;
	char *t = dbx_token_new(&srv, 1, &exp);
	if (!t)
		return -1;
	snprintf(token, sizeof(token), "%s", t);
	free(t);
	/* state for the handlers to find: rooms 1 (plain) and 2 (encrypted), a key pair */
	json_t *kp = dbx_keypair_generate(DBX_KP_A, "fuzz key pw", 1000, err, sizeof(err));
	char *kps = kp ? json_dumps(kp, JSON_COMPACT) : NULL, sql[8192];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO nodes(id, parent_id, room_id, type, name) VALUES(1, NULL, 1, 'room', 'plain');"
		 "INSERT INTO nodes(id, parent_id, room_id, type, name, encrypted) VALUES(2, NULL, 2, 'room', 'enc', 1);"
		 "INSERT INTO members VALUES(1, 1, 3); INSERT INTO members VALUES(2, 1, 3);"
		 "INSERT INTO keypairs VALUES(1, 'A', '%s');", kps ? kps : "{}");
	dbx_db_exec(&srv, sql);
	free(kps);
	json_decref(kp);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		if (setup() < 0)
			abort();
		ready = 1;
	}
	if (size > 200000)
		return 0;
	/* replace every "TOKEN" with the live token */
	size_t cap = size * 14 + 1, o = 0;
	char *req = malloc(cap);
	if (!req)
		return 0;
	for (size_t i = 0; i < size;) {
		if (i + 5 <= size && memcmp(data + i, "TOKEN", 5) == 0) {
			memcpy(req + o, token, strlen(token));
			o += strlen(token);
			i += 5;
		} else {
			req[o++] = (char)data[i++];
		}
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		free(req);
		return 0;
	}
	/* the loop must run while a large input is being written: send what fits now, the
	 * rest is dropped (the server sees a truncated request) */
	(void)!send(fd, req, o, MSG_DONTWAIT | MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	struct poll_state ps = { fd, 0 };
	struct net_timer *t = net_timer_new(srv.loop, poll_cb, &ps);
	net_timer_every(t, 2);
	net_loop_run(srv.loop);
	net_timer_free(t);
	close(fd);
	free(req);
	return 0;
}
