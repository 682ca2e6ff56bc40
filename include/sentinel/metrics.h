/*  include/sentinel/metrics.h - counters, gauges and the health endpoint
 *
 *  Every daemon (collector, analyzer, alerting) registers its counters
 *  (events in, rejected, deduplicated, series, signals, alerts, delivery
 *  failures, spool depth, lag, …) in one sn_metrics_t and may serve them on
 *  a loopback HTTP port: GET /metrics answers in the Prometheus text format
 *  (version 0.0.4), GET /healthz answers "ok" while the daemon's main loop
 *  has beaten its heart within the allowed interval, 503 otherwise.
 *
 *  Threading: sn_metrics_add(), sn_metrics_set() and sn_metrics_beat() are
 *  thread-safe (relaxed atomics) and cheap enough for hot paths; the HTTP
 *  server answers from its own thread and only reads. Registration happens
 *  on one thread before sn_metrics_serve().
 */
#ifndef SENTINEL_INCLUDE_METRICS_H
#define SENTINEL_INCLUDE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "sentinel/error.h"

#define SN_METRICS_MAX 64 /* metrics per registry */

typedef struct sn_metrics sn_metrics_t; /* opaque registry */

typedef enum {
    SN_METRIC_COUNTER, /* only goes up */
    SN_METRIC_GAUGE,   /* a current level */
} sn_metric_kind_t;

/** Create a registry whose metric names start with `prefix` ("sentinel").
 *  Never returns NULL. Caller owns the result. */
sn_metrics_t *sn_metrics_new(const char *prefix);

/** Stop serving (if serving) and free the registry; sets *self_p to NULL.
 *  Safe on NULL. */
void sn_metrics_destroy(sn_metrics_t **self_p);

/** Register a metric `name` (lower_snake_case) with its help text; both
 *  strings must be static. Asserts that the registry has room.
 *  @return its id for sn_metrics_add()/set(). */
int sn_metrics_register(sn_metrics_t *self, const char *name,
                        sn_metric_kind_t kind, const char *help);

/** Add `delta` to metric `id`. Thread-safe. */
void sn_metrics_add(sn_metrics_t *self, int id, int64_t delta);

/** Set gauge `id` to `value`. Thread-safe. */
void sn_metrics_set(sn_metrics_t *self, int id, int64_t value);

/** @return the current value of metric `id`. Thread-safe. */
int64_t sn_metrics_get(const sn_metrics_t *self, int id);

/** Record that the main loop is alive now. Thread-safe. */
void sn_metrics_beat(sn_metrics_t *self);

/** Render every metric in the Prometheus text format.
 *  Caller owns the result (free()). Thread-safe. */
char *sn_metrics_render(const sn_metrics_t *self);

/** Serve /metrics and /healthz on `address` ("127.0.0.1:9464") from a
 *  thread of its own; /healthz fails when no beat came for `stale_ms`.
 *  @return SN_OK, SN_EINVAL (bad address) or SN_EIO (cannot listen). */
int sn_metrics_serve(sn_metrics_t *self, const char *address, int stale_ms,
                     sn_err_t *err);

#endif
