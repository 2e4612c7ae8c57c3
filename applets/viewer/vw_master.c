/* viewer-master - open a remote-support session on this appliance: register with the
 * relay, give each joining client its own per-join secret (RSA-OAEP), show each join's
 * SAS and admit it only when the user here confirms it (only then does it get the group
 * keys), then serve what the options allow, each client under its own keys. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "applet.h"
#include "core/cli.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "core/tframe.h"
#include "crypto/crypto.h"
#include "net/child.h"
#include "net/loop.h"
#include "applets/viewer/vw_conf.h"
#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_crypto.h"
#include "applets/viewer/vw_msg.h"
#include "applets/viewer/vw_direct.h"
#include "applets/viewer/vw_loop.h"
#include "applets/viewer/vw_master.h"

static int viewer_master_main(int argc, char **argv);

const struct applet viewer_master_applet = {
	"viewer-master", viewer_master_main,
	"[--server HOST:PORT] " VW_RELAY_OPTS_USAGE " [-n] [--share DIR] [--allow-exec] [--allow-shell] [--expose NAME=HOST:PORT]... [--present CMD] [--auto-approve] [--lan-listen ADDR:PORT] [--no-lan]",
	APPLET_CLIENT,
	"open a remote-support session on this appliance",
	&vw_conf_spec,
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

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
static void rekey(struct vw_master *m)
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
static void approve(struct vw_master *m, struct vw_peer *p, int yes, const char *why)
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
			approve(m, p, 1, NULL);
			continue;
		}
		if (m->tty_fd < 0) {
			log_warn("no terminal to confirm the SAS of client %u; refused (use --auto-approve in scripts)", p->id);
			approve(m, p, 0, "refused: no terminal to confirm its SAS");
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
static void on_answer(struct vw_master *m, const char *line)
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
	approve(m, p, yes, n == VW_SAS_DIGITS ? "refused: SAS mismatch" : "refused by the user");
	ask_next(m);
}

static void on_command(struct vw_master *m, const char *line)
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
static int read_lines(struct vw_master *m, int fd, char *buf, size_t cap, size_t *len,
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
			if (fn != on_answer || m->asking >= 0)
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
static int on_frame(struct vw_master *m, const struct tframe_hdr *h, const uint8_t *raw,
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

static int parse_args(struct vw_master *m, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r = vw_relay_opt(&m->ro, argc, argv, &i);
		if (r < 0)
			return cli_usage_error(&viewer_master_applet, "%s %s: want a port 0-65535 (0 = never)", a, argv[i]);
		if (r > 0)
			continue;
		if (strcmp(a, "--share") == 0 && i + 1 < argc) {
			m->share = argv[++i];
		} else if (strcmp(a, "--allow-exec") == 0) {
			m->allow_exec = 1;
		} else if (strcmp(a, "--allow-shell") == 0) {
			m->allow_shell = 1;
		} else if (strcmp(a, "--auto-approve") == 0) {
			m->auto_approve = 1;
		} else if (strcmp(a, "--no-lan") == 0) {
			m->no_lan = 1;
		} else if (strcmp(a, "--lan-listen") == 0 && i + 1 < argc) {
			m->lan_listen = argv[++i];
		} else if (strcmp(a, "--present") == 0 && i + 1 < argc) {
			m->present = argv[++i];
		} else if (strcmp(a, "--expose") == 0 && i + 1 < argc) {
			const char *e = argv[++i], *eq = strchr(e, '=');
			struct vw_expose *x = &m->expose[m->n_expose];
			if (!eq || eq == e || (size_t)(eq - e) >= sizeof(x->name) || !strchr(eq + 1, ':') ||
			    strlen(eq + 1) >= sizeof(x->target) || m->n_expose >= VW_MAX_EXPOSE)
				return cli_usage_error(&viewer_master_applet, "bad --expose %s (want NAME=HOST:PORT)", e);
			memcpy(x->name, e, (size_t)(eq - e));
			x->name[eq - e] = '\0';
			snprintf(x->target, sizeof(x->target), "%s", eq + 1);
			m->n_expose++;
		} else {
			return cli_usage_error(&viewer_master_applet, "unknown or incomplete option %s", a);
		}
	}
	return 0;
}

/* One round on the loop (vw_loop.h): what to wait for... */
static struct {
	int base, dbase, dn; /* where the channels' and the direct path's entries start */
	int rc;              /* >= 0: run() returns this after the loop */
} R;

static int m_build(void *arg, struct pollfd *pf, int max, int *timeout)
{
	struct vw_master *m = arg;
	int n = 0, busy = 0;

	pf[n++] = (struct pollfd){ -1, 0, 0 }; /* the relay link: a net_conn, it kicks */
	pf[n++] = (struct pollfd){ m->asking >= 0 ? m->tty_fd : -1, POLLIN, 0 };
	pf[n++] = (struct pollfd){ m->stdin_open ? 0 : -1, POLLIN, 0 };
	R.base = n;
	n += vw_mchan_pollfds(m, pf + n, max - n - 2 - 1 - VW_MAX_PEND - VW_MAX_PEERS, &busy);
	pf[n++] = (struct pollfd){ m->present_fd, POLLIN, 0 };
	R.dbase = n;
	R.dn = vw_mdirect_pollfds(m, pf + n, max - n);
	n += R.dn;
	/* bytes to take, or frames queued that the round hands to the connection */
	if (vw_conn_pending(&m->relay) || vw_conn_want_write(&m->relay))
		busy = 1;
	for (int i = 0; i < VW_MAX_PEERS; i++)
		if (m->peers[i].state != PEER_FREE && m->peers[i].direct &&
		    (vw_conn_pending(m->peers[i].direct) || vw_conn_want_write(m->peers[i].direct)))
			busy = 1;
	*timeout = busy == 1 || m->quit || stop_flag ? 0 : vw_rtx_poll_ms(&m->rtx, 1000);
	return n;
}

/* ...and what became ready. 1 ends the loop (R.rc, or m->quit / stop_flag say how). */
static int m_handle(void *arg, struct pollfd *pf, int n)
{
	struct vw_master *m = arg;

	(void)n;
	if (m->quit || stop_flag)
		return 1;
	if (vw_conn_pending(&m->relay)) {
		struct tframe_hdr h;
		const uint8_t *raw, *pl;
		size_t had = m->relay.in_len;
		int r = 0;
		if (vw_conn_on_readable(&m->relay) < 0) {
			if (vw_rtx_lost(&m->rtx, m->relay.err) < 0)
				return 1;
			goto relay_done;
		}
		if (m->relay.in_len > had)
			vw_rtx_heard(&m->rtx);
		while (!m->quit && vw_conn_up(&m->relay) && (r = vw_conn_frame(&m->relay, &h, &raw, &pl)) == 1) {
			int rc = on_frame(m, &h, raw, pl);
			vw_conn_consume(&m->relay);
			if (rc < 0) {
				R.rc = m->session ? EXIT_PROTOCOL : EXIT_UNAVAILABLE;
				return 1;
			}
		}
		if (r < 0 && vw_rtx_lost(&m->rtx, m->relay.err) < 0)
			return 1;
	}
relay_done:
	if (pf[1].fd >= 0 && (pf[1].revents & (POLLIN | POLLHUP)))
		if (read_lines(m, m->tty_fd, m->tty_line, sizeof(m->tty_line), &m->tty_len, on_answer) < 0) {
			vw_loop_close(&m->tty_fd);
			if (m->asking >= 0) {
				int a = m->asking;
				m->asking = -1;
				approve(m, &m->peers[a], 0, "refused: the terminal closed");
			}
		}
	if (pf[2].fd >= 0 && (pf[2].revents & (POLLIN | POLLHUP)))
		if (read_lines(m, 0, m->cmd_line, sizeof(m->cmd_line), &m->cmd_len, on_command) < 0) {
			vw_loop_forget(0);
			m->stdin_open = 0;
		}
	vw_mchan_pump(m, pf + R.base, R.dbase - R.base - 1);
	vw_mchan_present(m, m->present_fd >= 0 && (pf[R.dbase - 1].revents & (POLLIN | POLLHUP | POLLERR)));
	vw_mchan_present_end(m);
	vw_mdirect_pump(m, pf + R.dbase, R.dn);
	vw_mchan_reap(m);
	if (m->rekey_due) {
		m->rekey_due = 0; /* one new epoch for everything that happened this round */
		rekey(m);
	}
	/* keepalive (the relay drops a path silent for 60 s), acks, resends, resume */
	if (vw_rtx_tick(&m->rtx, &m->ro, m->path, sizeof(m->path)) < 0) {
		m->quit = 3;
		return 1;
	}
	if (vw_conn_up(&m->relay) && vw_conn_flush(&m->relay) < 0 && vw_rtx_lost(&m->rtx, m->relay.err) < 0)
		return 1;
	return m->quit || stop_flag;
}

static int run(struct vw_master *m)
{
	char err[1024]; /* every fallback step's reason */
	const struct vw_round round = { m_build, m_handle, m };

	if (vw_conn_open_relay(&m->relay, &m->ro, m->path, sizeof(m->path), err, sizeof(err)) < 0) {
		fprintf(stderr, "viewer-master: %s\n", err);
		return EXIT_UNAVAILABLE;
	}
	{
		char reg[320];
		snprintf(reg, sizeof(reg), "version=1\n%s%s%s", m->lan[0] ? "lan=" : "", m->lan,
			 m->lan[0] ? "\n" : "");
		vw_conn_send_ctl(&m->relay, TF_REGISTER, TF_ID_RELAY, reg);
	}
	vw_rtx_init(&m->rtx, &m->relay, "viewer-master");
	m->rtx.direct_closed = vw_mdirect_closed;
	m->rtx.cb_arg = m;
	R.rc = -1;
	vw_loop_run(&round);
	if (R.rc >= 0) {
		vw_conn_flush_all(&m->relay, 1000);
		vw_conn_close(&m->relay);
		vw_rtx_free(&m->rtx);
		return R.rc;
	}
	if (m->quit == 2 || m->quit == 3) {
		if (m->quit == 3)
			fprintf(stderr, "viewer-master: relay connection lost: %s\n", m->rtx.why);
		vw_conn_close(&m->relay);
		vw_rtx_free(&m->rtx);
		return EXIT_UNAVAILABLE;
	}
	if (m->quit || stop_flag) {
		vw_conn_send_ctl(&m->relay, TF_END, TF_ID_RELAY, "");
		vw_conn_flush_all(&m->relay, 1000);
		vw_conn_close(&m->relay);
		vw_rtx_free(&m->rtx);
		return EXIT_OK;
	}
	fprintf(stderr, "viewer-master: relay connection lost: %s\n", m->relay.err[0] ? m->relay.err : "error");
	vw_conn_close(&m->relay);
	vw_rtx_free(&m->rtx);
	return EXIT_UNAVAILABLE;
}

static void on_stop(int signo, void *arg)
{
	(void)arg;
	on_signal(signo);
	vw_loop_kick();
}

static int viewer_master_main(int argc, char **argv)
{
	static struct vw_master m;
	struct sigaction sa;
	int rc;

	if (cli_wants_help(argc, argv)) {
		cli_usage(&viewer_master_applet, stdout);
		return EXIT_OK;
	}
	memset(&m, 0, sizeof(m));
	m.share_fd = -1;
	m.present_fd = -1;
	vw_relay_opts_init(&m.ro);
	m.tty_fd = -1;
	m.asking = -1;
	if (vw_conf_print_sample(argc, argv, stdout))
		return EXIT_OK;
	if ((rc = parse_args(&m, argc, argv)) != 0 || (rc = vw_relay_opts_load(&m.ro, "viewer-master")) != 0)
		return rc;
	if (vw_relay_opts_checked(&m.ro))
		return EXIT_OK;
	if (!m.ro.server)
		return cli_usage_error(&viewer_master_applet, "--server HOST:PORT (or server = in the configuration) is required");
	if (m.share && (m.share_fd = open(m.share, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "viewer-master: --share %s: %s\n", m.share, strerror(errno));
		return EXIT_NOINPUT;
	}
	if (m.auto_approve)
		log_warn("--auto-approve: joins are admitted without checking the SAS; anyone who knows the session number (or the relay) can get in");
	else
		m.tty_fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	m.stdin_open = !isatty(0);
	if (m.stdin_open)
		fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	if (vw_group_push(&m.group, 0, NULL) < 0 || cry_random(m.group.name_key, VW_KEY_LEN) < 0) {
		fprintf(stderr, "viewer-master: cannot make a group key\n");
		return EXIT_SOFTWARE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (!vw_loop_net() || net_signal_add(vw_loop_net(), SIGINT, on_stop, NULL) < 0 ||
	    net_signal_add(vw_loop_net(), SIGTERM, on_stop, NULL) < 0) {
		fprintf(stderr, "viewer-master: cannot make the event loop\n");
		vw_group_clear(&m.group);
		return EXIT_SOFTWARE;
	}
	for (int i = 0; i < VW_MAX_PEND; i++)
		m.pend[i].fd = -1;
	if (!m.no_lan) {
		char err[160];
		m.lan_ls = vw_direct_listen(m.lan_listen, vw_mdirect_accept, &m, m.lan, sizeof(m.lan), err,
					    sizeof(err));
		if (!m.lan_ls && m.lan_listen) {
			fprintf(stderr, "viewer-master: %s\n", err);
			vw_group_clear(&m.group);
			return EXIT_OSERR;
		}
		if (!m.lan_ls)
			log_warn("no direct LAN path: %s", err);
		else
			log_info("direct LAN path on %s", m.lan);
	}
	rc = run(&m);
	vw_mdirect_shutdown(&m);
	for (int i = 0; i < VW_MAX_PEERS; i++) {
		if (m.peers[i].state != PEER_FREE)
			vw_mchan_close_peer(&m, m.peers[i].id);
		vw_link_clear(&m.peers[i].link);
		cry_wipe(&m.peers[i], sizeof(m.peers[i]));
	}
	if (m.present_fd >= 0)
		vw_loop_close(&m.present_fd);
	net_child_free(m.present_child); /* killed if still running */
	if (m.replay)
		cry_wipe(m.replay, VW_REPLAY_CAP); /* what the appliance's screen showed */
	free(m.replay);
	vw_group_clear(&m.group);
	if (m.tty_fd >= 0)
		close(m.tty_fd);
	if (m.share_fd >= 0)
		close(m.share_fd);
	vw_relay_opts_free(&m.ro);
	vw_loop_free();
	return rc;
}
