/*  analyzer/engine.c - run every configured detector on every series
 *
 *  One track per series: the day its streams started, the last day pushed,
 *  and one stream per detector. Tracks are created as series appear; a
 *  track marked dirty (after a correction or a restart) is rebuilt by
 *  pushing its window again from its start day. Results go to the sink in
 *  blocks of ANA_ENGINE_BLOCK rows, from one points array reused per block.
 */
#include "engine.h"

#include "sentinel/mem.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_NONE INT32_MIN

/* The detection state of one series. */
typedef struct s_track {
    sn_day_t start;       /* first day with a count; S_NONE before */
    sn_day_t pushed;      /* last day pushed; S_NONE before */
    bool dirty;           /* streams must be rebuilt before the next push */
    sn_det_stream_t **st; /* one stream per detector, or NULL */
} s_track_t;

struct ana_engine {
    ana_series_t *series;       /* borrowed */
    ana_trigger_t *trigger;     /* borrowed, may be NULL */
    ana_engine_sink_fn sink;    /* results, may be NULL */
    void *arg;                  /* the sink's argument */
    ana_detector_spec_t *specs; /* the detectors' settings */
    sn_detector_t **det;        /* one per spec */
    size_t n_det;               /* their number */
    s_track_t *tracks;          /* one per series */
    size_t n_tracks;            /* tracks allocated */
    sn_det_point_t *points;     /* ANA_ENGINE_BLOCK * n_det points */
    ana_engine_row_t *rows;     /* ANA_ENGINE_BLOCK rows */
    sn_day_t last;              /* last day closed */
};

int
ana_engine_new(ana_series_t *series, const ana_detector_spec_t *specs,
               size_t n_specs, ana_trigger_t *trigger, ana_engine_sink_fn sink,
               void *arg, ana_engine_t **out, sn_err_t *err)
{
    assert(n_specs <= ANA_ENGINE_MAX_DETECTORS);
    ana_engine_t *self = sn_calloc(1, sizeof *self);
    self->series = series;
    self->trigger = trigger;
    self->sink = sink;
    self->arg = arg;
    self->specs = sn_calloc(n_specs + 1, sizeof *specs);
    if (n_specs > 0) {
        memcpy(self->specs, specs, n_specs * sizeof *specs);
    }
    for (size_t i = 0; i < n_specs; i++) {
        ana_detector_spec_t *sp = &self->specs[i];
        sp->width = sp->width ? sp->width : sp->weekly ? 7 : 1;
        sp->step = sp->step ? sp->step : sp->weekly ? 7 : 1;
    }
    self->det = sn_calloc(n_specs + 1, sizeof *self->det);
    self->last = S_NONE;
    for (size_t i = 0; i < n_specs; i++) {
        self->det[i] = sn_detector_new(specs[i].method, err);
        self->n_det = i + 1;
        int rc = self->det[i] == NULL ? SN_ENOTFOUND : SN_OK;
        for (size_t p = 0; rc == SN_OK && p < specs[i].n_params; p++) {
            rc = sn_detector_set(self->det[i], specs[i].params[p].key,
                                 specs[i].params[p].value, err);
        }
        if (rc != SN_OK) {
            sn_err_prefix(err, "detector '%s'", specs[i].name);
            ana_engine_destroy(&self);
            return rc;
        }
    }
    self->points =
        sn_calloc(ANA_ENGINE_BLOCK * (n_specs + 1), sizeof *self->points);
    self->rows = sn_calloc(ANA_ENGINE_BLOCK, sizeof *self->rows);
    *out = self;
    return SN_OK;
}

static void
s_track_reset(ana_engine_t *self, s_track_t *t)
{
    if (t->st != NULL) {
        for (size_t j = 0; j < self->n_det; j++) {
            sn_det_stream_destroy(&t->st[j]);
        }
        free(t->st);
        t->st = NULL;
    }
    t->pushed = S_NONE;
}

void
ana_engine_destroy(ana_engine_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    ana_engine_t *self = *self_p;
    for (size_t i = 0; i < self->n_tracks; i++) {
        s_track_reset(self, &self->tracks[i]);
    }
    for (size_t i = 0; i < self->n_det; i++) {
        sn_detector_destroy(&self->det[i]);
    }
    free(self->tracks);
    free(self->det);
    free(self->specs);
    free(self->points);
    free(self->rows);
    free(self);
    *self_p = NULL;
}

size_t
ana_engine_detectors(const ana_engine_t *self)
{
    return self->n_det;
}

const char *
ana_engine_detector_name(const ana_engine_t *self, size_t i)
{
    assert(i < self->n_det);
    return self->specs[i].name;
}

/* ---- values ------------------------------------------------------------- */

static double
s_count(ana_engine_t *self, uint32_t id, sn_day_t day)
{
    uint32_t c = 0;
    if (ana_window_get(ana_series_window(self->series, id), day, &c) != SN_OK) {
        return NAN;
    }
    return (double)c;
}

/* A Sunday (1970-01-04): the days of a detector with a step are a
 * multiple of it after this one, so weekly ones run on Sundays. */
#define S_STEP_ORIGIN 3

/* Whether detector spec `sp` is evaluated on `day`. */
static bool
s_step_day(const ana_detector_spec_t *sp, sn_day_t day)
{
    return sp->step == 1 || ((int64_t)day - S_STEP_ORIGIN) % sp->step == 0;
}

/* floor(a / b) for b > 0. */
static int64_t
s_floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* How many of spec `sp`'s days fall in [from, to). */
static size_t
s_step_days(const ana_detector_spec_t *sp, sn_day_t from, sn_day_t to)
{
    if (to <= from) {
        return 0;
    }
    int64_t o = S_STEP_ORIGIN, st = sp->step;
    return (size_t)(s_floor_div((int64_t)to - 1 - o, st) -
                    s_floor_div((int64_t)from - 1 - o, st));
}

/* The periods per year of a detector's values (52 for weekly ones). */
static int
s_frequency(const ana_detector_spec_t *sp)
{
    return sp->step == 1 ? 365 : (int)(365.25 / sp->step + 0.5);
}

/* The value detector `j` reads for series `id` on `day`: the sum of the
 * `width` days ending on `day` (weekly: the week ending on a Sunday). */
static double
s_value(ana_engine_t *self, size_t j, uint32_t id, sn_day_t day)
{
    const ana_detector_spec_t *sp = &self->specs[j];
    double v = 0, d = 0;
    size_t span = sp->width;
    uint32_t den = ana_series_denominator(self->series, id);
    for (size_t k = 0; k < span; k++) {
        v += s_count(self, id, day - (sn_day_t)k);
        if (sp->proportion && den != ANA_SERIES_NONE) {
            d += s_count(self, den, day - (sn_day_t)k);
        }
    }
    if (sp->proportion && den != ANA_SERIES_NONE) {
        return d > 0 ? v / d : NAN;
    }
    return v;
}

static void
s_point_na(sn_det_point_t *p, double observed)
{
    p->observed = observed;
    p->expected = p->upperbound = p->score = NAN;
    p->alarm = SN_DET_NA;
    p->label = NULL;
    for (int i = 0; i < SN_DET_MAX_EXTRA; i++) {
        p->extra[i] = NAN;
    }
}

static bool
s_runs_on(const ana_detector_spec_t *sp, const ana_series_key_t *key)
{
    return sp->levels == 0 || (sp->levels & (1u << key->level));
}

/* Push `day` into stream j of track t, filling *p. */
static void
s_push(ana_engine_t *self, s_track_t *t, size_t j, uint32_t id, sn_day_t day,
       sn_det_point_t *p)
{
    const ana_detector_spec_t *sp = &self->specs[j];
    if (t->st[j] == NULL) {
        s_point_na(p, s_count(self, id, day));
        return;
    }
    if (!s_step_day(sp, day)) {
        s_point_na(p, s_count(self, id, day));
        return;
    }
    /* A value is dated by the start of its step (a week's Monday). */
    double v = s_value(self, j, id, day);
    if (sn_det_stream_push(t->st[j], day - (sn_day_t)(sp->step - 1), v, p) !=
        SN_OK) {
        s_point_na(p, v);
    }
}

/* ---- tracks ------------------------------------------------------------- */

static void
s_tracks_grow(ana_engine_t *self)
{
    size_t n = ana_series_size(self->series);
    if (n <= self->n_tracks) {
        return;
    }
    self->tracks = sn_reallocarray(self->tracks, n, sizeof *self->tracks);
    for (size_t i = self->n_tracks; i < n; i++) {
        self->tracks[i] = (s_track_t){S_NONE, S_NONE, false, NULL};
    }
    self->n_tracks = n;
}

/* The first day series `id` counted anything up to `day`, or S_NONE. */
static sn_day_t
s_first_day(ana_engine_t *self, uint32_t id, sn_day_t day)
{
    ana_window_t *w = ana_series_window(self->series, id);
    const uint32_t *c = ana_window_counts(w);
    sn_day_t oldest = ana_window_oldest(w);
    for (sn_day_t d = oldest; d <= day && d <= ana_window_today(w); d++) {
        if (c[d - oldest] != 0) {
            return d;
        }
    }
    return S_NONE;
}

/* Make the streams of track `id` current up to day - 1. */
static void
s_track_ready(ana_engine_t *self, uint32_t id, sn_day_t day)
{
    s_track_t *t = &self->tracks[id];
    if (t->start == S_NONE || t->dirty) {
        s_track_reset(self, t);
        t->dirty = false;
        t->start = s_first_day(self, id, day);
    }
    if (t->start == S_NONE || t->st != NULL) {
        return;
    }
    const ana_series_key_t *key = ana_series_key(self->series, id);
    t->st = sn_calloc(self->n_det + 1, sizeof *t->st);
    for (size_t j = 0; j < self->n_det; j++) {
        const ana_detector_spec_t *sp = &self->specs[j];
        if (!s_runs_on(sp, key)) {
            continue;
        }
        /* History pushed to rebuild a stream is not evaluated again (its
         * results are archived already): it counts as the stream's `from`,
         * unless the detector has a warm-up of its own (CUSUM's in-control
         * period), which must stay the same across restarts. */
        size_t hist = s_step_days(sp, t->start, day);
        t->st[j] = sn_det_stream_new(self->det[j], s_frequency(sp),
                                     sp->warmup ? sp->warmup : hist);
    }
    sn_det_point_t scratch;
    for (sn_day_t d = t->start; d < day; d++) {
        for (size_t j = 0; j < self->n_det; j++) {
            s_push(self, t, j, id, d, &scratch);
        }
    }
    t->pushed = day - 1;
}

/* Evaluate one series for `day` into row/points; @return alarms. */
static size_t
s_close_one(ana_engine_t *self, uint32_t id, sn_day_t day,
            ana_engine_row_t *row, sn_det_point_t *pts)
{
    s_track_ready(self, id, day);
    s_track_t *t = &self->tracks[id];
    row->series = id;
    row->observed = s_count(self, id, day);
    row->det = pts;
    size_t alarms = 0;
    for (size_t j = 0; j < self->n_det; j++) {
        if (t->st == NULL) {
            s_point_na(&pts[j], row->observed);
            continue;
        }
        s_push(self, t, j, id, day, &pts[j]);
        if (pts[j].alarm == 1 && self->trigger != NULL) {
            ana_trigger_signal(self->trigger, ana_series_key(self->series, id),
                               self->specs[j].name, day, &pts[j]);
            alarms++;
        }
    }
    if (t->st != NULL) {
        t->pushed = day;
    }
    return alarms;
}

size_t
ana_engine_close(ana_engine_t *self, sn_day_t day)
{
    ana_series_advance(self->series, day);
    s_tracks_grow(self);
    size_t n = self->n_tracks, alarms = 0, in_block = 0;
    for (size_t id = 0; id < n; id++) {
        alarms += s_close_one(self, (uint32_t)id, day, &self->rows[in_block],
                              &self->points[in_block * self->n_det]);
        if (++in_block == ANA_ENGINE_BLOCK || id + 1 == n) {
            if (self->sink != NULL) {
                self->sink(day, self->rows, in_block, false, self->arg);
            }
            in_block = 0;
        }
    }
    self->last = day;
    return alarms;
}

/* Batch-evaluate detector j of series id at `day` (one of its days) into
 * *p: the values of every one of its days from the first on or after
 * `start`, as the stream got them (every day for a daily detector). */
static void
s_batch_step(ana_engine_t *self, size_t j, uint32_t id, sn_day_t start,
             sn_day_t day, sn_det_point_t *p)
{
    const ana_detector_spec_t *sp = &self->specs[j];
    sn_day_t first = start;
    while (!s_step_day(sp, first)) {
        first++;
    }
    size_t n =
        first <= day ? (size_t)((day - first) / (sn_day_t)sp->step) + 1 : 0;
    if (n == 0) {
        s_point_na(p, s_value(self, j, id, day));
        return;
    }
    double *v = sn_calloc(n, sizeof *v);
    sn_day_t *days = sn_calloc(n, sizeof *days);
    for (size_t i = 0; i < n; i++) {
        sn_day_t at = first + (sn_day_t)(sp->step * i);
        days[i] = at - (sn_day_t)(sp->step - 1);
        v[i] = s_value(self, j, id, at);
    }
    sn_det_input_t in = {v, days, n, s_frequency(sp), false};
    int64_t at = sn_detector_first(self->det[j], &in);
    if (at < 0 || (size_t)at > n - 1 ||
        sn_detector_eval(self->det[j], &in, n - 1, n - 1, p, NULL) != SN_OK) {
        s_point_na(p, v[n - 1]);
    }
    free(v);
    free(days);
}

bool
ana_engine_holds(const ana_engine_t *self, sn_day_t day, sn_day_t changed)
{
    for (size_t j = 0; j < self->n_det; j++) {
        const ana_detector_spec_t *sp = &self->specs[j];
        if (s_step_day(sp, day) && day - (sn_day_t)sp->width < changed) {
            return true;
        }
    }
    return false;
}

uint32_t
ana_engine_reach(const ana_engine_t *self)
{
    uint32_t reach = 0;
    for (size_t j = 0; j < self->n_det; j++) {
        if (self->specs[j].width - 1 > reach) {
            reach = self->specs[j].width - 1;
        }
    }
    return reach;
}

size_t
ana_engine_correct(ana_engine_t *self, uint32_t id, sn_day_t day)
{
    s_tracks_grow(self);
    if (self->last == S_NONE || day > self->last) {
        return 0;
    }
    s_track_t *t = &self->tracks[id];
    const ana_series_key_t *key = ana_series_key(self->series, id);
    sn_day_t start = s_first_day(self, id, day);
    ana_engine_row_t *row = &self->rows[0];
    row->series = id;
    row->observed = s_count(self, id, day);
    row->det = self->points;
    if (self->trigger != NULL) {
        ana_trigger_retract(self->trigger, key, day);
    }
    size_t alarms = 0;
    for (size_t j = 0; j < self->n_det; j++) {
        sn_det_point_t *p = &self->points[j];
        const ana_detector_spec_t *sp = &self->specs[j];
        if (start == S_NONE || !s_runs_on(sp, key) || !s_step_day(sp, day)) {
            s_point_na(p, row->observed); /* not one of its days */
            continue;
        }
        s_batch_step(self, j, id, start, day, p);
        if (p->alarm == 1 && self->trigger != NULL) {
            ana_trigger_signal(self->trigger, key, self->specs[j].name, day, p);
            alarms++;
        }
    }
    t->dirty = true;
    if (self->sink != NULL) {
        self->sink(day, row, 1, true, self->arg);
    }
    return alarms;
}

sn_day_t
ana_engine_last(const ana_engine_t *self)
{
    return self->last;
}

void
ana_engine_resume(ana_engine_t *self, sn_day_t last)
{
    self->last = last;
    for (size_t i = 0; i < self->n_tracks; i++) {
        self->tracks[i].dirty = true;
    }
}

size_t
ana_engine_memory(const ana_engine_t *self)
{
    size_t bytes = self->n_tracks * sizeof *self->tracks;
    for (size_t i = 0; i < self->n_tracks; i++) {
        if (self->tracks[i].st != NULL) {
            bytes += (self->n_det + 1) * sizeof(void *);
        }
    }
    return bytes;
}
