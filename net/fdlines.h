/* fdlines.h - lines from a file descriptor on the loop: a CLI's stdin, a control pipe.
 * Pull-style: the owner asks for the next line when it is ready for one; when none is
 * buffered yet, net/ watches the fd and calls `more` once bytes (or the end) arrived.
 * The fd stays blocking and the owner's (reads happen only when poll says they will not
 * block), so a terminal or a parent's pipe is left as it was. */
#ifndef NET_FDLINES_H
#define NET_FDLINES_H

#include <stddef.h>

struct net_loop;
struct net_fdlines;

typedef void (*net_fdlines_cb)(void *arg);

enum net_fdlines_rc {
	NET_FDLINES_LINE = 1,    /* *line, *len: valid until the next call or the free */
	NET_FDLINES_WAIT = 0,    /* nothing complete yet: `more` will be called */
	NET_FDLINES_EOF = -1,    /* the end; a last line without LF was delivered first */
	NET_FDLINES_ERROR = -2,  /* read failed (errno) */
	NET_FDLINES_LONG = -3,   /* a line longer than max: skipped up to its LF; ask again */
};

/* max: the longest line content accepted (the LF and a CR before it not counted). */
struct net_fdlines *net_fdlines_new(struct net_loop *l, int fd, size_t max, net_fdlines_cb more,
				    void *arg);
/* The LF (and a CR before it) are not part of *line, which is NUL-terminated. */
enum net_fdlines_rc net_fdlines_next(struct net_fdlines *r, char **line, size_t *len);
/* Wipes what is buffered (input may be a secret) and frees. */
void net_fdlines_free(struct net_fdlines *r);
#endif
