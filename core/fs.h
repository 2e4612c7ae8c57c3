/* fs.h - files that survive a crash: an acknowledged write is on disk. */
#ifndef CORE_FS_H
#define CORE_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Writes tmp file in the same directory, fsyncs it, renames over path, fsyncs the
 * directory. mode applies to the new file (0600 for anything secret). */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* Reads a whole file of at most max bytes; caller frees (NUL-terminated for text use).
 * Sets errno (EFBIG when larger than max). */
uint8_t *fs_read_file_new(const char *path, size_t max, size_t *len);
int fs_fsync_dir(const char *dir);
/* mkdir -p with mode for the directories it creates. */
int fs_mkdir_p(const char *path, mode_t mode);
/* Joins dir and name into out; -1 if it does not fit. */
int fs_path_join(char *out, size_t outcap, const char *dir, const char *name);
#endif
