/* log.c - one logging sink per process: stderr in the foreground, syslog as a daemon.
 * Process-wide state (ident, sink, level) is one of the globals the house style allows. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "core/log.h"

static const char *log_ident = "sealbox";
static int log_to_syslog;
static enum log_level log_level_cur = LOG_LVL_INFO;
/* The last error-level line: daemon_run sends it through the start-up pipe to the
 * parent when a step after detaching fails (core/daemon.c). */
static char last_err[512];

const char *log_last_error(void)
{
	return last_err;
}

void log_init(const char *ident, int use_syslog)
{
	log_ident = ident ? ident : "sealbox";
	if (log_to_syslog && !use_syslog)
		closelog();
	log_to_syslog = use_syslog;
	if (use_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(enum log_level lvl)
{
	log_level_cur = lvl;
}

enum log_level log_get_level(void)
{
	return log_level_cur;
}

int log_level_parse(const char *s)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error: ", "warning: ", "", "debug: " };

	if (lvl == LOG_LVL_ERR) {
		va_list cp;
		va_copy(cp, ap);
		vsnprintf(last_err, sizeof(last_err), fmt, cp);
		va_end(cp);
	}
	if (lvl > log_level_cur)
		return;
	if (log_to_syslog) {
		vsyslog(prio[lvl], fmt, ap);
		return;
	}
	/* One fprintf per line so lines from concurrent processes do not interleave. */
	char line[2048];
	vsnprintf(line, sizeof(line), fmt, ap);
	/* Control characters from peers (names, addresses) must not forge log lines. */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			*p = '?';
	fprintf(stderr, "%s: %s%s\n", log_ident, tag[lvl], line);
}

#define LOG_FN(fn, lvl)                          \
	void fn(const char *fmt, ...)            \
	{                                        \
		va_list ap;                      \
		va_start(ap, fmt);               \
		log_vmsg(lvl, fmt, ap);          \
		va_end(ap);                      \
	}
LOG_FN(log_err, LOG_LVL_ERR)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

void fatal(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	exit(code);
}
