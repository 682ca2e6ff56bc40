/*  alerting/outbox.h - the delivery loop over the outbox table
 *
 *  Every notification is queued in the store, one delivery row per sink, in
 *  the same transaction as the state change that made it. The outbox loop
 *  takes the rows that are due, hands each to its sink and marks it done
 *  only when the sink reports success; a failure records the error and the
 *  attempt and sets the next try after an exponential backoff with jitter
 *  (base * 2^(attempts-1), capped, then a random point in its upper half).
 *  Per sink, the messages of one alert go out in order.
 *  Delivery is therefore at least once: a process killed after the state
 *  change, or during a send, delivers on the next run, and receivers drop
 *  repeats by the idempotency key (the CAP identifier).
 *
 *  Threading: an outbox, its store and its sinks belong to one thread.
 */
#ifndef SENTINEL_ALERTING_OUTBOX_H
#define SENTINEL_ALERTING_OUTBOX_H

#include <stdint.h>

#include "sentinel/date.h"
#include "sentinel/error.h"
#include "sink.h"
#include "store.h"

#define ALR_OUTBOX_BASE_MS 1000  /* first retry after about this long */
#define ALR_OUTBOX_MAX_MS 300000 /* retries at least every five minutes */
#define ALR_OUTBOX_BATCH 64      /* deliveries per run */

typedef struct alr_outbox alr_outbox_t; /* opaque */

/* Retry settings; 0 picks the default. */
typedef struct alr_outbox_opts {
    int64_t base_ms; /* first backoff */
    int64_t max_ms;  /* backoff cap */
    uint32_t seed;   /* jitter seed; 0: from the clock */
} alr_outbox_opts_t;

/** Create an outbox over `store` (borrowed; must outlive it). Never
 *  returns NULL. Caller owns it. */
alr_outbox_t *alr_outbox_new(alr_store_t *store, const alr_outbox_opts_t *opts);

/** Free the outbox and its sinks; set *self_p to NULL. Safe on NULL. */
void alr_outbox_destroy(alr_outbox_t **self_p);

/** Add a sink; takes ownership and sets *sink_p to NULL. */
void alr_outbox_add_sink(alr_outbox_t *self, alr_sink_t **sink_p);

/** Deliver what is due at `now` (at most ALR_OUTBOX_BATCH rows). A
 *  delivery to a sink that is not configured stays pending with that
 *  error. @return the number delivered, or SN_EDB. */
int alr_outbox_run(alr_outbox_t *self, sn_time_t now, sn_err_t *err);

/** @return the delay before attempt `attempts` + 1, for a random value
 *  `r` in [0, 1): half the capped exponential delay plus r times the other
 *  half. Pure; exposed for tests. */
int64_t alr_outbox_backoff(const alr_outbox_opts_t *opts, int attempts,
                           double r);

/** @return deliveries failed since creation (for metrics). */
int64_t alr_outbox_failures(const alr_outbox_t *self);

#endif
