/*  analyzer/quota.h - how many new series each sender may open per day
 *
 *  Every new (condition, region, source, site) an event names makes the
 *  analyzer allocate a leaf, its fan-out and, for configured series, a
 *  window of daily bins that lives for ever. A site that sends a new region
 *  or site code with every event could make it allocate without bound, so
 *  ingest asks this table before it opens a series: each sender (the
 *  transport's sender id, or the event's site) may open at most `limit` new
 *  series per day; past that its events are dead-lettered with the reason.
 *  The analyzer saves the counts of the current day with its checkpoints
 *  (ana_quota_save/load), so a restart does not give a sender a fresh
 *  quota.
 *
 *  Threading: not thread-safe; owned by the ingest pipeline's thread.
 */
#ifndef SENTINEL_ANALYZER_QUOTA_H
#define SENTINEL_ANALYZER_QUOTA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sentinel/date.h"  /* sn_day_t */
#include "sentinel/error.h" /* SN_OK and the negative SN_E* codes */

#define ANA_QUOTA_MAX_SENDERS 65536 /* senders tracked; others are refused */

typedef struct ana_quota ana_quota_t; /* opaque; defined in quota.c */

/** Create a table allowing `limit` new series per sender and day (0: no
 *  limit). Never returns NULL. Caller owns the result. */
ana_quota_t *ana_quota_new(uint32_t limit);

/** Free the table and set *self_p to NULL. Safe on NULL. */
void ana_quota_destroy(ana_quota_t **self_p);

/** Take one new series from the quota of `who` on `day`.
 *  @return true when it was allowed (and counted), false when `who` has
 *  used its quota for `day`, or is new while ANA_QUOTA_MAX_SENDERS others
 *  are tracked. */
bool ana_quota_take(ana_quota_t *self, const char *who, sn_day_t day);

/** @return the limit given to ana_quota_new(). */
uint32_t ana_quota_limit(const ana_quota_t *self);

/** Write the counts that can still refuse a series (those of the newest
 *  day any sender used, and the day before) to `f`, and mark the table
 *  saved. @return SN_OK or SN_EIO. */
int ana_quota_save(ana_quota_t *self, FILE *f);

/** Replace the counts with those ana_quota_save() wrote at `f`'s
 *  position. @return SN_OK, or SN_ECORRUPT (the table is unchanged). */
int ana_quota_load(ana_quota_t *self, FILE *f);

/** @return true when a count changed since the last save or load. */
bool ana_quota_changed(const ana_quota_t *self);

#endif
