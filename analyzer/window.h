/*  analyzer/window.h - rolling window of daily counts for one series
 *
 *  A window keeps the newest `span` day bins of one series key (condition,
 *  region, source[, site]). Ingest adds case counts to the bin of their day
 *  (and takes them away again when a revision moves an event); detectors read
 *  the bins oldest first. A count older than the window is refused with a
 *  code, never dropped in silence, so ingest can dead-letter it. Aggregates
 *  of `width` days every `step` days (a 7-day sum, or weekly totals for the
 *  weekly detectors) are read from the same bins.
 *
 *  Threading: not thread-safe. A window is owned by the analyzer worker that
 *  created it and never leaves that thread.
 */
#ifndef SENTINEL_ANALYZER_WINDOW_H
#define SENTINEL_ANALYZER_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "sentinel/date.h"  /* sn_day_t: days since 1970-01-01 (UTC) */
#include "sentinel/error.h" /* SN_OK and the negative SN_E* codes */

#define ANA_WINDOW_MAX_SPAN 3660 /* ten years of daily bins */

typedef struct ana_window ana_window_t; /* opaque; defined in window.c */

/** Create an empty window of `span` bins whose newest bin is `today`.
 *  Asserts 2 <= span <= ANA_WINDOW_MAX_SPAN (the config loader has already
 *  rejected other values). Never returns NULL. Caller owns the result and
 *  frees it with ana_window_destroy(). */
ana_window_t *ana_window_new(size_t span, sn_day_t today);

/** Free the window and set *self_p to NULL. Safe when *self_p is NULL. */
void ana_window_destroy(ana_window_t **self_p);

/** Add `count` cases to the bin of `day`.
 *  @return SN_OK; SN_ETOOOLD if `day` precedes the oldest bin; SN_EFUTURE if
 *          it follows the newest (advance the window first); SN_EOVERFLOW if
 *          the bin would pass UINT32_MAX. The window is unchanged on error. */
int ana_window_add(ana_window_t *self, sn_day_t day, uint32_t count);

/** Take `count` cases away from the bin of `day` (a revised event moved).
 *  @return SN_OK; SN_ETOOOLD or SN_EFUTURE as ana_window_add(); SN_ERANGE
 *          when the bin holds fewer than `count`. Unchanged on error. */
int ana_window_sub(ana_window_t *self, sn_day_t day, uint32_t count);

/** Make `today` the newest bin: bins that fall off the old end are dropped
 *  and empty bins are opened. Asserts that `today` does not go backwards. */
void ana_window_advance(ana_window_t *self, sn_day_t today);

/** @return the number of bins, as given to ana_window_new(). */
size_t ana_window_span(const ana_window_t *self);

/** @return the day of the newest bin. */
sn_day_t ana_window_today(const ana_window_t *self);

/** @return the day of the oldest bin. */
sn_day_t ana_window_oldest(const ana_window_t *self);

/** Read the bin of `day` into *count.
 *  @return SN_OK, SN_ETOOOLD or SN_EFUTURE (then *count is untouched). */
int ana_window_get(const ana_window_t *self, sn_day_t day, uint32_t *count);

/** @return the bins, oldest first; there are ana_window_span() of them.
 *  The array belongs to the window and stays valid until the next call to
 *  ana_window_add(), ana_window_sub(), ana_window_advance() or
 *  ana_window_destroy(). */
const uint32_t *ana_window_counts(const ana_window_t *self);

/** Sum `width` days ending on `last` (inclusive) into *sum.
 *  @return SN_OK, or SN_ETOOOLD / SN_EFUTURE when a day of that range is
 *          outside the window. */
int ana_window_sum(const ana_window_t *self, sn_day_t last, size_t width,
                   uint64_t *sum);

/** Write the sliding aggregates of `width` days every `step` days whose last
 *  day is at most `last`, oldest first, into out[0 .. max-1]: aggregate i
 *  covers the `width` days ending `last - (n-1-i)*step`. As many as fit in
 *  the window (and in `max`) are written. Weekly totals are width 7, step 7.
 *  @return the number written (0 when not even one fits). */
size_t ana_window_aggregate(const ana_window_t *self, sn_day_t last,
                            size_t width, size_t step, double *out, size_t max);

#endif
