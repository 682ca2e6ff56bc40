/*  analyzer/health.h - feed health: silent sites and backlog resubmissions
 *
 *  A silent fever clinic must not look like a quiet week. Feed health keeps,
 *  per (site, source) feed, which recent days it reported on. When a day
 *  closes, a feed that usually reports (on at least `usual_fraction` of the
 *  `baseline_days` before its silence) but has sent nothing for
 *  `silent_days` days raises a feed-health signal; so does a feed that
 *  suddenly resubmits a backlog (at least `backlog_min` events, arrived
 *  since the last close, about days more than `backlog_days` before the
 *  closed day). Signals are alerts of rule "feed-health" with condition
 *  "feed", the site's region, and one evidence row naming the feed (series
 *  key "feed/SITE/SOURCE", detector "silence" or "backlog"), so they are
 *  shown beside the epidemiological alerts. A silence is raised once and
 *  raised again only after the feed has reported in between.
 *
 *  Threading: not thread-safe; owned by the analyzer's ingest thread, which
 *  also runs the callback.
 */
#ifndef SENTINEL_ANALYZER_HEALTH_H
#define SENTINEL_ANALYZER_HEALTH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sentinel/alert.h"
#include "sentinel/date.h"
#include "sentinel/error.h"

#include "series.h"
#include "trigger.h"

#define ANA_HEALTH_MAX_DAYS 120 /* silent_days + baseline_days at most */

/* The thresholds; ana_health_opts_default() gives the documented ones. */
typedef struct ana_health_opts {
    int silent_days;       /* days without events (3) */
    int baseline_days;     /* days looked at before the silence (28) */
    double usual_fraction; /* share of baseline days with events (0.5) */
    int backlog_days;      /* an event this much older than the closed day
                              is backlog (7) */
    uint32_t backlog_min;  /* backlog events between closes (100) */
    sn_level_t level;      /* level of the signals (blue) */
} ana_health_opts_t;

typedef struct ana_health ana_health_t; /* opaque; defined in health.c */

/** Fill `opts` with the defaults in the comments above. */
void ana_health_opts_default(ana_health_opts_t *opts);

/** Create the tracker; `fn` receives the signals (as trigger.h's).
 *  Asserts silent_days + baseline_days <= ANA_HEALTH_MAX_DAYS.
 *  Never returns NULL. Caller owns the result. */
ana_health_t *ana_health_new(const ana_health_opts_t *opts, ana_trigger_fn fn,
                             void *arg);

/** Free the tracker and set *self_p to NULL. Safe on NULL. */
void ana_health_destroy(ana_health_t **self_p);

/** Note an event of leaf `leaf` (key `key`, day `day`) that arrived while
 *  `closed` was the last closed day (ANA_CLOCK_NONE before any). */
void ana_health_event(ana_health_t *self, uint32_t leaf,
                      const ana_series_key_t *key, sn_day_t day,
                      sn_day_t closed);

/** Check every feed at the close of `day`; raise what is due.
 *  @return the number of signals raised. */
int ana_health_close(ana_health_t *self, sn_day_t day, sn_time_t now);

/** @return the number of feeds known. */
size_t ana_health_feeds(const ana_health_t *self);

/** Save / load the feeds (binary, in the analyzer's state file). Leaves
 *  are re-mapped on the next event. @return SN_OK, SN_EIO, SN_ECORRUPT. */
int ana_health_save(const ana_health_t *self, FILE *f);
int ana_health_load(ana_health_t *self, FILE *f, sn_err_t *err);

#endif
