/*  analyzer/ingest_int.h - what ingest.c and ingest_state.c share
 *
 *  The ingest state, and the few functions each file calls in the other:
 *  the placement and the day close that the live path (ingest.c) and the
 *  journal replay (ingest_state.c) share, and the redo-log writers the
 *  live path calls. Internal to ingest.c and ingest_state.c: nothing here
 *  leaves them. Ownership: the struct owns every object it points to
 *  (freed by ana_ingest_destroy()), except the sinks' arguments, which
 *  are borrowed; the functions borrow `self` and their other arguments.
 *
 *  Threading: not thread-safe; as ingest.h, one ingest belongs to one
 *  thread.
 */
#ifndef SENTINEL_ANALYZER_INGEST_INT_H
#define SENTINEL_ANALYZER_INGEST_INT_H

#include "ingest.h"

#include "clock.h"
#include "dedup.h"
#include "health.h"
#include "quota.h"
#include "rejects.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A closed (series, day) whose count changed. */
typedef struct ana_ingest_fix {
    uint32_t series; /* series id */
    sn_day_t day;    /* the day */
} ana_ingest_fix_t;

struct ana_ingest {
    ana_series_t *series;     /* series and their bins */
    ana_dedup_t *dedup;       /* idempotency table */
    ana_clock_t *clock;       /* event time */
    ana_trigger_t *trigger;   /* rules */
    ana_health_t *health;     /* feed health */
    ana_engine_t *engine;     /* detectors */
    ana_ingest_sinks_t sinks; /* where results go */
    bool onset;               /* bin by onset date */
    size_t dedup_capacity;    /* configured capacity */
    ana_rejects_t *dead;      /* dead-letter file, or NULL */
    ana_quota_t *quota;       /* new series per sender and day */
    ana_ingest_stats_t stats; /* counters */
    ana_ingest_fix_t *fix;    /* pending corrections */
    size_t n_fix, cap_fix;
    sn_time_t now;   /* wall clock of the current call */
    size_t purge_at; /* dedup size that allows the next purge */
    bool journal;    /* record the redo log */
    bool replaying;  /* in ana_ingest_replay(): callbacks muted */
    uint8_t *log;    /* redo log since the last ana_ingest_delta_clear() */
    size_t n_log, cap_log;
};

/** The state change of one placement (dedup, bins, watermark, feed
 *  health, a closed day's pending correction, the redo log), shared by
 *  the live path and the replay. `cls` is the clock's class of the day.
 *  @return as ana_dedup_offer(); nothing changes on a negative result. */
int ana_ingest_place(ana_ingest_t *self, ana_dedup_key_t dk,
                     const ana_dedup_entry_t *placed, int cls,
                     sn_day_t reported);

/** The saved state's part of closing `day`: the series' windows, feed
 *  health, the clock and the dedup horizon (and its purge). */
void ana_ingest_close_state(ana_ingest_t *self, sn_day_t day);

/** Redo-log writers: each records one operation when the journal is on
 *  and does nothing otherwise. An accepted placement, with its report
 *  day for feed health. */
void ana_ingest_log_event(ana_ingest_t *self, ana_dedup_key_t dk,
                          const ana_dedup_entry_t *placed, sn_day_t reported);

/** A new leaf `id`, with the key parts of `ev`. */
void ana_ingest_log_leaf(ana_ingest_t *self, uint32_t id, const sn_event_t *ev);

/** The trigger's hook (ana_trigger_set_log(), `arg` is the ingest): a
 *  change of its signals, tag `op` and its packed record. */
void ana_ingest_log_trigger(void *arg, uint8_t op, const uint8_t *rec,
                            size_t len);

/** A closed `day`, with the ingest's current wall clock. */
void ana_ingest_log_close(ana_ingest_t *self, sn_day_t day);

#endif
