/* conf.c - ini configuration through inih with typed keyword tables (see conf.h).
 * Strict on purpose: an unknown key, a key set twice or a bad value is an error naming
 * file:line and the key, because a typo in a security setting must not pass silently. */
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/conf.h"
#include "core/str.h"

/* Set once by main.c from the applet table. */
static int (*shared_owner)(const char *section);
/* Set once by daemon_run from the command line (conf_set_overrides). */
static const struct conf_spec *ov_spec;
static const struct conf_override *ov;
static size_t nov;

struct parse_state {
	const struct conf_spec *spec;
	void *conf;
	const char *name;
	unsigned char *seen;
	char *err;
	size_t errlen;
	int failed;
	conf_check_cb check;
};

static int set_value(const struct conf_key *k, void *conf, const char *value, char *why, size_t wl);

int conf_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

int conf_parse_long(const char *s, long long min, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0')
		return -1;
	if ((min || max) && (v < min || v > max))
		return -1;
	*out = v;
	return 0;
}

/* A number followed by an optional unit letter; mult gives the unit's factor. */
static int parse_scaled(const char *s, long long (*mult)(char), long long *out)
{
	char *end;
	errno = 0;
	if (*s == '-' || *s == '+')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	long long m = 1;
	if (*end) {
		if (end[1] != '\0' || (m = mult(*end)) <= 0)
			return -1;
	}
	if (v > (unsigned long long)(LLONG_MAX / m))
		return -1;
	*out = (long long)v * m;
	return 0;
}

static long long duration_unit(char c)
{
	switch (c) {
	case 's': return 1;
	case 'm': return 60;
	case 'h': return 3600;
	case 'd': return 86400;
	default: return -1;
	}
}

static long long size_unit(char c)
{
	switch (c) {
	case 'k': case 'K': return 1024LL;
	case 'm': case 'M': return 1024LL * 1024;
	case 'g': case 'G': return 1024LL * 1024 * 1024;
	default: return -1;
	}
}

int conf_parse_duration(const char *s, long long *seconds)
{
	return parse_scaled(s, duration_unit, seconds);
}

int conf_parse_size(const char *s, long long *bytes)
{
	return parse_scaled(s, size_unit, bytes);
}

int conf_list_add(struct conf_list *l, const char *s)
{
	char *dup = strdup(s);
	char **nv = dup ? realloc(l->v, (l->n + 1) * sizeof(*nv)) : NULL;
	if (!nv) {
		free(dup);
		return -1;
	}
	nv[l->n++] = dup;
	l->v = nv;
	return 0;
}

void conf_list_free(struct conf_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int enum_index(const char *choices, const char *s)
{
	size_t n = strlen(s);
	int idx = 0;
	for (const char *p = choices; *p; idx++) {
		size_t w = strcspn(p, "|");
		if (w == n && strncmp(p, s, n) == 0)
			return idx;
		p += w;
		if (*p == '|')
			p++;
	}
	return -1;
}

/* Stores value into the field of key k; on error writes the reason into why. */
int conf_set_key(const struct conf_key *k, void *conf, const char *value, char *why, size_t wl)
{
	return set_value(k, conf, value, why, wl);
}

static int set_value(const struct conf_key *k, void *conf, const char *value, char *why, size_t wl)
{
	char *field = (char *)conf + k->offset;
	long long v;
	int b;

	switch (CONF_TYPE(k)) {
	case CONF_STR: {
		char *dup = value ? strdup(value) : NULL;
		if (value && !dup) {
			str_copy(why, "out of memory", wl);
			return -1;
		}
		free(*(char **)field);
		*(char **)field = dup;
		return 0;
	}
	case CONF_INT:
		if (conf_parse_long(value, k->min, k->max, &v) < 0) {
			if (k->min || k->max)
				str_fmt(why, wl, "'%s' is not a whole number from %lld to %lld", value, k->min, k->max);
			else
				str_fmt(why, wl, "'%s' is not a whole number", value);
			return -1;
		}
		*(long *)field = (long)v;
		return 0;
	case CONF_BOOL:
		if (conf_parse_bool(value, &b) < 0) {
			str_fmt(why, wl, "'%s' is not yes/no, true/false, on/off or 1/0", value);
			return -1;
		}
		*(int *)field = b;
		return 0;
	case CONF_DURATION:
	case CONF_SIZE:
		if ((CONF_TYPE(k) == CONF_DURATION ? conf_parse_duration(value, &v) : conf_parse_size(value, &v)) < 0 ||
		    ((k->min || k->max) && (v < k->min || v > k->max))) {
			str_fmt(why, wl, "'%s' is not a valid %s%s", value,
				CONF_TYPE(k) == CONF_DURATION ? "duration (e.g. 30s, 5m, 2h, 5d)" : "size (e.g. 512, 64k, 10M, 1G)",
				(k->min || k->max) ? " in the allowed range" : "");
			return -1;
		}
		if (CONF_TYPE(k) == CONF_DURATION)
			*(long *)field = (long)v;
		else
			*(long long *)field = v;
		return 0;
	case CONF_ENUM:
		if ((b = enum_index(k->choices, value)) < 0) {
			str_fmt(why, wl, "'%s' is not one of %s", value, k->choices);
			return -1;
		}
		*(int *)field = b;
		return 0;
	case CONF_LIST:
		if (conf_list_add((struct conf_list *)field, value) < 0) {
			str_copy(why, "out of memory", wl);
			return -1;
		}
		return 0;
	}
	return -1;
}

int conf_defaults(const struct conf_spec *spec, void *conf)
{
	char why[CONF_ERR_LEN];
	for (size_t i = 0; i < spec->nkeys; i++) {
		const struct conf_key *k = &spec->keys[i];
		if (CONF_TYPE(k) == CONF_LIST) {
			struct conf_list *l = (struct conf_list *)((char *)conf + k->offset);
			l->v = NULL;
			l->n = 0;
			if (k->def && set_value(k, conf, k->def, why, sizeof(why)) < 0)
				return -1;
			continue;
		}
		if (CONF_TYPE(k) == CONF_STR)
			*(char **)((char *)conf + k->offset) = NULL;
		if (k->def && set_value(k, conf, k->def, why, sizeof(why)) < 0)
			return -1;
	}
	return 0;
}

void conf_set_shared_sections(int (*other_owns)(const char *section))
{
	shared_owner = other_owns;
}

static int section_known(const struct conf_spec *spec, const char *section)
{
	for (size_t i = 0; i < spec->nkeys; i++)
		if (strcmp(spec->keys[i].section, section) == 0)
			return 1;
	return 0;
}

static int section_for_cb(const struct conf_spec *spec, const char *section)
{
	size_t n = spec->section_prefix ? strlen(spec->section_prefix) : 0;
	return spec->section_cb && n && strncmp(section, spec->section_prefix, n) == 0 && section[n];
}

int conf_spec_owns(const struct conf_spec *spec, const char *section)
{
	return section_known(spec, section) || section_for_cb(spec, section);
}

/* inih calls this per key; returning 0 makes ini_parse report this line. Only the
 * first error's text is kept: it is the one the user must fix first. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	char why[CONF_ERR_LEN];

	if (st->failed)
		return 0;
	if (!name)   /* a section header alone (inih with INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	if (!section_known(st->spec, section)) {
		if (!section_for_cb(st->spec, section) && shared_owner && shared_owner(section))
			return 1;   /* another applet's part of a shared sealbox.ini */
		if (section_for_cb(st->spec, section)) {
			why[0] = '\0';
			if (st->spec->section_cb(st->conf, section, name, value, why, sizeof(why)) == 0)
				return 1;
			str_fmt(st->err, st->errlen, "[%s] %s: %s", section, name, why[0] ? why : "not valid here");
			st->failed = 1;
			return 0;
		}
		str_fmt(st->err, st->errlen, "[%s] %s: unknown section '%s'", section, name, section);
		st->failed = 1;
		return 0;
	}
	for (size_t i = 0; i < st->spec->nkeys; i++) {
		const struct conf_key *k = &st->spec->keys[i];
		if (strcmp(k->section, section) != 0 || strcmp(k->name, name) != 0)
			continue;
		if (st->seen[i] && CONF_TYPE(k) != CONF_LIST) {
			str_fmt(st->err, st->errlen, "[%s] %s: set twice", section, name);
			st->failed = 1;
			return 0;
		}
		if (st->seen[i] == 0 && CONF_TYPE(k) == CONF_LIST)
			conf_list_free((struct conf_list *)((char *)st->conf + k->offset));
		st->seen[i] = 1;
		why[0] = '\0';
		if (set_value(k, st->conf, value, why, sizeof(why)) < 0 ||
		    (st->check && st->check(st->conf, k, value, why, sizeof(why)) < 0)) {
			str_fmt(st->err, st->errlen, "[%s] %s: %s", section, name, why[0] ? why : "not valid");
			st->failed = 1;
			return 0;
		}
		return 1;
	}
	str_fmt(st->err, st->errlen, "[%s] %s: unknown key", section, name);
	st->failed = 1;
	return 0;
}

void conf_set_overrides(const struct conf_spec *spec, const struct conf_override *v, size_t n)
{
	ov_spec = spec;
	ov = v;
	nov = n;
}

/* The command line after the file: a list given there replaces the file's list. */
static int apply_overrides(struct parse_state *st, char *err, size_t errlen)
{
	char why[CONF_ERR_LEN], opt[96];
	if (st->spec != ov_spec)
		return 0;
	for (size_t i = 0; i < nov; i++) {
		const struct conf_key *k = ov[i].key;
		size_t ki = (size_t)(k - st->spec->keys);
		if (CONF_TYPE(k) == CONF_LIST && st->seen[ki] != 2)
			conf_list_free((struct conf_list *)((char *)st->conf + k->offset));
		st->seen[ki] = 2;
		why[0] = '\0';
		if (set_value(k, st->conf, ov[i].value, why, sizeof(why)) < 0 ||
		    (st->check && st->check(st->conf, k, ov[i].value, why, sizeof(why)) < 0)) {
			conf_option_name(k, st->spec->keys[0].section, opt, sizeof(opt));
			str_fmt(err, errlen, "command line: --%s: %s", opt, why[0] ? why : "not valid");
			return -1;
		}
	}
	return 0;
}

void conf_option_name(const struct conf_key *k, const char *main_section, char *out, size_t outlen)
{
	if (strcmp(k->section, main_section) == 0)
		str_copy(out, k->name, outlen);
	else
		str_fmt(out, outlen, "%s-%s", k->section, k->name);
	for (char *p = out; *p; p++)
		if (*p == '_' || *p == ' ')
			*p = '-';
}

static int same_value(const struct conf_key *k, const char *a, const char *b)
{
	switch (CONF_TYPE(k)) {
	case CONF_STR: {
		const char *x = *(char *const *)a, *y = *(char *const *)b;
		return (!x && !y) || (x && y && strcmp(x, y) == 0);
	}
	case CONF_INT:
	case CONF_DURATION: return *(const long *)a == *(const long *)b;
	case CONF_SIZE: return *(const long long *)a == *(const long long *)b;
	case CONF_BOOL:
	case CONF_ENUM: return *(const int *)a == *(const int *)b;
	case CONF_LIST: {
		const struct conf_list *x = (const void *)a, *y = (const void *)b;
		if (x->n != y->n)
			return 0;
		for (size_t i = 0; i < x->n; i++)
			if (strcmp(x->v[i], y->v[i]) != 0)
				return 0;
		return 1;
	}
	}
	return 0;
}

static size_t type_size(const struct conf_key *k)
{
	switch (CONF_TYPE(k)) {
	case CONF_STR: return sizeof(char *);
	case CONF_INT:
	case CONF_DURATION: return sizeof(long);
	case CONF_SIZE: return sizeof(long long);
	case CONF_BOOL:
	case CONF_ENUM: return sizeof(int);
	case CONF_LIST: return sizeof(struct conf_list);
	}
	return 0;
}

void conf_reload_keys(const struct conf_spec *spec, void *live, void *fresh,
		      void (*fixed_changed)(const struct conf_key *k, void *arg), void *arg)
{
	unsigned char tmp[sizeof(struct conf_list) > sizeof(long long) ? sizeof(struct conf_list) : sizeof(long long)];
	for (size_t i = 0; i < spec->nkeys; i++) {
		const struct conf_key *k = &spec->keys[i];
		char *a = (char *)live + k->offset, *b = (char *)fresh + k->offset;
		if (!(k->type & CONF_RELOAD)) {
			if (fixed_changed && !same_value(k, a, b))
				fixed_changed(k, arg);
			continue;
		}
		size_t n = type_size(k);   /* swap: fresh then owns (and frees) the old value */
		memcpy(tmp, a, n);
		memcpy(a, b, n);
		memcpy(b, tmp, n);
	}
}

const char *conf_type_word(const struct conf_key *k)
{
	switch (CONF_TYPE(k)) {
	case CONF_STR: return "TEXT";
	case CONF_INT: return "N";
	case CONF_BOOL: return "[=yes|no]";
	case CONF_DURATION: return "DURATION";
	case CONF_SIZE: return "SIZE";
	case CONF_ENUM: return k->choices;
	case CONF_LIST: return "TEXT (repeatable)";
	}
	return "";
}

static int finish(struct parse_state *st, int rc, char *err, size_t errlen)
{
	free(st->seen);
	if (rc == 0)
		return 0;
	if (rc == -1) {
		str_fmt(err, errlen, "%s: cannot open: %s", st->name, strerror(errno));
		return -1;
	}
	if (rc == -2) {
		str_fmt(err, errlen, "%s: out of memory", st->name);
		return -1;
	}
	char detail[CONF_ERR_LEN];
	str_copy(detail, st->failed ? st->err : "syntax error (expected [section] or key = value)", sizeof(detail));
	str_fmt(err, errlen, "%s:%d: %s", st->name, rc, detail);
	return -1;
}

static int start(struct parse_state *st, const struct conf_spec *spec, void *conf, const char *name)
{
	memset(st, 0, sizeof(*st));
	st->spec = spec;
	st->conf = conf;
	st->name = name;
	st->seen = calloc(spec->nkeys ? spec->nkeys : 1, 1);
	st->err = calloc(1, CONF_ERR_LEN);
	st->errlen = CONF_ERR_LEN;
	if (!st->seen || !st->err) {
		free(st->seen);
		free(st->err);
		return -1;
	}
	return 0;
}

int conf_load(const struct conf_spec *spec, void *conf, const char *path, char *err, size_t errlen)
{
	return conf_load_checked(spec, conf, path, NULL, err, errlen);
}

int conf_load_checked(const struct conf_spec *spec, void *conf, const char *path,
		      conf_check_cb check, char *err, size_t errlen)
{
	struct parse_state st;
	if (start(&st, spec, conf, path ? path : "(no file)") < 0) {
		str_copy(err, "out of memory", errlen);
		return -1;
	}
	st.check = check;
	int rc = path ? ini_parse(path, on_key, &st) : 0;
	if (rc == 0 && apply_overrides(&st, err, errlen) < 0) {
		free(st.seen);
		free(st.err);
		return -1;
	}
	int res = finish(&st, rc, err, errlen);
	free(st.err);
	return res;
}

int conf_load_string(const struct conf_spec *spec, void *conf, const char *text, const char *name,
		     char *err, size_t errlen)
{
	struct parse_state st;
	if (start(&st, spec, conf, name) < 0) {
		str_copy(err, "out of memory", errlen);
		return -1;
	}
	int rc = ini_parse_string(text, on_key, &st);
	int res = finish(&st, rc, err, errlen);
	free(st.err);
	return res;
}

void conf_free(const struct conf_spec *spec, void *conf)
{
	for (size_t i = 0; i < spec->nkeys; i++) {
		const struct conf_key *k = &spec->keys[i];
		char *field = (char *)conf + k->offset;
		if (CONF_TYPE(k) == CONF_STR) {
			free(*(char **)field);
			*(char **)field = NULL;
		} else if (CONF_TYPE(k) == CONF_LIST) {
			conf_list_free((struct conf_list *)field);
		}
	}
}

static const char *type_hint(const struct conf_key *k)
{
	switch (CONF_TYPE(k)) {
	case CONF_STR: return "text";
	case CONF_INT: return "number";
	case CONF_BOOL: return "yes|no";
	case CONF_DURATION: return "duration: 30s, 5m, 2h, 5d";
	case CONF_SIZE: return "size: 512, 64k, 10M, 1G";
	case CONF_ENUM: return k->choices;
	case CONF_LIST: return "may be repeated";
	}
	return "";
}

void conf_print_sample(const struct conf_spec *spec, FILE *f)
{
	const char *cur = NULL;
	for (size_t i = 0; i < spec->nkeys; i++) {
		const struct conf_key *k = &spec->keys[i];
		if (!cur || strcmp(cur, k->section) != 0) {
			fprintf(f, "%s[%s]\n", cur ? "\n" : "", k->section);
			cur = k->section;
		}
		fprintf(f, "# %s (%s)\n", k->help ? k->help : k->name, type_hint(k));
		if (k->def)
			fprintf(f, "#%s = %s\n", k->name, k->def);
		else
			fprintf(f, "#%s =\n", k->name);
	}
}
