/* tun_numbers.c - session numbers: uniform over the unused ones, each written and
 * fsynced to state_dir/issued before anyone sees it, so a crash or restart can never
 * hand the same number out twice. A bitmap of the space (at most 9*10^6 bits for 7
 * digits, 1.1 MB) answers "issued?" without touching the disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/str.h"
#include "crypto/crypto.h"
#include "tun.h"

#define ISSUED_MAX (64u << 20) /* the file of a 7-digit space is at most ~72 MB */

static int bit_get(const struct tun_numbers *n, uint32_t i)
{
	return (int)((n->bits[i / 64] >> (i % 64)) & 1);
}

static void mark(struct tun_numbers *n, uint32_t num)
{
	uint32_t i = num - n->lo;
	if (!bit_get(n, i)) {
		n->bits[i / 64] |= 1ull << (i % 64);
		n->used++;
	}
}

int tun_numbers_is_issued(const struct tun_numbers *n, uint32_t num)
{
	return num >= n->lo && num <= n->hi && bit_get(n, num - n->lo);
}

uint32_t tun_numbers_left(const struct tun_numbers *n)
{
	return n->space - n->used;
}

/* Reads the file line by line; anything that is not a number of our width is skipped
 * (an old digit count, or a line torn by a crash: a torn line was never handed out,
 * because the fsync comes first). */
static int load(struct tun_numbers *n, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[32];

	if (!f) {
		str_fmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t l = strcspn(line, "\n");
		if (l != n->digits)
			continue;
		char *end;
		unsigned long v = strtoul(line, &end, 10);
		if (end != line + l || v < n->lo || v > n->hi)
			continue;
		mark(n, (uint32_t)v);
	}
	if (ferror(f)) {
		str_fmt(err, errlen, "%s: read error", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

int tun_numbers_open(struct tun_numbers *n, const char *state_dir, unsigned digits,
		     unsigned low_water, char *err, size_t errlen)
{
	char path[600];

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (digits < 2 || digits > 7) {
		str_fmt(err, errlen, "digits must be 2..7");
		return -1;
	}
	n->digits = digits;
	n->lo = 1;
	for (unsigned i = 1; i < digits; i++)
		n->lo *= 10;
	n->hi = n->lo * 10 - 1;
	n->space = n->hi - n->lo + 1;
	n->low_water = low_water;
	n->bits = calloc((n->space + 63) / 64, sizeof(uint64_t));
	if (!n->bits) {
		str_copy(err, "out of memory", errlen);
		return -1;
	}
	if (fs_mkdir_p(state_dir, 0700) < 0) {
		str_fmt(err, errlen, "state_dir %s: %s", state_dir, strerror(errno));
		goto fail;
	}
	if (fs_path_join(path, sizeof(path), state_dir, "issued") < 0) {
		str_copy(err, "state_dir path too long", errlen);
		goto fail;
	}
	n->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (n->fd < 0) {
		str_fmt(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (load(n, path, err, errlen) < 0)
		goto fail;
	/* A crash may have left a line without its newline: start a fresh line so the
	 * next number is not glued to it. */
	off_t sz = lseek(n->fd, 0, SEEK_END);
	if (sz > 0) {
		char last;
		if (pread(n->fd, &last, 1, sz - 1) == 1 && last != '\n' && write(n->fd, "\n", 1) != 1) {
			str_fmt(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
	}
	if (sz > (off_t)ISSUED_MAX)
		log_warn("%s is %lld bytes", path, (long long)sz);
	return 0;
fail:
	tun_numbers_close(n);
	return -1;
}

void tun_numbers_close(struct tun_numbers *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	free(n->bits);
	n->bits = NULL;
}

/* The k-th (0-based) unused index, counting 64 bits at a time. */
static uint32_t nth_free(const struct tun_numbers *n, uint32_t k)
{
	uint32_t words = (n->space + 63) / 64;
	for (uint32_t w = 0; w < words; w++) {
		uint64_t freebits = ~n->bits[w];
		if (w == words - 1 && n->space % 64)
			freebits &= (1ull << (n->space % 64)) - 1;
		uint32_t c = (uint32_t)__builtin_popcountll(freebits);
		if (k >= c) {
			k -= c;
			continue;
		}
		for (;;) {
			int b = __builtin_ctzll(freebits);
			if (k == 0)
				return w * 64 + (uint32_t)b;
			k--;
			freebits &= freebits - 1;
		}
	}
	return UINT32_MAX; /* not reached while used < space */
}

int tun_numbers_issue(struct tun_numbers *n, uint32_t *out)
{
	uint32_t left = tun_numbers_left(n), k, idx;
	char line[16];

	if (left == 0) {
		errno = ENOSPC;
		return -1;
	}
	if (cry_random_range(0, left - 1, &k) < 0) {
		errno = EIO;
		return -1;
	}
	idx = nth_free(n, k);
	if (idx == UINT32_MAX) {
		errno = EIO;
		return -1;
	}
	int l = str_fmt(line, sizeof(line), "%u\n", (unsigned)(n->lo + idx));
	if (l < 0 || write(n->fd, line, (size_t)l) != l || fdatasync(n->fd) < 0) {
		int e = errno ? errno : EIO;
		log_err("cannot record an issued session number: %s", strerror(e));
		errno = e;
		return -1;
	}
	mark(n, n->lo + idx);
	*out = n->lo + idx;
	left--;
	if ((uint64_t)left * 100 < (uint64_t)n->space * n->low_water) {
		/* Every 1 % of the space, so the log is not flooded but not silent either. */
		uint32_t step = n->space / 100 ? n->space / 100 : 1;
		if (!n->warned || left % step == 0 || left == 0)
			log_warn("session numbers running low: %u of %u left (digits=%u)", (unsigned)left,
				 (unsigned)n->space, n->digits);
		n->warned = 1;
	}
	return 0;
}
