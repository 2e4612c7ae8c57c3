/* sockread.c - large reads from a socket into an evbuffer. libevent 2.1 reads at most
 * 4 KiB per wakeup (EVBUFFER_MAX_READ; bufferevent_set_max_single_read cannot raise it
 * before 2.2), so a TLS stream at hundreds of MB/s cost four system calls (epoll_wait,
 * FIONREAD, readv, epoll_ctl) per 4 KiB: most of a databox transfer's system time on both
 * sides. After libevent's own read, the callers here take what else the socket holds. */
#include <errno.h>
#include <sys/uio.h>

#include <event2/buffer.h>

#include "net/internal.h"

#define READ_STEP (256 * 1024)

int net_read_more_(struct evbuffer *dst, int fd, size_t max)
{
	size_t got = 0;
	int rc = 0;

	/* a socket bufferevent keeps its input's end frozen: only it adds there */
	evbuffer_unfreeze(dst, 0);
	while (fd >= 0 && got < max) {
		size_t want = max - got < READ_STEP ? max - got : READ_STEP;
		struct evbuffer_iovec v[2];
		struct iovec iov[2];
		int n = evbuffer_reserve_space(dst, (ev_ssize_t)want, v, 2);
		if (n <= 0)
			break;
		size_t asked = 0;
		for (int i = 0; i < n; i++) {
			if (v[i].iov_len > want - asked)
				v[i].iov_len = want - asked;
			asked += v[i].iov_len;
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = v[i].iov_len;
		}
		ssize_t r;
		do
			r = readv(fd, iov, n);
		while (r < 0 && errno == EINTR);
		if (r <= 0) {
			int e = errno;
			evbuffer_commit_space(dst, v, 0);
			/* an EOF is left for libevent's next read, which sees it again */
			if (r < 0 && e != EAGAIN && e != EWOULDBLOCK)
				rc = e;
			break;
		}
		size_t left = (size_t)r;
		for (int i = 0; i < n; i++) {
			v[i].iov_len = v[i].iov_len < left ? v[i].iov_len : left;
			left -= v[i].iov_len;
		}
		if (evbuffer_commit_space(dst, v, n) < 0)
			break;
		got += (size_t)r;
		if ((size_t)r < asked)
			break; /* the socket is empty */
	}
	evbuffer_freeze(dst, 0);
	return rc;
}
