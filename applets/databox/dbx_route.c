/* dbx_route.c - the API's route table: (method, path pattern, handler) rows instead of an
 * order-dependent chain of ifs. A pattern is literal text with {id} (a decimal node id)
 * and {key} (32 lowercase hex digits) segments; a path matches a row or it does not, so
 * the order of rows does not matter. A path that matches with another method is 405. */
#include <stdlib.h>
#include <string.h>

#include "applets/databox/dbx_server.h"

/* Digits up to the next '/' or the end; a positive id without sign or leading zero. */
static const char *take_id(const char *p, long long *out)
{
	long long v = 0;
	const char *s = p;
	if (*p < '1' || *p > '9')
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (p - s >= 18)
			return NULL;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return p;
}

static const char *take_key(const char *p, char key[33])
{
	for (int i = 0; i < 32; i++) {
		char c = p[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return NULL;
		key[i] = c;
	}
	key[32] = '\0';
	return p + 32;
}

int dbx_route_match(const char *pat, const char *path, struct dbx_args *a)
{
	int ids = 0, keys = 0;
	memset(a, 0, sizeof(*a));
	while (*pat) {
		if (strncmp(pat, "{id}", 4) == 0) {
			if (!(path = take_id(path, ids++ ? &a->id2 : &a->id)))
				return 0;
			pat += 4;
		} else if (strncmp(pat, "{key}", 5) == 0) {
			if (!(path = take_key(path, keys++ ? a->key2 : a->key)))
				return 0;
			pat += 5;
		} else if (*pat++ != *path++) {
			return 0;
		}
	}
	return *path == '\0';
}

int dbx_route_find(const struct dbx_route *t, size_t n, const char *method, const char *path,
		   const struct dbx_route **out, struct dbx_args *a)
{
	int other_method = 0;
	for (size_t i = 0; i < n; i++) {
		if (!dbx_route_match(t[i].pattern, path, a))
			continue;
		if (strcmp(t[i].method, method) == 0) {
			*out = &t[i];
			return 1;
		}
		other_method = 1;
	}
	return other_method ? -1 : 0;
}
