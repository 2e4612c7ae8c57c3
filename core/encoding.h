/* encoding.h - hex and base64 (RFC 4648, standard alphabet with padding); Latin-1 and
 * UTF-8. */
#ifndef CORE_ENCODING_H
#define CORE_ENCODING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Writes 2*len chars plus NUL into out (outcap >= 2*len+1). upper=1 for A-F. */
int hex_encode(const void *in, size_t len, char *out, size_t outcap, int upper);
/* Accepts both cases; an odd length or a non-hex char is an error. Returns bytes written. */
ssize_t hex_decode(const char *in, size_t len, uint8_t *out, size_t outcap);

size_t base64_encoded_len(size_t len); /* without the NUL */
int base64_encode(const void *in, size_t len, char *out, size_t outcap);
/* Strict about the alphabet and padding; skip_space=1 ignores ASCII whitespace
 * (PEM bodies with CRLF or indentation). Returns bytes written or -1. */
ssize_t base64_decode(const char *in, size_t len, uint8_t *out, size_t outcap, int skip_space);
/* Caller frees; the result is NUL-terminated. */
char *base64_encode_new(const void *in, size_t len);
/* ISO-8859-1 <-> UTF-8. utf8_to_latin1_new refuses (NULL) a code point beyond U+00FF
 * or broken UTF-8: never guessed. Results are NUL-terminated (outlen without it), the
 * caller frees; a refused input leaves no copy behind (passwords pass through here). */
char *latin1_to_utf8_new(const uint8_t *in, size_t len, size_t *outlen);
char *utf8_to_latin1_new(const uint8_t *in, size_t len, size_t *outlen);
#endif
