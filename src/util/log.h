/* log.h — logging for the binaries only (otad, otactl, otasim). Library layers never log: they
 * report through return values and callbacks. Messages go to stderr, or to the journal with
 * structured fields when log_open_journal() was called (otad under systemd). */
#pragma once

#include <stdarg.h>
#include "util/macro.h"

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_NOTICE = 5, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_prefix(const char *prefix);
void log_open_journal(void);
/* fn sees every message that is logged (after the level filter), e.g. to repeat errors in a
 * program's own output; NULL removes it. */
void log_set_observer(void (*fn)(int level, const char *msg));

/* Returns -abs(err) when err != 0 so callers can "return log_error_errno(r, ...)". */
int log_internal(int level, int err, const char *fields, const char *fmt, ...) _printf_(4, 5);

#define log_debug(...)  log_internal(LOG_LVL_DEBUG, 0, NULL, __VA_ARGS__)
#define log_info(...)   log_internal(LOG_LVL_INFO, 0, NULL, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_LVL_NOTICE, 0, NULL, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_LVL_WARN, 0, NULL, __VA_ARGS__)
#define log_error(...)  log_internal(LOG_LVL_ERR, 0, NULL, __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_LVL_ERR, (e), NULL, __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_LVL_WARN, (e), NULL, __VA_ARGS__)
/* With journal fields, "KEY=value" lines separated by '\n' (e.g. "DEVICE=sensor-1\nJOB=3"). */
#define log_fields(level, fields, ...) log_internal((level), 0, (fields), __VA_ARGS__)
