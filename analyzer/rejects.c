/*  analyzer/rejects.c - the analyzer's dead-letter file of refused records
 *
 *  One JSON line per refused record, built with jansson so that any bytes
 *  in the event's strings come out escaped, and flushed at once so that a
 *  crash loses none of them. JSON strings must be UTF-8 and nothing checks
 *  the characters of a sender id (nor of the bytes an error message may
 *  quote), so those are made valid first: a line is never lost.
 */
#include "rejects.h"

#include "sentinel/event.h"
#include "sentinel/mem.h"

#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_HEX_MAX 256 /* bytes of a record that is no event, in hex */

struct ana_rejects {
    FILE *f; /* the file, appending */
};

int
ana_rejects_open(const char *path, ana_rejects_t **out, sn_err_t *err)
{
    /* 0600: a dead-lettered record is a site's data, not the public's. */
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (f == NULL) {
        if (fd >= 0) {
            close(fd);
        }
        return sn_err_set(err, SN_EIO, "dead letter '%s': cannot open", path);
    }
    ana_rejects_t *self = sn_calloc(1, sizeof *self);
    self->f = f;
    *out = self;
    return SN_OK;
}

void
ana_rejects_destroy(ana_rejects_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    fclose((*self_p)->f);
    free(*self_p);
    *self_p = NULL;
}

/* The first bytes of `data` in hex (at most S_HEX_MAX), under `key`. */
static void
s_hex(json_t *o, const char *key, const uint8_t *data, size_t len)
{
    size_t n = len < S_HEX_MAX ? len : S_HEX_MAX;
    char *hex = sn_malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        snprintf(hex + 2 * i, 3, "%02x", data[i]);
    }
    hex[2 * n] = '\0';
    json_object_set_new(o, key, json_string(hex));
    free(hex);
}

/* `text` under `key`; when it is not valid UTF-8 (jansson refuses it), its
 * bytes above 0x7f become '?' (as sn_event_to_json() renders an event's
 * strings) and, with `hex_key`, its bytes are also given in hex. */
static void
s_text(json_t *o, const char *key, const char *text, const char *hex_key)
{
    json_t *j = json_string(text);
    if (j != NULL) {
        json_object_set_new(o, key, j);
        return;
    }
    char *clean = sn_strdup(text);
    for (char *c = clean; *c != '\0'; c++) {
        *c = (unsigned char)*c < 0x80 ? *c : '?';
    }
    j = json_string(clean);
    free(clean);
    json_object_set_new(o, key, j != NULL ? j : json_null());
    if (hex_key != NULL) {
        s_hex(o, hex_key, (const uint8_t *)text, strlen(text));
    }
}

/* The line for a refused record; NULL only when jansson runs out of
 * memory. */
static char *
s_line(sn_time_t now, const char *sender, uint64_t seq, const sn_event_t *ev,
       const uint8_t *data, size_t len, const sn_err_t *err)
{
    char ts[SN_TIME_STR_MAX];
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    json_object_set_new(o, "time", json_string(sn_time_format(now, ts)));
    s_text(o, "sender", sender ? sender : "", "sender_hex");
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    s_text(o, "reason", sn_err_text(err), NULL);
    if (sn_event_err_personal(err)) {
        /* Refused for holding a personal identifier: nothing of the event
         * is kept, the reason names the field. */
        json_object_set_new(o, "redacted", json_true());
    } else if (ev != NULL) {
        char *text = sn_event_to_json(ev);
        json_t *e = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        json_object_set_new(o, "event", e ? e : json_null());
    } else {
        s_hex(o, "bytes_hex", data, len);
    }
    char *line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return line;
}

void
ana_rejects_write(ana_rejects_t *self, sn_time_t now, const char *sender,
                  uint64_t seq, const sn_event_t *ev, const uint8_t *data,
                  size_t len, const sn_err_t *err)
{
    char *line = s_line(now, sender, seq, ev, data, len, err);
    if (line != NULL) {
        fprintf(self->f, "%s\n", line);
    } else {
        /* Still a line, so the record is counted and can be found. */
        fprintf(self->f,
                "{\"seq\":%" PRIu64 ",\"reason\":\"dead letter not "
                "rendered: out of memory\"}\n",
                seq);
    }
    fflush(self->f);
    free(line);
}
