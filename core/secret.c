/* secret.c - wiping and reading secrets. A password never comes from argv (visible in
 * ps and shell history): a file, an environment variable, or a no-echo prompt. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/secret.h"
#include "core/str.h"

void secret_wipe(void *p, size_t len)
{
	if (p && len)
		explicit_bzero(p, len);
}

void secret_free_str(char *s)
{
	if (s) {
		secret_wipe(s, strlen(s));
		free(s);
	}
}

/* Cuts at the first CR or LF: a password file holds one line. */
static void cut_line(char *s)
{
	s[strcspn(s, "\r\n")] = '\0';
}

static char *prompt_tty(const char *prompt, char *err, size_t errlen)
{
	FILE *tty = fopen("/dev/tty", "r+");
	struct termios old, noecho;
	char buf[1024];
	char *res = NULL;

	if (!tty) {
		str_copy(err, "no password given and no terminal to ask on", errlen);
		return NULL;
	}
	int fd = fileno(tty);
	int have_term = tcgetattr(fd, &old) == 0;
	if (have_term) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &noecho);
	}
	fputs(prompt, tty);
	fflush(tty);
	if (fgets(buf, sizeof(buf), tty)) {
		cut_line(buf);
		res = strdup(buf);
		if (!res)
			str_copy(err, "out of memory", errlen);
	} else {
		str_copy(err, "no password entered", errlen);
	}
	if (have_term)
		tcsetattr(fd, TCSAFLUSH, &old);
	fputs("\n", tty);
	fclose(tty);
	secret_wipe(buf, sizeof(buf));
	return res;
}

char *secret_read(const char *file, const char *env, const char *prompt, char *err, size_t errlen)
{
	if (file) {
		size_t len;
		char *s = (char *)fs_read_file_new(file, 64 * 1024, &len);
		if (!s) {
			str_fmt(err, errlen, "cannot read %s: %s", file, strerror(errno));
			return NULL;
		}
		if (memchr(s, '\0', len)) {
			secret_wipe(s, len);
			free(s);
			str_fmt(err, errlen, "%s: contains a NUL byte", file);
			return NULL;
		}
		cut_line(s);
		return s;
	}
	const char *v = env ? getenv(env) : NULL;
	if (v) {
		char *s = strdup(v);
		if (!s)
			str_copy(err, "out of memory", errlen);
		return s;
	}
	if (!prompt) {
		str_copy(err, "no password given", errlen);
		return NULL;
	}
	return prompt_tty(prompt, err, errlen);
}
