/* resp.h - RESP2, the Redis wire format: commands out, replies in (net/redis.c).
 *
 * The reply parser is bounded: a reply that would exceed RESP_MAX_BULK bytes in one
 * string, RESP_MAX_NODES values in all, RESP_MAX_DEPTH levels of nesting, or a header
 * line of RESP_MAX_LINE bytes, or that is not RESP2 at all, is garbage (-1) and never
 * allocates more than those bounds. It has no I/O, so it is fuzzed as it is. */
#ifndef NET_RESP_H
#define NET_RESP_H

#include <stddef.h>
#include <stdint.h>

#define RESP_MAX_BULK (512 * 1024)
#define RESP_MAX_NODES 65536
#define RESP_MAX_DEPTH 4
/* Redis's own errors (a script's, with its source position) run to a few hundred bytes */
#define RESP_MAX_LINE 512

enum resp_type { RESP_STATUS = 1, RESP_ERROR, RESP_INT, RESP_BULK, RESP_NIL, RESP_ARRAY };

struct resp_reply {
	enum resp_type type;
	long long i;            /* RESP_INT */
	char *s;                /* STATUS, ERROR, BULK: NUL-terminated copy (may hold NULs) */
	size_t len;
	struct resp_reply *el;  /* ARRAY: n elements (a nil array is RESP_NIL) */
	size_t n;
};

/* Parses one reply at buf. Returns 1 (out filled, *used bytes consumed; free it with
 * resp_free), 0 (incomplete: read more and call again with the whole buffer), or -1
 * (garbage or over a bound). */
int resp_parse(const uint8_t *buf, size_t len, struct resp_reply *out, size_t *used);
void resp_free(struct resp_reply *r);
/* Appends the command argv[0..argc) (lens[i] bytes each; lens NULL: strlen) as a RESP
 * array to *out (realloc'd, *outlen in/out). Returns 0 or -1 (no memory). */
int resp_encode(char **out, size_t *outlen, size_t *outcap, int argc, const char *const *argv,
		const size_t *lens);
/* Convenience for tests and callers: 1 if r is a status or bulk equal to s. */
int resp_is(const struct resp_reply *r, const char *s);
#endif
