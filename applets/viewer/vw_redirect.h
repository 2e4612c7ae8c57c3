/* vw_redirect.h - sending the first request (REGISTER, JOIN or RESUME) to a relay of a
 * fleet, following its REDIRECT (docs/tunnel-protocol.md 3.4) and trying the relays of
 * the list in turn (vw_servers.h).
 *
 * A request goes to the first relay of the list that answers (vw_dial.h: TCP, HTTPS,
 * HTTP). When that relay answers REDIRECT, the same request goes to the relay it names,
 * on the same path kind only (TCP stays TCP, HTTPS stays HTTPS with the same certificate
 * checks against the new host name, HTTP stays HTTP, the same proxy settings), at most
 * VW_REDIRECT_MAX times in a row and never twice to one address. A relay that cannot be
 * reached, closes without answering, answers `ERROR code=unavailable` (while others are
 * left to try), or whose redirects fail, is skipped for the next one in the list.
 *
 * A redirect chooses only which relay carries the (end-to-end encrypted) frames: the
 * keys, the SAS and the approval are made end to end and never depend on it. */
#ifndef VW_REDIRECT_H
#define VW_REDIRECT_H

#include <stddef.h>
#include <stdint.h>

#include "applets/viewer/vw_dial.h"
#include "applets/viewer/vw_servers.h"

#define VW_REDIRECT_MAX 3

/* A REDIRECT's payload, checked: relay id [a-z0-9_-]{1,32}; each address HOST:PORT with
 * a port 1-65535 (absent: ""); at least one address. */
struct vw_redirect {
	char relay[33];
	char tcp[VW_SERVER_LEN], https[VW_SERVER_LEN], http[VW_SERVER_LEN];
	char reason[33];
};
/* 0, or -1 with why. Fuzzed (tests/fuzz/fuzz_vw_redirect.c). */
int vw_redirect_parse(const uint8_t *payload, size_t len, struct vw_redirect *r, char *why,
		      size_t whylen);

struct vw_hop;
struct vw_relay_opts;

/* Dials o->server (a list), sends req (one whole frame, kept by the hop and wiped
 * afterwards: a RESUME holds the token) and waits for the first frame of the answer.
 * cb gets the connection with that answer still unread (JOINED, REGISTERED, ERROR...),
 * or NULL and why every relay failed. who ("viewer-client") starts the stderr line each
 * redirect prints. The callback runs from the loop, never inside vw_hop_start; the hop
 * is freed after it. o must stay valid until then. */
struct vw_hop *vw_hop_start(const struct vw_relay_opts *o, const uint8_t *req, size_t reqlen,
			    const char *who, vw_dial_cb cb, void *arg, char *err, size_t errlen);
/* Stops a hop that has not called back yet; no callback follows. */
void vw_hop_cancel(struct vw_hop *h);
#endif
