/*  analyzer/archive_read.c - read the HDF5 archive, also while it is written
 *
 *  Opens with H5F_ACC_SWMR_READ, which also opens a file whose writer was
 *  killed (its superblock still says "being written"). A series' days come
 *  from two datasets: columns below the sealed extent from the compressed
 *  root dataset, the rest (len(time) - sealed of them) from recent/. The
 *  time axis is read first on refresh, and the writer extends it last, so
 *  every column the reader counts has been written (see refresh).
 */
#include "archive_read.h"

#include "archive_int.h"
#include "sentinel/mem.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_READ_ATTEMPTS 20 /* metadata read attempts (HDF5: 100) */

struct ana_archive_read {
    hid_t file;                    /* SWMR-read file */
    char *path;                    /* for messages */
    char **dets;                   /* detector names, sorted */
    size_t ndets;                  /* their number */
    size_t nfields;                /* 1 + 4 * ndets */
    hid_t *main, *recent;          /* per field */
    hid_t keyds[ANA_AR_NKEYPART];  /* key table */
    hid_t time_ds, alerts_ds;      /* time axis, alerts */
    hid_t sealed_ds;               /* committed sealed count, or -1 (old) */
    hid_t fix_ds;                  /* corrections table, or -1 (old) */
    size_t nfixes;                 /* its records at the last refresh */
    char *keys[ANA_AR_NKEYPART];   /* key table in memory */
    size_t nseries;                /* rows of the key table */
    size_t ndays, sealed, nalerts; /* extents at the last refresh */
    sn_day_t time0;                /* day of column 0 */
};

static int
s_open_all(ana_archive_read_t *self)
{
    char path[256];
    int bad = 0;
    self->main = sn_calloc(self->nfields, sizeof(hid_t));
    self->recent = sn_calloc(self->nfields, sizeof(hid_t));
    for (size_t f = 0; f < self->nfields; f++) {
        ana_ar_field_path(path, (const char *const *)self->dets, f, false);
        self->main[f] = H5Dopen2(self->file, path, H5P_DEFAULT);
        ana_ar_field_path(path, (const char *const *)self->dets, f, true);
        self->recent[f] = H5Dopen2(self->file, path, H5P_DEFAULT);
        bad |= self->main[f] < 0 || self->recent[f] < 0;
    }
    for (size_t i = 0; i < ANA_AR_NKEYPART; i++) {
        self->keyds[i] =
            H5Dopen2(self->file, ana_ar_keypart_path(i), H5P_DEFAULT);
        bad |= self->keyds[i] < 0;
    }
    self->time_ds = H5Dopen2(self->file, ANA_AR_TIME, H5P_DEFAULT);
    self->alerts_ds = H5Dopen2(self->file, ANA_AR_ALERTS, H5P_DEFAULT);
    bad |= self->time_ds < 0 || self->alerts_ds < 0;
    self->sealed_ds = H5Lexists(self->file, ANA_AR_SEALED, H5P_DEFAULT) > 0
                          ? H5Dopen2(self->file, ANA_AR_SEALED, H5P_DEFAULT)
                          : H5I_INVALID_HID;
    self->fix_ds = H5Lexists(self->file, ANA_AR_CORRECTIONS, H5P_DEFAULT) > 0
                       ? H5Dopen2(self->file, ANA_AR_CORRECTIONS, H5P_DEFAULT)
                       : H5I_INVALID_HID;
    return bad ? SN_EARCHIVE : SN_OK;
}

int
ana_archive_read_open(const char *path, ana_archive_read_t **out, sn_err_t *err)
{
    ana_ar_quiet();
    if (H5Fis_hdf5(path) <= 0) {
        FILE *fp = fopen(path, "rb");
        if (fp == NULL) {
            return sn_err_set(err, SN_EIO, "%s: cannot open", path);
        }
        fclose(fp);
        return sn_err_set(err, SN_EARCHIVE,
                          "%s: not a Sentinel archive (not an HDF5 file)",
                          path);
    }
    ana_archive_read_t *self = sn_calloc(1, sizeof *self);
    self->path = sn_strdup(path);
    self->sealed_ds = H5I_INVALID_HID;
    self->fix_ds = H5I_INVALID_HID;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    /* A SWMR reader retries a metadata read whose checksum fails, doubling
     * its sleep each time; HDF5's default of 100 attempts turns a damaged
     * block into an endless wait. 20 attempts wait about a second. */
    H5Pset_metadata_read_attempts(fapl, S_READ_ATTEMPTS);
    /* As the writer (HDF5 refuses a second open of a file in one process
     * whose locking setting differs): no flock, SWMR needs none. */
    H5Pset_file_locking(fapl, 0, 1);
    self->file = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    if (self->file < 0) {
        self->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    }
    H5Pclose(fapl);
    int rc = SN_OK;
    if (self->file < 0) {
        rc = sn_err_set(err, SN_EARCHIVE,
                        "%s: HDF5 cannot open it (a writer that is not in "
                        "SWMR mode may hold it)",
                        path);
    }
    if (rc == SN_OK) {
        rc = ana_ar_check_version(self->file, path, err);
    }
    if (rc == SN_OK &&
        ana_ar_detector_names(self->file, &self->dets, &self->ndets)) {
        rc = sn_err_set(err, SN_EARCHIVE, "%s: no detectors group", path);
    }
    if (rc == SN_OK) {
        self->nfields = 1 + ANA_AR_NDETFIELD * self->ndets;
        if (s_open_all(self) != SN_OK) {
            rc = sn_err_set(err, SN_EARCHIVE, "%s: layout incomplete", path);
        }
    }
    if (rc == SN_OK) {
        rc = ana_archive_read_refresh(self, err);
    }
    if (rc != SN_OK) {
        ana_archive_read_destroy(&self);
        return rc;
    }
    *out = self;
    return SN_OK;
}

void
ana_archive_read_destroy(ana_archive_read_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    ana_archive_read_t *self = *self_p;
    for (size_t f = 0; f < self->nfields; f++) {
        if (self->main && self->main[f] > 0) {
            H5Dclose(self->main[f]);
        }
        if (self->recent && self->recent[f] > 0) {
            H5Dclose(self->recent[f]);
        }
    }
    for (size_t i = 0; i < ANA_AR_NKEYPART; i++) {
        if (self->keyds[i] > 0) {
            H5Dclose(self->keyds[i]);
        }
        free(self->keys[i]);
    }
    if (self->time_ds > 0) {
        H5Dclose(self->time_ds);
    }
    if (self->alerts_ds > 0) {
        H5Dclose(self->alerts_ds);
    }
    if (self->sealed_ds > 0) {
        H5Dclose(self->sealed_ds);
    }
    if (self->fix_ds > 0) {
        H5Dclose(self->fix_ds);
    }
    if (self->file > 0) {
        H5Fclose(self->file);
    }
    ana_ar_names_free(self->dets);
    free(self->main);
    free(self->recent);
    free(self->path);
    free(self);
    *self_p = NULL;
}

/* Read the key table columns (n rows) into memory. */
static int
s_load_keys(ana_archive_read_t *self, size_t n)
{
    for (size_t i = 0; i < ANA_AR_NKEYPART; i++) {
        size_t sz = ana_ar_keypart_size(i);
        char *buf = sn_calloc(n + 1, sz);
        hid_t t = ana_ar_str_type(sz);
        hsize_t off = 0, cnt = n;
        hid_t fs = H5Dget_space(self->keyds[i]);
        hid_t ms = H5Screate_simple(1, &cnt, NULL);
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &cnt, NULL);
        herr_t rc =
            (n == 0) ? 0 : H5Dread(self->keyds[i], t, ms, fs, H5P_DEFAULT, buf);
        H5Sclose(ms);
        H5Sclose(fs);
        H5Tclose(t);
        if (rc < 0) {
            free(buf);
            return SN_EARCHIVE;
        }
        for (size_t r = 0; r < n; r++) {
            buf[r * sz + sz - 1] = '\0';
        }
        free(self->keys[i]);
        self->keys[i] = buf;
    }
    size_t sz = ana_ar_keypart_size(ANA_AR_NKEYPART - 1);
    while (n > 0 && self->keys[ANA_AR_NKEYPART - 1][(n - 1) * sz] == '\0') {
        n--; /* keys a killed writer cut short are not committed */
    }
    self->nseries = n;
    return SN_OK;
}

static int
s_read_time0(ana_archive_read_t *self)
{
    int32_t d0 = 0;
    int rc = ana_ar_read_day0(self->time_ds, &d0);
    if (rc == SN_OK) {
        self->time0 = d0;
    }
    return rc;
}

/* @return the sealed columns: the committed count (or, in an older file,
 * the smallest day extent of the root datasets), at most the time axis;
 * 0 when it cannot be read (everything then comes from recent/ or fails). */
static size_t
s_sealed(ana_archive_read_t *self, bool refresh)
{
    size_t sealed =
        ana_ar_read_sealed(self->sealed_ds, self->main, self->nfields, refresh);
    if (sealed == SIZE_MAX) {
        return self->sealed; /* unreadable now: keep what was committed */
    }
    return sealed < self->ndays ? sealed : self->ndays;
}

/* The time axis is the commit marker: the writer extends it only after
 * the columns it covers are written, and flushes. It is read first; the
 * sealed extents read after it can only have grown, and a column beyond
 * them that the axis covers is in recent/ (the writer reuses a recent
 * column only after the block holding it is sealed and flushed). */
int
ana_archive_read_refresh(ana_archive_read_t *self, sn_err_t *err)
{
    H5Drefresh(self->time_ds);
    self->ndays = ana_ar_time_len(self->time_ds);
    for (size_t f = 0; f < self->nfields; f++) {
        H5Drefresh(self->main[f]);
        H5Drefresh(self->recent[f]);
    }
    for (size_t i = 0; i < ANA_AR_NKEYPART; i++) {
        H5Drefresh(self->keyds[i]);
    }
    H5Drefresh(self->alerts_ds);
    if (self->sealed_ds >= 0) {
        H5Drefresh(self->sealed_ds);
    }
    size_t n = (size_t)ana_ar_extent(self->keyds[0], 0);
    for (size_t i = 1; i < ANA_AR_NKEYPART; i++) {
        size_t m = (size_t)ana_ar_extent(self->keyds[i], 0);
        n = m < n ? m : n;
    }
    size_t rows = (size_t)ana_ar_extent(self->recent[0], 0);
    n = rows < n ? rows : n;
    self->sealed = s_sealed(self, false);
    self->nalerts = (size_t)ana_ar_extent(self->alerts_ds, 0);
    if (self->fix_ds >= 0) {
        H5Drefresh(self->fix_ds);
        self->nfixes = (size_t)ana_ar_extent(self->fix_ds, 0);
    }
    if (self->ndays < self->sealed) {
        self->sealed = self->ndays;
    }
    if ((n != self->nseries || self->keys[0] == NULL) &&
        s_load_keys(self, n) != SN_OK) {
        return sn_err_set(err, SN_EARCHIVE, "%s: cannot read series keys",
                          self->path);
    }
    if (self->ndays > 0 && s_read_time0(self) != SN_OK) {
        return sn_err_set(err, SN_EARCHIVE, "%s: cannot read time axis",
                          self->path);
    }
    return SN_OK;
}

size_t
ana_archive_read_series_count(const ana_archive_read_t *self)
{
    return self->nseries;
}

const char *
ana_archive_read_key(const ana_archive_read_t *self, size_t row, int part)
{
    assert(row < self->nseries && part >= 0 && part < ANA_AR_NKEYPART);
    return self->keys[part] + row * ana_ar_keypart_size((size_t)part);
}

int
ana_archive_read_find(const ana_archive_read_t *self, const char *key,
                      size_t *row, sn_err_t *err)
{
    for (size_t r = 0; r < self->nseries; r++) {
        if (strcmp(ana_archive_read_key(self, r, ANA_ARCHIVE_KEY), key) == 0) {
            *row = r;
            return SN_OK;
        }
    }
    return sn_err_set(err, SN_ENOTFOUND, "%s: unknown series key '%s'",
                      self->path, key);
}

size_t
ana_archive_read_days(const ana_archive_read_t *self)
{
    return self->ndays;
}

sn_day_t
ana_archive_read_first_day(const ana_archive_read_t *self)
{
    return self->time0;
}

size_t
ana_archive_read_detector_count(const ana_archive_read_t *self)
{
    return self->ndets;
}

const char *
ana_archive_read_detector(const ana_archive_read_t *self, size_t i)
{
    assert(i < self->ndets);
    return self->dets[i];
}

/* Read columns [c0, c0+n) of one row of `ds` as doubles. */
static int
s_read_row(hid_t ds, size_t row, size_t c0, size_t n, double *out)
{
    if (n == 0) {
        return SN_OK;
    }
    float *tmp = sn_malloc(n * sizeof(float));
    int rc = ana_ar_read_block(ds, row, 1, c0, n, tmp);
    for (size_t i = 0; i < n && rc == SN_OK; i++) {
        out[i] = tmp[i];
    }
    free(tmp);
    return rc;
}

static int s_read_split(ana_archive_read_t *self, size_t row, size_t field,
                        size_t col0, size_t n, double *out);

int
ana_archive_read_values(ana_archive_read_t *self, size_t row, size_t field,
                        size_t col0, size_t n, double *out, sn_err_t *err)
{
    if (row >= self->nseries || field >= self->nfields ||
        col0 + n > self->ndays) {
        return sn_err_set(err, SN_ERANGE,
                          "%s: series %zu field %zu days %zu..%zu: out of "
                          "range",
                          self->path, row, field, col0, col0 + n);
    }
    int rc = s_read_split(self, row, field, col0, n, out);
    for (int tries = 0; rc == SN_OK && tries < 3; tries++) {
        /* A block sealed while we read the recent part: the writer may
         * already reuse its columns, so read those days again. */
        size_t sealed = s_sealed(self, true);
        if (sealed <= self->sealed || col0 + n <= self->sealed) {
            break;
        }
        self->sealed = sealed;
        rc = s_read_split(self, row, field, col0, n, out);
    }
    if (rc != SN_OK) {
        return sn_err_set(err, rc, "%s: cannot read series %zu", self->path,
                          row);
    }
    return SN_OK;
}

/* Read the sealed part from the root dataset, the rest from recent/. */
static int
s_read_split(ana_archive_read_t *self, size_t row, size_t field, size_t col0,
             size_t n, double *out)
{
    size_t end = col0 + n, s_end = end < self->sealed ? end : self->sealed;
    int rc = SN_OK;
    if (col0 < s_end) {
        rc = s_read_row(self->main[field], row, col0, s_end - col0, out);
    }
    size_t r0 = col0 > self->sealed ? col0 : self->sealed;
    if (rc == SN_OK && r0 < end) {
        rc = s_read_row(self->recent[field], row, r0 - self->sealed, end - r0,
                        out + (r0 - col0));
    }
    return rc;
}

size_t
ana_archive_read_alert_count(const ana_archive_read_t *self)
{
    return self->nalerts;
}

int
ana_archive_read_alerts(ana_archive_read_t *self, size_t i0, size_t n,
                        ana_archive_alert_rec_t *out, sn_err_t *err)
{
    if (i0 + n > self->nalerts) {
        return sn_err_set(err, SN_ERANGE, "%s: alerts %zu..%zu: out of range",
                          self->path, i0, i0 + n);
    }
    if (n == 0) {
        return SN_OK;
    }
    hsize_t off = i0, cnt = n;
    hid_t t = ana_ar_alert_type();
    hid_t fs = H5Dget_space(self->alerts_ds);
    hid_t ms = H5Screate_simple(1, &cnt, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &cnt, NULL);
    herr_t rc = H5Dread(self->alerts_ds, t, ms, fs, H5P_DEFAULT, out);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Tclose(t);
    if (rc < 0) {
        return sn_err_set(err, SN_EARCHIVE, "%s: cannot read alerts",
                          self->path);
    }
    return SN_OK;
}

size_t
ana_archive_read_fix_count(const ana_archive_read_t *self)
{
    return self->nfixes;
}

int
ana_archive_read_fixes(ana_archive_read_t *self, size_t i0, size_t n,
                       ana_archive_fix_rec_t *out, sn_err_t *err)
{
    if (i0 + n > self->nfixes) {
        return sn_err_set(err, SN_ERANGE,
                          "%s: corrections %zu..%zu: out of range", self->path,
                          i0, i0 + n);
    }
    hid_t t = ana_ar_fix_type();
    int rc = ana_ar_read_1d(self->fix_ds, t, i0, n, out);
    H5Tclose(t);
    if (rc != SN_OK) {
        return sn_err_set(err, SN_EARCHIVE, "%s: cannot read corrections",
                          self->path);
    }
    return SN_OK;
}
