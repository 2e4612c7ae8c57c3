/* vw_xfer.c - get/put's file transfer, both directions (vw_xfer.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "crypto/crypto.h"
#include "applets/viewer/vw_xfer.h"

void vw_xfer_init(struct vw_xfer *x)
{
	memset(x, 0, sizeof(*x));
	x->fd = x->dirfd = -1;
}

void vw_xfer_free(struct vw_xfer *x)
{
	if (x->fd >= 0)
		close(x->fd);
	if (x->tmp[0] && x->dirfd >= 0)
		unlinkat(x->dirfd, x->tmp, 0);
	if (x->dirfd >= 0)
		close(x->dirfd);
	cry_gcm_stream_free(x->check);
	vw_xfer_init(x);
}

void vw_xfer_send_start(struct vw_xfer *x, int fd, uint64_t size, struct cry_gcm_stream *check)
{
	x->fd = fd;
	x->size = size;
	x->check = check;
}

int vw_xfer_send(struct vw_xfer *x, uint32_t *credit, size_t (*room)(void *arg), vw_xfer_emit emit,
		 void *arg)
{
	uint8_t buf[VW_CHUNK];

	while (*credit > 0 && room(arg) >= VW_CHUNK + 256) {
		uint64_t hole = vw_hole_at(x->fd, &x->sparse, x->done, x->size);
		size_t want = *credit < VW_CHUNK ? *credit : VW_CHUNK;
		ssize_t n;

		if (hole) { /* holes take no credit: nothing is written for them */
			if (hole > VW_HOLE_MAX)
				hole = VW_HOLE_MAX;
			vw_check_zeros(x->check, hole);
			emit(arg, VW_M_DATA, VW_STREAM_ZEROS, hole, NULL, 0);
			x->done += hole;
			continue;
		}
		if (want > x->size - x->done)
			want = (size_t)(x->size - x->done); /* a growing file ends at its size */
		n = want ? pread(x->fd, buf, want, (off_t)x->done) : 0;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			uint8_t sum[VW_CHECK_LEN];
			/* no tag when the check failed: the receiver reports a mismatch */
			size_t sl = x->check && vw_check_final(x->check, sum) == 0 ? sizeof(sum) : 0;
			x->check = NULL;
			emit(arg, VW_M_EOF, 0, x->done, sum, sl);
			return 1;
		}
		vw_check_data(x->check, buf, (size_t)n);
		emit(arg, VW_M_DATA, 0, 0, buf, (size_t)n);
		*credit -= (uint32_t)n;
		x->done += (uint64_t)n;
	}
	return 0;
}

int vw_xfer_recv_start(struct vw_xfer *x, int dirfd, const char *name, const char *prefix,
		       uint64_t size, struct cry_gcm_stream *check)
{
	x->dirfd = dirfd;
	x->check = check;
	x->size = size;
	if (snprintf(x->name, sizeof(x->name), "%s", name) >= (int)sizeof(x->name)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* a random name, O_EXCL and O_NOFOLLOW: never a file someone else put there */
	for (int i = 0; i < 100 && x->fd < 0; i++) {
		uint32_t r = 0;
		cry_random(&r, sizeof(r));
		snprintf(x->tmp, sizeof(x->tmp), ".sealbox-%s-%08x", prefix, r);
		x->fd = openat(dirfd, x->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	}
	if (x->fd < 0) {
		x->tmp[0] = '\0'; /* not ours: free must not remove it */
		return -1;
	}
	return 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Starts the write-back of every 8 MiB written, so that the fsync before the rename
 * finds little left to do instead of the whole file (it was a tenth of a fast
 * transfer's time), and the disk works while the data still arrives. */
#define WRITEBACK_STEP (8u << 20)

int vw_xfer_recv_data(struct vw_xfer *x, const uint8_t *p, size_t n)
{
	if (n > x->size - x->done) /* done <= size always: this cannot wrap */
		return -1;
	if (all_zero(p, n)) { /* zero chunks become holes, so sparse files stay sparse */
		if (lseek(x->fd, (off_t)n, SEEK_CUR) < 0)
			return -2;
	} else if (fs_write_all(x->fd, p, n) < 0) {
		return -2;
	}
	vw_check_data(x->check, p, n);
	x->done += n;
	if (x->done - x->flushed >= WRITEBACK_STEP) {
		fs_writeback_start(x->fd, (off_t)x->flushed, (off_t)(x->done - x->flushed));
		x->flushed = x->done;
	}
	return 0;
}

int vw_xfer_recv_zeros(struct vw_xfer *x, uint64_t n)
{
	/* done <= size always, so this cannot wrap for a huge hole length */
	if (n > x->size - x->done || lseek(x->fd, (off_t)n, SEEK_CUR) < 0)
		return -1;
	vw_check_zeros(x->check, n);
	x->done += n;
	return 0;
}

enum vw_xfer_end vw_xfer_recv_commit(struct vw_xfer *x, const uint8_t *tag, size_t len)
{
	uint8_t sum[VW_CHECK_LEN];
	int bad = !x->check || vw_check_final(x->check, sum) < 0, fd = x->fd, e;

	x->check = NULL;
	if (x->done != x->size)
		return VW_XFER_SHORT;
	if (bad || !tag || len != VW_CHECK_LEN || !cry_memeq(sum, tag, VW_CHECK_LEN))
		return VW_XFER_BADSUM;
	/* the size covers a hole at the end, which no write reached */
	if (ftruncate(fd, (off_t)x->size) < 0 || fsync(fd) < 0)
		return VW_XFER_NOWRITE;
	x->fd = -1;
	if (fs_commitat(fd, x->dirfd, x->tmp, x->name, FS_SYNCED) == 0) {
		x->tmp[0] = '\0';
		return VW_XFER_OK;
	}
	/* (the file was synced above, so what failed is the close, the rename or the directory) */
	e = errno;
	if (faccessat(x->dirfd, x->tmp, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		x->tmp[0] = '\0'; /* renamed: only the directory's sync failed */
		errno = e;
		return VW_XFER_NOWRITE;
	}
	errno = e;
	return VW_XFER_NORENAME;
}
