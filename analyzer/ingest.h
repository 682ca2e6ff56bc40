/*  analyzer/ingest.h - from case events to closed days, signals and alerts
 *
 *  The analyzer's pipeline without its transport: each record is decoded and
 *  validated (bad ones are dead-lettered with the reason), deduplicated by
 *  (site_id, event_id) with revision semantics, binned by the configured
 *  date (report or onset) into every series it counts towards, counted for
 *  the fixed-threshold rules (alerts at once) and for feed health. A tick
 *  closes the days the clock says are due: the engine runs every detector
 *  on every series, the trigger rules combine the alarms, feed health
 *  checks the feeds. Late events correct closed days; the corrections are
 *  evaluated again at the next tick and recorded as corrections.
 *
 *  The whole state (clock, dedup table, series and their bins, feed health)
 *  is saved and loaded as one stream, which the daemon writes atomically
 *  with the transport positions: after kill -9, nothing is lost or counted
 *  twice. Between two such snapshots the daemon journals only what changed:
 *  with ana_ingest_journal() on, every change to that state is recorded as
 *  a compact redo log (a new leaf, an accepted placement, a day close), and
 *  ana_ingest_replay() applies it again after a load. The daemon (analyzer.h),
 * the scenario tests and the benchmark all drive this module.
 *
 *  Threading: not thread-safe; one ingest belongs to one thread, which also
 *  runs every callback.
 */
#ifndef SENTINEL_ANALYZER_INGEST_H
#define SENTINEL_ANALYZER_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sentinel/event.h"
#include "sentinel/transport.h"

#include "ana_config.h"
#include "engine.h"
#include "quota.h"
#include "series.h"
#include "trigger.h"

typedef struct ana_ingest ana_ingest_t; /* opaque; ingest_int.h */

/* What ana_ingest_event() did with an event (non-negative results). */
enum {
    ANA_INGEST_COUNTED = 0, /* new: counted on an open day */
    ANA_INGEST_REVISED = 1, /* a higher revision moved the count */
    ANA_INGEST_LATE = 2,    /* counted on a closed day: a correction */
};

/* Where the results go; any callback may be NULL. */
typedef struct ana_ingest_sinks {
    ana_trigger_fn alert; /* every alert, feed health included */
    void *alert_arg;
    ana_engine_sink_fn rows; /* every series' results per closed day */
    void *rows_arg;
} ana_ingest_sinks_t;

/* Counters since creation (not saved). */
typedef struct ana_ingest_stats {
    uint64_t records;    /* offered */
    uint64_t counted;    /* counted (new, revised or late) */
    uint64_t duplicates; /* dropped as duplicates */
    uint64_t revised;    /* revisions that moved a count */
    uint64_t late;       /* corrections of closed days */
    uint64_t rejected;   /* dead-lettered */
    uint64_t alerts;     /* alerts raised */
    uint64_t days;       /* days closed */
    uint64_t alarms;     /* detector alarms */
    uint64_t dedup_full; /* refused: the dedup table was full */
} ana_ingest_stats_t;

/** Create the pipeline from a read configuration (copied where needed;
 *  `cfg` may be freed afterwards). @return SN_OK with *out (caller owns
 *  it), or the detector's error for a bad detector. */
int ana_ingest_new(const ana_config_t *cfg, const ana_ingest_sinks_t *sinks,
                   ana_ingest_t **out, sn_err_t *err);

/** Free the pipeline and set *self_p to NULL. Safe on NULL. */
void ana_ingest_destroy(ana_ingest_t **self_p);

/** The dedup table's live entries and capacity, into *size and *cap. */
void ana_ingest_dedup_usage(const ana_ingest_t *self, size_t *size,
                            size_t *cap);

/** Append rejected records to `path` (JSON lines: time, sender, seq,
 *  reason, and the event or its bytes in hex). @return SN_OK or SN_EIO. */
int ana_ingest_dead_letter(ana_ingest_t *self, const char *path, sn_err_t *err);

/** Ingest one validated-or-not event. `now` is the wall clock (future dates
 *  are refused against it). @return ANA_INGEST_COUNTED, _REVISED or _LATE;
 *  SN_EDUP for a duplicate (dropped, not dead-lettered); SN_EVALIDATE,
 *  SN_ENOTFOUND (unknown condition), SN_ETOOOLD (beyond the horizon) or
 *  SN_EFULL (dedup table full) with the reason in err, dead-lettered. */
int ana_ingest_event(ana_ingest_t *self, const sn_event_t *ev, sn_time_t now,
                     sn_err_t *err);

/** Decode one transport record (a sentinel.v1.CaseEvent) and ingest it;
 *  `sender` and `seq` name it in the dead letter. @return as
 *  ana_ingest_event(), or SN_EPARSE (dead-lettered). */
int ana_ingest_record(ana_ingest_t *self, const uint8_t *data, size_t len,
                      const char *sender, uint64_t seq, sn_time_t now,
                      sn_err_t *err);

/** Ingest a batch of transport records, with the same result as
 *  ana_ingest_record() on each in order (dead letters name each record's
 *  sender and seq), but faster: the memory accesses of later records start
 *  while earlier ones are placed. `now` is the wall clock for all of them.
 *  @return the number of records counted (new, revised or late). */
size_t ana_ingest_records(ana_ingest_t *self, const sn_record_t *recs, size_t n,
                          sn_time_t now);

/** Close every due day (and evaluate pending corrections).
 *  @return the number of days closed. */
int ana_ingest_tick(ana_ingest_t *self, sn_time_t now);

/** Close every day up to and including `day` regardless of watermarks
 *  (end of a replay). @return the number of days closed. */
int ana_ingest_close_through(ana_ingest_t *self, sn_day_t day, sn_time_t now);

/** @return the counters. */
const ana_ingest_stats_t *ana_ingest_stats(const ana_ingest_t *self);

/** @return the series table (borrowed; valid while self lives). */
ana_series_t *ana_ingest_series(ana_ingest_t *self);

/** @return the new-series quota table (borrowed; valid while self lives):
 *  the analyzer saves and restores it with its checkpoints. */
ana_quota_t *ana_ingest_quota(ana_ingest_t *self);

/** @return the engine (borrowed; valid while self lives). */
const ana_engine_t *ana_ingest_engine(const ana_ingest_t *self);

/** @return the last closed day, or INT32_MIN. */
sn_day_t ana_ingest_closed(const ana_ingest_t *self);

/** Record (on) or stop recording (off) the redo log of state changes. */
void ana_ingest_journal(ana_ingest_t *self, bool on);

/** @return the redo log recorded since the last ana_ingest_delta_clear(),
 *  `*len` bytes (borrowed; valid until the next ingest call). */
const uint8_t *ana_ingest_delta(const ana_ingest_t *self, size_t *len);

/** @return the redo log recorded since the last ana_ingest_delta_clear()
 *  as one journal payload: its length in bytes (a uint64_t in host order)
 *  then the log, `*len` bytes in all, without copying it (borrowed; valid
 *  until the next ingest call). */
const uint8_t *ana_ingest_delta_frame(ana_ingest_t *self, size_t *len);

/** Forget the recorded redo log (it has been made durable). */
void ana_ingest_delta_clear(ana_ingest_t *self);

/** Apply a redo log recorded by a pipeline of the same configuration on
 *  top of the state it was recorded against (a load, then earlier logs in
 *  order). Alerts are not raised again and detectors do not run; days with
 *  corrections are evaluated again at the next tick.
 *  @return SN_OK, or SN_ECORRUPT naming the byte that does not apply (the
 *  operations before it are applied). */
int ana_ingest_replay(ana_ingest_t *self, const uint8_t *ops, size_t len,
                      sn_err_t *err);

/** Save the whole state to `f`. @return SN_OK or SN_EIO. */
int ana_ingest_save(const ana_ingest_t *self, FILE *f);

/** Load a state saved by ana_ingest_save() into a pipeline just created
 *  with the same configuration. @return SN_OK, SN_EIO or SN_ECORRUPT. */
int ana_ingest_load(ana_ingest_t *self, FILE *f, sn_err_t *err);

#endif
