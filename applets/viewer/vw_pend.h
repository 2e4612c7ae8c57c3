/* vw_pend.h - bytes received for a descriptor that would block (a command's stdin or a
 * forwarded socket on the master, a forwarded socket or our stdout on the client): kept
 * in order, bounded by the credit the receiver granted, and written when the loop says the
 * descriptor is writable. Both sides use it; what a written byte frees (credit to grant
 * back) is the caller's. */
#ifndef VW_PEND_H
#define VW_PEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vw_pend {
	uint8_t *buf; /* cap bytes once used, NULL before */
	size_t len;
};

/* Appends n bytes; -1 when the queue would exceed cap (the peer overran the window it
 * was given) or memory is short. */
int vw_pend_add(struct vw_pend *q, const void *p, size_t n, size_t cap);
/* Writes what fd takes now: the bytes written (0 when it would block), or -1 when fd
 * failed (the queue is then emptied: nobody will take those bytes). */
ssize_t vw_pend_flush(struct vw_pend *q, int fd);
void vw_pend_free(struct vw_pend *q);
#endif
