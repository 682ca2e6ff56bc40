/*  analyzer/rejects.c - the analyzer's dead-letter file of refused records
 *
 *  One JSON line per refused record, built with jansson so that any bytes
 *  in the event's strings come out escaped, and flushed at once so that a
 *  crash loses none of them.
 */
#include "rejects.h"

#include "sentinel/mem.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The record's first bytes in hex, under "bytes_hex". */
static void
s_hex(json_t *o, const uint8_t *data, size_t len)
{
    size_t n = len < S_HEX_MAX ? len : S_HEX_MAX;
    char *hex = sn_malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        snprintf(hex + 2 * i, 3, "%02x", data[i]);
    }
    hex[2 * n] = '\0';
    json_object_set_new(o, "bytes_hex", json_string(hex));
    free(hex);
}

void
ana_rejects_write(ana_rejects_t *self, sn_time_t now, const char *sender,
                  uint64_t seq, const sn_event_t *ev, const uint8_t *data,
                  size_t len, const sn_err_t *err)
{
    char ts[SN_TIME_STR_MAX];
    json_t *o =
        json_pack("{s:s, s:s, s:I, s:s}", "time", sn_time_format(now, ts),
                  "sender", sender ? sender : "", "seq", (json_int_t)seq,
                  "reason", sn_err_text(err));
    if (ev != NULL) {
        char *text = sn_event_to_json(ev);
        json_t *e = json_loads(text, 0, NULL);
        free(text);
        json_object_set_new(o, "event", e ? e : json_null());
    } else {
        s_hex(o, data, len);
    }
    char *line = json_dumps(o, JSON_COMPACT);
    fprintf(self->f, "%s\n", line);
    fflush(self->f);
    free(line);
    json_decref(o);
}
