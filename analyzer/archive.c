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
 *  size and a day's write at one column.
 *
 *  "time" holds one day per column of the sealed part followed by the days
 *  used in the recent block, so a reader knows how many recent columns are
 *  valid: len(time) - sealed. Every write is ordered so that a kill -9 at
 *  any point leaves this invariant true on disk: data before the metadata
 *  that makes it visible, and a column that enters the recent block is
 *  always written whole before the time axis covers it.
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

#define S_NO_DAY INT32_MIN

/* One series row: its key string and parts, as the key table stores them. */
typedef struct s_row {
    char part[ANA_AR_NKEYPART][ANA_ARCHIVE_KEY_MAX]; /* key, cond, … */
} s_row_t;

struct ana_archive {
    hid_t file;                   /* the HDF5 file, in SWMR-write mode */
    char *path;                   /* file path, for messages */
    int lock_fd;                  /* holds the writer's OFD lock */
    bool recovered;               /* open cleared a killed writer's flags */
    char *moved;                  /* where an unreadable file went, or NULL */
    size_t cap;                   /* most series rows the file can hold */
    size_t cs, cd;                /* chunk shape: series x days */
    double flush_interval;        /* seconds */
    int64_t last_flush_ns;        /* sn_clock_ns() of the last flush */
    char **dets;                  /* detector groups in the file, sorted */
    size_t ndets;                 /* their number */
    size_t *det_map;              /* configured detector i -> file index */
    size_t n_cfg_dets;            /* configured detectors */
    size_t nfields;               /* 1 + 4 * ndets value fields */
    hid_t *main;                  /* sealed dataset of each field */
    hid_t *recent;                /* recent-block dataset of each field */
    hid_t keyds[ANA_AR_NKEYPART]; /* key table columns */
    hid_t time_ds;                /* the time axis */
    hid_t alerts_ds;              /* the alerts table */
    hid_t sealed_ds;              /* committed sealed count, or -1 (old) */
    hid_t fix_ds;                 /* the corrections table */
    s_row_t *rows;                /* every series, by row */
    size_t nrows, rows_cap;       /* rows in memory, capacity */
    size_t rows_in_file;          /* rows whose keys are written */
    size_t *hash;                 /* open addressing: row + 1, 0 = empty */
    size_t hash_cap;              /* power of two */
    sn_day_t time0;               /* day of column 0, S_NO_DAY when none */
    size_t sealed;                /* columns in the sealed datasets */
    size_t used;                  /* recent columns covered by time (memory) */
    size_t time_in_file;          /* length of the time axis on disk */
    float **col;                  /* [field * cd + c]: loaded recent columns */
    bool *dirty;                  /* [c]: column c must be written */
    size_t col_rows;              /* rows each loaded column holds */
};

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
    self->rows = sn_reallocarray(self->rows, cap, sizeof(s_row_t));
    self->rows_cap = cap;
}

/* Load the key table into memory and index it. */
static int
s_load_rows(ana_archive_t *self)
{
    size_t n = ana_ar_key_rows(self->keyds);
    s_rows_reserve(self, n > 0 ? n : 1); /* never memset(NULL): UBSan */
    memset(self->rows, 0, self->rows_cap * sizeof(s_row_t));
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
    self->time0 = S_NO_DAY;
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
    if (self->time0 == S_NO_DAY || self->sealed + self->used == 0) {
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
    s_row_t *r = &self->rows[self->nrows];
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
static int
s_sync_rows(ana_archive_t *self)
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
    int rc = s_sync_rows(self);
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
    if (self->time0 == S_NO_DAY) {
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
    int rc = s_sync_rows(self);
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

/* Append a correction record for each row whose observed count changed
 * (compared as stored, in float32; NaN to NaN is no change). */
static int
s_fix_records(ana_archive_t *self, sn_day_t day, const ana_archive_row_t *rows,
              size_t n, const float *before, int sealed, sn_time_t now)
{
    ana_archive_fix_rec_t *recs = sn_calloc(n + 1, sizeof *recs);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        float a = (float)rows[i].observed, b = before[i];
        if ((isnan(a) && isnan(b)) || a == b) {
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
    return self->time0 != S_NO_DAY &&
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
    if (self->time0 != S_NO_DAY && day < self->time0) {
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
