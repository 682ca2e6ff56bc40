/*  analyzer/archive_layout.c - create, open and recover the archive file
 *
 *  The part of the archive writer that runs before SWMR starts: checking
 *  and formatting series keys, creating every group, dataset and attribute
 *  of the layout (docs/archive.md) in a new file, adding the datasets of a
 *  detector new since the last run, and opening an existing file read-write,
 *  clearing the superblock flags a killed writer left (what `h5clear -s`
 *  does). SWMR cannot create objects, so all of this happens here, once,
 *  at open; archive.c does the appending.
 */
#include "archive.h"

#include "archive_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define S_KEY_CHUNK 1024 /* rows per chunk of the key table */
#define S_TIME_CHUNK 366 /* days per chunk of the time axis */
#define S_ALERT_CHUNK 64 /* records per chunk of the alerts table */

/* ---------------------------------------------------------------- keys */

/* Check one key part: present, short enough, without '/'. */
static int
s_check_part(const char *what, const char *v, size_t max, sn_err_t *err)
{
    if (v == NULL || v[0] == '\0') {
        return sn_err_set(err, SN_EINVAL, "series key: %s is empty", what);
    }
    if (strlen(v) > max) {
        return sn_err_set(err, SN_EINVAL,
                          "series key: %s '%.40s' is longer than %zu bytes",
                          what, v, max);
    }
    if (strchr(v, '/') != NULL) {
        return sn_err_set(err, SN_EINVAL, "series key: %s '%s' holds '/'", what,
                          v);
    }
    return SN_OK;
}

int
ana_archive_key_format(const ana_archive_key_t *key, char *buf, sn_err_t *err)
{
    const char *site = (key->site == NULL) ? "*" : key->site;
    int rc = s_check_part("condition", key->condition,
                          ANA_ARCHIVE_CONDITION_MAX, err);
    if (rc == SN_OK) {
        rc = s_check_part("region", key->region, ANA_ARCHIVE_REGION_MAX, err);
    }
    if (rc == SN_OK) {
        rc = s_check_part("source", key->source, ANA_ARCHIVE_SOURCE_MAX, err);
    }
    if (rc == SN_OK) {
        rc = s_check_part("site", site, ANA_ARCHIVE_SITE_MAX, err);
    }
    if (rc == SN_OK) {
        snprintf(buf, ANA_ARCHIVE_KEY_MAX, "%s/%s/%s/%s", key->condition,
                 key->region, key->source, site);
    }
    return rc;
}

/* ------------------------------------------------------------- layout */

/* Create one value dataset: sealed (2 unlimited dims, compressed) or
 * recent (fixed width cd, uncompressed). */
static int
s_create_field(hid_t file, const char *path, size_t f, const size_t *shape,
               int deflate, bool recent)
{
    hsize_t dims[2] = {0, recent ? shape[1] : 0};
    hsize_t maxd[2] = {H5S_UNLIMITED, recent ? shape[1] : H5S_UNLIMITED};
    hsize_t chunk[2] = {shape[0], shape[1]};
    bool alarm = f > 0 && (f - 1) % ANA_AR_NDETFIELD == 3;
    float nanf_ = NAN;
    signed char fill8 = ANA_AR_ALARM_FILL;
    hid_t sp = H5Screate_simple(2, dims, maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_fill_value(dcpl, alarm ? H5T_NATIVE_SCHAR : H5T_NATIVE_FLOAT,
                      alarm ? (const void *)&fill8 : (const void *)&nanf_);
    if (!recent && deflate > 0) {
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, (unsigned)deflate);
    }
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t ds = H5Dcreate2(file, path, alarm ? H5T_STD_I8LE : H5T_IEEE_F32LE, sp,
                          lcpl, dcpl, H5P_DEFAULT);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(sp);
    if (ds < 0) {
        return SN_EARCHIVE;
    }
    static const char *const what[] = {
        "expected count under the detector's baseline model",
        "upper bound: an observed count above it raises the alarm",
        "detector statistic (method-specific score)",
        "alarm: 1 raised, 0 not raised, -1 not evaluated (NA)"};
    ana_ar_attr_str(ds, "long_name",
                    f == 0 ? "observed count of cases per day"
                           : what[(f - 1) % ANA_AR_NDETFIELD]);
    ana_ar_attr_str(ds, "units",
                    alarm                         ? "1"
                    : (f > 0 && (f - 1) % 4 == 2) ? "1"
                                                  : "cases");
    ana_ar_attr_str(ds, "dimensions",
                    recent ? "series, recent_day" : "series, time");
    H5Dclose(ds);
    return SN_OK;
}

/* Give a detector added to an existing file the extents of "observed", so
 * its days before today read as missing and the sealed part stays aligned. */
static void
s_match_extent(hid_t file, const char *name)
{
    const char *dets[1] = {name};
    char path[256];
    for (int recent = 0; recent < 2; recent++) {
        hid_t obs = H5Dopen2(file, recent ? "recent/observed" : "observed",
                             H5P_DEFAULT);
        hsize_t dims[2] = {0, 0};
        hid_t sp = H5Dget_space(obs);
        H5Sget_simple_extent_dims(sp, dims, NULL);
        H5Sclose(sp);
        H5Dclose(obs);
        for (size_t k = 1; k <= ANA_AR_NDETFIELD; k++) {
            ana_ar_field_path(path, dets, k, recent != 0);
            hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
            H5Dset_extent(ds, dims);
            H5Dclose(ds);
        }
    }
}

/* Create the datasets of detector `name` (sealed and recent), before SWMR. */
int
ana_ar_create_detector(hid_t file, const char *name, const size_t *shape,
                       int deflate)
{
    const char *dets[1] = {name};
    char path[256];
    for (size_t k = 1; k <= ANA_AR_NDETFIELD; k++) {
        for (int recent = 0; recent < 2; recent++) {
            ana_ar_field_path(path, dets, k, recent != 0);
            if (s_create_field(file, path, k, shape, deflate, recent != 0)) {
                return SN_EARCHIVE;
            }
        }
    }
    s_match_extent(file, name);
    hid_t g = H5Gopen2(file, ANA_AR_DETECTORS, H5P_DEFAULT);
    hid_t d = (g >= 0) ? H5Gopen2(g, name, H5P_DEFAULT) : -1;
    if (d >= 0) {
        ana_ar_attr_str(d, "method", name);
        H5Gclose(d);
    }
    if (g >= 0) {
        H5Gclose(g);
    }
    return SN_OK;
}

/* Create a 1-D extendible dataset of `type` (key parts, time, alerts). */
static int
s_create_1d(hid_t file, const char *path, hid_t type, hsize_t chunk,
            const char *long_name)
{
    hsize_t dims = 0, maxd = H5S_UNLIMITED;
    hid_t sp = H5Screate_simple(1, &dims, &maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t ds = H5Dcreate2(file, path, type, sp, lcpl, dcpl, H5P_DEFAULT);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(sp);
    if (ds < 0) {
        return SN_EARCHIVE;
    }
    ana_ar_attr_str(ds, "long_name", long_name);
    if (strcmp(path, ANA_AR_TIME) == 0) {
        ana_ar_attr_str(ds, "units", "days since 1970-01-01");
        ana_ar_attr_str(ds, "calendar", "proleptic_gregorian");
        ana_ar_attr_str(ds, "standard_name", "time");
        ana_ar_attr_str(ds, "axis", "T");
    }
    H5Dclose(ds);
    return SN_OK;
}

static const char *const s_part_doc[ANA_AR_NKEYPART] = {
    "series key CONDITION/REGION/SOURCE/SITE (SITE * = all sites)",
    "condition: disease or syndrome code", "region: administrative code",
    "source: reporting channel", "site: site id, * for all sites"};

static int
s_create_layout(hid_t file, const ana_archive_opts_t *opts)
{
    int rc = SN_OK;
    rc |=
        ana_ar_attr_int(file, ANA_AR_VERSION_ATTR, ANA_ARCHIVE_SCHEMA_VERSION);
    rc |= ana_ar_attr_str(file, "title", "Sentinel surveillance archive");
    rc |= ana_ar_attr_str(file, "Conventions", "CF-1.8");
    rc |= ana_ar_attr_int(file, ANA_AR_CHUNK_SERIES_ATTR,
                          (int64_t)opts->chunk_series);
    rc |= ana_ar_attr_int(file, ANA_AR_CHUNK_DAYS_ATTR,
                          (int64_t)opts->chunk_days);
    rc |= ana_ar_attr_str(file, "layout",
                          "values[series, time]: sealed blocks in the root "
                          "datasets, the newest len(time) - sealed days in "
                          "recent/ (see docs/archive.md)");
    for (size_t i = 0; i < ANA_AR_NKEYPART && rc == SN_OK; i++) {
        hid_t t = ana_ar_str_type(ana_ar_keypart_size(i));
        rc = s_create_1d(file, ana_ar_keypart_path(i), t, S_KEY_CHUNK,
                         s_part_doc[i]);
        H5Tclose(t);
    }
    hid_t at = ana_ar_alert_type();
    rc |= s_create_1d(file, ANA_AR_TIME, H5T_STD_I32LE, S_TIME_CHUNK,
                      "day of each column");
    rc |= s_create_1d(file, ANA_AR_ALERTS, at, S_ALERT_CHUNK,
                      "alert events: opened, updated, escalated, closed");
    H5Tclose(at);
    size_t shape[2] = {opts->chunk_series, opts->chunk_days};
    for (int recent = 0; recent < 2 && rc == SN_OK; recent++) {
        rc = s_create_field(file, recent ? "recent/observed" : "observed", 0,
                            shape, opts->deflate, recent != 0);
    }
    hid_t g = H5Gcreate2(file, ANA_AR_DETECTORS, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
    if (g < 0) {
        return SN_EARCHIVE;
    }
    H5Gclose(g);
    return rc == SN_OK ? SN_OK : SN_EARCHIVE;
}

/* ------------------------------------------------------------ opening */

static hid_t
s_fapl(bool clear_flags)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    if (clear_flags) {
        /* What `h5clear -s` does: HDF5 1.10 registers this file-access
         * property to clear the superblock's status flags on open. */
        hbool_t clear = 1;
        H5Pset(fapl, "clear_status_flags", &clear);
    }
    return fapl;
}

/* Open the existing file read-write (recovering it when a writer was
 * killed), or create it when empty. */
int
ana_ar_open_file(const char *path, int fd, const ana_archive_opts_t *opts,
                 hid_t *file, bool *recovered, sn_err_t *err)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size == 0) {
        hid_t fapl = s_fapl(false);
        *file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
        H5Pclose(fapl);
        if (*file < 0) {
            return sn_err_set(err, SN_EIO, "%s: cannot create the archive",
                              path);
        }
        if (s_create_layout(*file, opts) != SN_OK) {
            return sn_err_set(err, SN_EARCHIVE, "%s: cannot create the layout",
                              path);
        }
        return SN_OK;
    }
    if (H5Fis_hdf5(path) <= 0) {
        return sn_err_set(err, SN_EARCHIVE,
                          "%s: not a Sentinel archive (not an HDF5 file)",
                          path);
    }
    hid_t fapl = s_fapl(false);
    *file = H5Fopen(path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    if (*file < 0) {
        /* Our lock is held, so no live writer has it: the flags are a
         * killed writer's. */
        fapl = s_fapl(true);
        *file = H5Fopen(path, H5F_ACC_RDWR, fapl);
        H5Pclose(fapl);
        *recovered = *file >= 0;
    }
    if (*file < 0) {
        return sn_err_set(err, SN_EARCHIVE, "%s: HDF5 cannot open the file",
                          path);
    }
    return ana_ar_check_version(*file, path, err);
}
