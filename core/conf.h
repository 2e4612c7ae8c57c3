/* conf.h - ini configuration through inih, driven by a per-applet keyword table.
 *
 * Each applet describes its keys once (section, name, type, default, limits, help);
 * the same table fills the applet's struct, rejects unknown keys with file:line, and
 * prints the documented sample (`APPLET --print-config`). Values are typed:
 *   CONF_STR       char *            (strdup'd; NULL when the default is NULL)
 *   CONF_INT       long              min..max
 *   CONF_BOOL      int               yes/no, true/false, on/off, 1/0
 *   CONF_DURATION  long (seconds)    "30", "30s", "5m", "2h", "5d"
 *   CONF_SIZE      long long (bytes) "512", "64k", "10M", "2G"
 *   CONF_ENUM      int (index)       one of the '|'-separated words in .choices
 *   CONF_LIST      struct conf_list  a key that may repeat; each line appends
 * Sections whose name is "PREFIX NAME" (e.g. "[listener smtp-in]") go to the
 * applet's section callback if it sets one.
 *
 * Several applets may share one sealbox.ini. A section this spec does not read, but
 * another applet of this binary does, is skipped; any other section is an error. Which
 * sections those are comes from the applet table (struct applet .conf), which main.c
 * owns and hands to conf_set_shared_sections: the core keeps no list of applets. */
#ifndef CORE_CONF_H
#define CORE_CONF_H

#include <stddef.h>
#include <stdio.h>

enum conf_type { CONF_STR, CONF_INT, CONF_BOOL, CONF_DURATION, CONF_SIZE, CONF_ENUM, CONF_LIST };

struct conf_list {
	char **v;
	size_t n;
};

struct conf_key {
	const char *section;
	const char *name;
	enum conf_type type;
	size_t offset;          /* offsetof(struct your_conf, field) */
	const char *def;        /* default as it would be written in the file; NULL = unset */
	long long min, max;     /* CONF_INT, CONF_DURATION, CONF_SIZE; both 0 = unlimited */
	const char *choices;    /* CONF_ENUM: "none|encrypt|verify" */
	const char *help;       /* one line, printed in the sample */
};

/* Or'ed into .type: SIGHUP applies the key to the running daemon (conf_reload_keys).
 * A flag in the type rather than a field, so every table's initialiser stays valid. */
#define CONF_RELOAD 0x100
#define CONF_TYPE(k) ((enum conf_type)((k)->type & 0xff))

#define CONF_ERR_LEN 256

/* Callback for sections the table does not know: return 0 if taken, -1 with err set. */
typedef int (*conf_section_cb)(void *conf, const char *section, const char *name,
			       const char *value, char *err, size_t errlen);

struct conf_spec {
	const struct conf_key *keys;
	size_t nkeys;
	conf_section_cb section_cb; /* may be NULL */
	const char *section_prefix; /* "listener ": the sections section_cb reads */
};

/* Whether spec reads section: a section of its keys, or PREFIX NAME for its callback. */
int conf_spec_owns(const struct conf_spec *spec, const char *section);
/* other_owns(section): some applet of this binary reads it (main.c, at start). Unset,
 * every section the loading spec does not own is an error. */
void conf_set_shared_sections(int (*other_owns)(const char *section));

/* Sets every key to its default. Returns -1 only if a default itself is invalid. */
int conf_defaults(const struct conf_spec *spec, void *conf);
/* Loads path over the defaults. On error, err holds "file:line: key: reason". */
int conf_load(const struct conf_spec *spec, void *conf, const char *path, char *err, size_t errlen);
/* An applet's own check of one value the table accepted (a URL, a HOST:PORT): 0, or -1
 * with why set; conf_load_checked then reports it as "file:line: [section] key: why". */
typedef int (*conf_check_cb)(void *conf, const struct conf_key *k, const char *value, char *why,
			     size_t whylen);
/* conf_load, calling check (when not NULL) for every key after the table parsed it. */
int conf_load_checked(const struct conf_spec *spec, void *conf, const char *path,
		      conf_check_cb check, char *err, size_t errlen);
/* Parses ini text held in memory (same rules; name is used in messages). Fuzzed. */
int conf_load_string(const struct conf_spec *spec, void *conf, const char *text,
		     const char *name, char *err, size_t errlen);
/* Command-line values (core/daemon.c: every key is also --KEY VALUE). Once set, every
 * load of spec applies them after the file, so they override it, on start and on
 * reload alike; errors name "command line: --KEY". A NULL path to conf_load then means
 * "no file": the defaults and the command line only. The second global of this file,
 * set once at start like the shared sections. */
struct conf_override {
	const struct conf_key *key;
	const char *value;
};
void conf_set_overrides(const struct conf_spec *spec, const struct conf_override *v, size_t n);
/* Stores value in k's field of conf (a CONF_LIST appends); -1 with why set. */
int conf_set_key(const struct conf_key *k, void *conf, const char *value, char *why, size_t whylen);
/* The option a key is on the command line: "state-dir" for [tunneld] state_dir when
 * main_section is "tunneld", "delivery-smarthost" for a key of another section. */
void conf_option_name(const struct conf_key *k, const char *main_section, char *out, size_t outlen);
/* Reload: moves every CONF_RELOAD key from fresh into live (fresh gets the old value,
 * to be freed with it) and calls fixed_changed for each other key whose value differs. */
void conf_reload_keys(const struct conf_spec *spec, void *live, void *fresh,
		      void (*fixed_changed)(const struct conf_key *k, void *arg), void *arg);
/* A one-word name of the key's type for --help: "TEXT", "N", "DURATION", ... */
const char *conf_type_word(const struct conf_key *k);

/* Frees strings and lists the table owns. */
void conf_free(const struct conf_spec *spec, void *conf);
/* Writes a commented sample with every key and its default. */
void conf_print_sample(const struct conf_spec *spec, FILE *f);

/* Value parsers, shared with command-line options. Return 0 or -1. */
int conf_parse_bool(const char *s, int *out);
int conf_parse_long(const char *s, long long min, long long max, long long *out);
int conf_parse_duration(const char *s, long long *seconds);
int conf_parse_size(const char *s, long long *bytes);
int conf_list_add(struct conf_list *l, const char *s);
void conf_list_free(struct conf_list *l);
#endif
