/* secret.h - handling of passwords and other secrets outside crypto/: wiping, and
 * reading a password from a file, the environment, or a no-echo prompt (never argv). */
#ifndef CORE_SECRET_H
#define CORE_SECRET_H

#include <stddef.h>
#include <sys/types.h>

void secret_wipe(void *p, size_t len);
/* Wipes then frees a NUL-terminated secret. NULL is fine. */
void secret_free_str(char *s);

/* Gets a secret, first match wins: file (first line, trailing CR/LF removed), then the
 * environment variable env, then a no-echo prompt on /dev/tty. Returns a heap string
 * the caller frees with secret_free_str, or NULL with a message in err. */
char *secret_read(const char *file, const char *env, const char *prompt, char *err, size_t errlen);
#endif
