/* str.h - small string helpers the C library lacks. */
#ifndef CORE_STR_H
#define CORE_STR_H

#include <stddef.h>

/* Copies with truncation, always NUL-terminates; returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t cap);
/* snprintf that returns -1 on truncation instead of a length. */
int str_fmt(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Removes leading and trailing ASCII whitespace in place; returns s. */
char *str_trim(char *s);
/* Copies len bytes of untrusted text for a log line or a message: every byte outside
 * printable ASCII (0x20..0x7e), NUL included, becomes '?'; truncated to cap-1, always
 * NUL-terminated. */
void str_printable(char *out, size_t cap, const char *in, size_t len);
int str_has_prefix(const char *s, const char *prefix);
int str_casecmp_prefix(const char *s, const char *prefix); /* ASCII, case-insensitive */
/* Fatal-on-OOM helpers for start-up and one-shot tools only. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
char *xstrdup(const char *s);
#endif
