/* tun_rdrop.c - the relay's side of the file drop: DROP frames (tunnel-protocol.md 3.3)
 * on top of the store in tun_drop.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/encoding.h"
#include "core/log.h"
#include "core/str.h"
#include "core/tframe.h"
#include "crypto/crypto.h"
#include "net/conn.h"
#include "tun_relay.h"

#define DROP_CHUNK (32 * 1024)

void tr_drop_transfers(struct tconn *c)
{
	if (c->put_active && c->s)
		tun_drop_put_abort(&c->s->drop, &c->put); /* part file, quota and file count back */
	else if (c->put_active && c->put.fd >= 0)
		close(c->put.fd); /* not reached when callers abort first; never leak the fd */
	c->put.fd = -1;
	c->put_active = 0;
	if (c->get_fd >= 0)
		close(c->get_fd);
	c->get_fd = -1;
}

/* ---- file drop ---- */

static void drop_reply(struct tconn *c, const struct ctl *t, const void *data, size_t len)
{
	uint8_t head[2 + TFCTL_MAX_LEN];
	ssize_t hl = tfdrop_encode_head(head, sizeof(head), t->b, t->n);
	if (hl < 0)
		return;
	tr_send_frame(c, TF_DROP, TF_ID_RELAY, c->m ? c->m->id : 0, ++c->seq, 0, head, (size_t)hl, data, len);
}

static void drop_error(struct tconn *c, const char *code, const char *name)
{
	struct ctl t = { .n = 0 };
	tr_add(&t, "op", "error");
	tr_add(&t, "code", code);
	if (name)
		tr_add(&t, "name", name);
	drop_reply(c, &t, NULL, 0);
}

static void drop_ok(struct tconn *c, const char *name, const unsigned long long *size)
{
	struct ctl t = { .n = 0 };
	tr_add(&t, "op", "ok");
	if (name)
		tr_add(&t, "name", name);
	if (size)
		tr_addu(&t, "size", *size);
	drop_reply(c, &t, NULL, 0);
}

void tr_pump_get(struct tconn *c)
{
	struct tun_relay *r = c->r;
	size_t chunk = DROP_CHUNK;
	if (chunk > (size_t)r->conf->max_frame - 64)
		chunk = (size_t)r->conf->max_frame - 64;
	while (c->get_fd >= 0 && !c->dead && net_conn_output_len(c->nc) < (size_t)r->conf->pair_buffer) {
		if (c->get_left == 0) {
			struct ctl t = { .n = 0 };
			tr_add(&t, "op", "end");
			tr_add(&t, "name", c->get_name);
			drop_reply(c, &t, NULL, 0);
			close(c->get_fd);
			c->get_fd = -1;
			return;
		}
		size_t want = c->get_left < chunk ? (size_t)c->get_left : chunk;
		ssize_t n = read(c->get_fd, r->fbuf, want);
		if (n <= 0) {
			close(c->get_fd);
			c->get_fd = -1;
			drop_error(c, "io", c->get_name);
			return;
		}
		struct ctl t = { .n = 0 };
		tr_add(&t, "op", "data");
		drop_reply(c, &t, r->fbuf, (size_t)n);
		c->get_left -= (unsigned long long)n;
	}
}

void tr_do_drop(struct tconn *c, const uint8_t *payload, size_t len)
{
	struct tun_relay *r = c->r;
	struct session *s = c->s;
	static struct tfctl ctl; /* single-threaded; too big for the stack of a callback */
	const uint8_t *data;
	size_t dlen;

	if (tfdrop_parse(&ctl, payload, len, &data, &dlen) < 0) {
		tr_protocol_error(c, "malformed drop frame");
		return;
	}
	const char *op = tfctl_get(&ctl, "op"), *name = tfctl_get(&ctl, "name");
	if (!op) {
		tr_protocol_error(c, "drop frame without op");
		return;
	}
	if (r->conf->drop_quota == 0) {
		drop_error(c, "disabled", name);
		return;
	}
	if (strcmp(op, "data") == 0) {
		if (!c->put_active) {
			drop_error(c, "protocol", NULL);
			return;
		}
		const char *e = tun_drop_put_data(&s->drop, &c->put, data, dlen);
		if (e) {
			char n[TUN_DROP_NAME_MAX + 1];
			str_copy(n, c->put.name, sizeof(n));
			tun_drop_put_abort(&s->drop, &c->put);
			c->put_active = 0;
			drop_error(c, e, n);
			return;
		}
		if (tun_drop_put_done(&c->put)) {
			unsigned long long size = c->put.size;
			char n[TUN_DROP_NAME_MAX + 1];
			str_copy(n, c->put.name, sizeof(n));
			c->put_active = 0;
			e = tun_drop_put_commit(&s->drop, &c->put);
			if (e)
				drop_error(c, e, n);
			else {
				log_info("session %u drop put id=%u size=%llu", (unsigned)s->number, c->m->id, size);
				drop_ok(c, n, &size);
			}
		}
		return;
	}
	if (strcmp(op, "abort") == 0) {
		tr_drop_transfers(c);
		drop_ok(c, NULL, NULL);
		return;
	}
	if (strcmp(op, "ls") == 0) {
		size_t ll;
		unsigned count;
		char *list = tun_drop_list_new(&s->drop, &ll, &count);
		if (!list) {
			drop_error(c, "io", NULL);
			return;
		}
		struct ctl t = { .n = 0 };
		tr_add(&t, "op", "list");
		size_t room = (size_t)r->conf->max_frame - 2 - 64;
		if (ll > room) {
			/* cut at a line end so no entry is half there */
			while (ll > room || (ll && list[ll - 1] != '\n'))
				ll--;
			tr_add(&t, "truncated", "1");
			count = 0;
			for (size_t i = 0; i < ll; i++)
				count += list[i] == '\n';
		}
		tr_addu(&t, "count", count);
		drop_reply(c, &t, list, ll);
		free(list);
		return;
	}
	if (c->put_active || c->get_fd >= 0) {
		drop_error(c, "busy", name);
		return;
	}
	if (!name) {
		drop_error(c, "bad-name", NULL);
		return;
	}
	if (strcmp(op, "put") == 0) {
		const char *sz = tfctl_get(&ctl, "size");
		unsigned long long size = 0;
		if (!sz || !*sz || strlen(sz) > 15 || strspn(sz, "0123456789") != strlen(sz)) {
			drop_error(c, "protocol", name);
			return;
		}
		size = strtoull(sz, NULL, 10);
		const char *e = tun_drop_put_begin(&s->drop, &c->put, name, size,
						   (unsigned long long)r->conf->drop_quota,
						   (unsigned long long)r->conf->drop_max_size,
						   (unsigned)r->conf->drop_max_files);
		if (e) {
			drop_error(c, e, name);
			return;
		}
		c->put_active = 1;
		c->put.owner = c->m->id;
		if (size == 0) {
			c->put_active = 0;
			e = tun_drop_put_commit(&s->drop, &c->put);
			if (e)
				drop_error(c, e, name);
			else
				drop_ok(c, name, &size);
		}
		return;
	}
	if (strcmp(op, "get") == 0) {
		unsigned long long size;
		int fd = tun_drop_get_open(&s->drop, name, &size);
		if (fd < 0) {
			drop_error(c, errno == ENOENT ? "no-such-file" : "io", name);
			return;
		}
		c->get_fd = fd;
		c->get_left = size;
		str_copy(c->get_name, name, sizeof(c->get_name));
		struct ctl t = { .n = 0 };
		tr_add(&t, "op", "file");
		tr_add(&t, "name", name);
		tr_addu(&t, "size", size);
		drop_reply(c, &t, NULL, 0);
		tr_pump_get(c);
		return;
	}
	if (strcmp(op, "del") == 0) {
		/* only the participant that put it, or the master, may delete a file */
		const char *e = tun_drop_del(&s->drop, name, c->m->id, c->m->id == TF_ID_MASTER);
		if (e)
			drop_error(c, e, name);
		else
			drop_ok(c, name, NULL);
		return;
	}
	drop_error(c, "protocol", name);
}

