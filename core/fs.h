/* fs.h - files that survive a crash: an acknowledged write is on disk. */
#ifndef CORE_FS_H
#define CORE_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Streaming durable files: write to a temporary name, then commit (fsync the file,
 * rename it over the final name, fsync the directory) or abort (unlink). A file the
 * caller reports complete is on disk after a power cut, or not there at all.
 * Flags of a commit, for callers that make a whole batch durable at once (mailgw's
 * group commit): FS_NODIRSYNC leaves the directory fsync to the caller (one fsync of
 * the directory for the batch); FS_NOSYNC skips the file fsync too (one syncfs(2)). */
#define FS_NODIRSYNC 1u
#define FS_NOSYNC 3u
/* The caller synced the file itself (to tell that failure from the rename's): the commit
 * closes, renames and syncs the directory. FS_NOSYNC is FS_NODIRSYNC | FS_SYNCED. */
#define FS_SYNCED 2u

struct fs_out {
	int fd;
	char tmp[4096];  /* where it is written */
	char path[4096]; /* the final name */
};
/* tmp NULL: a fresh ".NAME.XXXXXX" beside path (mkostemp); else that exact name,
 * created with O_EXCL (errno EEXIST when taken: a second writer of the same name). */
int fs_out_open(struct fs_out *o, const char *path, const char *tmp, mode_t mode);
int fs_out_write(struct fs_out *o, const void *data, size_t len);
int fs_out_commit(struct fs_out *o, unsigned flags); /* aborts on failure */
void fs_out_abort(struct fs_out *o);
/* The commit step alone for a file written by other means: fsyncs fd, closes it
 * (always), renames from to to and fsyncs to's directory, and from's when it differs. */
int fs_commit(int fd, const char *from, const char *to, unsigned flags);
/* The same inside one open directory, for a caller that must not resolve the path again
 * (viewer-master's share, reached by openat with O_NOFOLLOW): fsyncs fd, closes it
 * (always), renames from to to within dirfd and fsyncs dirfd. */
int fs_commitat(int fd, int dirfd, const char *from, const char *to, unsigned flags);
/* Starts writing [off, off+len) of fd back to the disk now, without waiting (Linux
 * sync_file_range; nothing elsewhere): a large file's later fsync then has little left
 * to do, and the disk works while more bytes arrive. Not a durability step itself. */
void fs_writeback_start(int fd, off_t off, off_t len);
/* write(2) until all of it is written (EINTR retried); 0 or -1 with errno. */
int fs_write_all(int fd, const void *data, size_t len);

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
