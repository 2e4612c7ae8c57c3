/* tun_sweep.c - the relay's periodic sweep (every SWEEP_MS): hello timeouts, receivers
 * that keep senders waiting, the resume grace and idle masters. */
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

/* ---- timers ---- */

/* ms from since to now; 0 when since is later (set after now was read, during this
 * sweep: a member removed here restarts the session's idle time, and the unsigned
 * difference must not wrap into "idle for ages"). */
static unsigned long long elapsed(unsigned long long now, unsigned long long since)
{
	return now > since ? now - since : 0;
}

void tr_sweep(void *arg)
{
	struct tun_relay *r = arg;
	unsigned long long now = tr_now_ms(r);
	struct tun_conf *cf = r->conf;

	/* a close below can end a session and close (not free, see tr_walk_begin) other
	 * members' connections, n among them: with resume_grace = 0 a stalled master does */
	tr_walk_begin(r);
	for (struct tconn *c = r->conns, *n; c; c = n) {
		n = c->next;
		if (!c->dead && c->state != CS_MEMBER && elapsed(now, c->born_ms) > (unsigned long long)cf->hello_timeout * 1000) {
			log_info("closing %s: no register/join/resume in %lds", c->peer, cf->hello_timeout);
			if (c->state == CS_HELLO)
				tr_send_error(c, "timeout", "too slow", 1);
			else
				tr_conn_close(c, "timeout");
		}
	}
	/* A receiver that keeps its senders waiting for dead_after is not reading: drop its
	 * link (it may resume), so one stuck client cannot freeze a session and the
	 * master's KICK behind the paused input gets through. */
	for (struct tconn *c = r->conns, *n; c; c = n) {
		n = c->next;
		if (!c->dead && c->nwaiters && elapsed(now, c->stalled_ms) > (unsigned long long)cf->dead_after * 1000) {
			log_info("closing %s: not reading for %lds while others wait", c->peer, cf->dead_after);
			tr_conn_close(c, "stalled");
		}
	}
	tr_walk_end(r);
	for (struct session *s = r->sessions, *n; s; s = n) {
		n = s->next;
		int ended = 0;
		for (size_t i = 0; i < s->nm && !ended;) {
			struct member *m = s->m[i];
			if (!m->c && elapsed(now, m->detached_ms) > (unsigned long long)cf->resume_grace * 1000) {
				if (m->id == TF_ID_MASTER) {
					tr_session_end(s, r, "master-lost");
					ended = 1;
				} else
					tr_member_remove(r, s, m, "lost");
				continue; /* the array shrank: same i again */
			}
			i++;
		}
		if (ended)
			continue;
		if (tr_count_clients(s) == 0 && elapsed(now, s->idle_since_ms) > (unsigned long long)cf->idle_timeout * 1000)
			tr_session_end(s, r, "timeout");
	}
}

