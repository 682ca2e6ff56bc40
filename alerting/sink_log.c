/*  alerting/sink_log.c - the JSON-lines alert log
 *
 *  Appends each notification's JSON as one line to a file and fsyncs it, so
 *  the log is a durable, greppable record of every message made (jq reads
 *  it). A retried delivery may append a line twice after a crash; the
 *  "identifier" inside tells repeats apart.
 */
#include "sink.h"

#include "sentinel/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct s_log {
    char *path; /* the log file */
    int fd;     /* open for append */
} s_log_t;

static int
s_send(void *impl, const alr_delivery_t *d, sn_err_t *err)
{
    s_log_t *l = impl;
    size_t len = strlen(d->notice.json);
    char *line = sn_malloc(len + 2);
    memcpy(line, d->notice.json, len);
    line[len] = '\n';
    ssize_t w = write(l->fd, line, len + 1);
    free(line);
    if (w != (ssize_t)(len + 1) || fsync(l->fd) != 0) {
        return sn_err_set(err, SN_EIO, "alert log %s: cannot append: %s",
                          l->path, strerror(errno));
    }
    return SN_OK;
}

static void
s_destroy(void *impl)
{
    s_log_t *l = impl;
    close(l->fd);
    free(l->path);
    free(l);
}

static const alr_sink_ops_t s_ops = {"log", s_send, s_destroy};

int
alr_sink_log_new(const char *name, const char *path, alr_sink_t **out,
                 sn_err_t *err)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return sn_err_set(err, SN_EIO, "sink '%s': alert log %s: %s", name,
                          path, strerror(errno));
    }
    s_log_t *l = sn_calloc(1, sizeof *l);
    l->path = sn_strdup(path);
    l->fd = fd;
    *out = alr_sink_new(name, &s_ops, l);
    return SN_OK;
}
