/*  analyzer/clock.h - event time: watermarks, closing days, late events
 *
 *  Series are binned by event time (the report or onset date), not by
 *  arrival. Each source has a watermark, the newest day it has sent. A day d
 *  is due to close when every active source's watermark has passed
 *  d + lateness (a source is active while its watermark is within
 *  `idle_days` of the newest one: a silent pharmacy feed must not hold every
 *  series open; feed health reports the silence instead). In live operation
 *  the wall clock also closes d once the day d + lateness has ended.
 *
 *  After a day has closed, an event for it is late: it still counts (the
 *  closed day is corrected and evaluated again, and the correction is
 *  recorded) as long as it falls within the horizon; older events are
 *  refused as too old.
 *
 *  Threading: not thread-safe; owned by the analyzer's ingest thread.
 */
#ifndef SENTINEL_ANALYZER_CLOCK_H
#define SENTINEL_ANALYZER_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sentinel/date.h"
#include "sentinel/error.h"
#include "sentinel/event.h"

#define ANA_CLOCK_NONE INT32_MIN /* no day yet */

typedef struct ana_clock ana_clock_t; /* opaque; defined in clock.c */

/* How an event's day stands against the clock (non-negative results). */
enum {
    ANA_CLOCK_OPEN = 0, /* its day is still open */
    ANA_CLOCK_LATE = 1, /* its day has closed: a correction */
};

/** Create a clock. `lateness_days` >= 0 is how long a day waits for late
 *  events; `idle_days` >= 1 after which a quiet source stops holding days
 *  open; `horizon_days` >= 1 how far back late events are still counted;
 *  `wall` whether the wall clock also closes days. Never returns NULL. */
ana_clock_t *ana_clock_new(int lateness_days, int idle_days, int horizon_days,
                           bool wall);

/** Free the clock and set *self_p to NULL. Safe on NULL. */
void ana_clock_destroy(ana_clock_t **self_p);

/** Classify an event day.
 *  @return ANA_CLOCK_OPEN, ANA_CLOCK_LATE, or SN_ETOOOLD when the day is
 *  before ana_clock_horizon(). */
int ana_clock_classify(const ana_clock_t *self, sn_day_t day);

/** Record that `source` sent an event of `day` (moves its watermark). */
void ana_clock_observe(ana_clock_t *self, sn_source_t source, sn_day_t day);

/** @return the newest day that may close now, given the watermarks and,
 *  when enabled, the wall clock `now`; ANA_CLOCK_NONE when none may. */
sn_day_t ana_clock_due(const ana_clock_t *self, sn_time_t now);

/** @return the first day that has not closed yet (ANA_CLOCK_NONE before
 *  any event). Days close in order from here up to ana_clock_due(). */
sn_day_t ana_clock_next(const ana_clock_t *self);

/** @return the last closed day, or ANA_CLOCK_NONE. */
sn_day_t ana_clock_closed(const ana_clock_t *self);

/** Record that `day` (which must be ana_clock_next()) has closed. */
void ana_clock_close(ana_clock_t *self, sn_day_t day);

/** @return the oldest day still counted (ANA_CLOCK_NONE before a close). */
sn_day_t ana_clock_horizon(const ana_clock_t *self);

/** @return the watermark of `source`, or ANA_CLOCK_NONE. */
sn_day_t ana_clock_watermark(const ana_clock_t *self, sn_source_t source);

/** Save / load the watermarks and the closed day (binary, state file).
 *  @return SN_OK, SN_EIO or SN_ECORRUPT. */
int ana_clock_save(const ana_clock_t *self, FILE *f);
int ana_clock_load(ana_clock_t *self, FILE *f, sn_err_t *err);

#endif
