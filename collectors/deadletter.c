/*  collectors/deadletter.c - the dead-letter file of rejected records
 *
 *  Each rejection becomes one JSON line written with a single write(2) on
 *  a file opened O_APPEND, so a crash leaves whole lines (at worst a torn
 *  last one, which a reader skips). The line is built by hand rather than
 *  with jansson because the raw bytes of a refused record need not be
 *  UTF-8: valid UTF-8 is kept as is, and any other byte is written as the
 *  escape \u00XX of its value, so nothing is lost and the line stays JSON.
 */
#include "deadletter.h"

#include "sentinel/event.h"
#include "sentinel/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct col_deadletter {
    int fd;                        /* the file, O_APPEND */
    char *path;                    /* its name, for messages */
    col_dl_fsync_t policy;         /* when to fsync */
    size_t raw_max;                /* raw bytes kept per record */
    uint64_t count;                /* records written */
    char *line;                    /* line buffer, reused */
    size_t cap;                    /* its size */
    size_t len;                    /* bytes in it */
    col_deadletter_kafka_t *topic; /* copies to Kafka, or NULL; owned */
};

col_deadletter_t *
col_deadletter_new(const char *path, col_dl_fsync_t policy, size_t raw_max,
                   sn_err_t *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        sn_err_set(err, SN_EIO, "dead letter file '%s': %s", path,
                   strerror(errno));
        return NULL;
    }
    col_deadletter_t *self = sn_calloc(1, sizeof *self);
    self->fd = fd;
    self->path = sn_strdup(path);
    self->policy = policy;
    self->raw_max = raw_max ? raw_max : COL_DEADLETTER_RAW_MAX_DEFAULT;
    return self;
}

void
col_deadletter_destroy(col_deadletter_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    col_deadletter_t *self = *self_p;
    if (self->policy == COL_DL_FSYNC_BATCH) {
        fsync(self->fd);
    }
    close(self->fd);
    col_deadletter_kafka_destroy(&self->topic);
    free(self->path);
    free(self->line);
    free(self);
    *self_p = NULL;
}

void
col_deadletter_set_topic(col_deadletter_t *self,
                         col_deadletter_kafka_t **topic_p)
{
    col_deadletter_kafka_destroy(&self->topic);
    self->topic = *topic_p;
    *topic_p = NULL;
}

const char *
col_deadletter_topic(const col_deadletter_t *self)
{
    return self->topic ? col_deadletter_kafka_topic(self->topic) : NULL;
}

static void
s_put(col_deadletter_t *self, const char *s, size_t n)
{
    if (self->len + n > self->cap) {
        self->cap = (self->len + n) * 2;
        self->line = sn_realloc(self->line, self->cap);
    }
    memcpy(self->line + self->len, s, n);
    self->len += n;
}

/* @return the length of the valid UTF-8 sequence at p[0..n), or 0. */
static size_t
s_utf8_len(const uint8_t *p, size_t n)
{
    size_t k = p[0] < 0x80             ? 1
               : (p[0] & 0xE0) == 0xC0 ? 2
               : (p[0] & 0xF0) == 0xE0 ? 3
               : (p[0] & 0xF8) == 0xF0 ? 4
                                       : 0;
    if (k == 0 || k > n || (k == 2 && p[0] < 0xC2) || (k == 4 && p[0] > 0xF4)) {
        return 0;
    }
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
    }
    return k;
}

/* Append p[0..n) as a JSON string. */
static void
s_put_string(col_deadletter_t *self, const void *data, size_t n)
{
    const uint8_t *p = data;
    s_put(self, "\"", 1);
    for (size_t i = 0; i < n;) {
        size_t k = s_utf8_len(p + i, n - i);
        char esc[8];
        if (k == 1 && (p[i] == '"' || p[i] == '\\')) {
            esc[0] = '\\';
            esc[1] = (char)p[i];
            s_put(self, esc, 2);
        } else if (k == 0 || (k == 1 && p[i] < 0x20) || p[i] == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", p[i]);
            s_put(self, esc, 6);
            k = 1;
        } else {
            s_put(self, (const char *)p + i, k);
        }
        i += k;
    }
    s_put(self, "\"", 1);
}

static void
s_put_field(col_deadletter_t *self, const char *key, const char *value)
{
    s_put(self, ",\"", 2);
    s_put(self, key, strlen(key));
    s_put(self, "\":", 2);
    s_put_string(self, value, strlen(value));
}

/* The topic's copy of the line just written: its first `head` bytes
 * (time, source, position, reason) and the raw record's length, never its
 * bytes, which stay at the site. */
static void
s_send_copy(col_deadletter_t *self, size_t head, size_t raw_len)
{
    char tail[96];
    int n = snprintf(tail, sizeof tail,
                     ",\"raw_len\":%zu,\"raw\":\"kept at "
                     "the site\"}",
                     raw_len);
    char *copy = sn_malloc(head + (size_t)n);
    memcpy(copy, self->line, head);
    memcpy(copy + head, tail, (size_t)n);
    col_deadletter_kafka_send(self->topic, copy, head + (size_t)n);
    free(copy);
}

int
col_deadletter_write(col_deadletter_t *self, const col_record_t *rec,
                     sn_time_t now, sn_err_t *err)
{
    char t[SN_TIME_STR_MAX], num[96];
    self->len = 0;
    s_put(self, "{\"time\":", 8);
    sn_time_format(now, t);
    s_put_string(self, t, strlen(t));
    s_put_field(self, "source", rec->source ? rec->source : "-");
    snprintf(num, sizeof num, ",\"position\":%" PRIu64, rec->position);
    s_put(self, num, strlen(num));
    s_put_field(self, "code", sn_err_name(rec->err.code));
    s_put_field(self, "reason", sn_err_text(&rec->err));
    /* A record refused for carrying a personal identifier keeps no raw
     * bytes: the reason names the field, its value must not be stored. */
    bool redact = sn_event_err_personal(&rec->err);
    size_t keep = rec->raw_len < self->raw_max ? rec->raw_len : self->raw_max;
    keep = redact ? 0 : keep;
    s_put(self, redact ? ",\"redacted\":true" : "", redact ? 16 : 0);
    size_t head = self->len; /* what the topic's copy keeps */
    s_put(self, ",\"raw\":", 7);
    s_put_string(self, rec->raw ? (const char *)rec->raw : "", keep);
    snprintf(num, sizeof num, ",\"raw_len\":%zu,\"truncated\":%s}\n",
             rec->raw_len, keep < rec->raw_len && !redact ? "true" : "false");
    s_put(self, num, strlen(num));
    ssize_t n = write(self->fd, self->line, self->len);
    if (n < 0 || (size_t)n != self->len) {
        return sn_err_set(err, SN_EIO, "dead letter file '%s': %s", self->path,
                          n < 0 ? strerror(errno) : "short write");
    }
    self->count++;
    if (self->topic != NULL) {
        s_send_copy(self, head, rec->raw_len);
    }
    if (self->policy == COL_DL_FSYNC_ALWAYS) {
        return col_deadletter_sync(self, err);
    }
    return SN_OK;
}

int
col_deadletter_sync(col_deadletter_t *self, sn_err_t *err)
{
    if (fsync(self->fd) != 0) {
        return sn_err_set(err, SN_EIO, "dead letter file '%s': fsync: %s",
                          self->path, strerror(errno));
    }
    return SN_OK;
}

int
col_deadletter_poll_topic(col_deadletter_t *self, sn_err_t *err)
{
    return self->topic ? col_deadletter_kafka_poll(self->topic, err) : SN_OK;
}

int
col_deadletter_flush_topic(col_deadletter_t *self, int timeout_ms,
                           sn_err_t *err)
{
    return self->topic
               ? col_deadletter_kafka_flush(self->topic, timeout_ms, err)
               : SN_OK;
}

uint64_t
col_deadletter_count(const col_deadletter_t *self)
{
    return self->count;
}

int
col_dl_fsync_parse(const char *name, col_dl_fsync_t *out)
{
    static const char *const names[] = {"always", "batch", "never"};
    for (int i = 0; name && i < 3; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (col_dl_fsync_t)i;
            return SN_OK;
        }
    }
    return SN_ENOTFOUND;
}
