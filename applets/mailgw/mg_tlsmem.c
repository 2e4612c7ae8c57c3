/* mg_tlsmem.c - per-destination memory of failed opportunistic STARTTLS: "not
 * offered" vs "handshake failed", each with an expiry after which the destination is
 * probed again (spec B.9: a stripped STARTTLS must not poison deliveries forever).
 * The delivery code never consults it for destinations whose policy is encrypt or
 * verify. Kept in memory, mirrored to a small text file for `mailgw queue`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/mailgw/mg_policy.h"
#include "applets/mailgw/mg_smtp.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/str.h"

static const char *const names[] = { "unknown", "not-offered", "handshake-failed" };

const char *mg_tlsmem_state_name(enum mg_tlsmem_state s)
{
	return (unsigned)s < 3 ? names[s] : "?";
}

void mg_tlsmem_init(struct mg_tlsmem *m, size_t max)
{
	memset(m, 0, sizeof(*m));
	m->max = max ? max : 1024;
}

static struct mg_tlsmem_entry *find(struct mg_tlsmem *m, const char *dest)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].dest, dest) == 0)
			return &m->v[i];
	return NULL;
}

void mg_tlsmem_forget(struct mg_tlsmem *m, const char *dest)
{
	struct mg_tlsmem_entry *e = find(m, dest);
	if (e)
		*e = m->v[--m->n];
}

enum mg_tlsmem_state mg_tlsmem_get(struct mg_tlsmem *m, const char *dest, long long now,
				   const struct mg_tlsmem_entry **entry)
{
	struct mg_tlsmem_entry *e = find(m, dest);

	if (entry)
		*entry = NULL;
	if (!e)
		return MG_TLSMEM_UNKNOWN;
	if (e->until <= now) {
		mg_tlsmem_forget(m, dest);
		return MG_TLSMEM_UNKNOWN;
	}
	if (entry)
		*entry = e;
	return e->state;
}

int mg_tlsmem_set(struct mg_tlsmem *m, const char *dest, enum mg_tlsmem_state s,
		  long long until, const char *detail)
{
	struct mg_tlsmem_entry *e;

	if (strlen(dest) >= sizeof(e->dest) || strchr(dest, ' ') || s == MG_TLSMEM_UNKNOWN)
		return -1;
	e = find(m, dest);
	if (!e) {
		if (m->n == m->max) {
			/* full: drop the entry that expires first */
			size_t old = 0;
			for (size_t i = 1; i < m->n; i++)
				if (m->v[i].until < m->v[old].until)
					old = i;
			e = &m->v[old];
		} else {
			struct mg_tlsmem_entry *nv = realloc(m->v, (m->n + 1) * sizeof(*nv));
			if (!nv)
				return -1;
			m->v = nv;
			e = &m->v[m->n++];
		}
	}
	memset(e, 0, sizeof(*e));
	str_copy(e->dest, dest, sizeof(e->dest));
	e->state = s;
	e->until = until;
	mg_sanitize(e->detail, sizeof(e->detail), detail ? detail : "", detail ? strlen(detail) : 0);
	return 0;
}

int mg_tlsmem_parse(struct mg_tlsmem *m, const char *text, size_t len, long long now)
{
	struct buf_reader r;
	char line[600], dest[300], st[32];
	long long until;

	buf_reader_init(&r, text, len);
	while (buf_left(&r) > 0) {
		const uint8_t *rest = r.p + r.off;
		const uint8_t *nl = memchr(rest, '\n', buf_left(&r));
		size_t ll = nl ? (size_t)(nl - rest) : buf_left(&r);
		const uint8_t *p = buf_get_ptr(&r, nl ? ll + 1 : ll);
		if (!p || ll >= sizeof(line))
			continue;
		memcpy(line, p, ll);
		line[ll] = '\0';
		int off = 0;
		if (sscanf(line, "%299s %31s %lld %n", dest, st, &until, &off) < 3)
			continue;
		enum mg_tlsmem_state s = MG_TLSMEM_UNKNOWN;
		for (int i = 1; i < 3; i++)
			if (strcmp(st, names[i]) == 0)
				s = (enum mg_tlsmem_state)i;
		if (s == MG_TLSMEM_UNKNOWN || until <= now)
			continue;
		mg_tlsmem_set(m, dest, s, until, off > 0 ? line + off : "");
	}
	return 0;
}

int mg_tlsmem_save(const struct mg_tlsmem *m, const char *path, long long now)
{
	struct buf_writer w;
	char line[600];
	int rc = -1;

	buf_writer_growable(&w, 4u << 20);
	for (size_t i = 0; i < m->n; i++) {
		const struct mg_tlsmem_entry *e = &m->v[i];
		if (e->until <= now)
			continue;
		snprintf(line, sizeof(line), "%s %s %lld %s\n", e->dest, names[e->state], e->until, e->detail);
		buf_put_str(&w, line);
	}
	if (!w.err)
		rc = fs_write_atomic(path, w.p ? (const void *)w.p : "", w.len, 0600);
	buf_writer_free(&w);
	return rc;
}

int mg_tlsmem_load(struct mg_tlsmem *m, const char *path, long long now)
{
	size_t len;
	uint8_t *d = fs_read_file_new(path, 4u << 20, &len);

	if (!d)
		return -1;
	mg_tlsmem_parse(m, (const char *)d, len, now);
	free(d);
	return 0;
}

void mg_tlsmem_free(struct mg_tlsmem *m)
{
	free(m->v);
	m->v = NULL;
	m->n = 0;
}
