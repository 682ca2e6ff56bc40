/*  analyzer/archive_days.c - the archive writer: days, sealing, corrections
 *
 *  The second half of the writer (archive.c opens, registers series and
 *  flushes). A day's values go into the recent block's column of that day,
 *  loaded in memory and written at the next flush; a day past the block
 *  first seals the full block into the compressed root datasets, each
 *  chunk written once. A correction of a day already sealed (a late or
 *  revised event, or a day put again after a restart) is written in place
 *  into its compressed chunk, and each changed count is appended to the
 *  corrections table (docs/archive.md, Corrections). A restore is a
 *  correction of only the rows whose stored count differs.
 */
#include "archive.h"

#include "archive_int.h"
#include "sentinel/mem.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --------------------------------------------------------------- days */

/* Make the sealed block's chunks durable, then publish the new sealed
 * count and make that durable: a reader (and a writer after a kill) reads
 * a block from the root datasets only once its count is committed, and
 * the recent block is reused only after that. Files made before the count
 * existed keep using the smallest extent. */
static int
s_commit_sealed(ana_archive_t *self, size_t sealed)
{
    if (H5Fflush(self->file, H5F_SCOPE_LOCAL) < 0) {
        return SN_EARCHIVE;
    }
    if (self->sealed_ds < 0) {
        return SN_OK;
    }
    int32_t v = (int32_t)sealed;
    if (ana_ar_write_1d(self->sealed_ds, H5T_NATIVE_INT32, 0, 1, &v) != SN_OK ||
        H5Fflush(self->file, H5F_SCOPE_LOCAL) < 0) {
        return SN_EARCHIVE;
    }
    return SN_OK;
}

/* Move the full recent block into the sealed datasets: one compressed
 * write per chunk, ever. The flush before makes the recent block complete
 * on disk; the flush after makes the new sealed extent durable before any
 * recent column is reused. */
static int
s_seal(ana_archive_t *self, sn_err_t *err)
{
    self->used = self->cd;
    int rc = ana_archive_flush(self, err);
    size_t n = self->nrows;
    float *buf =
        (rc == SN_OK) ? sn_malloc(n * self->cd * sizeof(float) + 1) : NULL;
    for (size_t f = 0; f < self->nfields && rc == SN_OK; f++) {
        rc = ana_ar_read_block(self->recent[f], 0, n, 0, self->cd, buf);
        if (rc == SN_OK) {
            rc = ana_ar_grow(self->main[f], n, self->sealed + self->cd, 2);
        }
        if (rc == SN_OK) {
            rc = ana_ar_write_block(self->main[f], 0, n, self->sealed, self->cd,
                                    buf);
        }
    }
    free(buf);
    if (rc == SN_OK) {
        rc = s_commit_sealed(self, self->sealed + self->cd);
    }
    if (rc != SN_OK) {
        return sn_err_set(err, SN_EARCHIVE, "%s: sealing days from %d failed",
                          self->path, self->time0 + (int)self->sealed);
    }
    self->sealed += self->cd;
    self->used = 0;
    return SN_OK;
}

static bool
s_is_alarm(size_t f)
{
    return f > 0 && (f - 1) % ANA_AR_NDETFIELD == 3;
}

static void
s_fill(float *b, size_t from, size_t to, bool alarm)
{
    for (size_t i = from; i < to; i++) {
        b[i] = alarm ? (float)ANA_AR_ALARM_FILL : NAN;
    }
}

/* Grow every loaded column to the current number of rows. */
static void
s_grow_columns(ana_archive_t *self)
{
    if (self->col_rows >= self->nrows) {
        return;
    }
    for (size_t f = 0; f < self->nfields; f++) {
        for (size_t c = 0; c < self->cd; c++) {
            float **p = &self->col[f * self->cd + c];
            if (*p != NULL) {
                *p = sn_reallocarray(*p, self->nrows, sizeof(float));
                s_fill(*p, self->col_rows, self->nrows, s_is_alarm(f));
            }
        }
    }
    self->col_rows = self->nrows;
}

/* Load recent column `c` of every field: from the file when the column
 * holds a day already (rows whose keys are on disk), else fill values. */
static int
s_load_column(ana_archive_t *self, size_t c, bool from_file)
{
    if (self->col[c] != NULL) {
        return SN_OK;
    }
    size_t n = self->col_rows > self->nrows ? self->col_rows : self->nrows;
    self->col_rows = n;
    size_t in_file = from_file ? self->rows_in_file : 0;
    for (size_t f = 0; f < self->nfields; f++) {
        float *b = sn_malloc((n + 1) * sizeof(float));
        self->col[f * self->cd + c] = b;
        if (in_file > 0 &&
            ana_ar_read_block(self->recent[f], 0, in_file, c, 1, b)) {
            return SN_EARCHIVE;
        }
        s_fill(b, in_file, n, s_is_alarm(f));
    }
    return SN_OK;
}

/* Let the time axis cover recent columns up to `upto`: each new column is
 * loaded with fill values and marked dirty, so stale bytes of an earlier
 * block are overwritten before the axis makes them visible. */
static int
s_cover(ana_archive_t *self, size_t upto)
{
    for (size_t c = self->used; c < upto; c++) {
        int rc = s_load_column(self, c, false);
        if (rc != SN_OK) {
            return rc;
        }
        self->dirty[c] = true;
    }
    if (upto > self->used) {
        self->used = upto;
    }
    return SN_OK;
}

/* Find the recent column of `day`, sealing full blocks on the way. */
static int
s_column_of(ana_archive_t *self, sn_day_t day, size_t *col, sn_err_t *err)
{
    if (self->time0 == ANA_AR_NO_DAY) {
        self->time0 = day;
    }
    int64_t c = (int64_t)day - self->time0 - (int64_t)self->sealed;
    if (c < 0) {
        char a[SN_DAY_STR_MAX], b[SN_DAY_STR_MAX];
        return sn_err_set(err, SN_ETOOOLD,
                          "%s: day %s is sealed (writable from %s)", self->path,
                          sn_day_format(day, a),
                          sn_day_format(self->time0 + (int)self->sealed, b));
    }
    while ((size_t)c >= self->cd) {
        int rc = s_cover(self, self->cd);
        if (rc == SN_OK) {
            rc = s_seal(self, err);
        }
        if (rc != SN_OK) {
            return rc;
        }
        c -= (int64_t)self->cd;
    }
    *col = (size_t)c;
    return SN_OK;
}

/* The stored values of detector point `p` (NULL: not evaluated):
 * expected, upperbound, score, alarm. */
static void
s_det_values(const sn_det_point_t *p, float v[ANA_AR_NDETFIELD])
{
    v[0] = v[1] = v[2] = NAN;
    v[3] = ANA_AR_ALARM_FILL;
    if (p != NULL) {
        v[0] = (float)p->expected;
        v[1] = (float)p->upperbound;
        v[2] = (float)p->score;
        v[3] = (p->alarm == 1 || p->alarm == 0) ? (float)p->alarm
                                                : ANA_AR_ALARM_FILL;
    }
}

static void
s_put_row(ana_archive_t *self, size_t c, const ana_archive_row_t *r)
{
    self->col[c][r->series] = (float)r->observed;
    for (size_t i = 0; i < self->n_cfg_dets; i++) {
        size_t base = 1 + self->det_map[i] * ANA_AR_NDETFIELD;
        float v[ANA_AR_NDETFIELD];
        s_det_values(r->det != NULL ? &r->det[i] : NULL, v);
        for (size_t k = 0; k < ANA_AR_NDETFIELD; k++) {
            self->col[(base + k) * self->cd + c][r->series] = v[k];
        }
    }
}

static int
s_check_rows(const ana_archive_t *self, const ana_archive_row_t *rows, size_t n,
             sn_err_t *err)
{
    for (size_t i = 0; i < n; i++) {
        if (rows[i].series >= self->nrows) {
            return sn_err_set(err, SN_ERANGE,
                              "%s: row %zu: series %zu was never registered",
                              self->path, i, rows[i].series);
        }
    }
    return SN_OK;
}

/* Put `rows` into the recent column of `day`, sealing full blocks on the
 * way; `before` (or NULL) gets each row's earlier observed value. */
static int
s_put(ana_archive_t *self, sn_day_t day, const ana_archive_row_t *rows,
      size_t n, float *before, sn_err_t *err)
{
    size_t c = 0;
    int rc = s_column_of(self, day, &c, err);
    if (rc != SN_OK) {
        return rc;
    }
    s_grow_columns(self);
    bool existing = c < self->used;
    rc = s_load_column(self, c, existing);
    if (rc == SN_OK) {
        rc = s_cover(self, c + 1);
    }
    if (rc != SN_OK) {
        return sn_err_set(err, rc, "%s: cannot read day column", self->path);
    }
    for (size_t i = 0; i < n; i++) {
        if (before != NULL) {
            before[i] = self->col[c][rows[i].series];
        }
        s_put_row(self, c, &rows[i]);
    }
    self->dirty[c] = true;
    return SN_OK;
}

/* -------------------------------------------------------- corrections */

/* Write one row's values for sealed column `col` in place: one element
 * per field. HDF5 decompresses the chunk, changes it and writes it again
 * at the next flush (at a new place in the file: under SWMR the old chunk
 * stays until then, so a kill leaves the old value or the new one). */
static int
s_put_sealed_row(ana_archive_t *self, size_t col, const ana_archive_row_t *r,
                 float *before)
{
    float obs = (float)r->observed;
    int rc = ana_ar_read_block(self->main[0], r->series, 1, col, 1, before);
    if (rc == SN_OK) {
        rc = ana_ar_write_block(self->main[0], r->series, 1, col, 1, &obs);
    }
    for (size_t i = 0; i < self->n_cfg_dets && rc == SN_OK; i++) {
        size_t base = 1 + self->det_map[i] * ANA_AR_NDETFIELD;
        float v[ANA_AR_NDETFIELD];
        s_det_values(r->det != NULL ? &r->det[i] : NULL, v);
        for (size_t k = 0; k < ANA_AR_NDETFIELD && rc == SN_OK; k++) {
            rc = ana_ar_write_block(self->main[base + k], r->series, 1, col, 1,
                                    &v[k]);
        }
    }
    return rc;
}

/* Rewrite sealed day `day` of `rows` in place. The rows are first made
 * part of the sealed datasets (a series new since the last flush has no
 * row there yet). */
static int
s_put_sealed(ana_archive_t *self, sn_day_t day, const ana_archive_row_t *rows,
             size_t n, float *before, sn_err_t *err)
{
    size_t col = (size_t)(day - self->time0);
    int rc = ana_ar_sync_rows(self);
    for (size_t i = 0; i < n && rc == SN_OK; i++) {
        rc = s_put_sealed_row(self, col, &rows[i], &before[i]);
    }
    if (rc != SN_OK) {
        char d[SN_DAY_STR_MAX];
        return sn_err_set(err, SN_EARCHIVE, "%s: cannot correct sealed day %s",
                          self->path, sn_day_format(day, d));
    }
    return SN_OK;
}

/* @return true when count `a` is stored as `b` already (compared as
 * stored, in float32; NaN to NaN is no change). */
static bool
s_same(double a, float b)
{
    float f = (float)a;
    return (isnan(f) && isnan(b)) || f == b;
}

/* Append a correction record for each row whose observed count changed. */
static int
s_fix_records(ana_archive_t *self, sn_day_t day, const ana_archive_row_t *rows,
              size_t n, const float *before, int sealed, sn_time_t now)
{
    ana_archive_fix_rec_t *recs = sn_calloc(n + 1, sizeof *recs);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        float a = (float)rows[i].observed, b = before[i];
        if (s_same(rows[i].observed, b)) {
            continue;
        }
        ana_archive_fix_rec_t *r = &recs[k++];
        r->time = now;
        r->day = day;
        r->sealed = sealed;
        snprintf(r->series, sizeof r->series, "%s",
                 self->rows[rows[i].series].part[0]);
        r->previous = b;
        r->observed = a;
    }
    int rc = SN_OK;
    if (k > 0) {
        size_t n0 = (size_t)ana_ar_extent(self->fix_ds, 0);
        hid_t t = ana_ar_fix_type();
        rc = ana_ar_write_1d(self->fix_ds, t, n0, n0 + k, recs);
        H5Tclose(t);
    }
    free(recs);
    return rc;
}

/* @return true when `day` lies before the recent block. */
static bool
s_before_recent(const ana_archive_t *self, sn_day_t day)
{
    return self->time0 != ANA_AR_NO_DAY &&
           day < self->time0 + (sn_day_t)self->sealed;
}

int
ana_archive_put_day(ana_archive_t *self, sn_day_t day,
                    const ana_archive_row_t *rows, size_t n, sn_err_t *err)
{
    assert(self != NULL);
    if (s_before_recent(self, day)) {
        /* A day put again after a restart (the analyzer's state went back
         * to its last checkpoint; the archive may have sealed the block
         * since): rewritten in place, any changed count recorded. */
        return ana_archive_correct_day(self, day, rows, n, sn_time_now(), err);
    }
    int rc = s_check_rows(self, rows, n, err);
    if (rc == SN_OK) {
        rc = s_put(self, day, rows, n, NULL, err);
    }
    return rc == SN_OK ? ana_archive_tick(self, err) : rc;
}

int
ana_archive_correct_day(ana_archive_t *self, sn_day_t day,
                        const ana_archive_row_t *rows, size_t n, sn_time_t now,
                        sn_err_t *err)
{
    assert(self != NULL);
    int rc = s_check_rows(self, rows, n, err);
    if (rc != SN_OK) {
        return rc;
    }
    float *before = sn_malloc((n + 1) * sizeof(float));
    int where = 0; /* the recent block */
    if (self->time0 != ANA_AR_NO_DAY && day < self->time0) {
        where = -1; /* no column: the record is all there is */
        for (size_t i = 0; i < n; i++) {
            before[i] = NAN;
        }
    } else if (s_before_recent(self, day)) {
        where = 1;
        rc = s_put_sealed(self, day, rows, n, before, err);
    } else {
        rc = s_put(self, day, rows, n, before, err);
    }
    if (rc == SN_OK &&
        s_fix_records(self, day, rows, n, before, where, now) != SN_OK) {
        rc = sn_err_set(err, SN_EARCHIVE, "%s: cannot append corrections",
                        self->path);
    }
    free(before);
    return rc == SN_OK ? ana_archive_tick(self, err) : rc;
}

sn_day_t
ana_archive_first_day(const ana_archive_t *self)
{
    return self->time0;
}

/* ---------------------------------------------------------- restores */

/* Read the observed count stored for each of `rows` on `day` into
 * `stored`: NaN where the day has no column or was never put. */
static int
s_stored(ana_archive_t *self, sn_day_t day, const ana_archive_row_t *rows,
         size_t n, float *stored)
{
    for (size_t i = 0; i < n; i++) {
        stored[i] = NAN;
    }
    if (self->time0 == ANA_AR_NO_DAY || day < self->time0) {
        return SN_OK;
    }
    if (s_before_recent(self, day)) {
        size_t col = (size_t)(day - self->time0);
        int rc = ana_ar_sync_rows(self);
        for (size_t i = 0; i < n && rc == SN_OK; i++) {
            rc = ana_ar_read_block(self->main[0], rows[i].series, 1, col, 1,
                                   &stored[i]);
        }
        return rc;
    }
    size_t c = (size_t)(day - self->time0) - self->sealed;
    if (c >= self->used) {
        return SN_OK; /* past the time axis: never put */
    }
    s_grow_columns(self);
    int rc = s_load_column(self, c, true);
    for (size_t i = 0; i < n && rc == SN_OK; i++) {
        stored[i] = self->col[c][rows[i].series];
    }
    return rc;
}

int
ana_archive_restore_day(ana_archive_t *self, sn_day_t day,
                        const ana_archive_row_t *rows, size_t n, sn_time_t now,
                        sn_err_t *err)
{
    assert(self != NULL);
    int rc = s_check_rows(self, rows, n, err);
    if (rc != SN_OK) {
        return rc;
    }
    float *stored = sn_malloc((n + 1) * sizeof(float));
    ana_archive_row_t *changed = sn_malloc((n + 1) * sizeof *changed);
    size_t k = 0;
    if (s_stored(self, day, rows, n, stored) != SN_OK) {
        char d[SN_DAY_STR_MAX];
        rc = sn_err_set(err, SN_EARCHIVE, "%s: cannot read day %s", self->path,
                        sn_day_format(day, d));
    }
    for (size_t i = 0; i < n && rc == SN_OK; i++) {
        if (!s_same(rows[i].observed, stored[i])) {
            changed[k++] = rows[i];
        }
    }
    if (rc == SN_OK && k > 0) {
        rc = ana_archive_correct_day(self, day, changed, k, now, err);
    }
    free(stored);
    free(changed);
    return rc;
}
