/*  analyzer/archive_h5.c - layout names and HDF5 helpers of the archive
 *
 *  The small pieces both the archive writer and its reader need: the names
 *  of the layout, fixed-length string and compound types, scalar attributes,
 *  the schema version check and block reads. Every HDF5 status is turned
 *  into an SN_E* code here or in the two modules that include archive_int.h.
 */
#include "archive_int.h"

#include "sentinel/mem.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_keyparts[ANA_AR_NKEYPART] = {
    "series/key", "series/condition", "series/region", "series/source",
    "series/site"};

static const size_t s_keysizes[ANA_AR_NKEYPART] = {
    ANA_ARCHIVE_KEY_MAX, ANA_ARCHIVE_CONDITION_MAX + 1,
    ANA_ARCHIVE_REGION_MAX + 1, ANA_ARCHIVE_SOURCE_MAX + 1,
    ANA_ARCHIVE_SITE_MAX + 1};

static const char *const s_detfields[ANA_AR_NDETFIELD] = {
    "expected", "upperbound", "score", "alarm"};

const char *
ana_ar_keypart_path(size_t i)
{
    assert(i < ANA_AR_NKEYPART);
    return s_keyparts[i];
}

size_t
ana_ar_keypart_size(size_t i)
{
    assert(i < ANA_AR_NKEYPART);
    return s_keysizes[i];
}

const char *
ana_ar_detfield_name(size_t k)
{
    assert(k < ANA_AR_NDETFIELD);
    return s_detfields[k];
}

void
ana_ar_field_path(char *buf, const char *const *dets, size_t f, bool recent)
{
    const char *pre = recent ? ANA_AR_RECENT "/" : "";
    if (f == 0) {
        snprintf(buf, 256, "%sobserved", pre);
        return;
    }
    snprintf(buf, 256, "%s" ANA_AR_DETECTORS "/%s/%s", pre,
             dets[(f - 1) / ANA_AR_NDETFIELD],
             s_detfields[(f - 1) % ANA_AR_NDETFIELD]);
}

hid_t
ana_ar_str_type(size_t size)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, size);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    return t;
}

static void
s_insert_str(hid_t t, const char *name, size_t off, size_t size)
{
    hid_t s = ana_ar_str_type(size);
    H5Tinsert(t, name, off, s);
    H5Tclose(s);
}

hid_t
ana_ar_alert_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(ana_ar_alert_rec_t));
#define S_STR(f)                                                               \
    s_insert_str(t, #f, HOFFSET(ana_ar_alert_rec_t, f),                        \
                 sizeof(((ana_ar_alert_rec_t *)0)->f))
    H5Tinsert(t, "time", HOFFSET(ana_ar_alert_rec_t, time), H5T_NATIVE_INT64);
    H5Tinsert(t, "day", HOFFSET(ana_ar_alert_rec_t, day), H5T_NATIVE_INT32);
    S_STR(id);
    S_STR(rule);
    S_STR(level);
    S_STR(state);
    S_STR(condition);
    S_STR(region);
    S_STR(series);
    H5Tinsert(t, "observed", HOFFSET(ana_ar_alert_rec_t, observed),
              H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "expected", HOFFSET(ana_ar_alert_rec_t, expected),
              H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "upperbound", HOFFSET(ana_ar_alert_rec_t, upperbound),
              H5T_NATIVE_DOUBLE);
    S_STR(message);
#undef S_STR
    return t;
}

hid_t
ana_ar_fix_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(ana_archive_fix_rec_t));
    H5Tinsert(t, "time", HOFFSET(ana_archive_fix_rec_t, time),
              H5T_NATIVE_INT64);
    H5Tinsert(t, "day", HOFFSET(ana_archive_fix_rec_t, day), H5T_NATIVE_INT32);
    H5Tinsert(t, "sealed", HOFFSET(ana_archive_fix_rec_t, sealed),
              H5T_NATIVE_INT32);
    s_insert_str(t, "series", HOFFSET(ana_archive_fix_rec_t, series),
                 ANA_ARCHIVE_KEY_MAX);
    H5Tinsert(t, "previous", HOFFSET(ana_archive_fix_rec_t, previous),
              H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "observed", HOFFSET(ana_archive_fix_rec_t, observed),
              H5T_NATIVE_DOUBLE);
    return t;
}

int
ana_ar_read_1d(hid_t ds, hid_t mt, size_t i0, size_t n, void *out)
{
    if (n == 0) {
        return SN_OK;
    }
    hsize_t off = i0, cnt = n;
    hid_t fs = H5Dget_space(ds);
    hid_t ms = H5Screate_simple(1, &cnt, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &cnt, NULL);
    herr_t rc = H5Dread(ds, mt, ms, fs, H5P_DEFAULT, out);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc < 0 ? SN_EARCHIVE : SN_OK;
}

/* Create (or replace) a scalar attribute of `type` and write `value`. */
static int
s_attr_write(hid_t obj, const char *name, hid_t ftype, hid_t mtype,
             const void *value)
{
    if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0) {
        return SN_EARCHIVE;
    }
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = (a >= 0 && H5Awrite(a, mtype, value) >= 0) ? SN_OK : SN_EARCHIVE;
    if (a >= 0) {
        H5Aclose(a);
    }
    H5Sclose(sp);
    return rc;
}

int
ana_ar_attr_str(hid_t obj, const char *name, const char *value)
{
    hid_t t = ana_ar_str_type(strlen(value) + 1);
    int rc = s_attr_write(obj, name, t, t, value);
    H5Tclose(t);
    return rc;
}

int
ana_ar_attr_int(hid_t obj, const char *name, int64_t value)
{
    int32_t v = (int32_t)value;
    return s_attr_write(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &v);
}

int
ana_ar_attr_get_int(hid_t obj, const char *name, int64_t *out)
{
    if (H5Aexists(obj, name) <= 0) {
        return SN_ENOTFOUND;
    }
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    int64_t v = 0;
    int rc =
        (a >= 0 && H5Aread(a, H5T_NATIVE_INT64, &v) >= 0) ? SN_OK : SN_EARCHIVE;
    if (a >= 0) {
        H5Aclose(a);
    }
    if (rc == SN_OK) {
        *out = v;
    }
    return rc;
}

int
ana_ar_check_version(hid_t file, const char *path, sn_err_t *err)
{
    int64_t v = 0;
    if (ana_ar_attr_get_int(file, ANA_AR_VERSION_ATTR, &v) != SN_OK) {
        return sn_err_set(err, SN_EARCHIVE,
                          "%s: not a Sentinel archive (no attribute '%s')",
                          path, ANA_AR_VERSION_ATTR);
    }
    if (v > ANA_ARCHIVE_SCHEMA_VERSION) {
        return sn_err_set(err, SN_EUNSUPPORTED,
                          "%s: schema version %lld is newer than this "
                          "build reads (%d): upgrade Sentinel",
                          path, (long long)v, ANA_ARCHIVE_SCHEMA_VERSION);
    }
    if (v < 1) {
        return sn_err_set(err, SN_EARCHIVE, "%s: bad schema version %lld", path,
                          (long long)v);
    }
    return SN_OK;
}

hsize_t
ana_ar_extent(hid_t ds, int dim)
{
    hsize_t dims[2] = {0, 0};
    hid_t sp = H5Dget_space(ds);
    int nd = H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    return (nd > dim) ? dims[dim] : 0;
}

/* Collect the link names under /detectors; H5Literate's callback. */
static herr_t
s_collect(hid_t g, const char *name, const H5L_info_t *info, void *arg)
{
    (void)g;
    (void)info;
    char ***names = arg;
    size_t n = 0;
    while ((*names)[n] != NULL) {
        n++;
    }
    *names = sn_reallocarray(*names, n + 2, sizeof(char *));
    (*names)[n] = sn_strdup(name);
    (*names)[n + 1] = NULL;
    return 0;
}

int
ana_ar_detector_names(hid_t file, char ***names, size_t *n)
{
    char **out = sn_calloc(1, sizeof(char *));
    hid_t g = H5Gopen2(file, ANA_AR_DETECTORS, H5P_DEFAULT);
    if (g < 0) {
        free(out);
        return SN_EARCHIVE;
    }
    hsize_t idx = 0;
    herr_t rc =
        H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, s_collect, &out);
    H5Gclose(g);
    if (rc < 0) {
        ana_ar_names_free(out);
        return SN_EARCHIVE;
    }
    size_t k = 0;
    while (out[k] != NULL) {
        k++;
    }
    *names = out;
    *n = k;
    return SN_OK;
}

void
ana_ar_names_free(char **names)
{
    if (names == NULL) {
        return;
    }
    for (size_t i = 0; names[i] != NULL; i++) {
        free(names[i]);
    }
    free(names);
}

int
ana_ar_read_block(hid_t ds, hsize_t row0, hsize_t nrows, hsize_t col0,
                  hsize_t ncols, float *out)
{
    if (nrows == 0 || ncols == 0) {
        return SN_OK;
    }
    hsize_t off[2] = {row0, col0}, cnt[2] = {nrows, ncols};
    hid_t fs = H5Dget_space(ds);
    hid_t ms = H5Screate_simple(2, cnt, NULL);
    int rc = SN_EARCHIVE;
    if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL) >= 0 &&
        H5Dread(ds, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, out) >= 0) {
        rc = SN_OK;
    }
    H5Sclose(ms);
    H5Sclose(fs);
    return rc;
}

/* Grow `ds` to at least rows x cols (never shrinks; cols 0 = keep). */
int
ana_ar_grow(hid_t ds, size_t rows, size_t cols, int rank)
{
    hsize_t dims[2] = {0, 0};
    hid_t sp = H5Dget_space(ds);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    hsize_t want[2] = {dims[0] > rows ? dims[0] : rows,
                       (rank < 2 || dims[1] > cols) ? dims[1] : cols};
    if (want[0] == dims[0] && want[1] == dims[1]) {
        return SN_OK;
    }
    return H5Dset_extent(ds, want) < 0 ? SN_EARCHIVE : SN_OK;
}

/* Write 1-D elements [r0, r1) of `ds` from buf in memory type `mt`. */
int
ana_ar_write_1d(hid_t ds, hid_t mt, size_t r0, size_t r1, const void *buf)
{
    if (r1 <= r0) {
        return SN_OK;
    }
    hsize_t off = r0, cnt = r1 - r0;
    if (ana_ar_grow(ds, r1, 0, 1) != SN_OK) {
        return SN_EARCHIVE;
    }
    hid_t fs = H5Dget_space(ds);
    hid_t ms = H5Screate_simple(1, &cnt, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &cnt, NULL);
    herr_t rc = H5Dwrite(ds, mt, ms, fs, H5P_DEFAULT, buf);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc < 0 ? SN_EARCHIVE : SN_OK;
}

int
ana_ar_write_block(hid_t ds, hsize_t row0, hsize_t nrows, hsize_t col0,
                   hsize_t ncols, const float *buf)
{
    if (nrows == 0 || ncols == 0) {
        return SN_OK;
    }
    hsize_t off[2] = {row0, col0}, cnt[2] = {nrows, ncols};
    hid_t fs = H5Dget_space(ds);
    hid_t ms = H5Screate_simple(2, cnt, NULL);
    int rc = SN_EARCHIVE;
    if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL) >= 0 &&
        H5Dwrite(ds, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, buf) >= 0) {
        rc = SN_OK;
    }
    H5Sclose(ms);
    H5Sclose(fs);
    return rc;
}

static void
s_copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

void
ana_ar_alert_rec_fill(ana_ar_alert_rec_t *rec, const ana_archive_alert_t *a)
{
    memset(rec, 0, sizeof *rec);
    rec->time = a->time;
    rec->day = a->day;
    s_copy(rec->id, sizeof rec->id, a->id);
    s_copy(rec->rule, sizeof rec->rule, a->rule);
    s_copy(rec->level, sizeof rec->level, a->level);
    s_copy(rec->state, sizeof rec->state, a->state);
    s_copy(rec->condition, sizeof rec->condition, a->condition);
    s_copy(rec->region, sizeof rec->region, a->region);
    s_copy(rec->series, sizeof rec->series, a->series);
    s_copy(rec->message, sizeof rec->message, a->message);
    rec->observed = a->observed;
    rec->expected = a->expected;
    rec->upperbound = a->upperbound;
}

int
ana_ar_read_day0(hid_t time_ds, int32_t *out)
{
    int32_t d0 = 0;
    hsize_t off = 0, cnt = 1;
    hid_t fs = H5Dget_space(time_ds);
    hid_t ms = H5Screate_simple(1, &cnt, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &cnt, NULL);
    herr_t rc = H5Dread(time_ds, H5T_NATIVE_INT32, ms, fs, H5P_DEFAULT, &d0);
    H5Sclose(ms);
    H5Sclose(fs);
    if (rc < 0) {
        return SN_EARCHIVE;
    }
    *out = d0;
    return SN_OK;
}

size_t
ana_ar_key_rows(const hid_t *keyds)
{
    size_t n = SIZE_MAX;
    for (size_t i = 0; i < ANA_AR_NKEYPART; i++) {
        size_t m = (size_t)ana_ar_extent(keyds[i], 0);
        n = m < n ? m : n;
    }
    return n;
}

int
ana_ar_read_keys(hid_t ds, size_t sz, size_t n, char *buf)
{
    if (n == 0) {
        return SN_OK;
    }
    hid_t t = ana_ar_str_type(sz);
    hsize_t off = 0, cnt = n;
    hid_t fs = H5Dget_space(ds);
    hid_t ms = H5Screate_simple(1, &cnt, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &cnt, NULL);
    herr_t rc = H5Dread(ds, t, ms, fs, H5P_DEFAULT, buf);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Tclose(t);
    return rc < 0 ? SN_EARCHIVE : SN_OK;
}

size_t
ana_ar_time_len(hid_t time_ds)
{
    size_t n = (size_t)ana_ar_extent(time_ds, 0);
    size_t k = n < 64 ? n : 64;
    if (k == 0) {
        return 0;
    }
    int32_t days[64];
    hsize_t off = n - k, cnt = k;
    hid_t fs = H5Dget_space(time_ds);
    hid_t ms = H5Screate_simple(1, &cnt, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &cnt, NULL);
    herr_t rc = H5Dread(time_ds, H5T_NATIVE_INT32, ms, fs, H5P_DEFAULT, days);
    H5Sclose(ms);
    H5Sclose(fs);
    if (rc < 0) {
        return 0;
    }
    while (k > 0 && days[k - 1] == 0) { /* the fill value: never written */
        k--;
        n--;
    }
    return n;
}

size_t
ana_ar_read_sealed(hid_t ds, const hid_t *main, size_t nfields, bool refresh)
{
    size_t sealed = SIZE_MAX;
    for (size_t f = 0; f < nfields; f++) {
        if (refresh) {
            H5Drefresh(main[f]);
        }
        size_t e = (size_t)ana_ar_extent(main[f], 1);
        sealed = e < sealed ? e : sealed;
    }
    if (ds < 0) {
        return sealed;
    }
    if (refresh) {
        H5Drefresh(ds);
    }
    int32_t v = 0; /* never written: nothing sealed yet */
    if (ana_ar_extent(ds, 0) > 0 &&
        (ana_ar_read_day0(ds, &v) != SN_OK || v < 0)) {
        return SIZE_MAX;
    }
    return (size_t)v < sealed ? (size_t)v : sealed;
}

hid_t
ana_ar_writer_fapl(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    /* The writer's own OFD lock (archive.c) keeps a second writer out.
     * HDF5's flock would also refuse the writer while any reader has the
     * file open, e.g. a `sentinel query` during an analyzer restart. */
    H5Pset_file_locking(fapl, 0, 1);
    return fapl;
}

void
ana_ar_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}
