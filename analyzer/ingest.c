/*  analyzer/ingest.c - from case events to closed days, signals and alerts
 *
 *  The per-event path is: validate, classify the day against the clock,
 *  find the leaf (one hash lookup), offer to dedup (one probe), add to the
 *  leaf's series (a few bin increments), then the threshold rules and feed
 *  health (an index each). Nothing on it allocates once its leaf and series
 *  exist. Day closes and corrections run at ticks.
 *
 *  The dedup probe is the one random access into a large table per event,
 *  so ana_ingest_records() decodes and fingerprints a small group of
 *  records and prefetches their dedup slots, then places them in order:
 *  the misses overlap, the results are those of one record at a time.
 *
 *  The redo log: with the journal on, every change to the saved state is
 *  also recorded as a small operation (a new leaf, an accepted placement,
 *  a day close) in a buffer the daemon appends to its journal file at each
 *  checkpoint. Replaying the operations on the state they were recorded
 *  against runs the same code as the live path (the dedup offer, the bins,
 *  the watermark, feed health), with the alerts and the detectors left
 *  out: their effects were made durable before the operations were.
 */
#include "ingest.h"

#include "clock.h"
#include "dedup.h"
#include "health.h"
#include "quota.h"
#include "rejects.h"
#include "sentinel/mem.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#define S_MAGIC 0x414e4731u  /* "ANG1": a state without the trigger's */
#define S_MAGIC2 0x414e4732u /* "ANG2": with the trigger's signals */
#define S_LOG_HEAD 8         /* bytes before the redo log: its length */
/* Records decoded (their dedup slots prefetched) before the first is
 * placed: enough to cover a miss, few enough to stay in the cache. */
#define S_GROUP 16

/* Redo-log operation tags. */
enum {
    S_OP_LEAF = 'L',   /* u32 id, u8 source, condition, region, site (NUL) */
    S_OP_EVENT = 'E',  /* dedup key (2 x u64), placement (4 x u32) */
    S_OP_EVENT2 = 'F', /* the same and i32 report day (feed health) */
    S_OP_CLOSE = 'C',  /* i32 day, i64 now */
    /* ANA_TRIGGER_OP_SIGNAL 'S' and ANA_TRIGGER_OP_RETRACT 'R': u32 length
     * and the trigger's packed record (trigger.c) */
};

/* A closed (series, day) whose count changed. */
typedef struct s_fix {
    uint32_t series; /* series id */
    sn_day_t day;    /* the day */
} s_fix_t;

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
    s_fix_t *fix;             /* pending corrections */
    size_t n_fix, cap_fix;
    sn_time_t now;   /* wall clock of the current call */
    size_t purge_at; /* dedup size that allows the next purge */
    bool journal;    /* record the redo log */
    bool replaying;  /* in ana_ingest_replay(): callbacks muted */
    uint8_t *log;    /* redo log since the last ana_ingest_delta_clear() */
    size_t n_log, cap_log;
};

static void
s_on_alert(const sn_alert_t *alert, void *arg)
{
    ana_ingest_t *self = arg;
    if (self->replaying) {
        return; /* raised and made durable before it was journaled */
    }
    self->stats.alerts++;
    if (self->sinks.alert != NULL) {
        self->sinks.alert(alert, self->sinks.alert_arg);
    }
}

static void s_log_trigger(void *arg, uint8_t op, const uint8_t *rec,
                          size_t len);

int
ana_ingest_new(const ana_config_t *cfg, const ana_ingest_sinks_t *sinks,
               ana_ingest_t **out, sn_err_t *err)
{
    ana_ingest_t *self = sn_calloc(1, sizeof *self);
    if (sinks != NULL) {
        self->sinks = *sinks;
    }
    self->onset = cfg->onset;
    self->dedup_capacity = cfg->dedup_capacity;
    self->series = ana_series_new(cfg->conds, cfg->n_conds, cfg->specs,
                                  cfg->n_specs, cfg->window_days, 0);
    self->dedup = ana_dedup_new(cfg->dedup_capacity);
    self->quota = ana_quota_new(cfg->max_new_series);
    self->clock = ana_clock_new(cfg->lateness_days, cfg->idle_days,
                                cfg->horizon_days, cfg->wall_clock);
    self->trigger = ana_trigger_new(cfg->rules, cfg->n_rules, self->series,
                                    s_on_alert, self);
    ana_trigger_set_log(self->trigger, s_log_trigger, self);
    self->health = ana_health_new(&cfg->health, s_on_alert, self);
    int rc = ana_engine_new(self->series, cfg->dets, cfg->n_dets, self->trigger,
                            self->sinks.rows, self->sinks.rows_arg,
                            &self->engine, err);
    if (rc != SN_OK) {
        ana_ingest_destroy(&self);
        return rc;
    }
    *out = self;
    return SN_OK;
}

void
ana_ingest_destroy(ana_ingest_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    ana_ingest_t *self = *self_p;
    ana_engine_destroy(&self->engine);
    ana_health_destroy(&self->health);
    ana_trigger_destroy(&self->trigger);
    ana_clock_destroy(&self->clock);
    ana_dedup_destroy(&self->dedup);
    ana_series_destroy(&self->series);
    ana_rejects_destroy(&self->dead);
    free(self->fix);
    free(self->log);
    ana_quota_destroy(&self->quota);
    free(self);
    *self_p = NULL;
}

void
ana_ingest_dedup_usage(const ana_ingest_t *self, size_t *size, size_t *cap)
{
    *size = ana_dedup_size(self->dedup);
    *cap = ana_dedup_capacity(self->dedup);
}

int
ana_ingest_dead_letter(ana_ingest_t *self, const char *path, sn_err_t *err)
{
    ana_rejects_t *r = NULL;
    int rc = ana_rejects_open(path, &r, err);
    if (rc == SN_OK) {
        ana_rejects_destroy(&self->dead);
        self->dead = r;
    }
    return rc;
}

/* Count a refused record and write it to the dead letter, if any. */
static void
s_dead(ana_ingest_t *self, const char *sender, uint64_t seq,
       const sn_event_t *ev, const uint8_t *data, size_t len,
       const sn_err_t *err)
{
    self->stats.rejected++;
    if (self->dead != NULL) {
        ana_rejects_write(self->dead, self->now, sender, seq, ev, data, len,
                          err);
    }
}

/* ---- events ------------------------------------------------------------- */

static void
s_fix_push(ana_ingest_t *self, uint32_t series, sn_day_t day)
{
    if (self->n_fix == self->cap_fix) {
        self->cap_fix = self->cap_fix ? self->cap_fix * 2 : 64;
        self->fix =
            sn_reallocarray(self->fix, self->cap_fix, sizeof *self->fix);
    }
    self->fix[self->n_fix++] = (s_fix_t){series, day};
}

/* A closed `day` of `leaf` changed: correct it in every series the leaf
 * counts in, and the closed days after it whose detector windows hold it
 * (a weekly detector's Sunday, the next days of a 7-day sum). */
static void
s_fix_add(ana_ingest_t *self, uint32_t leaf, sn_day_t day)
{
    size_t n;
    const uint32_t *ids = ana_series_fanout(self->series, leaf, &n);
    sn_day_t last = day + (sn_day_t)ana_engine_reach(self->engine);
    sn_day_t closed = ana_clock_closed(self->clock);
    last = last < closed ? last : closed;
    for (size_t i = 0; i < n; i++) {
        s_fix_push(self, ids[i], day);
        for (sn_day_t d = day + 1; d <= last; d++) {
            if (ana_engine_holds(self->engine, d, day)) {
                s_fix_push(self, ids[i], d);
            }
        }
    }
}

static sn_day_t
s_day_of(const ana_ingest_t *self, const sn_event_t *ev)
{
    if (self->onset && ev->onset_date != SN_DAY_NONE) {
        return ev->onset_date;
    }
    return sn_time_day(ev->report_time);
}

/* Take back the count of a replaced revision. */
static void
s_unplace(ana_ingest_t *self, const ana_dedup_entry_t *old)
{
    if (ana_series_add(self->series, old->leaf, old->day, old->count, -1) ==
            SN_OK &&
        ana_clock_classify(self->clock, old->day) == ANA_CLOCK_LATE) {
        s_fix_add(self, old->leaf, old->day);
    }
}

/* ---- redo log ----------------------------------------------------------- */

/* The redo log lives at self->log + S_LOG_HEAD: the head is kept free for
 * the length that ana_ingest_delta_frame() writes there, so a journal frame
 * is the buffer itself, not a copy of it. */
static void
s_log_put(ana_ingest_t *self, const void *p, size_t n)
{
    size_t need = S_LOG_HEAD + self->n_log + n;
    if (need > self->cap_log) {
        size_t cap = self->cap_log ? self->cap_log : 1u << 16;
        while (cap < need) {
            cap *= 2;
        }
        self->log = sn_realloc(self->log, cap);
        self->cap_log = cap;
    }
    memcpy(self->log + S_LOG_HEAD + self->n_log, p, n);
    self->n_log += n;
}

static void
s_log_event(ana_ingest_t *self, ana_dedup_key_t dk,
            const ana_dedup_entry_t *placed, sn_day_t reported)
{
    if (!self->journal) {
        return;
    }
    uint8_t op[1 + sizeof dk + sizeof *placed + 4];
    int32_t r = reported;
    op[0] = S_OP_EVENT2;
    memcpy(op + 1, &dk, sizeof dk);
    memcpy(op + 1 + sizeof dk, placed, sizeof *placed);
    memcpy(op + 1 + sizeof dk + sizeof *placed, &r, 4);
    s_log_put(self, op, sizeof op);
}

static void
s_log_leaf(ana_ingest_t *self, uint32_t id, const sn_event_t *ev)
{
    if (!self->journal) {
        return;
    }
    uint8_t op[6];
    op[0] = S_OP_LEAF;
    memcpy(op + 1, &id, 4);
    op[5] = (uint8_t)ev->source;
    s_log_put(self, op, sizeof op);
    s_log_put(self, ev->condition, strlen(ev->condition) + 1);
    s_log_put(self, ev->region, strlen(ev->region) + 1);
    s_log_put(self, ev->site_id, strlen(ev->site_id) + 1);
}

/* The trigger's hook: a change of its signals goes to the redo log. */
static void
s_log_trigger(void *arg, uint8_t op, const uint8_t *rec, size_t len)
{
    ana_ingest_t *self = arg;
    if (!self->journal) {
        return;
    }
    uint32_t n = (uint32_t)len;
    s_log_put(self, &op, 1);
    s_log_put(self, &n, 4);
    s_log_put(self, rec, len);
}

static void
s_log_close(ana_ingest_t *self, sn_day_t day)
{
    if (!self->journal) {
        return;
    }
    uint8_t op[1 + 4 + 8];
    int32_t d = day;
    int64_t now = self->now;
    op[0] = S_OP_CLOSE;
    memcpy(op + 1, &d, 4);
    memcpy(op + 5, &now, 8);
    s_log_put(self, op, sizeof op);
}

/* ---- placements ------------------------------------------------------- */

/* The state change of one placement: dedup, bins, watermark, feed health
 * and, for a closed day, the pending correction. The live path and the
 * replay share it, so a replay cannot drift from what was done live.
 * @return as ana_dedup_offer(); nothing changes on a negative result. */
static int
s_place(ana_ingest_t *self, ana_dedup_key_t dk, const ana_dedup_entry_t *placed,
        int cls, sn_day_t reported)
{
    ana_dedup_entry_t old;
    int rc = ana_dedup_offer(self->dedup, dk, placed, &old);
    if (rc < 0) {
        return rc;
    }
    /* Threshold rules count the event now; a revision that moves it to
     * another series or day takes its cases from the old placement and
     * counts them at the new one (a case corrected to cholera raises its
     * alert), one that keeps them in place counts only a changed number (a
     * discharge A03 raises nothing again). A replay counts without raising
     * what was raised when the event first came. */
    int64_t delta = placed->count;
    if (rc == ANA_DEDUP_REVISED) {
        self->stats.revised++;
        s_unplace(self, &old);
        bool moved = old.leaf != placed->leaf || old.day != placed->day;
        if (moved) {
            ana_trigger_count(self->trigger,
                              ana_series_leaf_key(self->series, old.leaf),
                              old.day, -(int64_t)old.count, self->now, false);
        } else {
            delta = (int64_t)placed->count - (int64_t)old.count;
        }
    }
    ana_series_add(self->series, placed->leaf, placed->day, placed->count, 1);
    const ana_series_key_t *key =
        ana_series_leaf_key(self->series, placed->leaf);
    ana_trigger_count(self->trigger, key, placed->day, delta, self->now,
                      !self->replaying);
    ana_clock_observe(self->clock, (sn_source_t)key->source, placed->day);
    /* Feed health is about when a feed reports, whatever day the count
     * is binned on: with date_basis onset, onsets lag their reports. */
    ana_health_event(self->health, placed->leaf, key, reported,
                     ana_clock_closed(self->clock));
    if (cls == ANA_CLOCK_LATE) {
        s_fix_add(self, placed->leaf, placed->day);
    }
    s_log_event(self, dk, placed, reported);
    return rc;
}

/* Dedup (by its fingerprint `dk`) and count a valid event on `day`. */
static int
s_count(ana_ingest_t *self, const sn_event_t *ev, ana_dedup_key_t dk,
        sn_day_t day, int cls, uint32_t leaf, sn_err_t *err)
{
    ana_dedup_entry_t placed = {leaf, day, ev->count, ev->revision};
    int rc = s_place(self, dk, &placed, cls, sn_time_day(ev->report_time));
    if (rc == SN_EDUP) {
        self->stats.duplicates++;
        return rc;
    }
    if (rc == SN_EFULL) {
        self->stats.dedup_full++;
    }
    if (rc == SN_EFULL || rc == SN_ETOOOLD) {
        return sn_err_set(err, rc,
                          rc == SN_EFULL
                              ? "event '%s': the dedup table is full"
                              : "event '%s': older than the dedup horizon",
                          ev->event_id);
    }
    self->stats.counted++;
    if (cls == ANA_CLOCK_LATE) {
        self->stats.late++;
        return ANA_INGEST_LATE;
    }
    return rc == ANA_DEDUP_REVISED ? ANA_INGEST_REVISED : ANA_INGEST_COUNTED;
}

/* Find or create the leaf of `ev`. A new one counts against the quota of
 * `who` (the transport sender, or the event's site): past it the event is
 * refused, so a hostile site cannot make the analyzer allocate series
 * without bound. */
static int
s_leaf(ana_ingest_t *self, const sn_event_t *ev, const char *who,
       uint32_t *leaf, sn_err_t *err)
{
    if (ana_series_leaf_find(self->series, ev->condition, ev->region,
                             ev->source, ev->site_id, leaf) == SN_OK) {
        return SN_OK;
    }
    if (ana_series_condition(self->series, ev->condition) != NULL &&
        !ana_quota_take(self->quota, who, sn_time_day(self->now))) {
        return sn_err_set(err, SN_EFULL,
                          "event '%s': sender '%s' reached its limit of %u "
                          "new series today "
                          "(analyzer.max_new_series_per_site_day)",
                          ev->event_id, who, ana_quota_limit(self->quota));
    }
    int rc = ana_series_leaf(self->series, ev->condition, ev->region,
                             ev->source, ev->site_id, leaf, err);
    if (rc == SN_OK) {
        s_log_leaf(self, *leaf, ev);
    }
    return rc;
}

static int
s_event(ana_ingest_t *self, const sn_event_t *ev, ana_dedup_key_t dk,
        const char *who, sn_err_t *err)
{
    int rc = sn_event_validate(ev, self->now, err);
    if (rc != SN_OK) {
        return rc;
    }
    sn_day_t day = s_day_of(self, ev);
    int cls = ana_clock_classify(self->clock, day);
    if (cls < 0) {
        char a[SN_DAY_STR_MAX], b[SN_DAY_STR_MAX];
        return sn_err_set(err, SN_ETOOOLD,
                          "event '%s': day %s is before the horizon %s",
                          ev->event_id, sn_day_format(day, a),
                          sn_day_format(ana_clock_horizon(self->clock), b));
    }
    uint32_t leaf;
    rc = s_leaf(self, ev, who != NULL ? who : ev->site_id, &leaf, err);
    if (rc != SN_OK) {
        return rc;
    }
    return s_count(self, ev, dk, day, cls, leaf, err);
}

int
ana_ingest_event(ana_ingest_t *self, const sn_event_t *ev, sn_time_t now,
                 sn_err_t *err)
{
    self->now = now;
    self->stats.records++;
    int rc =
        s_event(self, ev, ana_dedup_key(ev->site_id, ev->event_id), NULL, err);
    if (rc < 0 && rc != SN_EDUP) {
        s_dead(self, NULL, 0, ev, NULL, 0, err);
    }
    return rc;
}

/* Ingest record `r`, whose decode gave `rc` (and, on SN_OK, `ev` with its
 * fingerprint `dk`); dead-letter it when it is refused. */
static int
s_record(ana_ingest_t *self, const sn_record_t *r, int rc, const sn_event_t *ev,
         ana_dedup_key_t dk, sn_err_t *err)
{
    self->stats.records++;
    if (rc != SN_OK) {
        s_dead(self, r->sender_id, r->seq, NULL, r->data, r->len, err);
        return rc;
    }
    rc = s_event(self, ev, dk, r->sender_id, err);
    if (rc < 0 && rc != SN_EDUP) {
        s_dead(self, r->sender_id, r->seq, ev, NULL, 0, err);
    }
    return rc;
}

int
ana_ingest_record(ana_ingest_t *self, const uint8_t *data, size_t len,
                  const char *sender, uint64_t seq, sn_time_t now,
                  sn_err_t *err)
{
    sn_event_t ev;
    sn_record_t r = {sender, seq, data, len};
    ana_dedup_key_t dk = {0, 0};
    self->now = now;
    int rc = ana_wire_decode(data, len, &ev, err);
    if (rc == SN_OK) {
        dk = ana_dedup_key(ev.site_id, ev.event_id);
    }
    return s_record(self, &r, rc, &ev, dk, err);
}

/* The first half of a batch group: decode each record, fingerprint it and
 * start loading its dedup slot. rc[i] is the decode's result. */
static void
s_group_decode(ana_ingest_t *self, const sn_record_t *recs, size_t n,
               sn_event_t *ev, ana_dedup_key_t *dk, int *rc, sn_err_t *errs)
{
    for (size_t i = 0; i < n; i++) {
        rc[i] = ana_wire_decode(recs[i].data, recs[i].len, &ev[i], &errs[i]);
        dk[i] = rc[i] == SN_OK
                    ? ana_dedup_key(ev[i].site_id, ev[i].event_id)
                    : (ana_dedup_key_t){0, 0}; /* passed on, not used */
    }
    for (size_t i = 0; i < n; i++) {
        if (rc[i] == SN_OK) {
            ana_dedup_prefetch(self->dedup, dk[i]);
        }
    }
}

size_t
ana_ingest_records(ana_ingest_t *self, const sn_record_t *recs, size_t n,
                   sn_time_t now)
{
    sn_event_t ev[S_GROUP];
    ana_dedup_key_t dk[S_GROUP];
    int rc[S_GROUP];
    sn_err_t errs[S_GROUP];
    size_t counted = 0;
    self->now = now;
    for (size_t at = 0; at < n; at += S_GROUP) {
        size_t g = n - at < S_GROUP ? n - at : S_GROUP;
        s_group_decode(self, recs + at, g, ev, dk, rc, errs);
        for (size_t i = 0; i < g; i++) {
            counted += s_record(self, &recs[at + i], rc[i], &ev[i], dk[i],
                                &errs[i]) >= 0;
        }
    }
    return counted;
}

/* ---- days --------------------------------------------------------------- */

static int
s_fix_cmp(const void *a, const void *b)
{
    const s_fix_t *x = a, *y = b;
    if (x->day != y->day) {
        return x->day < y->day ? -1 : 1;
    }
    return (x->series > y->series) - (x->series < y->series);
}

/* Evaluate the pending corrections again, each (series, day) once. */
static void
s_fix_run(ana_ingest_t *self)
{
    if (self->n_fix == 0) {
        return;
    }
    qsort(self->fix, self->n_fix, sizeof *self->fix, s_fix_cmp);
    ana_trigger_mark(self->trigger);
    for (size_t i = 0; i < self->n_fix; i++) {
        const s_fix_t *f = &self->fix[i];
        if (i > 0 && s_fix_cmp(f, &self->fix[i - 1]) == 0) {
            continue;
        }
        self->stats.alarms +=
            ana_engine_correct(self->engine, f->series, f->day);
    }
    /* The rules read windows: a corrected day's signals may complete a
     * group with the signals of a later closed day within the longest
     * window, so each corrected day and those after it are evaluated
     * again, oldest first, each day once; only the groups holding a
     * signal of the corrections are raised (the others were raised, or
     * not, on the same evidence before). */
    sn_day_t closed = ana_clock_closed(self->clock), next = INT32_MIN;
    sn_day_t span = (sn_day_t)ana_trigger_window(self->trigger);
    for (size_t i = 0; i < self->n_fix; i++) {
        sn_day_t d = self->fix[i].day > next ? self->fix[i].day : next;
        sn_day_t last = self->fix[i].day + span - 1;
        for (; d <= (last < closed ? last : closed); d++) {
            ana_trigger_reevaluate(self->trigger, d, self->now);
            next = d + 1;
        }
    }
    self->n_fix = 0;
}

/* The saved state's part of a day close: the series' windows, feed health
 * (whose alerts the live path sends), the clock and the dedup horizon. */
static void
s_close_state(ana_ingest_t *self, sn_day_t day)
{
    ana_series_advance(self->series, day);
    ana_health_close(self->health, day, self->now);
    ana_clock_close(self->clock, day);
    ana_dedup_set_horizon(self->dedup, ana_clock_horizon(self->clock));
    /* Reclaim expired dedup entries once the table is 3/4 full, but not
     * again before another 1/8 of its capacity has been inserted: a purge
     * that frees little must not repeat at every close (a rebuild is
     * O(capacity)), so its cost stays amortised over the inserts. */
    size_t cap = ana_dedup_capacity(self->dedup);
    size_t size = ana_dedup_size(self->dedup);
    if (size > cap / 4 * 3 && size >= self->purge_at) {
        ana_dedup_purge(self->dedup);
        self->purge_at = ana_dedup_size(self->dedup) + cap / 8;
    }
}

/* Close `day`: detectors (which advance the windows first), rules, then
 * the state. Health runs after the rules, as it always has. */
static void
s_close(ana_ingest_t *self, sn_day_t day)
{
    self->stats.alarms += ana_engine_close(self->engine, day);
    ana_trigger_evaluate(self->trigger, day, self->now);
    s_close_state(self, day);
    s_log_close(self, day);
    self->stats.days++;
}

int
ana_ingest_tick(ana_ingest_t *self, sn_time_t now)
{
    self->now = now;
    s_fix_run(self);
    sn_day_t due = ana_clock_due(self->clock, now);
    int n = 0;
    while (due != ANA_CLOCK_NONE && ana_clock_next(self->clock) <= due) {
        s_close(self, ana_clock_next(self->clock));
        n++;
    }
    return n;
}

int
ana_ingest_close_through(ana_ingest_t *self, sn_day_t day, sn_time_t now)
{
    self->now = now;
    s_fix_run(self);
    int n = 0;
    while (ana_clock_next(self->clock) != ANA_CLOCK_NONE &&
           ana_clock_next(self->clock) <= day) {
        s_close(self, ana_clock_next(self->clock));
        n++;
    }
    return n;
}

const ana_ingest_stats_t *
ana_ingest_stats(const ana_ingest_t *self)
{
    return &self->stats;
}

ana_series_t *
ana_ingest_series(ana_ingest_t *self)
{
    return self->series;
}

ana_quota_t *
ana_ingest_quota(ana_ingest_t *self)
{
    return self->quota;
}

const ana_engine_t *
ana_ingest_engine(const ana_ingest_t *self)
{
    return self->engine;
}

sn_day_t
ana_ingest_closed(const ana_ingest_t *self)
{
    return ana_clock_closed(self->clock);
}

/* ---- redo log: the API --------------------------------------------------- */

void
ana_ingest_journal(ana_ingest_t *self, bool on)
{
    self->journal = on;
}

const uint8_t *
ana_ingest_delta(const ana_ingest_t *self, size_t *len)
{
    *len = self->n_log;
    return self->log != NULL ? self->log + S_LOG_HEAD : NULL;
}

const uint8_t *
ana_ingest_delta_frame(ana_ingest_t *self, size_t *len)
{
    if (self->log == NULL) {
        s_log_put(self, "", 0);
    }
    uint64_t n = self->n_log;
    memcpy(self->log, &n, S_LOG_HEAD);
    *len = S_LOG_HEAD + self->n_log;
    return self->log;
}

void
ana_ingest_delta_clear(ana_ingest_t *self)
{
    self->n_log = 0;
}

/* Replay one leaf operation at `p` (at most `n` bytes).
 * @return the bytes used, or 0 when it does not parse or apply. */
static size_t
s_replay_leaf(ana_ingest_t *self, const uint8_t *p, size_t n)
{
    uint32_t want, got;
    const char *str[3];
    size_t used = 6;
    if (n < used) {
        return 0;
    }
    memcpy(&want, p + 1, 4);
    for (int i = 0; i < 3; i++) {
        const uint8_t *z = memchr(p + used, 0, n - used);
        if (z == NULL) {
            return 0;
        }
        str[i] = (const char *)(p + used);
        used = (size_t)(z - p) + 1;
    }
    if (ana_series_leaf(self->series, str[0], str[1], (sn_source_t)p[5], str[2],
                        &got, NULL) != SN_OK ||
        got != want) {
        return 0;
    }
    return used;
}

/* Replay one operation. @return the bytes used, or 0 on a bad one. */
static size_t
s_replay_op(ana_ingest_t *self, const uint8_t *p, size_t n)
{
    if (p[0] == S_OP_LEAF) {
        return s_replay_leaf(self, p, n);
    }
    if (p[0] == S_OP_EVENT || p[0] == S_OP_EVENT2) {
        ana_dedup_key_t dk;
        ana_dedup_entry_t placed;
        size_t len = 1 + sizeof dk + sizeof placed;
        int32_t reported;
        if (n < len + (p[0] == S_OP_EVENT2 ? 4 : 0)) {
            return 0;
        }
        memcpy(&dk, p + 1, sizeof dk);
        memcpy(&placed, p + 1 + sizeof dk, sizeof placed);
        reported = placed.day; /* a journal written before 'F' */
        if (p[0] == S_OP_EVENT2) {
            memcpy(&reported, p + len, 4);
            len += 4;
        }
        if (placed.leaf >= ana_series_leaves(self->series) ||
            s_place(self, dk, &placed,
                    ana_clock_classify(self->clock, placed.day),
                    reported) < 0) {
            return 0;
        }
        return len;
    }
    if ((p[0] == ANA_TRIGGER_OP_SIGNAL || p[0] == ANA_TRIGGER_OP_RETRACT) &&
        n >= 5) {
        uint32_t len;
        memcpy(&len, p + 1, 4);
        if (len > n - 5 ||
            ana_trigger_apply(self->trigger, p[0], p + 5, len) != len) {
            return 0;
        }
        return 5 + (size_t)len;
    }
    if (p[0] == S_OP_CLOSE && n >= 13) {
        int32_t day;
        int64_t now;
        memcpy(&day, p + 1, 4);
        memcpy(&now, p + 5, 8);
        if (day != ana_clock_next(self->clock)) {
            return 0;
        }
        self->now = now;
        s_close_state(self, day);
        return 13;
    }
    return 0;
}

int
ana_ingest_replay(ana_ingest_t *self, const uint8_t *ops, size_t len,
                  sn_err_t *err)
{
    bool journal = self->journal;
    self->journal = false;
    self->replaying = true;
    size_t at = 0;
    while (at < len) {
        size_t used = s_replay_op(self, ops + at, len - at);
        if (used == 0) {
            break;
        }
        at += used;
    }
    self->replaying = false;
    self->journal = journal;
    ana_engine_resume(self->engine, ana_clock_closed(self->clock));
    if (at < len) {
        return sn_err_set(err, SN_ECORRUPT,
                          "journal: operation at byte %zu of %zu does not "
                          "apply (tag 0x%02x)",
                          at, len, ops[at]);
    }
    return SN_OK;
}

/* ---- state -------------------------------------------------------------- */

int
ana_ingest_save(const ana_ingest_t *self, FILE *f)
{
    uint32_t magic = S_MAGIC2;
    if (fwrite(&magic, 4, 1, f) != 1) {
        return SN_EIO;
    }
    int rc = ana_clock_save(self->clock, f);
    if (rc == SN_OK) {
        rc = ana_dedup_save(self->dedup, f);
    }
    if (rc == SN_OK) {
        rc = ana_series_save(self->series, f);
    }
    if (rc == SN_OK) {
        rc = ana_health_save(self->health, f);
    }
    if (rc == SN_OK) {
        rc = ana_trigger_save(self->trigger, f);
    }
    return rc;
}

int
ana_ingest_load(ana_ingest_t *self, FILE *f, sn_err_t *err)
{
    uint32_t magic;
    if (fread(&magic, 4, 1, f) != 1) {
        return sn_err_set(err, SN_EIO, "state: empty");
    }
    if (magic != S_MAGIC && magic != S_MAGIC2) {
        return sn_err_set(err, SN_ECORRUPT, "state: not an analyzer state");
    }
    ana_dedup_t *dedup = NULL;
    int rc = ana_clock_load(self->clock, f, err);
    if (rc == SN_OK) {
        rc = ana_dedup_load(f, self->dedup_capacity, &dedup, err);
    }
    if (rc == SN_OK) {
        ana_dedup_destroy(&self->dedup);
        self->dedup = dedup;
        rc = ana_series_load(self->series, f, err);
    }
    if (rc == SN_OK) {
        rc = ana_health_load(self->health, f, err);
    }
    if (rc == SN_OK && magic == S_MAGIC2) {
        rc = ana_trigger_load(self->trigger, f, err);
    }
    if (rc == SN_OK) {
        ana_engine_resume(self->engine, ana_clock_closed(self->clock));
    }
    return rc;
}
