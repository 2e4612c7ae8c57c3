/* vw_cfwd.h - viewer-client's `forward LPORT:NAME`: a local listener on 127.0.0.1 whose
 * every accepted connection becomes one channel to the master's exposed service, each
 * with its own credit window so one busy stream cannot starve the others. */
#ifndef VW_CFWD_H
#define VW_CFWD_H

#include <stddef.h>

struct pollfd;
struct vw_conn;
struct vw_key;
struct vw_msg;
struct vw_cfwd;

struct vw_cfwd *vw_cfwd_new(int lport, const char *name, char *err, size_t errlen);
void vw_cfwd_free(struct vw_cfwd *f);
int vw_cfwd_port(const struct vw_cfwd *f);
/* Fills pollfds (at most max); returns how many. */
int vw_cfwd_pollfds(struct vw_cfwd *f, const struct vw_conn *relay, struct pollfd *pf, int max);
void vw_cfwd_pump(struct vw_cfwd *f, struct vw_conn *relay, const struct vw_key *key,
		  const struct pollfd *pf, int n);
/* A message for one of the streams (any channel id other than the command's). */
void vw_cfwd_msg(struct vw_cfwd *f, struct vw_conn *relay, const struct vw_key *key,
		 const struct vw_msg *m);
#endif
