/* http_tls.c - TLS under evhttp: a bufferevent filter that runs crypto/'s TLS engine.
 * The engine reads ciphertext straight from the socket bufferevent's input and writes
 * straight to its output (handshake records can be due while we are reading), while
 * the filter moves plaintext between the engine and evhttp. */
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "core/log.h"
#include "crypto/tls.h"
#include "net/http_internal.h"

struct tls_filter {
	struct cry_tls *tls;
	struct bufferevent *under;
	struct bufferevent *self;
	struct event *flush;  /* deferred push of what evhttp queued */
	int up;      /* handshake done */
	int failed;
};


static ssize_t tls_recv(void *arg, uint8_t *buf, size_t len)
{
	struct tls_filter *f = arg;
	struct evbuffer *in = bufferevent_get_input(f->under);
	if (evbuffer_get_length(in) == 0)
		return CRY_IO_WANT;
	int n = evbuffer_remove(in, buf, len);
	return n < 0 ? -1 : n;
}

static ssize_t tls_send(void *arg, const uint8_t *buf, size_t len)
{
	struct tls_filter *f = arg;
	return evbuffer_add(bufferevent_get_output(f->under), buf, len) < 0 ? -1 : (ssize_t)len;
}

static enum bufferevent_filter_result filter_in(struct evbuffer *src, struct evbuffer *dst,
						ev_ssize_t limit, enum bufferevent_flush_mode mode,
						void *arg)
{
	struct tls_filter *f = arg;
	uint8_t buf[16384];
	int produced = 0;

	(void)src;
	(void)limit;
	(void)mode;
	if (f->failed)
		return BEV_ERROR;
	if (!f->up) {
		int rc = cry_tls_handshake(f->tls);
		if (rc == CRY_TLS_WANT_READ || rc == CRY_TLS_WANT_WRITE)
			return BEV_NEED_MORE;
		if (rc != CRY_TLS_OK) {
			log_info("https: TLS handshake failed: %s", cry_tls_error(f->tls));
			f->failed = 1;
			return BEV_ERROR;
		}
		f->up = 1;
		/* plaintext evhttp queued before the handshake finished */
		if (evbuffer_get_length(bufferevent_get_output(f->self)))
			bufferevent_flush(f->self, EV_WRITE, BEV_NORMAL);
	}
	for (;;) {
		ssize_t n = cry_tls_read(f->tls, buf, sizeof(buf));
		if (n > 0) {
			evbuffer_add(dst, buf, (size_t)n);
			produced = 1;
			continue;
		}
		if (n == CRY_TLS_WANT_READ || n == CRY_TLS_WANT_WRITE || n == CRY_TLS_CLOSED)
			break;
		log_info("https: TLS read failed (%zd): %s", n, cry_tls_error(f->tls));
		f->failed = 1;
		return BEV_ERROR;
	}
	return produced ? BEV_OK : BEV_NEED_MORE;
}

static enum bufferevent_filter_result filter_out(struct evbuffer *src, struct evbuffer *dst,
						 ev_ssize_t limit, enum bufferevent_flush_mode mode,
						 void *arg)
{
	struct tls_filter *f = arg;

	(void)dst;
	(void)limit;
	(void)mode;
	if (f->failed)
		return BEV_ERROR;
	if (!f->up)
		return BEV_NEED_MORE;
	while (evbuffer_get_length(src)) {
		size_t chunk = evbuffer_get_length(src);
		if (chunk > 16384)
			chunk = 16384;
		const uint8_t *p = evbuffer_pullup(src, (ev_ssize_t)chunk);
		ssize_t n = cry_tls_write(f->tls, p, chunk);
		if (n > 0) {
			evbuffer_drain(src, (size_t)n);
			continue;
		}
		if (n == CRY_TLS_WANT_WRITE || n == CRY_TLS_WANT_READ)
			break;
		log_info("https: TLS write failed (%zd): %s", n, cry_tls_error(f->tls));
		f->failed = 1;
		return BEV_ERROR;
	}
	return BEV_OK;
}

/* evhttp queues a reply while the filter's EV_WRITE is off and enables it afterwards;
 * libevent's filter never looks at its output again on enable. So every addition
 * schedules one push through the filter for the end of this loop iteration. */
static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tls_filter *f = arg;
	(void)fd;
	(void)what;
	bufferevent_flush(f->self, EV_WRITE, BEV_FLUSH);
}

static void out_added(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct tls_filter *f = arg;
	(void)b;
	if (info->n_added && !event_pending(f->flush, EV_TIMEOUT, NULL))
		event_active(f->flush, EV_TIMEOUT, 0);
}

static void filter_free(void *arg)
{
	struct tls_filter *f = arg;

	/* the socket bufferevent may be gone already (libevent frees it first) */
	event_free(f->flush);
	cry_tls_free(f->tls);
	free(f);
}

struct bufferevent *net_http_tls_bev_(struct event_base *base, struct cry_tls_ctx *ctx)
{
	struct tls_filter *f = calloc(1, sizeof(*f));
	struct bufferevent *under = NULL, *bev = NULL;

	if (!f)
		return NULL;
	under = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!under)
		goto fail;
	f->under = under;
	f->tls = cry_tls_new(ctx, NULL, tls_recv, tls_send, f);
	if (!f->tls)
		goto fail;
	f->flush = event_new(base, -1, 0, flush_cb, f);
	if (!f->flush)
		goto fail;
	/* CLOSE_ON_FREE: the socket bufferevent owns the fd evhttp hands over, and goes
	 * with the filter. (A reply evhttp closes the connection behind may lose what the
	 * socket had not written yet: keep-alive clients, the norm, are not affected.) */
	bev = bufferevent_filter_new(under, filter_in, filter_out, BEV_OPT_CLOSE_ON_FREE, filter_free, f);
	if (!bev)
		goto fail;
	f->self = bev;
	evbuffer_add_cb(bufferevent_get_output(bev), out_added, f);
	return bev;
fail:
	if (f->flush)
		event_free(f->flush);
	if (f->tls)
		cry_tls_free(f->tls);
	if (under)
		bufferevent_free(under);
	free(f);
	return NULL;
}
