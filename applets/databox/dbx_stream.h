/* dbx_stream.h - file content encryption (one AES-256-GCM stream per file, no header,
 * ciphertext as long as the plaintext, the tag kept in the file key) in constant memory,
 * and output files that appear only when complete and authentic. */
#ifndef DBX_STREAM_H
#define DBX_STREAM_H

#include "core/fs.h"
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct dbx_file_key;

/* Called after each chunk with the bytes done so far (total 0 when unknown). */
typedef void (*dbx_progress_cb)(uint64_t done, uint64_t total, void *arg);

/* read() until len bytes or end of file (EINTR retried); the count, or -1. */
ssize_t dbx_read_full(int fd, uint8_t *p, size_t len);
/* write() all of len bytes (EINTR retried); 0 or -1. */
int dbx_write_full(int fd, const uint8_t *p, size_t len);

/* A file being written under a temporary name in the directory of its final path:
 * core/fs.h's streaming durable file (commit = fsync, rename, directory fsync). */
#define dbx_outfile fs_out
/* mode applies to the final file. */
static inline int dbx_outfile_open(struct fs_out *o, const char *path, unsigned mode)
{
	return fs_out_open(o, path, NULL, (mode_t)mode);
}
static inline int dbx_outfile_commit(struct fs_out *o)
{
	return fs_out_commit(o, 0);
}
/* Closes and unlinks the temporary file (safe to call twice). */
static inline void dbx_outfile_abort(struct fs_out *o)
{
	fs_out_abort(o);
}

/* Encrypts in_fd to out_fd with fk (key and iv set; fills in fk->tag). Fails beyond
 * DBX_MAX_FILE_SIZE. Returns 0, or -1 with err. */
int dbx_gcm_encrypt_fd(struct dbx_file_key *fk, int in_fd, int out_fd, uint64_t total,
		       dbx_progress_cb cb, void *arg, char *err, size_t errlen);
/* Decrypts; -1 with *bad_tag = 1 when the tag does not verify (the output then holds
 * unauthenticated bytes: the caller must discard it). */
int dbx_gcm_decrypt_fd(const struct dbx_file_key *fk, int in_fd, int out_fd, uint64_t total,
		       dbx_progress_cb cb, void *arg, int *bad_tag, char *err, size_t errlen);
#endif
