/*  analyzer/ingest.c - from case events to closed days, signals and alerts
 *
 *  The per-event path is: validate, classify the day against the clock,
 *  find the leaf (one hash lookup), offer to dedup (one probe), add to the
 *  leaf's series (a few bin increments), then the threshold rules and feed
 *  health (an index each). Nothing on it allocates once its leaf and series
 *  exist. Day closes and corrections run at ticks.
 */
#include "ingest.h"

#include "clock.h"
#include "dedup.h"
#include "health.h"
#include "quota.h"
#include "sentinel/mem.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MAGIC 0x414e4731u /* "ANG1" */

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
    FILE *dead;               /* dead-letter file, or NULL */
    ana_quota_t *quota;       /* new series per sender and day */
    ana_ingest_stats_t stats; /* counters */
    s_fix_t *fix;             /* pending corrections */
    size_t n_fix, cap_fix;
    sn_time_t now;   /* wall clock of the current call */
    size_t purge_at; /* dedup size that allows the next purge */
};

static void
s_on_alert(const sn_alert_t *alert, void *arg)
{
    ana_ingest_t *self = arg;
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
    if (self->dead != NULL) {
        fclose(self->dead);
    }
    free(self->fix);
    ana_quota_destroy(&self->quota);
    free(self);
    *self_p = NULL;
}

int
ana_ingest_dead_letter(ana_ingest_t *self, const char *path, sn_err_t *err)
{
    /* 0600: a dead-lettered record is a site's data, not the public's. */
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (f == NULL) {
        if (fd >= 0) {
            close(fd);
        }
        return sn_err_set(err, SN_EIO, "dead letter '%s': cannot open", path);
    }
    if (self->dead != NULL) {
        fclose(self->dead);
    }
    self->dead = f;
    return SN_OK;
}

/* ---- dead letter -------------------------------------------------------- */

static void
s_dead(ana_ingest_t *self, const char *sender, uint64_t seq,
       const sn_event_t *ev, const uint8_t *data, size_t len,
       const sn_err_t *err)
{
    self->stats.rejected++;
    if (self->dead == NULL) {
        return;
    }
    char ts[SN_TIME_STR_MAX];
    json_t *o =
        json_pack("{s:s, s:s, s:I, s:s}", "time", sn_time_format(self->now, ts),
                  "sender", sender ? sender : "", "seq", (json_int_t)seq,
                  "reason", sn_err_text(err));
    if (ev != NULL) {
        char *text = sn_event_to_json(ev);
        json_t *e = json_loads(text, 0, NULL);
        free(text);
        json_object_set_new(o, "event", e ? e : json_null());
    } else {
        size_t n = len < 256 ? len : 256;
        char *hex = sn_malloc(2 * n + 1);
        for (size_t i = 0; i < n; i++) {
            snprintf(hex + 2 * i, 3, "%02x", data[i]);
        }
        hex[2 * n] = '\0';
        json_object_set_new(o, "bytes_hex", json_string(hex));
        free(hex);
    }
    char *line = json_dumps(o, JSON_COMPACT);
    fprintf(self->dead, "%s\n", line);
    fflush(self->dead);
    free(line);
    json_decref(o);
}

/* ---- events ------------------------------------------------------------- */

static void
s_fix_add(ana_ingest_t *self, uint32_t leaf, sn_day_t day)
{
    size_t n;
    const uint32_t *ids = ana_series_fanout(self->series, leaf, &n);
    for (size_t i = 0; i < n; i++) {
        if (self->n_fix == self->cap_fix) {
            self->cap_fix = self->cap_fix ? self->cap_fix * 2 : 64;
            self->fix =
                sn_reallocarray(self->fix, self->cap_fix, sizeof *self->fix);
        }
        self->fix[self->n_fix++] = (s_fix_t){ids[i], day};
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

/* Dedup and count a valid event on `day`. */
static int
s_count(ana_ingest_t *self, const sn_event_t *ev, sn_day_t day, int cls,
        uint32_t leaf, sn_err_t *err)
{
    ana_dedup_entry_t placed = {leaf, day, ev->count, ev->revision}, old;
    int rc = ana_dedup_offer(
        self->dedup, ana_dedup_key(ev->site_id, ev->event_id), &placed, &old);
    if (rc == SN_EDUP) {
        self->stats.duplicates++;
        return rc;
    }
    if (rc == SN_EFULL || rc == SN_ETOOOLD) {
        return sn_err_set(err, rc,
                          rc == SN_EFULL
                              ? "event '%s': the dedup table is full"
                              : "event '%s': older than the dedup horizon",
                          ev->event_id);
    }
    if (rc == ANA_DEDUP_REVISED) {
        self->stats.revised++;
        s_unplace(self, &old);
    }
    ana_series_add(self->series, leaf, day, ev->count, 1);
    ana_clock_observe(self->clock, ev->source, day);
    const ana_series_key_t *key = ana_series_leaf_key(self->series, leaf);
    if (rc == ANA_DEDUP_NEW) {
        ana_trigger_event(self->trigger, key, day, ev->count, self->now);
    }
    ana_health_event(self->health, leaf, key, day,
                     ana_clock_closed(self->clock));
    self->stats.counted++;
    if (cls == ANA_CLOCK_LATE) {
        self->stats.late++;
        s_fix_add(self, leaf, day);
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
    return ana_series_leaf(self->series, ev->condition, ev->region, ev->source,
                           ev->site_id, leaf, err);
}

static int
s_event(ana_ingest_t *self, const sn_event_t *ev, const char *who,
        sn_err_t *err)
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
    return s_count(self, ev, day, cls, leaf, err);
}

int
ana_ingest_event(ana_ingest_t *self, const sn_event_t *ev, sn_time_t now,
                 sn_err_t *err)
{
    self->now = now;
    self->stats.records++;
    int rc = s_event(self, ev, NULL, err);
    if (rc < 0 && rc != SN_EDUP) {
        s_dead(self, NULL, 0, ev, NULL, 0, err);
    }
    return rc;
}

int
ana_ingest_record(ana_ingest_t *self, const uint8_t *data, size_t len,
                  const char *sender, uint64_t seq, sn_time_t now,
                  sn_err_t *err)
{
    sn_event_t ev;
    self->now = now;
    self->stats.records++;
    int rc = sn_event_decode(data, len, &ev, err);
    if (rc != SN_OK) {
        s_dead(self, sender, seq, NULL, data, len, err);
        return rc;
    }
    rc = s_event(self, &ev, sender, err);
    if (rc < 0 && rc != SN_EDUP) {
        s_dead(self, sender, seq, &ev, NULL, 0, err);
    }
    return rc;
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
    for (size_t i = 0; i < self->n_fix; i++) {
        const s_fix_t *f = &self->fix[i];
        if (i > 0 && s_fix_cmp(f, &self->fix[i - 1]) == 0) {
            continue;
        }
        self->stats.alarms +=
            ana_engine_correct(self->engine, f->series, f->day);
        if (i + 1 == self->n_fix || self->fix[i + 1].day != f->day) {
            ana_trigger_evaluate(self->trigger, f->day, self->now);
        }
    }
    self->n_fix = 0;
}

static void
s_close(ana_ingest_t *self, sn_day_t day)
{
    self->stats.alarms += ana_engine_close(self->engine, day);
    ana_trigger_evaluate(self->trigger, day, self->now);
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

/* ---- state -------------------------------------------------------------- */

int
ana_ingest_save(const ana_ingest_t *self, FILE *f)
{
    uint32_t magic = S_MAGIC;
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
    return rc;
}

int
ana_ingest_load(ana_ingest_t *self, FILE *f, sn_err_t *err)
{
    uint32_t magic;
    if (fread(&magic, 4, 1, f) != 1) {
        return sn_err_set(err, SN_EIO, "state: empty");
    }
    if (magic != S_MAGIC) {
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
    if (rc == SN_OK) {
        ana_engine_resume(self->engine, ana_clock_closed(self->clock));
    }
    return rc;
}
