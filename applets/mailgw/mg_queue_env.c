/* mg_queue_env.c - envelope files to and from struct mg_env (format in mg_queue.h).
 * The reader treats the file as untrusted: a corrupt or hand-edited envelope is
 * refused whole, never half-applied. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/mailgw/mg_queue.h"
#include "core/buf.h"
#include "core/str.h"

static const char *const state_names[] = { "pending", "sent", "failed", "bounced" };

const char *mg_rcpt_state_name(enum mg_rcpt_state s)
{
	return (unsigned)s < 4 ? state_names[s] : "?";
}

void mg_env_init(struct mg_env *e)
{
	memset(e, 0, sizeof(*e));
	str_copy(e->tls, "none", sizeof(e->tls));
}

void mg_env_free(struct mg_env *e)
{
	free(e->rcpt);
	e->rcpt = NULL;
	e->nrcpt = 0;
}

int mg_env_add_rcpt(struct mg_env *e, const char *addr)
{
	if (e->nrcpt >= MG_RCPT_HARD_MAX || strlen(addr) > MG_ADDR_MAX)
		return -1;
	struct mg_rcpt *n = realloc(e->rcpt, (e->nrcpt + 1) * sizeof(*n));
	if (!n)
		return -1;
	e->rcpt = n;
	memset(&n[e->nrcpt], 0, sizeof(*n));
	str_copy(n[e->nrcpt].addr, addr, sizeof(n[e->nrcpt].addr));
	e->nrcpt++;
	return 0;
}

int mg_env_done(const struct mg_env *e)
{
	for (size_t i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i].state != MG_RCPT_SENT && e->rcpt[i].state != MG_RCPT_BOUNCED)
			return 0;
	return 1;
}

int mg_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n < 8 || n > MG_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return 0;
	}
	return 1;
}

static const char *body_name(enum mg_body b)
{
	return b == MG_BODY_7BIT ? "7bit" : b == MG_BODY_8BITMIME ? "8bitmime" : "unset";
}

int mg_env_format(const struct mg_env *e, struct buf_writer *w)
{
	char line[1024], clean[512];

	buf_put_str(w, "mailgw-queue 1\n");
	snprintf(line, sizeof(line), "id %s\ncreated %lld\nfrom <%s>\nsize %lld\nbody %s\n", e->id,
		 e->created, e->from, e->size, body_name(e->body));
	buf_put_str(w, line);
	mg_sanitize(clean, sizeof(clean), e->client, strlen(e->client));
	snprintf(line, sizeof(line), "client %s\n", clean);
	buf_put_str(w, line);
	mg_sanitize(clean, sizeof(clean), e->helo, strlen(e->helo));
	snprintf(line, sizeof(line), "helo %s\n", clean);
	buf_put_str(w, line);
	mg_sanitize(clean, sizeof(clean), e->tls, strlen(e->tls));
	snprintf(line, sizeof(line), "tls %s\nhold %d\nbounce %d\n", clean, e->hold ? 1 : 0,
		 e->bounce ? 1 : 0);
	buf_put_str(w, line);
	for (size_t i = 0; i < e->nrcpt; i++) {
		const struct mg_rcpt *r = &e->rcpt[i];
		mg_sanitize(clean, sizeof(clean), r->error, strlen(r->error));
		snprintf(line, sizeof(line), "rcpt %s %ld %lld <%s> %s\n", mg_rcpt_state_name(r->state),
			 r->attempts, r->next_try, r->addr, clean);
		buf_put_str(w, line);
	}
	buf_put_str(w, "end\n");
	return w->err ? -1 : 0;
}

/* Decimal, optional leading '-', no overflow. */
static int parse_num(const char *s, long long min, long long max, long long *out)
{
	long long v = 0;
	int neg = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 99999999999999LL)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (neg)
		v = -v;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "<mailbox>" at s; writes mailbox, returns pointer after '>' or NULL. */
static const char *bracket_addr(const char *s, int null_ok, char *out, size_t cap)
{
	const char *gt = strchr(s, '>');
	/* Quoted local parts may contain '>': take the last '>' that gives a valid path. */
	while (gt) {
		if (mg_addr_parse(s, (size_t)(gt - s) + 1, null_ok, out, cap) == 0)
			return gt + 1;
		gt = strchr(gt + 1, '>');
	}
	return NULL;
}

static int parse_rcpt(struct mg_env *e, char *v)
{
	char *sp1 = strchr(v, ' '), *sp2, *sp3;
	long long n;

	if (!sp1)
		return -1;
	*sp1 = '\0';
	sp2 = strchr(sp1 + 1, ' ');
	if (!sp2)
		return -1;
	*sp2 = '\0';
	sp3 = strchr(sp2 + 1, ' ');
	if (!sp3)
		return -1;
	*sp3 = '\0';
	int st = -1;
	for (int i = 0; i < 4; i++)
		if (strcmp(v, state_names[i]) == 0)
			st = i;
	char addr[MG_ADDR_MAX + 1];
	const char *rest = bracket_addr(sp3 + 1, 0, addr, sizeof(addr));
	if (st < 0 || !rest || (*rest && *rest != ' ') || mg_env_add_rcpt(e, addr) < 0)
		return -1;
	struct mg_rcpt *r = &e->rcpt[e->nrcpt - 1];
	r->state = (enum mg_rcpt_state)st;
	if (parse_num(sp1 + 1, 0, 1000000, &n) < 0)
		return -1;
	r->attempts = (long)n;
	if (parse_num(sp2 + 1, 0, 1LL << 40, &r->next_try) < 0)
		return -1;
	if (*rest == ' ')
		rest++;
	str_copy(r->error, rest, sizeof(r->error));
	return 0;
}

static int set_text(char *dst, size_t cap, const char *v)
{
	return str_copy(dst, v, cap) >= cap ? -1 : 0;
}

static int parse_field(struct mg_env *e, const char *k, char *v, unsigned *seen)
{
	long long n;

	if (strcmp(k, "rcpt") == 0)
		return parse_rcpt(e, v);
	static const char *const once[] = { "id", "created", "from", "size", "body", "client",
					     "helo", "tls", "hold", "bounce" };
	size_t i;
	for (i = 0; i < sizeof(once) / sizeof(once[0]); i++)
		if (strcmp(k, once[i]) == 0)
			break;
	if (i == sizeof(once) / sizeof(once[0]) || (*seen & (1u << i)))
		return -1;
	*seen |= 1u << i;
	switch (i) {
	case 0:
		return mg_id_valid(v) ? set_text(e->id, sizeof(e->id), v) : -1;
	case 1:
		return parse_num(v, 0, 1LL << 40, &e->created);
	case 2: {
		const char *rest = bracket_addr(v, 1, e->from, sizeof(e->from));
		return rest && !*rest ? 0 : -1;
	}
	case 3:
		return parse_num(v, 0, 1LL << 50, &e->size);
	case 4:
		if (strcmp(v, "7bit") == 0)
			e->body = MG_BODY_7BIT;
		else if (strcmp(v, "8bitmime") == 0)
			e->body = MG_BODY_8BITMIME;
		else if (strcmp(v, "unset") == 0)
			e->body = MG_BODY_UNSET;
		else
			return -1;
		return 0;
	case 5:
		return set_text(e->client, sizeof(e->client), v);
	case 6:
		return set_text(e->helo, sizeof(e->helo), v);
	case 7:
		return set_text(e->tls, sizeof(e->tls), v);
	case 8:
	case 9:
		if (parse_num(v, 0, 1, &n) < 0)
			return -1;
		*(i == 8 ? &e->hold : &e->bounce) = (int)n;
		return 0;
	}
	return -1;
}

int mg_env_parse(const uint8_t *data, size_t len, struct mg_env *e)
{
	struct buf_reader r;
	char line[2048];
	unsigned seen = 0;
	int lineno = 0, ended = 0;

	mg_env_init(e);
	if (len > MG_ENV_MAX)
		goto bad;
	buf_reader_init(&r, data, len);
	while (buf_left(&r) > 0) {
		const uint8_t *rest = r.p + r.off;
		const uint8_t *nl = memchr(rest, '\n', buf_left(&r));
		if (!nl || ended)
			goto bad;   /* a last line without LF means a torn file */
		size_t ll = (size_t)(nl - rest);
		const uint8_t *p = buf_get_ptr(&r, ll + 1);
		if (!p || ll >= sizeof(line))
			goto bad;
		for (size_t i = 0; i < ll; i++)
			if (p[i] < 32 || p[i] >= 127)
				goto bad;
		memcpy(line, p, ll);
		line[ll] = '\0';
		if (lineno++ == 0) {
			if (strcmp(line, "mailgw-queue 1") != 0)
				goto bad;
			continue;
		}
		if (strcmp(line, "end") == 0) {
			ended = 1;
			continue;
		}
		char *sp = strchr(line, ' ');
		if (!sp)
			goto bad;
		*sp = '\0';
		if (parse_field(e, line, sp + 1, &seen) < 0)
			goto bad;
	}
	/* id, created, from and at least one recipient are what a delivery needs. */
	if (!ended || (seen & 7u) != 7u || e->nrcpt == 0)
		goto bad;
	return 0;
bad:
	mg_env_free(e);
	errno = EINVAL;
	return -1;
}
