/* main.c - dispatch only: run the applet named by argv[0], else `sealbox APPLET ARGS`.
 * Also --list, --install [-s] DIR, --version, --help. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applet.h"
#include "options.h"
#include "core/conf.h"
#include "core/exitcode.h"
#include "core/fs.h"
#include "core/log.h"
#include "crypto/crypto.h"

#define APPLET(n) extern const struct applet n##_applet;
#include "applets/applets.def"
#undef APPLET

static const struct applet *const applets[] = {
#define APPLET(n) &n##_applet,
#include "applets/applets.def"
#undef APPLET
	NULL,
};

/* The sections of the applets this binary was built without (APPLETS=...): a trimmed
 * image shares its sealbox.ini with full builds, so their parts must be skipped, not be
 * "unknown section" errors. Their conf specs are not linked in, hence names here; a
 * prefix ends in a space ("listener NAME"). tests/sh/config_errors.sh feeds every one of
 * them to tunneld, which must skip them in make APPLETS=tunneld test as in a full build. */
static const char *const absent_sections[] = {
#if !ENABLE_DATABOX
	"databox",
#endif
#if !ENABLE_HITC
	"hitc",
#endif
#if !ENABLE_MAILGW
	"mailgw", "delivery", "listener ",
#endif
#if !ENABLE_TUNNELD
	"tunneld", "cluster",
#endif
#if !ENABLE_VIEWER
	"viewer",
#endif
	NULL,
};

static int absent_applet_owns(const char *section)
{
	for (size_t i = 0; absent_sections[i]; i++) {
		const char *n = absent_sections[i];
		size_t len = strlen(n);
		if (len && n[len - 1] == ' ' ? strncmp(section, n, len) == 0 && section[len]
					     : strcmp(section, n) == 0)
			return 1;
	}
	return 0;
}

/* A section of a shared sealbox.ini that some applet of this binary reads, or one of an
 * applet left out of this build. */
static int some_applet_owns(const char *section)
{
	for (size_t i = 0; applets[i]; i++)
		if (applets[i]->conf && conf_spec_owns(applets[i]->conf, section))
			return 1;
	return absent_applet_owns(section);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static const struct applet *find_applet(const char *name)
{
	for (size_t i = 0; applets[i]; i++)
		if (strcmp(applets[i]->name, name) == 0)
			return applets[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"sealbox %s - secure communications toolbox\n"
		"Usage: sealbox APPLET [ARGS...]   (or run through a link named APPLET)\n"
		"       sealbox --list | --install [-s] DIR | --version | --help\n"
		"\nApplets:\n",
		SEALBOX_VERSION);
	for (size_t i = 0; applets[i]; i++)
		fprintf(f, "  %-14s %s\n", applets[i]->name, applets[i]->summary);
	fprintf(f, "\n'APPLET --help' describes each one.\n");
}

/* Links every applet name in dir to the running binary. Hard links by default (they
 * survive a moved tree on one filesystem); -s makes symbolic links. */
static int install_links(const char *dir, int symbolic)
{
	char self[PATH_MAX], path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int rc = EXIT_OK;

	if (n < 0) {
		fprintf(stderr, "sealbox: cannot find own binary (/proc/self/exe): %s\n", strerror(errno));
		return EXIT_OSERR;
	}
	self[n] = '\0';
	for (size_t i = 0; applets[i]; i++) {
		if (fs_path_join(path, sizeof(path), dir, applets[i]->name) < 0) {
			fprintf(stderr, "sealbox: path too long: %s\n", dir);
			return EXIT_USAGE;
		}
		if (access(path, F_OK) == 0 || errno != ENOENT) {
			fprintf(stderr, "sealbox: %s exists, skipped\n", path);
			continue;
		}
		if ((symbolic ? symlink(self, path) : link(self, path)) < 0) {
			fprintf(stderr, "sealbox: cannot create %s: %s\n", path, strerror(errno));
			rc = EXIT_CANTCREAT;
			continue;
		}
		printf("%s -> %s\n", path, self);
	}
	return rc;
}

static int run_applet(const struct applet *a, int argc, char **argv)
{
	log_init(a->name, 0);
	if (cry_init() < 0) {
		fprintf(stderr, "%s: crypto library failed to initialise\n", a->name);
		return EXIT_SOFTWARE;
	}
	int rc = a->main(argc, argv);
	cry_cleanup();
	return rc;
}

int main(int argc, char **argv)
{
	const char *name = base_name(argc > 0 ? argv[0] : "sealbox");
	const struct applet *a = find_applet(name);

	conf_set_shared_sections(some_applet_owns);
	if (a)
		return run_applet(a, argc, argv);
	/* "sealbox", or a renamed copy such as "sealbox-arm" */
	if (strncmp(name, "sealbox", 7) != 0) {
		fprintf(stderr, "%s: applet not found\n", name);
		return EXIT_NOAPPLET;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *arg = argv[1];
	if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(arg, "--list") == 0) {
		for (size_t i = 0; applets[i]; i++)
			printf("%s\n", applets[i]->name);
		return EXIT_OK;
	}
	if (strcmp(arg, "--version") == 0) {
		cry_init();
		printf("sealbox %s\n%s\nfeatures: %s\napplets:", SEALBOX_VERSION,
		       cry_library_version(), cry_features());
		for (size_t i = 0; applets[i]; i++)
			printf(" %s", applets[i]->name);
		printf("\n");
		return EXIT_OK;
	}
	if (strcmp(arg, "--install") == 0) {
		int symbolic = argc >= 3 && strcmp(argv[2], "-s") == 0;
		if (argc != 3 + symbolic) {
			fprintf(stderr, "Usage: sealbox --install [-s] DIR\n");
			return EXIT_USAGE;
		}
		return install_links(argv[2 + symbolic], symbolic);
	}
	if (arg[0] == '-') {
		fprintf(stderr, "sealbox: unknown option: %s\n", arg);
		usage(stderr);
		return EXIT_USAGE;
	}
	a = find_applet(arg);
	if (!a) {
		fprintf(stderr, "%s: applet not found\n", arg);
		return EXIT_NOAPPLET;
	}
	return run_applet(a, argc - 1, argv + 1);
}
