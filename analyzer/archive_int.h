/*  analyzer/archive_int.h - layout names and HDF5 helpers of the archive
 *
 *  Shared by the writer (archive.c, archive_days.c) and the reader
 *  (archive_read.c), and owned by archive_h5.c, the one module besides them
 *  that calls HDF5. It names every group, dataset and attribute of the
 *  layout described in docs/archive.md, so writer and reader cannot drift
 *  apart, and holds the writer's state, which its two files share.
 *
 *  Threading: HDF5 is not thread-safe here: one thread per process.
 */
#ifndef SENTINEL_ANALYZER_ARCHIVE_INT_H
#define SENTINEL_ANALYZER_ARCHIVE_INT_H

#include <hdf5.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "archive_read.h"

#define ANA_AR_VERSION_ATTR "sentinel_schema_version"
#define ANA_AR_CHUNK_SERIES_ATTR "chunk_series"
#define ANA_AR_CHUNK_DAYS_ATTR "chunk_days"
#define ANA_AR_TIME "time"
#define ANA_AR_KEYS "series/key"
#define ANA_AR_DETECTORS "detectors"
#define ANA_AR_RECENT "recent"
#define ANA_AR_ALERTS "alerts"
#define ANA_AR_SEALED "sealed" /* [1] int32: committed sealed columns */
#define ANA_AR_CORRECTIONS "corrections" /* [events] compound */
#define ANA_AR_NKEYPART 5      /* key, condition, region, source, site */
#define ANA_AR_NDETFIELD 4     /* expected, upperbound, score, alarm */
#define ANA_AR_ALARM_FILL -1   /* alarm value of a day never put */
#define ANA_AR_CAP_CHUNKS 1024 /* sealed rows: chunk_series x this, max */

typedef ana_archive_alert_rec_t ana_ar_alert_rec_t; /* the alerts table */

/** @return the dataset names of the key table, in ANA_AR_NKEYPART order
 *  ("series/key", "series/condition", …), static. */
const char *ana_ar_keypart_path(size_t i);

/** @return the byte size (with NUL) of key table column `i`. */
size_t ana_ar_keypart_size(size_t i);

/** @return the name of detector field `k` ("expected" … "alarm"). */
const char *ana_ar_detfield_name(size_t k);

/** Write the path of value field `f` into buf (256 bytes): f == 0 is
 *  "observed", then "detectors/<det>/<field>" for detector f-1 / 4 and
 *  field (f-1) % 4, prefixed with "recent/" when `recent`. */
void ana_ar_field_path(char *buf, const char *const *dets, size_t f,
                       bool recent);

/** @return a new fixed-length, NUL-padded string type of `size` bytes. */
hid_t ana_ar_str_type(size_t size);

/** @return a new memory compound type of ana_ar_alert_rec_t. */
hid_t ana_ar_alert_type(void);

/** @return a new memory compound type of ana_archive_fix_rec_t. */
hid_t ana_ar_fix_type(void);

/** Create the corrections table in a file not yet in SWMR mode.
 *  @return SN_OK or SN_EARCHIVE. */
int ana_ar_create_fixes(hid_t file);

/** Read records [i0, i0 + n) of the 1-D compound dataset `ds` in memory
 *  type `mt` into out. @return SN_OK or SN_EARCHIVE. */
int ana_ar_read_1d(hid_t ds, hid_t mt, size_t i0, size_t n, void *out);

/** Attributes: write (creating or replacing) and read scalar values. */
int ana_ar_attr_str(hid_t obj, const char *name, const char *value);
int ana_ar_attr_int(hid_t obj, const char *name, int64_t value);
int ana_ar_attr_get_int(hid_t obj, const char *name, int64_t *out);

/** Check the root attributes of an open file: the schema version is there
 *  and not newer than this build's. @return SN_OK, SN_EARCHIVE ("not a
 *  Sentinel archive") or SN_EUNSUPPORTED, with `path` in the message. */
int ana_ar_check_version(hid_t file, const char *path, sn_err_t *err);

/** @return the number of elements of dimension `dim` of dataset `ds`. */
hsize_t ana_ar_extent(hid_t ds, int dim);

/** Read the names of the groups under /detectors (sorted by name) into a
 *  new NULL-terminated array; *n gets the count. Caller frees with
 *  ana_ar_names_free(). @return SN_OK or SN_EARCHIVE. */
int ana_ar_detector_names(hid_t file, char ***names, size_t *n);

/** Free a NULL-terminated array of names. Safe on NULL. */
void ana_ar_names_free(char **names);

/** Read rows [row0, row0+nrows) x columns [col0, col0+ncols) of a 2-D
 *  dataset as floats into out (row-major). @return SN_OK or SN_EARCHIVE. */
int ana_ar_read_block(hid_t ds, hsize_t row0, hsize_t nrows, hsize_t col0,
                      hsize_t ncols, float *out);

/** Write rows x columns of a 2-D dataset from floats in buf (row-major), the
 *  mirror of ana_ar_read_block(). @return SN_OK or SN_EARCHIVE. */
int ana_ar_write_block(hid_t ds, hsize_t row0, hsize_t nrows, hsize_t col0,
                       hsize_t ncols, const float *buf);

/** Grow `ds` (rank 1 or 2) to at least rows x cols; never shrinks, cols is
 *  ignored for rank 1. @return SN_OK or SN_EARCHIVE. */
int ana_ar_grow(hid_t ds, size_t rows, size_t cols, int rank);

/** Write elements [r0, r1) of the 1-D dataset `ds` from buf in memory type
 *  `mt`, growing it first. @return SN_OK or SN_EARCHIVE. */
int ana_ar_write_1d(hid_t ds, hid_t mt, size_t r0, size_t r1, const void *buf);

/** Add the sealed and recent datasets of detector `name` to a file not yet
 *  in SWMR mode, sized like "observed" (its past days read as missing);
 *  shape is the chunk shape {series, days}. @return SN_OK or SN_EARCHIVE. */
int ana_ar_create_detector(hid_t file, const char *name, const size_t *shape,
                           int deflate);

/* What ana_ar_open_file() did to the file before the writer opens it. */
typedef struct ana_ar_open {
    bool recovered;   /* a killed writer's flags were cleared */
    bool replaced;    /* a new file (new inode) is now at the path */
    char moved[1024]; /* where an unreadable file was moved, or "" */
    hid_t file;       /* the file open read-write (not SWMR), or -1 */
} ana_ar_open_t;

/** Make the file at `path` ready for the writer, who holds the lock on
 *  `fd` (open on it) and opens it afterwards: create it with the whole
 *  layout when empty; clear the flags of a killed writer; move a file HDF5
 *  cannot open aside (never deleting it) and start a new one; add the
 *  configured detectors that are missing. Every structural change is made
 *  in a copy renamed over `path` (info->replaced: re-take the lock);
 *  otherwise info->file is the file, open read-write, the caller's.
 *  @return SN_OK, SN_EIO, SN_EARCHIVE or SN_EUNSUPPORTED. */
int ana_ar_open_file(const char *path, int fd, const ana_archive_opts_t *opts,
                     ana_ar_open_t *info, sn_err_t *err);

/** Check writer options: a path, at most ANA_ARCHIVE_MAX_DETECTORS
 *  detectors with usable group names, a chunk shape and a deflate level.
 *  @return SN_OK or SN_EINVAL naming the option. */
int ana_ar_check_opts(const ana_archive_opts_t *opts, sn_err_t *err);

/** Fill the stored record `rec` from `a`, cutting strings to their fields
 *  (a NULL string is stored empty). */
void ana_ar_alert_rec_fill(ana_ar_alert_rec_t *rec,
                           const ana_archive_alert_t *a);

/** Read the first day of the time axis `time_ds` into *out (written only on
 *  success). @return SN_OK or SN_EARCHIVE. */
int ana_ar_read_day0(hid_t time_ds, int32_t *out);

/** @return the rows of the key table `keyds` (ANA_AR_NKEYPART columns)
 *  that every column holds: a kill can cut the columns' growth apart. */
size_t ana_ar_key_rows(const hid_t *keyds);

/** Read the first `n` strings of `sz` bytes of key column `ds` into buf.
 *  @return SN_OK or SN_EARCHIVE. */
int ana_ar_read_keys(hid_t ds, size_t sz, size_t n, char *buf);

/** @return the length of the time axis `time_ds` without trailing
 *  elements that hold the fill value 0 (1970-01-01, never a data day):
 *  a writer killed after HDF5 wrote the grown extent but before the days
 *  themselves leaves those, and they are not committed. 0 on an error. */
size_t ana_ar_time_len(hid_t time_ds);

/** Read the committed sealed column count: the one element of the
 *  "sealed" dataset (refreshed first when `refresh`), or, in a file made
 *  before it existed (`ds` < 0), the smallest day extent of `main`.
 *  @return the count, or SIZE_MAX on an HDF5 error. */
size_t ana_ar_read_sealed(hid_t ds, const hid_t *main, size_t nfields,
                          bool refresh);

/** @return a new file-access property list for the writer: latest format
 *  (SWMR needs it), HDF5's own file locking off (the writer holds its own
 *  lock). Caller closes it. */
hid_t ana_ar_writer_fapl(void);

/** Turn off HDF5's printing of its error stack (library code never prints;
 *  errors come back as codes). Process-wide and idempotent. */
void ana_ar_quiet(void);

/* ------------------------------------------------------------ writer */

#define ANA_AR_NO_DAY INT32_MIN /* time0 of a file with no day yet */

/* One series row: its key string and parts, as the key table stores them. */
typedef struct ana_ar_row {
    char part[ANA_AR_NKEYPART][ANA_ARCHIVE_KEY_MAX]; /* key, cond, … */
} ana_ar_row_t;

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
    ana_ar_row_t *rows;           /* every series, by row */
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

/** Grow the value datasets to every registered row, then write the keys
 *  of the rows new since the last call (data rows exist before a reader
 *  can see their key). @return SN_OK or SN_EARCHIVE. */
int ana_ar_sync_rows(ana_archive_t *self);

#endif
