/*  common/log.c - structured log lines on stderr
 *
 *  Each call formats the whole line in a stack buffer and writes it with one
 *  write(2), so lines from threads and processes sharing stderr stay whole.
 *  In JSON mode the caller's key=value pairs are turned into JSON members.
 */
#include "sentinel/log.h"

#include "sentinel/date.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

/* The process-wide settings. They are written once by sn_log_setup() before
 * any thread starts and only read afterwards, which is why this mutable
 * static is allowed here. */
static struct {
    sn_log_level_t level;
    sn_log_format_t format;
} s_log = {SN_LOG_INFO, SN_LOG_LOGFMT};

static const char *const s_level_names[] = {"debug", "info", "warn", "error",
                                            "off"};

void
sn_log_setup(sn_log_level_t level, sn_log_format_t format)
{
    s_log.level = level;
    s_log.format = format;
}

int
sn_log_level_parse(const char *name, sn_log_level_t *level)
{
    for (int i = SN_LOG_DEBUG; i <= SN_LOG_OFF; i++) {
        if (name != NULL && strcmp(name, s_level_names[i]) == 0) {
            *level = (sn_log_level_t)i;
            return SN_OK;
        }
    }
    return SN_EINVAL;
}

int
sn_log_enabled(sn_log_level_t level)
{
    return level >= s_log.level && level < SN_LOG_OFF;
}

const char *
sn_log_quote(char *buf, size_t size, const char *value)
{
    size_t o = 0;
    if (size < 3) {
        if (size > 0) {
            buf[0] = '\0';
        }
        return buf;
    }
    buf[o++] = '"';
    for (const char *p = value ? value : ""; *p && o + 4 < size; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c) > size - o
                     ? 0
                     : 4;
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

/* Append the logfmt pairs of `kv` to `out` as JSON members. A value that is
 * already quoted is copied as a JSON string; a bare value becomes a string
 * too, so consumers never have to guess types. */
static size_t
s_kv_to_json(const char *kv, char *out, size_t size)
{
    size_t o = 0;
    const char *p = kv;
    while (*p && o + 8 < size) {
        while (*p == ' ') {
            p++;
        }
        const char *eq = strchr(p, '=');
        if (eq == NULL) {
            break;
        }
        o += (size_t)snprintf(out + o, size - o, ",\"%.*s\":\"", (int)(eq - p),
                              p);
        p = eq + 1;
        int quoted = (*p == '"');
        p += quoted;
        while (*p && o + 4 < size) {
            if (quoted && *p == '"') {
                p++;
                break;
            }
            if (!quoted && *p == ' ') {
                break;
            }
            if (quoted && *p == '\\' && p[1]) {
                out[o++] = *p++;
            } else if (*p == '"') {
                out[o++] = '\\';
            }
            out[o++] = *p++;
        }
        if (o + 2 < size) {
            out[o++] = '"';
        }
    }
    if (o < size) {
        out[o] = '\0';
    }
    return o;
}

void
sn_log(sn_log_level_t level, const char *comp, const char *event,
       const char *fmt, ...)
{
    if (!sn_log_enabled(level)) {
        return;
    }
    char kv[LOG_LINE_MAX / 2] = "";
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(kv, sizeof kv, fmt, ap);
        va_end(ap);
    }
    char ts[SN_TIME_STR_MAX];
    sn_time_format(sn_time_now(), ts);
    char line[LOG_LINE_MAX];
    int n;
    if (s_log.format == SN_LOG_JSON) {
        n = snprintf(line, sizeof line,
                     "{\"ts\":\"%s\",\"level\":\"%s\",\"comp\":\"%s\","
                     "\"event\":\"%s\"",
                     ts, s_level_names[level], comp, event);
        if (n > 0 && (size_t)n < sizeof line) {
            n += (int)s_kv_to_json(kv, line + n, sizeof line - (size_t)n - 2);
            n += snprintf(line + n, sizeof line - (size_t)n, "}\n");
        }
    } else {
        n = snprintf(line, sizeof line, "ts=%s level=%s comp=%s event=%s%s%s\n",
                     ts, s_level_names[level], comp, event, kv[0] ? " " : "",
                     kv);
    }
    if (n < 0) {
        return;
    }
    if ((size_t)n >= sizeof line) {
        n = sizeof line - 1;
        line[n - 1] = '\n';
    }
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
