/*  include/sentinel/log.h - structured logging to stderr
 *
 *  One line per event, logfmt style:
 *    ts=2026-11-25T13:51:39.123Z level=warn comp=collector event=spool_full
 *    depth=1048576 reason="spool full"
 *  The caller passes the event name and the key=value pairs as a printf
 *  format; sn_log_quote() quotes a value that may hold spaces. Lines are
 *  written with one write(2), so lines from several threads do not interleave.
 *  The level threshold and the output format (logfmt or JSON) are process-wide
 *  settings made once at start-up, before threads start.
 *
 *  Threading: sn_log() is thread-safe; sn_log_setup() is not (call it first).
 */
#ifndef SENTINEL_INCLUDE_LOG_H
#define SENTINEL_INCLUDE_LOG_H

#include <stddef.h>

typedef enum {
    SN_LOG_DEBUG = 0,
    SN_LOG_INFO = 1,
    SN_LOG_WARN = 2,
    SN_LOG_ERROR = 3,
    SN_LOG_OFF = 4,
} sn_log_level_t;

typedef enum {
    SN_LOG_LOGFMT = 0, /* key=value pairs */
    SN_LOG_JSON = 1,   /* one JSON object per line */
} sn_log_format_t;

/** Set the threshold and format for the process. Call before threads start. */
void sn_log_setup(sn_log_level_t level, sn_log_format_t format);

/** Parse "debug", "info", "warn", "error" or "off".
 *  @return SN_OK or SN_EINVAL; *level is written only on success. */
int sn_log_level_parse(const char *name, sn_log_level_t *level);

/** @return true when a message at `level` would be written. */
int sn_log_enabled(sn_log_level_t level);

/** Write one line: level, component, event name, then `fmt` (key=value
 *  pairs separated by spaces, may be NULL). Thread-safe. */
void sn_log(sn_log_level_t level, const char *comp, const char *event,
            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** Quote `value` for a logfmt value into `buf` (at most `size` bytes, always
 *  NUL-terminated), escaping quotes, backslashes and control characters.
 *  @return buf, for use as a printf argument. */
const char *sn_log_quote(char *buf, size_t size, const char *value);

#endif
