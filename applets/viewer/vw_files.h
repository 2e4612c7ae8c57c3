/* vw_files.h - the master's shared directory: opening paths strictly below --share
 * (every component opened with O_NOFOLLOW through openat, ".." refused, so neither a
 * path nor a symlink can lead outside), and directory listings. */
#ifndef VW_FILES_H
#define VW_FILES_H

#include <stddef.h>
#include <sys/types.h>

/* Opens rel (relative to the share; a leading "/" means the share's root) with flags
 * (O_RDONLY, O_DIRECTORY, or O_WRONLY|O_CREAT|O_TRUNC...). Returns an fd or -1 with
 * errno (EPERM for "..", ELOOP for a symlink anywhere on the way). */
int vw_share_open(int share_fd, const char *rel, int flags, mode_t mode);
/* Opens the directory that would hold rel and copies its last component into leaf
 * (cap bytes). Returns the directory fd or -1 with errno. */
int vw_share_parent(int share_fd, const char *rel, char *leaf, size_t cap);
/* Lists a directory fd (which it consumes) as lines "d|f|l|? SIZE NAME\n", sorted,
 * into a heap buffer of at most max bytes (the caller frees). NULL on error. */
char *vw_share_list(int dir_fd, size_t max, size_t *len);
#endif
