/* vw_mpeer.c - viewer-master's clients: their links and sends, the join (HELLO, KEY,
 * REVEAL), the SAS question and the user's answer, approval and re-keying, the
 * commands on stdin, removal, and every frame from the relay. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/tframe.h"
#include "crypto/crypto.h"
#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_crypto.h"
#include "applets/viewer/vw_msg.h"
#include "applets/viewer/vw_direct.h"
#include "applets/viewer/vw_loop.h"
#include "applets/viewer/vw_master.h"

static struct vw_peer *find_peer(struct vw_master *m, uint16_t id)
{
	for (int i = 0; i < VW_MAX_PEERS; i++)
		if (m->peers[i].state != PEER_FREE && m->peers[i].id == id)
			return &m->peers[i];
	return NULL;
}

struct vw_peer *vw_master_peer(struct vw_master *m, uint16_t id)
{
	return find_peer(m, id);
}

struct vw_conn *vw_master_link(struct vw_master *m, uint16_t peer)
{
	struct vw_peer *p = find_peer(m, peer);
	return p && p->direct ? p->direct : &m->relay;
}

size_t vw_master_room(struct vw_master *m, uint16_t peer)
{
	return vw_link_room(vw_master_link(m, peer), peer);
}

/* The least output room over all links (a peer whose relay link is being resumed does
 * not count: the live view skips it rather than stall everyone). */
size_t vw_master_min_room(struct vw_master *m)
{
	size_t r = vw_conn_room(&m->relay);
	for (int i = 0; i < VW_MAX_PEERS; i++)
		if (m->peers[i].state != PEER_FREE && m->peers[i].direct &&
		    vw_conn_room(m->peers[i].direct) < r)
			r = vw_conn_room(m->peers[i].direct);
	return r;
}

/* Sealed under that client's own m2c key: no other participant can open it. */
int vw_master_send(struct vw_master *m, uint16_t peer, struct vw_msg *msg)
{
	struct vw_peer *p = find_peer(m, peer);

	if (!p || !p->link.m2c.set)
		return -1;
	if (vw_conn_send_msg(vw_master_link(m, peer), &p->link.m2c, peer, msg) < 0) {
		log_warn("output to the relay is full; dropping a message for client %u", peer);
		return -1;
	}
	return 0;
}

static void ask_next(struct vw_master *m);

static void drop_peer(struct vw_master *m, struct vw_peer *p, const char *why, int kick)
{
	char ctl[64];
	int idx = (int)(p - m->peers);

	if (p->state == PEER_APPROVED) {
		log_info("client %u (%s) removed: %s", p->id, p->addr, why);
		m->rekey_due = 1; /* it holds the group key: the others get a new one */
	} else {
		/* it never had anything but its own link keys, wiped here */
		log_info("client %u (%s) %s before approval: %s", p->id, p->addr,
			 kick ? "removed" : "gave up", why);
	}
	if (kick) {
		snprintf(ctl, sizeof(ctl), "id=%u\n", p->id);
		vw_conn_send_ctl(&m->relay, TF_KICK, TF_ID_RELAY, ctl);
	}
	vw_mchan_close_peer(m, p->id);
	vw_mdirect_close(m, p);
	vw_rtx_peer_del(&m->rtx, p->id);
	vw_link_clear(&p->link);
	cry_wipe(p, sizeof(*p)); /* J, if it was still here */
	if (m->asking == idx) {
		m->asking = -1;
		if (m->tty_fd >= 0)
			dprintf(m->tty_fd, "\n(that client left)\n");
		ask_next(m);
	}
}

/* A new group epoch, sent to every remaining approved client sealed under its own m2c
 * key: whoever left, was kicked or was refused does not get it, so it cannot read the
 * drops made from now on. */
void vm_rekey(struct vw_master *m)
{
	uint16_t epoch = (uint16_t)(m->group.g[0].epoch + 1);

	if (vw_group_push(&m->group, epoch, NULL) < 0) {
		log_err("re-key failed: no randomness");
		return;
	}
	for (int i = 0; i < VW_MAX_PEERS; i++) {
		struct vw_peer *p = &m->peers[i];
		if (p->state != PEER_APPROVED)
			continue;
		struct vw_msg msg = { VW_M_REKEY, 0, 0, epoch, 0, m->group.g[0].k, VW_KEY_LEN };
		if (vw_master_send(m, p->id, &msg) < 0)
			drop_peer(m, p, "could not re-key", 1);
	}
	printf("rekeyed epoch %u\n", epoch);
	fflush(stdout);
	log_info("group key re-keyed, epoch %u", epoch);
}

/* yes: APPROVE with the permissions, the group keys and the exposed names. No: REFUSE
 * (why: for the log), and the client is removed with its keys. Both are sealed under
 * that client's own m2c key. */
void vm_approve(struct vw_master *m, struct vw_peer *p, int yes, const char *why)
{
	static uint8_t data[1 + VW_GROUP_KEEP * (2 + VW_KEY_LEN) + VW_KEY_LEN + 1024 + 1]; /* + NUL */
	struct vw_msg msg = { 0 };
	ssize_t gl;
	size_t len;

	if (!yes) {
		msg.type = VW_M_REFUSE;
		msg.data = (const uint8_t *)"not approved";
		msg.len = strlen("not approved");
		vw_master_send(m, p->id, &msg);
		printf("refused %u %s\n", p->id, p->addr);
		fflush(stdout);
		drop_peer(m, p, why, 1);
		m->rekey_due = 1;
		return;
	}
	if ((gl = vw_group_encode(&m->group, data, sizeof(data) - 1025)) < 0) {
		drop_peer(m, p, "no group key", 1);
		return;
	}
	len = (size_t)gl;
	for (int i = 0; i < m->n_expose; i++)
		len += (size_t)snprintf((char *)data + len, sizeof(data) - len, "%s\n", m->expose[i].name);
	msg.type = VW_M_APPROVE;
	msg.b = (m->allow_exec ? VW_P_EXEC : 0) | (m->allow_shell ? VW_P_SHELL : 0) |
		(m->share ? VW_P_FILES : 0) | (m->n_expose ? VW_P_FORWARD : 0) |
		(m->present ? VW_P_WATCH : 0);
	msg.c = m->group.g[0].epoch;
	msg.data = data;
	msg.len = len;
	p->state = PEER_APPROVED;
	vw_master_send(m, p->id, &msg);
	cry_wipe(data, (size_t)gl);
	printf("approved %u %s\n", p->id, p->addr);
	fflush(stdout);
	log_info("client %u (%s) approved", p->id, p->addr);
}

static void ask_next(struct vw_master *m)
{
	if (m->asking >= 0)
		return;
	for (int i = 0; i < VW_MAX_PEERS; i++) {
		struct vw_peer *p = &m->peers[i];
		if (p->state != PEER_WAITING)
			continue;
		if (m->auto_approve) {
			log_warn("--auto-approve: admitting client %u (%s) without checking its SAS %s",
				 p->id, p->addr, p->sas);
			vm_approve(m, p, 1, NULL);
			continue;
		}
		if (m->tty_fd < 0) {
			log_warn("no terminal to confirm the SAS of client %u; refused (use --auto-approve in scripts)", p->id);
			vm_approve(m, p, 0, "refused: no terminal to confirm its SAS");
			continue;
		}
		m->asking = i;
		m->tty_len = 0;
		dprintf(m->tty_fd,
			"Client %u from %s wants to join. Its SAS here is %.4s %.4s.\n"
			"Type the SAS the technician reads to you (or 'y' if it matches, 'n' to refuse): ",
			p->id, p->addr, p->sas, p->sas + 4);
		return;
	}
}

/* The user's answer: y/yes or the 8 digits equal to our SAS approve; anything else
 * refuses. Typing the digits makes the comparison the user's, not a reflex 'y'. */
void vm_on_answer(struct vw_master *m, const char *line)
{
	struct vw_peer *p = &m->peers[m->asking];
	char digits[16];
	size_t n = 0;
	int yes;

	for (const char *s = line; *s && n < sizeof(digits) - 1; s++)
		if (*s >= '0' && *s <= '9')
			digits[n++] = *s;
	digits[n] = '\0';
	yes = strcmp(line, "y") == 0 || strcmp(line, "yes") == 0 ||
	      (n == VW_SAS_DIGITS && strcmp(digits, p->sas) == 0);
	if (!yes && n == VW_SAS_DIGITS)
		dprintf(m->tty_fd, "SAS MISMATCH: the connection is not end-to-end; refused.\n");
	m->asking = -1;
	vm_approve(m, p, yes, n == VW_SAS_DIGITS ? "refused: SAS mismatch" : "refused by the user");
	ask_next(m);
}

void vm_on_command(struct vw_master *m, const char *line)
{
	unsigned id;

	if (sscanf(line, "kick %u", &id) == 1) {
		struct vw_peer *p = find_peer(m, (uint16_t)id);
		if (!p) {
			fprintf(stderr, "viewer-master: no client %u\n", id);
			return;
		}
		printf("kicked %u %s\n", p->id, p->addr);
		fflush(stdout);
		drop_peer(m, p, "kicked", 1);
	} else if (strcmp(line, "end") == 0 || strcmp(line, "quit") == 0) {
		m->quit = 1;
	} else if (strcmp(line, "list") == 0) {
		for (int i = 0; i < VW_MAX_PEERS; i++)
			if (m->peers[i].state != PEER_FREE)
				printf("client %u %s SAS %s %s\n", m->peers[i].id, m->peers[i].addr,
				       m->peers[i].sas, m->peers[i].state == PEER_APPROVED ? "approved" : "waiting");
		fflush(stdout);
	} else if (line[0]) {
		fprintf(stderr, "viewer-master: commands: kick ID, list, end\n");
	}
}

/* Reads what is there from fd into a line buffer; calls fn per complete line. -1 at EOF. */
int vm_read_lines(struct vw_master *m, int fd, char *buf, size_t cap, size_t *len,
		      void (*fn)(struct vw_master *, const char *))
{
	char tmp[256];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n <= 0)
		return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	for (ssize_t i = 0; i < n; i++) {
		if (tmp[i] == '\n' || tmp[i] == '\r') {
			buf[*len] = '\0';
			*len = 0;
			if (fn != vm_on_answer || m->asking >= 0)
				fn(m, buf);
		} else if (*len < cap - 1) {
			buf[(*len)++] = tmp[i];
		}
	}
	return 0;
}

/* Plaintext, before any key: a client of another protocol version learns why. */
static void send_bye(struct vw_master *m, uint16_t id, const char *why)
{
	uint8_t out[160];
	size_t n = strlen(why) < sizeof(out) - 1 ? strlen(why) : sizeof(out) - 1;

	out[0] = VW_OUT_BYE;
	memcpy(out + 1, why, n);
	vw_conn_send_plain(&m->relay, id, out, n + 1);
}

/* HELLO: a fresh J and N_m for this join alone, J wrapped for the client's key. J opens
 * nothing but this client's own link, so a joiner that is then refused has learnt
 * nothing about anyone else's traffic or the group keys. */
static void on_hello(struct vw_master *m, struct vw_peer *p, const uint8_t *pl, size_t len)
{
	const uint8_t *spki, *commit;
	size_t sl;
	int version;
	uint8_t wrapped[1024], out[1100], nm[VW_NM_LEN];
	ssize_t wn, on = -1;
	char why[128];

	if (vw_hello_parse(pl, len, &version, &commit, &spki, &sl) < 0) {
		if (version != VW_VERSION && version >= 0) {
			snprintf(why, sizeof(why), "protocol version %d not supported (this master speaks %d)",
				 version, VW_VERSION);
			send_bye(m, p->id, why);
			drop_peer(m, p, why, 1);
		} else {
			drop_peer(m, p, "malformed HELLO", 1);
		}
		return;
	}
	if (cry_random(p->j, sizeof(p->j)) < 0 || cry_random(nm, sizeof(nm)) < 0) {
		drop_peer(m, p, "no randomness", 1);
		return;
	}
	wn = vw_join_wrap(p->j, spki, sl, wrapped, sizeof(wrapped));
	if (wn < 0 || (on = vw_keymsg_encode(nm, wrapped, (size_t)wn, out, sizeof(out))) < 0 ||
	    vw_bind_init(&p->bind, m->session, p->id, spki, sl, nm) < 0 ||
	    vw_link_derive(&p->link, p->j, &p->bind) < 0) {
		drop_peer(m, p, wn < 0 ? "unusable public key (RSA-2048 or larger required)" : "key derivation failed", 1);
		return;
	}
	memcpy(p->commit, commit, sizeof(p->commit));
	vw_conn_send_plain(&m->relay, p->id, out, (size_t)on);
	p->state = PEER_KEYED;
}

/* REVEAL: the N_c its HELLO committed to, sealed under its c2m key (so it also shows the
 * client derived the same keys). Only now is the SAS made: neither a relay playing
 * master to the client nor one playing client to us could pick its part after seeing
 * the other's (docs/viewer-protocol.md section 3). J is not needed after this. */
static void on_reveal(struct vw_master *m, struct vw_peer *p, const struct vw_msg *msg)
{
	uint8_t h[32];

	if (msg->type != VW_M_REVEAL || msg->len != VW_NC_LEN || cry_sha256(msg->data, msg->len, h) < 0 ||
	    !cry_memeq(h, p->commit, sizeof(h)) || vw_sas(p->j, &p->bind, msg->data, p->sas) < 0) {
		drop_peer(m, p, "its nonce does not match its HELLO", 1);
		return;
	}
	cry_wipe(p->j, sizeof(p->j));
	p->state = PEER_WAITING;
	printf("join %u %s SAS %s\n", p->id, p->addr, p->sas);
	fflush(stdout);
	ask_next(m);
}

static void on_data(struct vw_master *m, const struct tframe_hdr *h, const uint8_t *raw,
		    const uint8_t *pl)
{
	struct vw_peer *p = find_peer(m, h->source);
	const struct vw_key *keys[1];
	static uint8_t pt[VW_MSG_MAX];
	struct vw_msg msg;
	const char *why = "";
	ssize_t n;

	if (!p || h->length == 0) {
		log_debug("data from unknown participant %u ignored", h->source);
		return;
	}
	if (p->state == PEER_JOINED) {
		if (pl[0] == VW_OUT_HELLO && h->seq > p->rp.last_seq) {
			p->rp.last_seq = h->seq;
			on_hello(m, p, pl, h->length);
		} else {
			drop_peer(m, p, "expected HELLO", 1);
		}
		return;
	}
	if (p->state == PEER_WAITING) {
		log_debug("client %u sent data before approval; ignored", p->id);
		return;
	}
	keys[0] = &p->link.c2m; /* its own key, nobody else's */
	n = vw_open_frame(keys, 1, &p->rp, h, raw, pl, pt, sizeof(pt), NULL, &why);
	if (n < 0 || vw_msg_parse(&msg, pt, (size_t)n) < 0) {
		drop_peer(m, p, n < 0 ? why : "malformed message", 1);
		return;
	}
	if (p->state == PEER_KEYED) {
		on_reveal(m, p, &msg);
		cry_wipe(pt, (size_t)n);
		return;
	}
	if (!p->path_said) {
		/* its first request came over the relay: it did not (or could not) go direct */
		printf("path %u %s\n", p->id, m->path);
		fflush(stdout);
		p->path_said = 1;
	}
	if (msg.type == VW_M_OPEN)
		vw_mchan_open(m, p, &msg);
	else
		vw_mchan_msg(m, p, &msg);
	cry_wipe(pt, (size_t)n);
}

void vw_master_on_data(struct vw_master *m, const struct tframe_hdr *h, const uint8_t *raw,
		       const uint8_t *pl)
{
	on_data(m, h, raw, pl);
}

void vw_master_drop_peer(struct vw_master *m, struct vw_peer *p, const char *why)
{
	drop_peer(m, p, why, 1);
}

/* A client the relay let in (PEER_JOINED, or its first resync marker). */
static void add_peer(struct vw_master *m, unsigned long id, const char *addr)
{
	int slot = -1;

	if (id < TF_ID_FIRST_CLIENT || id >= TF_ID_ALL || find_peer(m, (uint16_t)id))
		return;
	for (int i = 0; i < VW_MAX_PEERS && slot < 0; i++)
		if (m->peers[i].state == PEER_FREE)
			slot = i;
	if (slot < 0) {
		char ctl[32];
		log_warn("too many clients; refusing %lu", id);
		snprintf(ctl, sizeof(ctl), "id=%lu\n", id);
		vw_conn_send_ctl(&m->relay, TF_KICK, TF_ID_RELAY, ctl);
		return;
	}
	memset(&m->peers[slot], 0, sizeof(m->peers[slot]));
	vw_rtx_peer_add(&m->rtx, (uint16_t)id);
	m->peers[slot].state = PEER_JOINED;
	m->peers[slot].id = (uint16_t)id;
	snprintf(m->peers[slot].addr, sizeof(m->peers[slot].addr), "%s", addr ? addr : "?");
	log_info("client %lu connected from %s", id, m->peers[slot].addr);
}

/* One frame from the relay. Returns -1 when the session cannot go on. */
int vm_on_frame(struct vw_master *m, const struct tframe_hdr *h, const uint8_t *raw,
		    const uint8_t *pl)
{
	struct tfctl c;
	const char *v;

	if (h->type == TF_DATA) {
		struct vw_peer *p;
		if (vw_rtx_rx(&m->rtx, h))
			return 0; /* we wait for its resend, or a resent frame we have */
		on_data(m, h, raw, pl);
		if ((p = find_peer(m, h->source)) && p->rp.last_seq == h->seq)
			vw_rtx_accepted(&m->rtx, h->source, h->seq, h->length);
		return 0;
	}
	if ((h->type == TF_PING || h->type == TF_PONG) && h->source != TF_ID_RELAY) {
		/* end to end: keepalive, acks, resync (vw_rtx.c). A marker from a client we
		 * never heard of: it joined while our link was down (its PEER_JOINED went to
		 * nobody), and its HELLO follows in the resend */
		if (!find_peer(m, h->source) && vw_rtx_is_marker(h, pl))
			add_peer(m, h->source, "?");
		vw_rtx_rx(&m->rtx, h);
		vw_rtx_ctl(&m->rtx, h, pl);
		return 0;
	}
	if (h->source != TF_ID_RELAY || tfctl_parse(&c, pl, h->length) < 0) {
		log_warn("malformed control frame from the relay");
		return -1;
	}
	switch (h->type) {
	case TF_REGISTERED:
		v = tfctl_get(&c, "session");
		if (v && m->session && tfctl_get(&c, "resumed") && m->rtx.state == VW_LINK_RESUMING &&
		    strtoul(v, NULL, 10) == m->session) {
			vw_rtx_resumed(&m->rtx, m->path);
			break;
		}
		if (!v || strlen(v) > 9 || m->session != 0) {
			log_err("relay sent a bad registration");
			return -1;
		}
		m->session = (uint32_t)strtoul(v, NULL, 10);
		m->relay.my_id = TF_ID_MASTER;
		vw_rtx_enable(&m->rtx, v, TF_ID_MASTER, tfctl_get(&c, "token"));
		vw_rtx_window(&m->rtx, tfctl_get(&c, "resume_window"));
		printf("session %s\n", v);
		fflush(stdout);
		fprintf(stderr, "viewer-master: session %s, path %s\n", v, m->path);
		break;
	case TF_PEER_JOINED: {
		unsigned long id = (v = tfctl_get(&c, "id")) ? strtoul(v, NULL, 10) : 0;
		add_peer(m, id, tfctl_get(&c, "addr"));
		break;
	}
	case TF_PEER_LEFT: {
		struct vw_peer *p = (v = tfctl_get(&c, "id")) ? find_peer(m, (uint16_t)strtoul(v, NULL, 10)) : NULL;
		if (p) {
			const char *r = tfctl_get(&c, "reason");
			printf("left %u %s\n", p->id, p->addr);
			fflush(stdout);
			drop_peer(m, p, r ? r : "left", 0);
		}
		break;
	}
	case TF_ERROR:
		v = tfctl_get(&c, "code");
		if (m->rtx.state == VW_LINK_RESUMING) {
			if (vw_rtx_refused(&m->rtx, v) == 0)
				return 0;
			m->quit = 3;
			return 0;
		}
		log_err("relay: %s %s", v ? v : "error", tfctl_get(&c, "msg") ? tfctl_get(&c, "msg") : "");
		if (!m->session)
			return -1;
		break;
	case TF_END:
		v = tfctl_get(&c, "reason");
		fprintf(stderr, "viewer-master: the relay ended the session (%s)\n", v ? v : "ended");
		m->quit = 2;
		return 0;
	case TF_PING:
		vw_conn_send_ctl(&m->relay, TF_PONG, TF_ID_RELAY, "");
		break;
	default:
		break;
	}
	return 0;
}
