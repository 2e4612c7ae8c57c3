/* libFuzzer target: the ini parser and keyword-table typing (core/conf.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"

struct fconf {
	char *s;
	long i;
	int b;
	long d;
	long long z;
	int e;
	struct conf_list l;
};

static const struct conf_key keys[] = {
	{ "a", "s", CONF_STR, offsetof(struct fconf, s), "x", 0, 0, NULL, NULL },
	{ "a", "i", CONF_INT, offsetof(struct fconf, i), "1", 1, 100, NULL, NULL },
	{ "a", "b", CONF_BOOL, offsetof(struct fconf, b), "no", 0, 0, NULL, NULL },
	{ "a", "d", CONF_DURATION, offsetof(struct fconf, d), "1m", 0, 0, NULL, NULL },
	{ "b", "z", CONF_SIZE, offsetof(struct fconf, z), "1k", 0, 0, NULL, NULL },
	{ "b", "e", CONF_ENUM, offsetof(struct fconf, e), "x", 0, 0, "x|y|z", NULL },
	{ "b", "l", CONF_LIST, offsetof(struct fconf, l), NULL, 0, 0, NULL, NULL },
};
static const struct conf_spec spec = { keys, sizeof(keys) / sizeof(keys[0]), NULL, NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char err[CONF_ERR_LEN];
	struct fconf c;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&c, 0, sizeof(c));
	conf_defaults(&spec, &c);
	conf_load_string(&spec, &c, text, "fuzz.ini", err, sizeof(err));
	conf_free(&spec, &c);
	free(text);
	return 0;
}
