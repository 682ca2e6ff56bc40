/*  analyzer/archive.c - the HDF5 archive writer (SWMR) of every series
 *
 *  The analyzer puts each closed day here. The layout (docs/archive.md) has
 *  two parts per value field. Sealed blocks of chunk_days days live in the
 *  compressed [series x day] dataset ("observed", "detectors/D/expected"…),
 *  each chunk written exactly once, when its block is full. The block being
 *  filled lives in the uncompressed "recent/…" twin of fixed width
 *  chunk_days, rewritten in place at every flush. Under SWMR HDF5 never
 *  reuses freed file space, so a compressed chunk rewritten every day would
 *  leave its old copies behind; this split keeps the file at its compressed
 *  size and a day's write at one column. (Only a correction of a sealed
 *  day, which is rare, rewrites a compressed chunk: archive_days.c.)
 *
 *  "time" holds one day per column of the sealed part followed by the days
 *  used in the recent block, so a reader knows how many recent columns are
 *  valid: len(time) - sealed. Every write is ordered so that a kill -9 at
 *  any point leaves this invariant true on disk: data before the metadata
 *  that makes it visible, and a column that enters the recent block is
 *  always written whole before the time axis covers it.
 *
 *  This file opens the file, registers series and flushes; the days, the
 *  sealing and the corrections are in archive_days.c. The writer's state
 *  (struct ana_archive) is in archive_int.h, which both share.
 */
#define _GNU_SOURCE /* F_OFD_SETLK: a lock that HDF5's own fds cannot drop */
#include "archive.h"

#include "archive_int.h"
#include "sentinel/mem.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- keys */

static uint64_t
s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

/* @return the slot of `key`: its row + 1 is there, or 0 (free slot). */
static size_t
s_slot(const ana_archive_t *self, const char *key)
{
    size_t mask = self->hash_cap - 1;
    size_t i = (size_t)s_hash(key) & mask;
    while (self->hash[i] != 0 &&
           strcmp(self->rows[self->hash[i] - 1].part[0], key) != 0) {
        i = (i + 1) & mask;
    }
    return i;
}

static void
s_hash_rebuild(ana_archive_t *self, size_t cap)
{
    free(self->hash);
    self->hash_cap = cap;
    self->hash = sn_calloc(cap, sizeof(size_t));
    for (size_t r = 0; r < self->nrows; r++) {
        self->hash[s_slot(self, self->rows[r].part[0])] = r + 1;
    }
}

/* ------------------------------------------------------------ opening */

/* Take the writer's lock: an OFD lock on one byte far past the data, so a
 * second analyzer on the same file fails instead of clearing the flags of a
 * live writer. The kernel drops it when the process dies, even by kill -9. */
static int
s_lock(ana_archive_t *self, sn_err_t *err)
{
    int old = self->lock_fd; /* held until the new lock is: see open */
    self->lock_fd = open(self->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (old >= 0) {
        close(old);
    }
    if (self->lock_fd < 0) {
        return sn_err_set(err, SN_EIO, "%s: cannot open: %s", self->path,
                          strerror(errno));
    }
    struct flock fl = {.l_type = F_WRLCK,
                       .l_whence = SEEK_SET,
                       .l_start = INT64_MAX - 1,
                       .l_len = 1};
    if (fcntl(self->lock_fd, F_OFD_SETLK, &fl) < 0) {
        return sn_err_set(err, SN_EARCHIVE,
                          "%s: another analyzer is writing this archive",
                          self->path);
    }
    return SN_OK;
}

/* Read the chunk shape and map configured detectors to file order (the
 * file has them all: ana_ar_open_file() added the new ones). */
static int
s_setup_detectors(ana_archive_t *self, const ana_archive_opts_t *opts,
                  sn_err_t *err)
{
    int64_t cs = 0, cd = 0;
    if (ana_ar_attr_get_int(self->file, ANA_AR_CHUNK_SERIES_ATTR, &cs) ||
        ana_ar_attr_get_int(self->file, ANA_AR_CHUNK_DAYS_ATTR, &cd) ||
        cs < 1 || cd < 1) {
        return sn_err_set(err, SN_EARCHIVE, "%s: bad chunk attributes",
                          self->path);
    }
    self->cs = (size_t)cs;
    self->cd = (size_t)cd;
    if (ana_ar_detector_names(self->file, &self->dets, &self->ndets)) {
        return sn_err_set(err, SN_EARCHIVE, "%s: cannot list detectors",
                          self->path);
    }
    self->n_cfg_dets = opts->n_detectors;
    self->det_map = sn_calloc(opts->n_detectors + 1, sizeof(size_t));
    for (size_t i = 0; i < opts->n_detectors; i++) {
        bool found = false;
        for (size_t j = 0; j < self->ndets; j++) {
            if (strcmp(self->dets[j], opts->detectors[i]) == 0) {
                self->det_map[i] = j;
                found = true;
            }
        }
        if (!found) {
            return sn_err_set(err, SN_EARCHIVE, "%s: detector '%s' missing",
                              self->path, opts->detectors[i]);
        }
    }
    self->nfields = 1 + ANA_AR_NDETFIELD * self->ndets;
    return SN_OK;
}

/* @return the row capacity of the sealed datasets (their fixed maximum;
 * files from before it have none). */
static size_t
s_capacity(hid_t ds)
{
    hsize_t dims[2] = {0, 0}, maxd[2] = {0, 0};
    hid_t sp = H5Dget_space(ds);
    H5Sget_simple_extent_dims(sp, dims, maxd);
    H5Sclose(sp);
    return maxd[0] == H5S_UNLIMITED ? SIZE_MAX : (size_t)maxd[0];
}

static int
s_open_datasets(ana_archive_t *self)
{
    char path[256];
    self->main = sn_calloc(self->nfields, sizeof(hid_t));
    self->recent = sn_calloc(self->nfields, sizeof(hid_t));
    int bad = 0;
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
    self->fix_ds = H5Dopen2(self->file, ANA_AR_CORRECTIONS, H5P_DEFAULT);
    bad |= self->time_ds < 0 || self->alerts_ds < 0 || self->fix_ds < 0;
    self->sealed_ds = H5Lexists(self->file, ANA_AR_SEALED, H5P_DEFAULT) > 0
                          ? H5Dopen2(self->file, ANA_AR_SEALED, H5P_DEFAULT)
                          : H5I_INVALID_HID;
    self->cap = SIZE_MAX;
    for (size_t f = 0; f < self->nfields && !bad; f++) {
        size_t c = s_capacity(self->main[f]);
        self->cap = c < self->cap ? c : self->cap;
    }
    return bad ? SN_EARCHIVE : SN_OK;
}

static void
s_rows_reserve(ana_archive_t *self, size_t n)
{
    if (n <= self->rows_cap) {
        return;
    }
    size_t cap = self->rows_cap ? self->rows_cap : 1024;
    while (cap < n) {
        cap *= 2;
    }
    self->rows = sn_reallocarray(self->rows, cap, sizeof(ana_ar_row_t));
    self->rows_cap = cap;
}

/* Load the key table into memory and index it. */
static int
s_load_rows(ana_archive_t *self)
{
    size_t n = ana_ar_key_rows(self->keyds);
    s_rows_reserve(self, n > 0 ? n : 1); /* never memset(NULL): UBSan */
    memset(self->rows, 0, self->rows_cap * sizeof(ana_ar_row_t));
    for (size_t i = 0; i < ANA_AR_NKEYPART && n > 0; i++) {
        size_t sz = ana_ar_keypart_size(i);
        char *buf = sn_calloc(n, sz);
        int rc = ana_ar_read_keys(self->keyds[i], sz, n, buf);
        for (size_t r = 0; r < n && rc == SN_OK; r++) {
            memcpy(self->rows[r].part[i], buf + r * sz, sz);
            self->rows[r].part[i][sz - 1] = '\0';
        }
        free(buf);
        if (rc != SN_OK) {
            return SN_EARCHIVE;
        }
    }
    while (n > 0 && self->rows[n - 1].part[ANA_AR_NKEYPART - 1][0] == '\0') {
        n--; /* keys a kill cut short: the row is registered again */
    }
    self->nrows = self->rows_in_file = n;
    size_t cap = 1024;
    while (cap < 2 * n) {
        cap *= 2;
    }
    s_hash_rebuild(self, cap);
    return SN_OK;
}

/* Write fill values over rows [r0, r1) of every recent dataset. */
static int
s_fill_recent_rows(ana_archive_t *self, size_t r0, size_t r1)
{
    if (r1 <= r0) {
        return SN_OK;
    }
    size_t n = (r1 - r0) * self->cd;
    float *buf = sn_malloc(n * sizeof(float));
    int rc = SN_OK;
    for (size_t f = 0; f < self->nfields && rc == SN_OK; f++) {
        bool alarm = f > 0 && (f - 1) % ANA_AR_NDETFIELD == 3;
        for (size_t i = 0; i < n; i++) {
            buf[i] = alarm ? (float)ANA_AR_ALARM_FILL : NAN;
        }
        rc = ana_ar_write_block(self->recent[f], r0, r1 - r0, 0, self->cd, buf);
    }
    free(buf);
    return rc;
}

/* Read the time axis: where the sealed part ends and how much of the recent
 * block is used. Rows past the key table (extended, then killed before the
 * keys were flushed) are wiped so a new series never inherits them. */
static int
s_load_time(ana_archive_t *self)
{
    self->time_in_file = ana_ar_time_len(self->time_ds);
    /* A writer killed while sealing leaves extents grown past the
     * committed count: that block is sealed again. */
    self->sealed =
        ana_ar_read_sealed(self->sealed_ds, self->main, self->nfields, false);
    if (self->sealed == SIZE_MAX) {
        return SN_EARCHIVE;
    }
    self->time0 = ANA_AR_NO_DAY;
    if (self->time_in_file > 0) {
        int32_t d0 = 0;
        if (ana_ar_read_day0(self->time_ds, &d0) != SN_OK) {
            return SN_EARCHIVE;
        }
        self->time0 = d0;
    }
    if (self->time_in_file < self->sealed ||
        self->time_in_file > self->sealed + self->cd) {
        return SN_ECORRUPT;
    }
    self->used = self->time_in_file - self->sealed;
    size_t extent = (size_t)ana_ar_extent(self->recent[0], 0);
    return s_fill_recent_rows(self, self->nrows, extent);
}

/* ---------------------------------------------------------- lifecycle */

/* Let ana_ar_open_file() create, recover or extend the file, take the lock
 * again when a new file was renamed into place, then open it for writing.
 * The old lock is held until the new one is, so two analyzers never both
 * get through. */
static int
s_prepare(ana_archive_t *self, const ana_archive_opts_t *opts, sn_err_t *err)
{
    ana_ar_open_t info;
    int rc = ana_ar_open_file(self->path, self->lock_fd, opts, &info, err);
    if (rc == SN_OK && info.replaced) {
        rc = s_lock(self, err);
    }
    self->file = info.file;
    if (rc != SN_OK) {
        return rc;
    }
    self->recovered = info.recovered;
    if (info.moved[0] != '\0') {
        self->moved = sn_strdup(info.moved);
    }
    if (self->file < 0) {
        hid_t fapl = ana_ar_writer_fapl();
        self->file = H5Fopen(self->path, H5F_ACC_RDWR, fapl);
        H5Pclose(fapl);
    }
    if (self->file < 0) {
        return sn_err_set(err, SN_EARCHIVE, "%s: HDF5 cannot open the file",
                          self->path);
    }
    return SN_OK;
}

int
ana_archive_open(const ana_archive_opts_t *opts, ana_archive_t **out,
                 sn_err_t *err)
{
    int rc = ana_ar_check_opts(opts, err);
    if (rc != SN_OK) {
        return rc;
    }
    ana_ar_quiet();
    ana_archive_t *self = sn_calloc(1, sizeof *self);
    self->path = sn_strdup(opts->path);
    self->file = H5I_INVALID_HID;
    self->sealed_ds = H5I_INVALID_HID;
    self->fix_ds = H5I_INVALID_HID;
    self->lock_fd = -1;
    self->flush_interval = opts->flush_interval;
    rc = s_lock(self, err);
    if (rc == SN_OK) {
        rc = s_prepare(self, opts, err);
    }
    if (rc == SN_OK) {
        rc = s_setup_detectors(self, opts, err);
    }
    if (rc == SN_OK && H5Fstart_swmr_write(self->file) < 0) {
        rc = sn_err_set(err, SN_EARCHIVE, "%s: cannot start SWMR writing",
                        self->path);
    }
    if (rc == SN_OK && (s_open_datasets(self) || s_load_rows(self))) {
        rc = sn_err_set(err, SN_EARCHIVE, "%s: layout incomplete", self->path);
    }
    if (rc == SN_OK && s_load_time(self) != SN_OK) {
        rc = sn_err_set(err, SN_ECORRUPT,
                        "%s: time axis and datasets "
                        "disagree",
                        self->path);
    }
    if (rc != SN_OK) {
        ana_archive_destroy(&self);
        return rc;
    }
    self->col = sn_calloc(self->nfields * self->cd, sizeof(float *));
    self->dirty = sn_calloc(self->cd, sizeof(bool));
    self->last_flush_ns = sn_clock_ns();
    *out = self;
    return SN_OK;
}

static void
s_drop_columns(ana_archive_t *self)
{
    for (size_t i = 0; self->col != NULL && i < self->nfields * self->cd; i++) {
        free(self->col[i]);
        self->col[i] = NULL;
    }
    for (size_t c = 0; self->dirty != NULL && c < self->cd; c++) {
        self->dirty[c] = false;
    }
    self->col_rows = 0;
}

static void
s_close_ids(ana_archive_t *self)
{
    for (size_t f = 0; f < self->nfields; f++) {
        if (self->main != NULL && self->main[f] > 0) {
            H5Dclose(self->main[f]);
        }
        if (self->recent != NULL && self->recent[f] > 0) {
            H5Dclose(self->recent[f]);
        }
    }
    for (size_t i = 0; i < ANA_AR_NKEYPART; i++) {
        if (self->keyds[i] > 0) {
            H5Dclose(self->keyds[i]);
        }
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
}

void
ana_archive_destroy(ana_archive_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    ana_archive_t *self = *self_p;
    if (self->col != NULL) {
        ana_archive_flush(self, NULL);
    }
    s_drop_columns(self);
    s_close_ids(self);
    if (self->lock_fd >= 0) {
        close(self->lock_fd);
    }
    ana_ar_names_free(self->dets);
    free(self->det_map);
    free(self->main);
    free(self->recent);
    free(self->rows);
    free(self->hash);
    free(self->col);
    free(self->dirty);
    free(self->path);
    free(self->moved);
    free(self);
    *self_p = NULL;
}

bool
ana_archive_recovered(const ana_archive_t *self)
{
    return self->recovered;
}

const char *
ana_archive_moved_aside(const ana_archive_t *self)
{
    return self->moved;
}

size_t
ana_archive_series_count(const ana_archive_t *self)
{
    return self->nrows;
}

sn_day_t
ana_archive_last_day(const ana_archive_t *self)
{
    if (self->time0 == ANA_AR_NO_DAY || self->sealed + self->used == 0) {
        return INT32_MIN;
    }
    return self->time0 + (sn_day_t)(self->sealed + self->used) - 1;
}

/* ------------------------------------------------------------- series */

int
ana_archive_series(ana_archive_t *self, const ana_archive_key_t *key,
                   size_t *row, sn_err_t *err)
{
    char k[ANA_ARCHIVE_KEY_MAX];
    int rc = ana_archive_key_format(key, k, err);
    if (rc != SN_OK) {
        return rc;
    }
    size_t slot = s_slot(self, k);
    if (self->hash[slot] != 0) {
        *row = self->hash[slot] - 1;
        return SN_OK;
    }
    if (self->nrows >= self->cap) {
        return sn_err_set(err, SN_EARCHIVE,
                          "%s: series '%s': the archive holds its maximum of "
                          "%zu series (chunk_series x %d)",
                          self->path, k, self->cap, ANA_AR_CAP_CHUNKS);
    }
    s_rows_reserve(self, self->nrows + 1);
    ana_ar_row_t *r = &self->rows[self->nrows];
    memset(r, 0, sizeof *r);
    snprintf(r->part[0], sizeof r->part[0], "%s", k);
    snprintf(r->part[1], sizeof r->part[1], "%s", key->condition);
    snprintf(r->part[2], sizeof r->part[2], "%s", key->region);
    snprintf(r->part[3], sizeof r->part[3], "%s", key->source);
    snprintf(r->part[4], sizeof r->part[4], "%s",
             key->site == NULL ? "*" : key->site);
    self->hash[slot] = ++self->nrows;
    if (2 * self->nrows > self->hash_cap) {
        s_hash_rebuild(self, 2 * self->hash_cap);
    }
    *row = self->nrows - 1;
    return SN_OK;
}

/* -------------------------------------------------------------- flush */

/* Extend the value datasets to every row, then write the new keys: data
 * rows exist before a reader can see their key. */
int
ana_ar_sync_rows(ana_archive_t *self)
{
    int rc = SN_OK;
    for (size_t f = 0; f < self->nfields && rc == SN_OK; f++) {
        rc = ana_ar_grow(self->main[f], self->nrows, self->sealed, 2);
        if (rc == SN_OK) {
            rc = ana_ar_grow(self->recent[f], self->nrows, self->cd, 2);
        }
    }
    size_t r0 = self->rows_in_file, n = self->nrows - r0;
    for (size_t i = 0; i < ANA_AR_NKEYPART && rc == SN_OK && n > 0; i++) {
        size_t sz = ana_ar_keypart_size(i);
        char *buf = sn_calloc(n, sz);
        for (size_t r = 0; r < n; r++) {
            memcpy(buf + r * sz, self->rows[r0 + r].part[i], sz - 1);
        }
        hid_t t = ana_ar_str_type(sz);
        rc = ana_ar_write_1d(self->keyds[i], t, r0, self->nrows, buf);
        H5Tclose(t);
        free(buf);
    }
    if (rc == SN_OK) {
        self->rows_in_file = self->nrows;
    }
    return rc;
}

/* Write recent column `c` of every field over all rows. */
static int
s_write_column(ana_archive_t *self, size_t c)
{
    int rc = SN_OK;
    for (size_t f = 0; f < self->nfields && rc == SN_OK; f++) {
        rc = ana_ar_write_block(self->recent[f], 0, self->col_rows, c, 1,
                                self->col[f * self->cd + c]);
    }
    return rc;
}

/* Extend the time axis to cover the used recent columns. */
static int
s_sync_time(ana_archive_t *self)
{
    size_t n = self->sealed + self->used;
    if (n <= self->time_in_file) {
        return SN_OK;
    }
    size_t k = n - self->time_in_file;
    int32_t *days = sn_malloc(k * sizeof(int32_t));
    for (size_t i = 0; i < k; i++) {
        days[i] = self->time0 + (int32_t)(self->time_in_file + i);
    }
    int rc = ana_ar_write_1d(self->time_ds, H5T_NATIVE_INT32,
                             self->time_in_file, n, days);
    free(days);
    if (rc == SN_OK) {
        self->time_in_file = n;
    }
    return rc;
}

int
ana_archive_flush(ana_archive_t *self, sn_err_t *err)
{
    assert(self != NULL);
    int rc = ana_ar_sync_rows(self);
    for (size_t c = 0; c < self->cd && rc == SN_OK; c++) {
        if (self->dirty[c]) {
            rc = s_write_column(self, c);
        }
    }
    /* Two commit points: the data first, durable, then the time axis that
     * makes it visible (HDF5 may write a grown extent before the raw data
     * of the same flush). */
    if (rc == SN_OK && H5Fflush(self->file, H5F_SCOPE_LOCAL) < 0) {
        rc = SN_EARCHIVE;
    }
    if (rc == SN_OK && self->sealed + self->used > self->time_in_file) {
        rc = s_sync_time(self);
        if (rc == SN_OK && H5Fflush(self->file, H5F_SCOPE_LOCAL) < 0) {
            rc = SN_EARCHIVE;
        }
    }
    if (rc != SN_OK) {
        return sn_err_set(err, rc, "%s: flush failed", self->path);
    }
    s_drop_columns(self);
    self->last_flush_ns = sn_clock_ns();
    return SN_OK;
}

int
ana_archive_tick(ana_archive_t *self, sn_err_t *err)
{
    int64_t due = self->last_flush_ns + (int64_t)(self->flush_interval * 1e9);
    if (sn_clock_ns() < due) {
        return SN_OK;
    }
    return ana_archive_flush(self, err);
}

/* ------------------------------------------------------------- alerts */

int
ana_archive_alert(ana_archive_t *self, const ana_archive_alert_t *a,
                  sn_err_t *err)
{
    ana_ar_alert_rec_t rec;
    ana_ar_alert_rec_fill(&rec, a);
    size_t n = (size_t)ana_ar_extent(self->alerts_ds, 0);
    hid_t t = ana_ar_alert_type();
    int rc = ana_ar_write_1d(self->alerts_ds, t, n, n + 1, &rec);
    H5Tclose(t);
    if (rc != SN_OK) {
        return sn_err_set(err, rc, "%s: cannot append alert '%s'", self->path,
                          rec.id);
    }
    return ana_archive_tick(self, err);
}
