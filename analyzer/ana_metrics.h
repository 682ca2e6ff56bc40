/*  analyzer/ana_metrics.h - the analyzer daemon's counters for /metrics
 *
 *  The daemon publishes its ingest counters (events in, counted,
 *  deduplicated, rejected, late; alerts, signals, days closed) and the
 *  number of series through a metrics registry (sentinel/metrics.h) that
 *  its HTTP endpoint serves as sentinel_analyzer_*. This module registers
 *  them and copies the pipeline's statistics into them once per loop turn.
 *
 *  Threading: created and updated by the analyzer's thread; the registry
 *  itself is read by the metrics server's thread (sentinel/metrics.h).
 */
#ifndef SENTINEL_ANALYZER_ANA_METRICS_H
#define SENTINEL_ANALYZER_ANA_METRICS_H

#include <stddef.h>

#include "ingest.h"
#include "sentinel/metrics.h"

typedef struct ana_metrics ana_metrics_t; /* opaque; ana_metrics.c */

/** Create the registry "sentinel_analyzer" with every counter registered.
 *  Never returns NULL. Caller owns the result. */
ana_metrics_t *ana_metrics_new(void);

/** Free the registry and set *self_p to NULL. Safe on NULL. */
void ana_metrics_destroy(ana_metrics_t **self_p);

/** @return the registry, to serve it (borrowed; valid while self lives). */
sn_metrics_t *ana_metrics_registry(ana_metrics_t *self);

/** Set the counters to the pipeline's statistics `st`, the series gauge
 *  to `series`, the dedup gauges to `dedup_size` of `dedup_cap` entries,
 *  and mark the loop alive (sn_metrics_beat). */
void ana_metrics_publish(ana_metrics_t *self, const ana_ingest_stats_t *st,
                         size_t series, size_t dedup_size, size_t dedup_cap);

#endif
