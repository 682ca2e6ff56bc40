/*  analyzer/query.c - analysts' queries over the archive: list, series,
 *  alerts, corrections
 *
 *  A series query reads the days asked for from the archive reader into a
 *  table of named value columns (observed, then expected, upperbound,
 *  score and alarm per detector), sums many series into one for a roll-up,
 *  then folds the days into ISO weeks when asked. The same table feeds the
 *  printer (query_out.c) and the plotter (plot.c). The rules for cut weeks
 *  and for what does not add up are in query.h.
 */
#include "query.h"

#include "query_int.h"
#include "sentinel/mem.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_NAME_MAX 64 /* value column name: detector name and field */

struct ana_query_series {
    char key[ANA_ARCHIVE_KEY_MAX]; /* the key, or the roll-up's key */
    bool weekly;                   /* rows are ISO weeks */
    size_t nrows;                  /* days or weeks */
    sn_day_t *start;               /* [nrows] first day of each row */
    int *days;                     /* [nrows] days each row covers */
    size_t ncols;                  /* value columns */
    char (*cols)[S_NAME_MAX];      /* [ncols] their names */
    double *v;                     /* [col * nrows + row] */
    size_t ndets;                  /* detectors with columns */
    char **dets;                   /* [ndets] their names, owned */
};

static const char *const s_fields[] = {"expected", "upperbound", "score",
                                       "alarm"};

/* ------------------------------------------------------------ parsing */

int
ana_query_format_parse(const char *s, ana_query_format_t *out, sn_err_t *err)
{
    static const char *const names[] = {"csv", "json", "table"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (ana_query_format_t)i;
            return SN_OK;
        }
    }
    return sn_err_set(err, SN_EINVAL,
                      "--format: '%s' is not csv, json or table", s);
}

int
ana_query_rollup_parse(const char *s, ana_query_rollup_t *out, sn_err_t *err)
{
    if (strcmp(s, "prefecture") == 0) {
        *out = ANA_QUERY_ROLLUP_PREFECTURE;
    } else if (strcmp(s, "province") == 0) {
        *out = ANA_QUERY_ROLLUP_PROVINCE;
    } else {
        return sn_err_set(err, SN_EINVAL,
                          "--rollup: '%s' is not prefecture or province", s);
    }
    return SN_OK;
}

/* --------------------------------------------------------------- list */

static bool
s_matches(const char *const *c, const ana_query_filter_t *f)
{
    return (f->condition == NULL || strcmp(c[1], f->condition) == 0) &&
           (f->region == NULL ||
            strncmp(c[2], f->region, strlen(f->region)) == 0) &&
           (f->source == NULL || strcmp(c[3], f->source) == 0) &&
           (f->site == NULL || strcmp(c[4], f->site) == 0);
}

int
ana_query_list(const ana_archive_read_t *r, const ana_query_filter_t *filter,
               ana_query_format_t fmt, FILE *out, sn_err_t *err)
{
    static const char *const names[] = {"key", "condition", "region", "source",
                                        "site"};
    ana_query_out_t *o = ana_query_out_new(fmt, out, names, NULL, 5);
    for (size_t i = 0; i < ana_archive_read_series_count(r); i++) {
        const char *c[5];
        for (int p = 0; p < 5; p++) {
            c[p] = ana_archive_read_key(r, i, p);
        }
        if (s_matches(c, filter)) {
            ana_query_out_row(o, c);
        }
    }
    return ana_query_out_end(&o, err);
}

/* ------------------------------------------------------- series table */

static ana_query_series_t *
s_table_new(const char *key, size_t nrows, size_t ncols)
{
    ana_query_series_t *t = sn_calloc(1, sizeof *t);
    snprintf(t->key, sizeof t->key, "%s", key);
    t->nrows = nrows;
    t->start = sn_calloc(nrows + 1, sizeof(sn_day_t));
    t->days = sn_calloc(nrows + 1, sizeof(int));
    t->ncols = ncols;
    t->cols = sn_calloc(ncols + 1, sizeof *t->cols);
    t->v = sn_calloc(ncols * nrows + 1, sizeof(double));
    return t;
}

void
ana_query_series_destroy(ana_query_series_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    ana_query_series_t *self = *self_p;
    for (size_t i = 0; i < self->ndets; i++) {
        free(self->dets[i]);
    }
    free(self->dets);
    free(self->start);
    free(self->days);
    free(self->cols);
    free(self->v);
    free(self);
    *self_p = NULL;
}

/* Work out the columns [*c0, *c1] of the range, or say why there are none. */
static int
s_columns(const ana_archive_read_t *r, const char *key,
          const ana_query_range_t *q, long *c0, long *c1, sn_err_t *err)
{
    if (q->from > q->to) {
        return sn_err_set(err, SN_EINVAL, "--from is after --to");
    }
    long n = (long)ana_archive_read_days(r);
    if (n == 0) {
        return sn_err_set(err, SN_ENODATA, "%s: the archive holds no days yet",
                          key);
    }
    sn_day_t d0 = ana_archive_read_first_day(r);
    long lo = q->from == ANA_QUERY_OPEN_FROM ? 0 : (long)q->from - d0;
    long hi = q->to == ANA_QUERY_OPEN_TO ? n - 1 : (long)q->to - d0;
    lo = lo < 0 ? 0 : lo;
    hi = hi > n - 1 ? n - 1 : hi;
    if (hi < lo) {
        char a[SN_DAY_STR_MAX], b[SN_DAY_STR_MAX], f[SN_DAY_STR_MAX],
            l[SN_DAY_STR_MAX];
        sn_day_format(q->from == ANA_QUERY_OPEN_FROM ? d0 : q->from, a);
        sn_day_format(q->to == ANA_QUERY_OPEN_TO ? d0 + (sn_day_t)n - 1 : q->to,
                      b);
        return sn_err_set(err, SN_ENODATA,
                          "%s: no days between %s and %s (the archive holds "
                          "%s to %s)",
                          key, a, b, sn_day_format(d0, f),
                          sn_day_format(d0 + (sn_day_t)n - 1, l));
    }
    *c0 = lo;
    *c1 = hi;
    return SN_OK;
}

/* Read every field of one series into a daily table. Alarms of -1 (not
 * evaluated) become NaN, so every missing value prints as NA. */
static int
s_load_daily(ana_archive_read_t *r, size_t row, const char *key, size_t c0,
             size_t k, ana_query_series_t **out, sn_err_t *err)
{
    size_t nd = ana_archive_read_detector_count(r);
    ana_query_series_t *t = s_table_new(key, k, 1 + 4 * nd);
    t->ndets = nd;
    t->dets = sn_calloc(nd + 1, sizeof(char *));
    snprintf(t->cols[0], S_NAME_MAX, "observed");
    for (size_t f = 1; f < t->ncols; f++) {
        const char *d = ana_archive_read_detector(r, (f - 1) / 4);
        snprintf(t->cols[f], S_NAME_MAX, "%s.%s", d, s_fields[(f - 1) % 4]);
    }
    for (size_t i = 0; i < nd; i++) {
        t->dets[i] = sn_strdup(ana_archive_read_detector(r, i));
    }
    int rc = SN_OK;
    for (size_t f = 0; f < t->ncols && rc == SN_OK; f++) {
        double *v = t->v + f * k;
        rc = ana_archive_read_values(r, row, f, c0, k, v, err);
        for (size_t i = 0; f > 0 && (f - 1) % 4 == 3 && i < k; i++) {
            v[i] = v[i] < 0 ? NAN : v[i];
        }
    }
    if (rc != SN_OK) {
        ana_query_series_destroy(&t);
        return rc;
    }
    *out = t;
    return SN_OK;
}

/* Sum the observed counts of the series at `rows` into a roll-up table:
 * "observed" (NaN on a day no series has a value) and "series". */
static int
s_load_rollup(ana_archive_read_t *r, const size_t *rows, size_t nrows,
              const char *key, size_t c0, size_t k, ana_query_series_t **out,
              sn_err_t *err)
{
    ana_query_series_t *t = s_table_new(key, k, 2);
    snprintf(t->cols[0], S_NAME_MAX, "observed");
    snprintf(t->cols[1], S_NAME_MAX, "series");
    double *v = sn_calloc(k + 1, sizeof(double));
    for (size_t i = 0; i < k; i++) {
        t->v[i] = NAN;
    }
    int rc = SN_OK;
    for (size_t s = 0; s < nrows && rc == SN_OK; s++) {
        rc = ana_archive_read_values(r, rows[s], 0, c0, k, v, err);
        for (size_t i = 0; i < k && rc == SN_OK; i++) {
            if (!isnan(v[i])) {
                t->v[i] = isnan(t->v[i]) ? v[i] : t->v[i] + v[i];
                t->v[k + i] += 1;
            }
        }
    }
    free(v);
    if (rc != SN_OK) {
        ana_query_series_destroy(&t);
        return rc;
    }
    *out = t;
    return SN_OK;
}

/* Collect the rows a roll-up of series `row` sums, and its key. */
static int
s_rollup_rows(const ana_archive_read_t *r, size_t row, ana_query_rollup_t lvl,
              size_t **rows, size_t *n, char *key, sn_err_t *err)
{
    const char *region = ana_archive_read_key(r, row, ANA_ARCHIVE_REGION);
    size_t plen = lvl == ANA_QUERY_ROLLUP_PREFECTURE ? 4 : 2;
    const char *lname = plen == 4 ? "prefecture" : "province";
    if (strlen(region) < plen) {
        return sn_err_set(err, SN_EINVAL,
                          "%s: region '%s' is shorter than a %s prefix (%zu "
                          "digits)",
                          ana_archive_read_key(r, row, ANA_ARCHIVE_KEY), region,
                          lname, plen);
    }
    size_t total = ana_archive_read_series_count(r), cnt = 0;
    size_t *out = sn_calloc(total + 1, sizeof(size_t));
    for (size_t i = 0; i < total; i++) {
        const char *ri = ana_archive_read_key(r, i, ANA_ARCHIVE_REGION);
        bool same =
            strlen(ri) == strlen(region) && strncmp(ri, region, plen) == 0;
        for (int p = ANA_ARCHIVE_CONDITION; same && p <= ANA_ARCHIVE_SITE;
             p++) {
            same = p == ANA_ARCHIVE_REGION ||
                   strcmp(ana_archive_read_key(r, i, p),
                          ana_archive_read_key(r, row, p)) == 0;
        }
        if (same) {
            out[cnt++] = i;
        }
    }
    snprintf(key, ANA_ARCHIVE_KEY_MAX, "%s/%.*s/%s/%s",
             ana_archive_read_key(r, row, ANA_ARCHIVE_CONDITION), (int)plen,
             region, ana_archive_read_key(r, row, ANA_ARCHIVE_SOURCE),
             ana_archive_read_key(r, row, ANA_ARCHIVE_SITE));
    *rows = out;
    *n = cnt;
    return SN_OK;
}

/* ------------------------------------------------------------- weekly */

/* @return the kind of daily column `name` in a weekly table: 0 summed,
 * 1 the most of any day ("series"), 2 alarms counted, -1 dropped. */
static int
s_weekly_kind(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL) {
        return strcmp(name, "series") == 0 ? 1 : 0;
    }
    return strcmp(dot + 1, "alarm") == 0 ? 2 : -1;
}

/* Fold daily row i of column `kind` into weekly value *w. */
static void
s_fold(double *w, double d, int kind)
{
    if (kind == 2) {
        d = isnan(d) ? NAN : (d > 0 ? 1 : 0);
    }
    if (isnan(d)) {
        return;
    }
    if (isnan(*w)) {
        *w = d;
    } else {
        *w = kind == 1 ? fmax(*w, d) : *w + d;
    }
}

/* Count the ISO weeks that days [d0, d0 + k) touch. */
static size_t
s_week_count(sn_day_t d0, size_t k)
{
    sn_day_t mon0 = d0 - (sn_day_weekday(d0) - 1);
    sn_day_t last = d0 + (sn_day_t)k - 1;
    return (size_t)((last - mon0) / 7 + 1);
}

/* Replace the daily table *tp by its ISO-week table. */
static void
s_to_weekly(ana_query_series_t **tp)
{
    ana_query_series_t *d = *tp;
    size_t nw = s_week_count(d->start[0], d->nrows), nc = 0;
    int *kind = sn_calloc(d->ncols + 1, sizeof(int));
    for (size_t c = 0; c < d->ncols; c++) {
        kind[c] = s_weekly_kind(d->cols[c]);
        nc += kind[c] >= 0;
    }
    ana_query_series_t *w = s_table_new(d->key, nw, nc);
    w->weekly = true;
    for (size_t i = 0; i < nw * nc; i++) {
        w->v[i] = NAN;
    }
    sn_day_t mon0 = d->start[0] - (sn_day_weekday(d->start[0]) - 1);
    for (size_t c = 0, wc = 0; c < d->ncols; c++) {
        if (kind[c] < 0) {
            continue;
        }
        snprintf(w->cols[wc], S_NAME_MAX, "%s%s", d->cols[c],
                 kind[c] == 2 ? "s" : "");
        for (size_t i = 0; i < d->nrows; i++) {
            size_t wk = (size_t)(d->start[i] - mon0) / 7;
            s_fold(&w->v[wc * nw + wk], d->v[c * d->nrows + i], kind[c]);
        }
        wc++;
    }
    for (size_t i = 0; i < d->nrows; i++) {
        size_t wk = (size_t)(d->start[i] - mon0) / 7;
        w->start[wk] = w->days[wk] == 0 ? d->start[i] : w->start[wk];
        w->days[wk]++;
    }
    w->ndets = d->ndets;
    w->dets = d->dets;
    d->dets = NULL;
    d->ndets = 0;
    free(kind);
    ana_query_series_destroy(tp);
    *tp = w;
}

/* ----------------------------------------------------------- loading */

int
ana_query_series_load(ana_archive_read_t *r, const char *key,
                      const ana_query_range_t *q, ana_query_series_t **out,
                      sn_err_t *err)
{
    size_t row = 0;
    long c0 = 0, c1 = 0;
    int rc = ana_archive_read_find(r, key, &row, err);
    if (rc == SN_OK) {
        rc = s_columns(r, key, q, &c0, &c1, err);
    }
    if (rc != SN_OK) {
        return rc;
    }
    size_t k = (size_t)(c1 - c0 + 1);
    ana_query_series_t *t = NULL;
    if (q->rollup == ANA_QUERY_ROLLUP_NONE) {
        rc = s_load_daily(r, row, key, (size_t)c0, k, &t, err);
    } else {
        size_t *rows = NULL, n = 0;
        char rkey[ANA_ARCHIVE_KEY_MAX];
        rc = s_rollup_rows(r, row, q->rollup, &rows, &n, rkey, err);
        if (rc == SN_OK) {
            rc = s_load_rollup(r, rows, n, rkey, (size_t)c0, k, &t, err);
        }
        free(rows);
    }
    if (rc != SN_OK) {
        return rc;
    }
    sn_day_t first = ana_archive_read_first_day(r) + (sn_day_t)c0;
    for (size_t i = 0; i < k; i++) {
        t->start[i] = first + (sn_day_t)i;
        t->days[i] = 1;
    }
    if (q->weekly) {
        s_to_weekly(&t);
    }
    *out = t;
    return SN_OK;
}

/* ----------------------------------------------------------- printing */

/* Write ISO week "YYYY-Www" of day `d` into buf (32 bytes). */
static void
s_iso_week(sn_day_t d, char *buf)
{
    sn_day_t thu = d - (sn_day_weekday(d) - 1) + 3;
    int y = 0, m = 0, dd = 0;
    sn_day_to_ymd(thu, &y, &m, &dd);
    int week = (thu - sn_day_from_ymd(y, 1, 1)) / 7 + 1;
    snprintf(buf, 32, "%04d-W%02d", y, week);
}

int
ana_query_series_print(const ana_query_series_t *self, ana_query_format_t fmt,
                       FILE *out, sn_err_t *err)
{
    size_t nl = self->weekly ? 3 : 1, nc = nl + self->ncols;
    const char **names = sn_calloc(nc, sizeof(char *));
    const char **cells = sn_calloc(nc, sizeof(char *));
    bool *num = sn_calloc(nc, sizeof(bool));
    char(*buf)[32] = sn_calloc(nc, sizeof *buf);
    names[0] = self->weekly ? "week" : "date";
    if (self->weekly) {
        names[1] = "start";
        names[2] = "days";
        num[2] = true;
    }
    for (size_t c = 0; c < self->ncols; c++) {
        names[nl + c] = self->cols[c];
        num[nl + c] = true;
    }
    ana_query_out_t *o = ana_query_out_new(fmt, out, names, num, nc);
    for (size_t i = 0; i < self->nrows; i++) {
        if (self->weekly) {
            s_iso_week(self->start[i], buf[0]);
            sn_day_format(self->start[i], buf[1]);
            snprintf(buf[2], sizeof buf[2], "%d", self->days[i]);
        } else {
            sn_day_format(self->start[i], buf[0]);
        }
        for (size_t c = 0; c < self->ncols; c++) {
            ana_query_out_num(self->v[c * self->nrows + i], buf[nl + c]);
        }
        for (size_t c = 0; c < nc; c++) {
            cells[c] = buf[c];
        }
        ana_query_out_row(o, cells);
    }
    free(names);
    free(cells);
    free(num);
    free(buf);
    return ana_query_out_end(&o, err);
}

/* ---------------------------------------------------------- accessors */

const char *
ana_query_series_key(const ana_query_series_t *self)
{
    return self->key;
}

bool
ana_query_series_weekly(const ana_query_series_t *self)
{
    return self->weekly;
}

size_t
ana_query_series_rows(const ana_query_series_t *self)
{
    return self->nrows;
}

sn_day_t
ana_query_series_day(const ana_query_series_t *self, size_t i)
{
    return self->start[i];
}

size_t
ana_query_series_detector_count(const ana_query_series_t *self)
{
    return self->ndets;
}

const char *
ana_query_series_detector(const ana_query_series_t *self, size_t i)
{
    return self->dets[i];
}

int
ana_query_series_column(const ana_query_series_t *self, const char *name)
{
    for (size_t c = 0; c < self->ncols; c++) {
        if (strcmp(self->cols[c], name) == 0) {
            return (int)c;
        }
    }
    return -1;
}

double
ana_query_series_value(const ana_query_series_t *self, int col, size_t i)
{
    return self->v[(size_t)col * self->nrows + i];
}

/* ------------------------------------------------------------- alerts */

/* @return true when a later event of the same alert follows event i. */
static bool
s_superseded(const ana_archive_alert_rec_t *a, size_t n, size_t i)
{
    for (size_t j = i + 1; j < n; j++) {
        if (strcmp(a[j].id, a[i].id) == 0) {
            return true;
        }
    }
    return false;
}

static bool
s_alert_passes(const ana_query_alert_filter_t *f,
               const ana_archive_alert_rec_t *a, size_t n, size_t i)
{
    if ((f->level != NULL && strcmp(a[i].level, f->level) != 0) ||
        a[i].day < f->since) {
        return false;
    }
    return !f->open_only ||
           (strcmp(a[i].state, "closed") != 0 && !s_superseded(a, n, i));
}

static void
s_alert_row(ana_query_out_t *o, const ana_archive_alert_rec_t *a)
{
    char t[SN_TIME_STR_MAX], d[SN_DAY_STR_MAX], ob[32], ex[32], ub[32];
    sn_time_format(a->time, t);
    sn_day_format(a->day, d);
    const char *c[] = {t,
                       d,
                       a->id,
                       a->rule,
                       a->level,
                       a->state,
                       a->condition,
                       a->region,
                       a->series,
                       ana_query_out_num(a->observed, ob),
                       ana_query_out_num(a->expected, ex),
                       ana_query_out_num(a->upperbound, ub),
                       a->message};
    ana_query_out_row(o, c);
}

int
ana_query_alerts(ana_archive_read_t *r, const ana_query_alert_filter_t *filter,
                 ana_query_format_t fmt, FILE *out, sn_err_t *err)
{
    static const char *const names[] = {
        "time",     "day",        "id",     "rule",   "level",
        "state",    "condition",  "region", "series", "observed",
        "expected", "upperbound", "message"};
    static const bool num[] = {false, false, false, false, false, false, false,
                               false, false, true,  true,  true,  false};
    size_t n = ana_archive_read_alert_count(r);
    ana_archive_alert_rec_t *a = sn_calloc(n + 1, sizeof *a);
    int rc = ana_archive_read_alerts(r, 0, n, a, err);
    if (rc != SN_OK) {
        free(a);
        return rc;
    }
    ana_query_out_t *o = ana_query_out_new(fmt, out, names, num, 13);
    for (size_t i = 0; i < n; i++) {
        if (s_alert_passes(filter, a, n, i)) {
            s_alert_row(o, &a[i]);
        }
    }
    free(a);
    return ana_query_out_end(&o, err);
}

/* -------------------------------------------------------- corrections */

static void
s_fix_row(ana_query_out_t *o, const ana_archive_fix_rec_t *f)
{
    char t[SN_TIME_STR_MAX], d[SN_DAY_STR_MAX], pv[32], ob[32];
    sn_time_format(f->time, t);
    sn_day_format(f->day, d);
    const char *where =
        f->sealed > 0 ? "sealed" : (f->sealed == 0 ? "recent" : "none");
    const char *c[] = {t,
                       d,
                       f->series,
                       ana_query_out_num(f->previous, pv),
                       ana_query_out_num(f->observed, ob),
                       where};
    ana_query_out_row(o, c);
}

int
ana_query_corrections(ana_archive_read_t *r,
                      const ana_query_fix_filter_t *filter,
                      ana_query_format_t fmt, FILE *out, sn_err_t *err)
{
    static const char *const names[] = {"time",     "day",      "series",
                                        "previous", "observed", "where"};
    static const bool num[] = {false, false, false, true, true, false};
    size_t n = ana_archive_read_fix_count(r);
    ana_archive_fix_rec_t *f = sn_calloc(n + 1, sizeof *f);
    int rc = ana_archive_read_fixes(r, 0, n, f, err);
    if (rc != SN_OK) {
        free(f);
        return rc;
    }
    ana_query_out_t *o = ana_query_out_new(fmt, out, names, num, 6);
    for (size_t i = 0; i < n; i++) {
        if (f[i].day >= filter->since &&
            (filter->series == NULL ||
             strcmp(f[i].series, filter->series) == 0)) {
            s_fix_row(o, &f[i]);
        }
    }
    free(f);
    return ana_query_out_end(&o, err);
}
