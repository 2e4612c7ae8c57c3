/* vw_xfer.h - one file transfer of get or put, written once for both directions and
 * both sides (viewer-master serves get and takes put, viewer-client the reverse). The
 * sender reads a possibly sparse file within the receiver's credit: DATA records, holes
 * as zero runs (VW_STREAM_ZEROS), then EOF with the transfer check's tag (vw_msg.h).
 * The receiver writes them to a temporary file beside the target and, when size and tag
 * match, commits it through core/fs.h (fsync, rename, fsync of the directory), so a file
 * reported complete survives a power cut. */
#ifndef VW_XFER_H
#define VW_XFER_H

#include <stddef.h>
#include <stdint.h>

#include "applets/viewer/vw_msg.h"

struct cry_gcm_stream;

struct vw_xfer {
	int fd;        /* the file read, or the temporary file written; -1 none */
	int dirfd;     /* receive: the directory holding tmp and name; -1 none */
	char tmp[64];  /* receive: ".sealbox-PREFIX-XXXXXXXX" while it is ours, else "" */
	char name[256];
	struct cry_gcm_stream *check; /* the transfer check, NULL once final */
	struct vw_sparse sparse;      /* send: where the file's data goes on */
	uint64_t size, done;
	uint64_t flushed;             /* receive: write-back started up to here */
};

/* One message on the transfer's channel (DATA or EOF; b is 0 for both). */
typedef int (*vw_xfer_emit)(void *arg, uint8_t type, uint8_t a, uint64_t c, const void *data,
			    size_t len);

/* Clears x (no descriptors). */
void vw_xfer_init(struct vw_xfer *x);
/* Closes what x holds, removes a temporary file not committed, frees the check. */
void vw_xfer_free(struct vw_xfer *x);

/* Send: fd (now x's) of size bytes, checked with check (now x's). */
void vw_xfer_send_start(struct vw_xfer *x, int fd, uint64_t size, struct cry_gcm_stream *check);
/* Sends what the credit and the link's room (room(arg), bytes) allow. Returns 1 once
 * EOF went: at the announced size even if the file grew, earlier when it shrank or a
 * read failed (done < size then); 0 when it waits for credit or room. */
int vw_xfer_send(struct vw_xfer *x, uint32_t *credit, size_t (*room)(void *arg), vw_xfer_emit emit,
		 void *arg);

/* Receive: creates ".sealbox-PREFIX-XXXXXXXX" in dirfd (now x's, also on failure) for
 * name, size bytes checked with check (now x's). 0, or -1 with errno. */
int vw_xfer_recv_start(struct vw_xfer *x, int dirfd, const char *name, const char *prefix,
		       uint64_t size, struct cry_gcm_stream *check);
/* A DATA record: 0; -1 when it goes beyond the announced size (the peer's fault);
 * -2 when it cannot be written (errno). All-zero data becomes a hole too. */
int vw_xfer_recv_data(struct vw_xfer *x, const uint8_t *p, size_t n);
/* A hole of n bytes: 0, or -1 when it goes beyond the size or cannot be skipped. */
int vw_xfer_recv_zeros(struct vw_xfer *x, uint64_t n);

enum vw_xfer_end {
	VW_XFER_OK = 0,
	VW_XFER_SHORT,    /* fewer bytes than announced */
	VW_XFER_BADSUM,   /* the tag (tag, len; NULL when none came) does not match */
	VW_XFER_NOWRITE,  /* the file or its directory could not be synced (errno) */
	VW_XFER_NORENAME, /* the rename onto the name failed (errno) */
};
/* The sender's EOF tag: checks size and tag and commits the file under its name. */
enum vw_xfer_end vw_xfer_recv_commit(struct vw_xfer *x, const uint8_t *tag, size_t len);
#endif
