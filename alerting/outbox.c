/*  alerting/outbox.c - deliver due outbox rows, with backoff and jitter
 *
 *  One pass reads the due rows, sends each to its sink and writes the
 *  result row by row (autocommit), so a kill -9 in the middle of a pass
 *  loses at most the record of one success, which is then sent again:
 *  at least once, never lost.
 */
#include "outbox.h"

#include "sentinel/log.h"
#include "sentinel/mem.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct alr_outbox {
    alr_store_t *store;     /* borrowed */
    alr_outbox_opts_t opts; /* defaults filled in */
    alr_sink_t **sinks;     /* owned */
    size_t n_sinks;         /* entries in sinks */
    unsigned rng;           /* jitter state (rand_r) */
    int64_t failures;       /* failed attempts so far */
};

alr_outbox_t *
alr_outbox_new(alr_store_t *store, const alr_outbox_opts_t *opts)
{
    alr_outbox_t *self = sn_calloc(1, sizeof *self);
    self->store = store;
    if (opts != NULL) {
        self->opts = *opts;
    }
    if (self->opts.base_ms <= 0) {
        self->opts.base_ms = ALR_OUTBOX_BASE_MS;
    }
    if (self->opts.max_ms < self->opts.base_ms) {
        self->opts.max_ms = self->opts.base_ms > ALR_OUTBOX_MAX_MS
                                ? self->opts.base_ms
                                : ALR_OUTBOX_MAX_MS;
    }
    self->rng = self->opts.seed ? self->opts.seed
                                : (unsigned)sn_clock_ns() ^ (unsigned)getpid();
    return self;
}

void
alr_outbox_destroy(alr_outbox_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    alr_outbox_t *self = *self_p;
    for (size_t i = 0; i < self->n_sinks; i++) {
        alr_sink_destroy(&self->sinks[i]);
    }
    free(self->sinks);
    free(self);
    *self_p = NULL;
}

void
alr_outbox_add_sink(alr_outbox_t *self, alr_sink_t **sink_p)
{
    self->sinks =
        sn_reallocarray(self->sinks, self->n_sinks + 1, sizeof *self->sinks);
    self->sinks[self->n_sinks++] = *sink_p;
    *sink_p = NULL;
}

int64_t
alr_outbox_backoff(const alr_outbox_opts_t *opts, int attempts, double r)
{
    int64_t delay = opts->base_ms;
    for (int i = 1; i < attempts && delay < opts->max_ms; i++) {
        delay *= 2;
    }
    delay = delay > opts->max_ms ? opts->max_ms : delay;
    return delay / 2 + (int64_t)(r * (double)(delay - delay / 2));
}

static alr_sink_t *
s_find(alr_outbox_t *self, const char *name)
{
    for (size_t i = 0; i < self->n_sinks; i++) {
        if (strcmp(alr_sink_name(self->sinks[i]), name) == 0) {
            return self->sinks[i];
        }
    }
    return NULL;
}

/* Send one delivery and record the result. @return 1 delivered, 0 failed
 * (and rescheduled), or SN_EDB. */
static int
s_deliver(alr_outbox_t *self, const alr_delivery_t *d, sn_time_t now,
          sn_err_t *err)
{
    sn_err_t why = {0};
    alr_sink_t *sink = s_find(self, d->sink);
    int rc = sink ? alr_sink_send(sink, d, &why)
                  : sn_err_set(&why, SN_ENOTFOUND,
                               "sink '%s' is not configured", d->sink);
    if (rc == SN_OK) {
        rc = alr_store_delivered(self->store, d->id, now, err);
        return rc == SN_OK ? 1 : rc;
    }
    self->failures++;
    int attempts = d->attempts + 1;
    double r = (double)rand_r(&self->rng) / ((double)RAND_MAX + 1.0);
    sn_time_t next = now + alr_outbox_backoff(&self->opts, attempts, r);
    char quoted[SN_ERR_MSG_MAX + 16];
    sn_log(SN_LOG_WARN, "alerting", "delivery_failed",
           "sink=%s id=%s attempt=%d retry_in_ms=%lld reason=%s", d->sink,
           d->notice.identifier, attempts, (long long)(next - now),
           sn_log_quote(quoted, sizeof quoted, sn_err_text(&why)));
    rc = alr_store_retry(self->store, d->id, attempts, next, sn_err_text(&why),
                         err);
    return rc == SN_OK ? 0 : rc;
}

int
alr_outbox_run(alr_outbox_t *self, sn_time_t now, sn_err_t *err)
{
    alr_delivery_t *due = NULL;
    size_t n = 0;
    int rc = alr_store_due(self->store, now, ALR_OUTBOX_BATCH, &due, &n, err);
    int delivered = 0;
    for (size_t i = 0; rc == SN_OK && i < n; i++) {
        int one = s_deliver(self, &due[i], now, err);
        rc = one < 0 ? one : SN_OK;
        delivered += one > 0;
    }
    alr_deliveries_free(&due, n);
    return rc != SN_OK ? rc : delivered;
}

int64_t
alr_outbox_failures(const alr_outbox_t *self)
{
    return self->failures;
}
