/* vw_direct.h - the direct LAN path between a client and the master
 * (docs/viewer-protocol.md section 8): the master's listener, the proof of the client's
 * direct key both ways,
 * and the client's brief attempt. The direct link then carries the same frames as the
 * relay link, sealed the same way. */
#ifndef VW_DIRECT_H
#define VW_DIRECT_H

#include <stddef.h>
#include <stdint.h>

#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_crypto.h"
#include "net/fdsock.h"

#define VW_DIRECT_PORT 4663
#define VW_CHAL_LEN 32
#define VW_PROOF_LEN 32

/* Listens on addr ("IPv4:PORT", "[IPv6]:PORT"; ":PORT", "[::]:PORT" and NULL (port
 * 4663; a busy default port falls back to any free port) listen on both families,
 * "0.0.0.0:PORT" on IPv4 only) on the viewer's loop; each accepted connection goes to
 * cb as a descriptor (net/fdsock.h). Writes the addresses to announce
 * ("IP:PORT,[IPv6]:PORT") into lan, whole entries only, at most cap - 1 bytes (tunneld
 * takes 255): the listening address, or for a wildcard the host's IPv4 addresses, then
 * its global and unique-local IPv6 ones (no loopback unless there is nothing else, no
 * link-local: its scope is the master's interface). Returns the listener or NULL with
 * err set. */
struct net_listener *vw_direct_listen(const char *addr, net_accept_fd_cb cb, void *arg, char *lan,
				      size_t cap, char *err, size_t errlen);
/* HMAC-SHA256(Kd, label || challenge || u32 session || u16 client id), Kd = that
 * client's direct key (struct vw_link .direct, derived from its own J); label
 * "sealbox-direct-v3" for the client's proof, "sealbox-direct-ok-v3" for the master's
 * answer. */
int vw_direct_proof(const uint8_t k[VW_KEY_LEN], int answer, const uint8_t chal[VW_CHAL_LEN],
		    uint32_t session, uint16_t id, uint8_t out[VW_PROOF_LEN]);
/* Client: tries the addresses of lan in order, each for at most timeout_ms, on the
 * loop. cb gets the direct link's connection (the master's answer checked; what
 * follows it stays unread) and the address it reached, or NULL, NULL when none
 * answered; it is called from the loop, then the attempt is freed. */
struct net_conn;
struct vw_dtry;
typedef void (*vw_dtry_cb)(void *arg, struct net_conn *nc, const char *chosen);
struct vw_dtry *vw_direct_try_start(const char *lan, const uint8_t k[VW_KEY_LEN], uint32_t session,
				    uint16_t id, int timeout_ms, vw_dtry_cb cb, void *arg);
/* Stops an attempt that has not called back; no callback follows. */
void vw_direct_try_cancel(struct vw_dtry *d);
#endif
