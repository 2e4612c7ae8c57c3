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

/* A digits-only line longer than the number width is a number glued to the torn start
 * of one whose append failed (an older tunneld on a full disk left those; this one cuts
 * a failed append off again). The glued number was fsynced and handed out, so its last
 * `digits` digits count as issued: burning one number too many is safe, reissuing one is
 * not. Lines of a length that occurs more often than this are another digit count's
 * space instead (after a change of `digits`) and are left to it. */
#define GLUED_MAX 64
#define LINE_MAX_LEN 31

/* Whole lines, without the newline; a line over LINE_MAX_LEN is returned as length 0. */
static ssize_t next_line(FILE *f, char *buf)
{
	size_t l = 0;
	int ch, over = 0;
	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (l < LINE_MAX_LEN)
			buf[l++] = (char)ch;
		else
			over = 1;
	}
	if (ch == EOF && l == 0 && !over)
		return -1;
	buf[over ? 0 : l] = '\0';
	return over ? 0 : (ssize_t)l;
}

static int all_digits(const char *s, size_t l)
{
	for (size_t i = 0; i < l; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return l > 0;
}

/* Reads the file and marks every number of our width in it. Anything else is skipped:
 * an old digit count, or a torn line (a crash mid-append: never handed out, because the
 * fsync comes first) - except a glued line, see GLUED_MAX. */
static int load(struct tun_numbers *n, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[LINE_MAX_LEN + 1];
	unsigned long count[LINE_MAX_LEN + 1] = { 0 };
	unsigned long glued = 0;
	ssize_t l;

	if (!f) {
		str_fmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((l = next_line(f, line)) >= 0) /* first pass: which lengths are spaces */
		if (all_digits(line, (size_t)l))
			count[l]++;
	rewind(f);
	while (!ferror(f) && (l = next_line(f, line)) >= 0) {
		if (!all_digits(line, (size_t)l) || (size_t)l < n->digits)
			continue;
		if ((size_t)l > n->digits && count[l] > GLUED_MAX)
			continue;
		unsigned long v = strtoul(line + (size_t)l - n->digits, NULL, 10);
		if (v < n->lo || v > n->hi)
			continue;
		if ((size_t)l > n->digits)
			glued++;
		mark(n, (uint32_t)v);
	}
	if (ferror(f)) {
		str_fmt(err, errlen, "%s: read error", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	if (glued)
		log_warn("%s: %lu number(s) glued to a torn line counted as issued", path, glued);
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
	/* A crash mid-append may have left a line without its newline. It was never handed
	 * out (the fsync comes first): cut it off, so the next number starts a line of its
	 * own (a newline instead when the torn tail is longer than any line of ours). */
	off_t sz = lseek(n->fd, 0, SEEK_END);
	if (sz > 0) {
		char tail[LINE_MAX_LEN + 1];
		size_t want = sz > (off_t)sizeof(tail) ? sizeof(tail) : (size_t)sz;
		ssize_t got = pread(n->fd, tail, want, sz - (off_t)want);
		if (got == (ssize_t)want && tail[want - 1] != '\n') {
			ssize_t i = (ssize_t)want - 1;
			while (i >= 0 && tail[i] != '\n')
				i--;
			int rc = i >= 0 || want == (size_t)sz ? ftruncate(n->fd, sz - (off_t)want + i + 1)
								 : (write(n->fd, "\n", 1) == 1 ? 0 : -1);
			if (rc < 0 || fdatasync(n->fd) < 0) {
				str_fmt(err, errlen, "%s: cannot repair its torn last line: %s", path, strerror(errno));
				goto fail;
			}
			log_warn("%s: torn last line repaired", path);
		}
	}
	n->size = lseek(n->fd, 0, SEEK_END);
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

int tun_numbers_pick(const struct tun_numbers *n, uint32_t *out)
{
	uint32_t left = tun_numbers_left(n), k, idx;
	if (left == 0 || cry_random_range(0, left - 1, &k) < 0 || (idx = nth_free(n, k)) == UINT32_MAX)
		return -1;
	*out = n->lo + idx;
	return 0;
}

void tun_numbers_mark(struct tun_numbers *n, uint32_t num)
{
	if (num >= n->lo && num <= n->hi)
		mark(n, num);
}

int tun_numbers_issue(struct tun_numbers *n, uint32_t *out)
{
	uint32_t num;
	if (tun_numbers_left(n) == 0) {
		errno = ENOSPC;
		return -1;
	}
	if (tun_numbers_pick(n, &num) < 0) {
		errno = EIO;
		return -1;
	}
	if (tun_numbers_record(n, num) < 0)
		return -1;
	*out = num;
	return 0;
}

int tun_numbers_record(struct tun_numbers *n, uint32_t num)
{
	uint32_t left = tun_numbers_left(n), idx = num - n->lo;
	char line[16];
	int l = str_fmt(line, sizeof(line), "%u\n", (unsigned)num);
	if (n->broken) {
		errno = EIO;
		return -1;
	}
	if (l < 0) {
		errno = EIO;
		return -1;
	}
	ssize_t w = write(n->fd, line, (size_t)l);
	int e = w < 0 ? errno : w != l ? ENOSPC : 0;
	if (e == 0 && fdatasync(n->fd) < 0)
		e = errno ? errno : EIO;
	if (e) {
		/* Not recorded, so not handed out. Cut off what part of the line got written
		 * (a short write on a full disk): the next number must start a line of its own,
		 * or a restart would not read it and could issue it again. */
		if (w > 0 && (ftruncate(n->fd, n->size) < 0 || fdatasync(n->fd) < 0)) {
			n->broken = 1; /* start-up repairs a torn tail; until then issue nothing */
			log_err("cannot cut a torn line off the issued-numbers file (%s): no new sessions until a restart",
				strerror(errno));
		}
		log_err("cannot record an issued session number: %s", strerror(e));
		errno = e;
		return -1;
	}
	n->size += l;
	if (!bit_get(n, idx))
		left--;
	mark(n, num);
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
