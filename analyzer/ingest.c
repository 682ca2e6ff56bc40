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
 *  The redo log, its replay and the saved state are in ingest_state.c;
 *  the struct and the functions both files call are in ingest_int.h.
 */
#include "ingest.h"
#include "ingest_int.h"

#include "clock.h"
#include "dedup.h"
#include "health.h"
#include "quota.h"
#include "rejects.h"
#include "sentinel/mem.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

/* Records decoded (their dedup slots prefetched) before the first is
 * placed: enough to cover a miss, few enough to stay in the cache. */
#define S_GROUP 16

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
    ana_trigger_set_log(self->trigger, ana_ingest_log_trigger, self);
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
    self->fix[self->n_fix++] = (ana_ingest_fix_t){series, day};
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

/* ---- placements ------------------------------------------------------- */

/* The state change of one placement: dedup, bins, watermark, feed health
 * and, for a closed day, the pending correction. The live path and the
 * replay share it, so a replay cannot drift from what was done live.
 * @return as ana_dedup_offer(); nothing changes on a negative result. */
int
ana_ingest_place(ana_ingest_t *self, ana_dedup_key_t dk,
                 const ana_dedup_entry_t *placed, int cls, sn_day_t reported)
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
    ana_ingest_log_event(self, dk, placed, reported);
    return rc;
}

/* Dedup (by its fingerprint `dk`) and count a valid event on `day`. */
static int
s_count(ana_ingest_t *self, const sn_event_t *ev, ana_dedup_key_t dk,
        sn_day_t day, int cls, uint32_t leaf, sn_err_t *err)
{
    ana_dedup_entry_t placed = {leaf, day, ev->count, ev->revision};
    int rc =
        ana_ingest_place(self, dk, &placed, cls, sn_time_day(ev->report_time));
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
        ana_ingest_log_leaf(self, *leaf, ev);
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
    const ana_ingest_fix_t *x = a, *y = b;
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
        const ana_ingest_fix_t *f = &self->fix[i];
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
void
ana_ingest_close_state(ana_ingest_t *self, sn_day_t day)
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
    ana_ingest_close_state(self, day);
    ana_ingest_log_close(self, day);
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
