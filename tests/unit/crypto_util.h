/* crypto_util.h - small helpers shared by the test_crypto_* suites: hex constants,
 * files, a temporary directory, and running the openssl CLI as the independent peer. */
#ifndef TESTS_UNIT_CRYPTO_UTIL_H
#define TESTS_UNIT_CRYPTO_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/encoding.h"
#include "core/fs.h"

/* Decodes a hex constant into a static-size buffer; returns its length (0 on error). */
static inline size_t tu_hex(const char *hex, uint8_t *out, size_t cap)
{
	ssize_t n = hex_decode(hex, strlen(hex), out, cap);
	return n < 0 ? 0 : (size_t)n;
}

/* A fresh directory under /tmp; removed by tu_rmdir. */
static inline int tu_tmpdir(char *out, size_t cap)
{
	snprintf(out, cap, "/tmp/sealbox-crypto.XXXXXX");
	return mkdtemp(out) ? 0 : -1;
}

static inline void tu_rmdir(const char *dir)
{
	char cmd[512];
	if (strncmp(dir, "/tmp/sealbox-crypto.", 20) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  could not remove %s\n", dir);
}

/* Runs a shell command (printf-style); returns its exit status, -1 if it did not run. */
__attribute__((format(printf, 1, 2)))
static inline int tu_sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "  command failed (%d): %s\n", rc, cmd);
	return rc == -1 ? -1 : (WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
}

static inline char *tu_path(char *buf, size_t cap, const char *dir, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
	return buf;
}

static inline uint8_t *tu_read(const char *dir, const char *name, size_t *len)
{
	char p[1024];
	return fs_read_file_new(tu_path(p, sizeof(p), dir, name), 1 << 20, len);
}

static inline int tu_write(const char *dir, const char *name, const void *data, size_t len)
{
	char p[1024];
	FILE *f = fopen(tu_path(p, sizeof(p), dir, name), "wb");
	if (!f)
		return -1;
	size_t n = fwrite(data, 1, len, f);
	return (fclose(f) == 0 && n == len) ? 0 : -1;
}
#endif
