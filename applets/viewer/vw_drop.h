/* vw_drop.h - viewer-client's side of the relay's file drop (tunnel-protocol.md 3.3):
 * files are sealed chunk by chunk with a key derived from the group key before they
 * leave, so tunneld stores only ciphertext under an opaque name (format:
 * docs/viewer-protocol.md section 7). Constant memory for files of any size. */
#ifndef VW_DROP_H
#define VW_DROP_H

#include <stddef.h>
#include <stdint.h>

struct vw_conn;
struct vw_group;
struct vw_drop;

/* argv: "put LOCAL [NAME]" | "get NAME LOCAL" | "ls" (argv[0] is the sub-command).
 * 1 when the arguments are well-formed. */
int vw_drop_args_ok(int argc, char **argv);
/* Starts the operation on the relay link with the group keys from APPROVE/REKEY (put
 * seals under the current epoch; get and ls open any epoch the group still holds).
 * NULL and *rc set (an exit code) on a local failure. */
struct vw_drop *vw_drop_start(int argc, char **argv, uint32_t session,
			      const struct vw_group *group, struct vw_conn *relay, int *rc);
/* A DROP frame from the relay. Returns an exit code when the operation is over, else -1. */
int vw_drop_frame(struct vw_drop *d, struct vw_conn *relay, const uint8_t *payload, size_t len);
/* 1 when it has data to send (the caller should not sleep in poll). */
int vw_drop_wants_out(const struct vw_drop *d);
/* Sends what fits in the relay link's output. Exit code when it failed, else -1. */
int vw_drop_pump(struct vw_drop *d, struct vw_conn *relay);
/* Frees; a partial download is removed. */
void vw_drop_free(struct vw_drop *d);
#endif
