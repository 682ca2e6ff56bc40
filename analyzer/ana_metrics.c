/*  analyzer/ana_metrics.c - the analyzer daemon's counters for /metrics
 *
 *  The pipeline keeps its own running totals (ana_ingest_stats_t); each
 *  loop turn adds the difference to the registry's counters, so the
 *  registry never runs ahead of or behind the pipeline.
 */
#include "ana_metrics.h"

#include "sentinel/mem.h"

#include <stdlib.h>

struct ana_metrics {
    sn_metrics_t *m; /* the registry */
    int in, counted, dup, rejected, late, alerts, days, series, alarms, full,
        dedup_size, dedup_cap; /* metric ids */
};

ana_metrics_t *
ana_metrics_new(void)
{
    ana_metrics_t *self = sn_calloc(1, sizeof *self);
    sn_metrics_t *m = sn_metrics_new("sentinel_analyzer");
    self->in = sn_metrics_register(m, "events_in", SN_METRIC_COUNTER,
                                   "case-event records received");
    self->counted = sn_metrics_register(m, "events_counted", SN_METRIC_COUNTER,
                                        "events counted");
    self->dup = sn_metrics_register(m, "events_deduplicated", SN_METRIC_COUNTER,
                                    "duplicates dropped");
    self->rejected = sn_metrics_register(
        m, "events_rejected", SN_METRIC_COUNTER, "records dead-lettered");
    self->late = sn_metrics_register(m, "events_late", SN_METRIC_COUNTER,
                                     "corrections of closed days");
    self->alerts =
        sn_metrics_register(m, "alerts", SN_METRIC_COUNTER, "alerts raised");
    self->alarms =
        sn_metrics_register(m, "signals", SN_METRIC_COUNTER, "detector alarms");
    self->days =
        sn_metrics_register(m, "days_closed", SN_METRIC_COUNTER, "days closed");
    self->series =
        sn_metrics_register(m, "series", SN_METRIC_GAUGE, "series held");
    self->full = sn_metrics_register(
        m, "events_refused_dedup_full", SN_METRIC_COUNTER,
        "events dead-lettered because the dedup table was full");
    self->dedup_size = sn_metrics_register(m, "dedup_entries", SN_METRIC_GAUGE,
                                           "event ids the dedup table holds");
    self->dedup_cap = sn_metrics_register(m, "dedup_capacity", SN_METRIC_GAUGE,
                                          "event ids it can hold");
    self->m = m;
    return self;
}

void
ana_metrics_destroy(ana_metrics_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    sn_metrics_destroy(&(*self_p)->m);
    free(*self_p);
    *self_p = NULL;
}

sn_metrics_t *
ana_metrics_registry(ana_metrics_t *self)
{
    return self->m;
}

void
ana_metrics_publish(ana_metrics_t *self, const ana_ingest_stats_t *st,
                    size_t series, size_t dedup_size, size_t dedup_cap)
{
    struct {
        int id;
        uint64_t v;
    } c[] = {{self->in, st->records},     {self->counted, st->counted},
             {self->dup, st->duplicates}, {self->rejected, st->rejected},
             {self->late, st->late},      {self->alerts, st->alerts},
             {self->days, st->days},      {self->alarms, st->alarms},
             {self->full, st->dedup_full}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        sn_metrics_add(self->m, c[i].id,
                       (int64_t)c[i].v - sn_metrics_get(self->m, c[i].id));
    }
    sn_metrics_set(self->m, self->series, (int64_t)series);
    sn_metrics_set(self->m, self->dedup_size, (int64_t)dedup_size);
    sn_metrics_set(self->m, self->dedup_cap, (int64_t)dedup_cap);
    sn_metrics_beat(self->m);
}
