/* log.h - the one logging API. stderr in the foreground, syslog as a daemon.
 * Never pass keys, passwords, PINs or payload bytes to these functions. */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* ident is kept by pointer (pass a string literal or argv[0]); use_syslog picks the sink. */
void log_init(const char *ident, int use_syslog);
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* The words of enum log_level in order: a config key of CONF_ENUM with these choices
 * is typed at load (file:line on a bad word) and its index is the level. */
#define LOG_LEVEL_CHOICES "error|warn|info|debug"
/* The text of the last log_err line (empty if none). */
const char *log_last_error(void);
/* Parses "error|warn|info|debug"; -1 if unknown. */
int log_level_parse(const char *s);

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap);
/* Logs at error level and exits with code; for start-up and one-shot tools only. */
void fatal(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
#endif
