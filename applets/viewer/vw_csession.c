/* vw_csession.c - viewer-client's session: the join (HELLO, KEY, REVEAL), approval,
 * the direct attempt, and every frame from the relay or the master. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applet.h"
#include "core/cli.h"
#include "core/exitcode.h"
#include "core/tframe.h"
#include "crypto/crypto.h"
#include "crypto/rsa.h"
#include "crypto/rsa_bg.h"
#include "applets/viewer/vw_cfwd.h"
#include "applets/viewer/vw_client.h"
#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_crypto.h"
#include "applets/viewer/vw_direct.h"
#include "applets/viewer/vw_drop.h"
#include "applets/viewer/vw_files.h"
#include "applets/viewer/vw_loop.h"
#include "applets/viewer/vw_msg.h"
#include "applets/viewer/vw_rtx.h"

/* KEY: J for this join alone. From it our link keys and the SAS; then N_c goes to the
 * master (sealed under our c2m key) so that it can make the same SAS. J is wiped. */
static int on_key(struct client *c, const uint8_t *pl, size_t len)
{
	const uint8_t *w, *nm;
	size_t wl;
	uint8_t j[VW_JOIN_LEN];
	struct vw_bind b;
	char sas[VW_SAS_DIGITS + 1];
	uint32_t session = (uint32_t)strtoul(c->session, NULL, 10);
	int bad;

	bad = vw_keymsg_parse(pl, len, &nm, &w, &wl) < 0 || vw_join_unwrap(j, c->priv, w, wl) < 0 ||
	      vw_bind_init(&b, session, c->relay.my_id, c->spki, c->spki_len, nm) < 0 ||
	      vw_link_derive(&c->link, j, &b) < 0 || vw_sas(j, &b, c->nc, sas) < 0 ||
	      vc_send_msg(c, VW_M_REVEAL, 0, 0, 0, c->nc, sizeof(c->nc)) < 0;
	cry_wipe(j, sizeof(j));
	if (bad) {
		fprintf(stderr, "viewer-client: could not receive this join's key\n");
		return EXIT_PROTOCOL;
	}
	fprintf(stderr, "viewer-client: SAS %s - read it to the person at the appliance; waiting for approval\n", sas);
	c->state = C_APPROVAL;
	return -1;
}

/* Approved, and the direct attempt (if any) is over: the command starts. */
static int approved_go(struct client *c)
{
	fprintf(stderr, "viewer-client: approved; path %s\n", c->data == &c->direct ? c->dpath : c->path);
	return vc_start_command(c);
}

static void direct_done(void *arg, struct net_conn *nc, const char *chosen)
{
	struct client *c = arg;
	char err[128];
	int rc;

	c->dtry = NULL;
	memset(&c->direct, 0, sizeof(c->direct));
	if (nc && vw_conn_attach(&c->direct, nc, NULL, err, sizeof(err)) == 0) {
		c->direct.my_id = c->relay.my_id;
		c->direct.seqp = &c->relay.seq; /* one nonce counter for both links */
		c->data = &c->direct;
		/* its frames are kept and acked like the relay's, so a break loses nothing */
		vw_rtx_set_direct(&c->rtx, TF_ID_MASTER, &c->direct);
		snprintf(c->dpath, sizeof(c->dpath), "direct %s", chosen);
	}
	rc = approved_go(c);
	if (rc >= 0)
		c->async_rc = rc;
	vw_loop_kick();
}

/* After approval (only an approved client is let in directly): the master's LAN
 * addresses, briefly, on the loop (the relay link goes on meanwhile); the data path
 * moves there when one proves to hold our direct key. Then the command starts. */
static int try_direct(struct client *c)
{
	if (!c->lan[0] || c->no_lan)
		return approved_go(c);
	c->dtry = vw_direct_try_start(c->lan, c->link.direct, (uint32_t)strtoul(c->session, NULL, 10),
				      c->relay.my_id, 1000, direct_done, c);
	return c->dtry ? -1 : approved_go(c);
}

/* vw_rtx gave up the direct link (broken, silent, or the master went back to the
 * relay): close it; our traffic goes through the relay again, where vw_rtx resends
 * what the master has not acknowledged. */
void vc_direct_closed(void *arg, uint16_t peer, const char *why)
{
	struct client *c = arg;

	(void)peer;
	if (c->data != &c->direct)
		return;
	fprintf(stderr, "viewer-client: direct link lost (%s); path %s%s\n", why, c->path,
		vw_rtx_live(&c->rtx) ? "" : " (resuming)");
	vw_conn_drop_socket(&c->direct); /* not flushed: it is broken or silent */
	vw_conn_close(&c->direct);
	c->data = &c->relay;
}

static int on_sealed(struct client *c, const struct tframe_hdr *h, const uint8_t *raw,
		     const uint8_t *pl)
{
	static uint8_t pt[VW_MSG_MAX];
	const struct vw_key *keys[1] = { &c->link.m2c };
	struct vw_msg m;
	const char *why = "";
	ssize_t n = vw_open_frame(keys, 1, &c->rp, h, raw, pl, pt, sizeof(pt), NULL, &why);
	int rc = -1;

	if (n < 0 || vw_msg_parse(&m, pt, (size_t)n) < 0) {
		fprintf(stderr, "viewer-client: dropped the session: %s\n", n < 0 ? why : "malformed message");
		return EXIT_PROTOCOL;
	}
	if (m.type == VW_M_REKEY) {
		if (c->state < C_RUNNING || m.len != VW_KEY_LEN ||
		    (uint16_t)m.b != (uint16_t)(c->group.g[0].epoch + 1) ||
		    vw_group_push(&c->group, (uint16_t)m.b, m.data) < 0) {
			fprintf(stderr, "viewer-client: bad re-key\n");
			rc = EXIT_PROTOCOL;
		} else {
			fprintf(stderr, "viewer-client: group key re-keyed (epoch %u)\n", (unsigned)m.b);
		}
	} else if (c->state == C_APPROVAL && m.type == VW_M_APPROVE) {
		ssize_t gl = vw_group_decode(&c->group, m.data, m.len);
		if (gl < 0 || c->group.g[0].epoch != (uint16_t)m.c) {
			fprintf(stderr, "viewer-client: malformed approval\n");
			cry_wipe(pt, (size_t)n);
			return EXIT_PROTOCOL;
		}
		c->perms = m.b;
		snprintf(c->exposed, sizeof(c->exposed), "%.*s", (int)(m.len - (size_t)gl),
			 (const char *)m.data + gl);
		rc = try_direct(c);
	} else if (m.type == VW_M_REFUSE) {
		fprintf(stderr, "viewer-client: the master refused the join: %.*s\n", (int)m.len, (const char *)m.data);
		rc = EXIT_NOPERM;
	} else if (c->state == C_RUNNING && m.chan == CHAN) {
		rc = vc_on_chan_msg(c, &m);
	} else if (c->state == C_RUNNING && c->fwd) {
		vw_cfwd_msg(c->fwd, c->data, &c->link.c2m, &m);
	}
	cry_wipe(pt, (size_t)n);
	return rc;
}

/* Collects the key pair started in main (it was made while the relay round trips ran). */
static int key_ready(struct client *c)
{
	if (c->priv)
		return 0;
	c->priv = cry_rsa_generate_finish(c->keyjob);
	c->keyjob = NULL;
	if (!c->priv || !(c->spki = cry_rsa_public_der_new(c->priv, &c->spki_len))) {
		fprintf(stderr, "viewer-client: RSA key generation failed\n");
		return -1;
	}
	return 0;
}

/* One frame. Returns an exit code when the session is over, -1 to go on. */
int vc_on_frame(struct client *c, const struct tframe_hdr *h, const uint8_t *raw,
		    const uint8_t *pl, int from_direct)
{
	struct tfctl ctl;
	const char *v;

	if (h->type == TF_DATA) {
		int rc = -1;
		if (h->source != TF_ID_MASTER || h->length == 0)
			return -1;
		if (from_direct)
			vw_rtx_direct_rx(&c->rtx, h);
		else if (vw_rtx_rx(&c->rtx, h))
			return -1; /* we wait for its resend, a resent frame we have, or it
				    * predates the move to the direct link */
		if (c->state == C_KEYWAIT && pl[0] == VW_OUT_KEY) {
			if (h->seq <= c->rp.last_seq)
				return EXIT_PROTOCOL;
			c->rp.last_seq = h->seq;
			rc = on_key(c, pl, h->length);
		} else if (c->state == C_KEYWAIT && pl[0] == VW_OUT_BYE) {
			/* plaintext: the relay could fake it, but it can always refuse service */
			fprintf(stderr, "viewer-client: the master refused the join: %.*s\n",
				(int)(h->length - 1 > 200 ? 200 : h->length - 1), (const char *)pl + 1);
			rc = EXIT_NOPERM;
		} else if (pl[0] == VW_OUT_SEALED && c->link.m2c.set) {
			rc = on_sealed(c, h, raw, pl);
		}
		if (c->rp.last_seq == h->seq)
			vw_rtx_accepted(&c->rtx, TF_ID_MASTER, h->seq, h->length);
		return rc;
	}
	if ((h->type == TF_PING || h->type == TF_PONG) && h->source != TF_ID_RELAY) {
		if (from_direct) {
			vw_rtx_direct_rx(&c->rtx, h); /* keepalive and acks of the direct link */
		} else if (h->source == TF_ID_MASTER) {
			vw_rtx_rx(&c->rtx, h);
			vw_rtx_ctl(&c->rtx, h, pl);
		}
		return -1;
	}
	if (h->type == TF_DROP) {
		if (h->source != TF_ID_RELAY || !c->drop)
			return -1;
		return vw_drop_frame(c->drop, &c->relay, pl, h->length);
	}
	if (h->source != TF_ID_RELAY || tfctl_parse(&ctl, pl, h->length) < 0) {
		fprintf(stderr, "viewer-client: malformed control frame from the relay\n");
		return EXIT_PROTOCOL;
	}
	switch (h->type) {
	case TF_JOINED: {
		uint8_t hello[2100], commit[32];
		ssize_t n;
		unsigned long id = (v = tfctl_get(&ctl, "id")) ? strtoul(v, NULL, 10) : 0;
		if (tfctl_get(&ctl, "resumed") && c->rtx.state == VW_LINK_RESUMING && id == c->relay.my_id) {
			vw_rtx_resumed(&c->rtx, c->path);
			return -1;
		}
		if (c->state != C_JOINING || id < TF_ID_FIRST_CLIENT || id >= TF_ID_ALL)
			return EXIT_PROTOCOL;
		c->relay.my_id = (uint16_t)id;
		if (!(vc_kind_flags(c->kind) & VC_NO_RESUME))
			vw_rtx_enable(&c->rtx, c->session, (uint16_t)id, tfctl_get(&ctl, "token"));
		vw_rtx_window(&c->rtx, tfctl_get(&ctl, "resume_window"));
		snprintf(c->lan, sizeof(c->lan), "%s", (v = tfctl_get(&ctl, "lan")) ? v : "");
		/* for tests only: a local setting (a peer cannot reach it) that puts the direct
		 * path through a forwarder the test can cut */
		if ((v = getenv("SEALBOX_VIEWER_LAN")) && *v && c->lan[0])
			snprintf(c->lan, sizeof(c->lan), "%s", v);
		if (key_ready(c) < 0 || cry_random(c->nc, sizeof(c->nc)) < 0 || cry_sha256(c->nc, sizeof(c->nc), commit) < 0)
			return EXIT_SOFTWARE;
		n = vw_hello_encode(commit, c->spki, c->spki_len, hello, sizeof(hello));
		if (n < 0 || vw_conn_send_plain(&c->relay, TF_ID_MASTER, hello, (size_t)n) < 0)
			return EXIT_SOFTWARE;
		c->state = C_KEYWAIT;
		fprintf(stderr, "viewer-client: joined session %s as client %lu\n", c->session, id);
		return -1;
	}
	case TF_ERROR:
		v = tfctl_get(&ctl, "code");
		if (c->rtx.state == VW_LINK_RESUMING) {
			if (vw_rtx_refused(&c->rtx, v) == 0)
				return -1;
			fprintf(stderr, "viewer-client: relay link lost; cannot resume: %s\n", c->rtx.why);
			return EXIT_UNAVAILABLE;
		}
		fprintf(stderr, "viewer-client: relay: %s%s%s\n", v ? v : "error",
			tfctl_get(&ctl, "msg") ? ": " : "", tfctl_get(&ctl, "msg") ? tfctl_get(&ctl, "msg") : "");
		return c->state == C_APPROVAL ? EXIT_NOPERM : EXIT_UNAVAILABLE;
	case TF_PEER_LEFT:
		v = tfctl_get(&ctl, "id");
		if (v && (strtoul(v, NULL, 10) == TF_ID_MASTER || strtoul(v, NULL, 10) == c->relay.my_id)) {
			const char *r = tfctl_get(&ctl, "reason");
			fprintf(stderr, "viewer-client: %s (%s)%s\n",
				strtoul(v, NULL, 10) == TF_ID_MASTER ? "the master left" : "removed from the session",
				r ? r : "left",
				c->state == C_KEYWAIT ? " before the key exchange: the master may speak another protocol version (this client speaks 3)" : "");
			return c->state == C_APPROVAL || (r && strcmp(r, "kicked") == 0) ? EXIT_NOPERM : EXIT_UNAVAILABLE;
		}
		return -1;
	case TF_END:
		v = tfctl_get(&ctl, "reason");
		fprintf(stderr, "viewer-client: the session ended (%s)\n", v ? v : "ended");
		return c->state == C_APPROVAL ? EXIT_NOPERM : EXIT_UNAVAILABLE;
	case TF_PING:
		vw_conn_send_ctl(&c->relay, TF_PONG, TF_ID_RELAY, "");
		return -1;
	case TF_PEER_JOINED:
		/* the master resumed its link: if we joined while it was away it has not heard
		 * of us (nor our HELLO), so resend what it has not acked */
		v = tfctl_get(&ctl, "id");
		if (v && strtoul(v, NULL, 10) == TF_ID_MASTER && tfctl_get(&ctl, "resumed"))
			vw_rtx_peer_resync(&c->rtx, TF_ID_MASTER);
		return -1;
	default:
		return -1;
	}
}
