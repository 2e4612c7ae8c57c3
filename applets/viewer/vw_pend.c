/* vw_pend.c - the queue for a descriptor that would block (vw_pend.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/viewer/vw_pend.h"

int vw_pend_add(struct vw_pend *q, const void *p, size_t n, size_t cap)
{
	if (q->len + n > cap)
		return -1;
	/* the whole bound at once: it is the window, and a queue in use soon fills it */
	if (!q->buf && !(q->buf = malloc(cap)))
		return -1;
	memcpy(q->buf + q->len, p, n);
	q->len += n;
	return 0;
}

ssize_t vw_pend_flush(struct vw_pend *q, int fd)
{
	size_t done = 0;

	if (!q->len)
		return 0;
	while (done < q->len) {
		ssize_t w = write(fd, q->buf + done, q->len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN) {
			q->len = 0;
			return -1;
		}
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	memmove(q->buf, q->buf + done, q->len - done);
	q->len -= done;
	return (ssize_t)done;
}

void vw_pend_free(struct vw_pend *q)
{
	free(q->buf);
	q->buf = NULL;
	q->len = 0;
}
