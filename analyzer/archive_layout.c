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

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* Create one value dataset: sealed (rows up to a fixed capacity, days
 * unlimited, compressed) or recent (rows unlimited, fixed width cd,
 * uncompressed). Each has exactly one unlimited dimension, so HDF5 indexes
 * its chunks with an extensible array, whose SWMR flushes are ordered so
 * that a killed writer leaves a readable index; two unlimited dimensions
 * would take a v2 B-tree, whose nodes a kill -9 left unreadable. */
static int
s_create_field(hid_t file, const char *path, size_t f, const size_t *shape,
               int deflate, bool recent)
{
    hsize_t dims[2] = {0, recent ? shape[1] : 0};
    hsize_t maxd[2] = {recent ? H5S_UNLIMITED
                              : (hsize_t)shape[0] * ANA_AR_CAP_CHUNKS,
                       recent ? shape[1] : H5S_UNLIMITED};
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

int
ana_ar_create_fixes(hid_t file)
{
    hid_t t = ana_ar_fix_type();
    int rc = s_create_1d(file, ANA_AR_CORRECTIONS, t, S_ALERT_CHUNK,
                         "corrections of closed days: when, which day and "
                         "series, the count before and after");
    H5Tclose(t);
    return rc;
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
    rc |= s_create_1d(file, ANA_AR_SEALED, H5T_STD_I32LE, 1,
                      "days of the root value datasets that are complete; "
                      "the rest of time is in recent/");
    H5Tclose(at);
    rc |= ana_ar_create_fixes(file);
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
    hid_t fapl = ana_ar_writer_fapl();
    if (clear_flags) {
        /* What `h5clear -s` does: HDF5 1.10 registers this file-access
         * property to clear the superblock's status flags on open. */
        hbool_t clear = 1;
        H5Pset(fapl, "clear_status_flags", &clear);
    }
    return fapl;
}

/* Add the groups of configured detectors missing from `file` (not in
 * SWMR mode); *added counts them. */
static int
s_add_detectors(hid_t file, const ana_archive_opts_t *opts, size_t *added)
{
    int64_t cs = 0, cd = 0;
    if (ana_ar_attr_get_int(file, ANA_AR_CHUNK_SERIES_ATTR, &cs) ||
        ana_ar_attr_get_int(file, ANA_AR_CHUNK_DAYS_ATTR, &cd) || cs < 1 ||
        cd < 1) {
        return SN_EARCHIVE;
    }
    size_t shape[2] = {(size_t)cs, (size_t)cd};
    *added = 0;
    for (size_t i = 0; i < opts->n_detectors; i++) {
        char path[256];
        snprintf(path, sizeof path, ANA_AR_DETECTORS "/%s", opts->detectors[i]);
        if (H5Lexists(file, path, H5P_DEFAULT) > 0) {
            continue;
        }
        if (ana_ar_create_detector(file, opts->detectors[i], shape,
                                   opts->deflate) != SN_OK) {
            return SN_EARCHIVE;
        }
        *added += 1;
    }
    return SN_OK;
}

/* Copy the bytes of `from` into a new file `to`. */
static int
s_copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = (in >= 0 && out >= 0) ? SN_OK : SN_EIO;
    char buf[65536];
    for (ssize_t n = 1; rc == SN_OK && n > 0;) {
        n = read(in, buf, sizeof buf);
        if (n < 0 || (n > 0 && write(out, buf, (size_t)n) != n)) {
            rc = SN_EIO;
        }
    }
    if (in >= 0) {
        close(in);
    }
    if (out >= 0) {
        close(out);
    }
    return rc;
}

/* Make a complete, closed archive at `tmp` (a copy of `from` when not
 * NULL, else a new layout), with every configured detector, then move it
 * over `path` in one rename. No structural change is ever made to the live
 * file: HDF5 orders its metadata writes only in SWMR mode, so a kill -9
 * during a non-SWMR change could leave a file no one can open. */
static int
s_build(const char *path, const char *from, const ana_archive_opts_t *opts)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    hid_t fapl = s_fapl(false);
    hid_t f = H5I_INVALID_HID;
    if (from == NULL) {
        f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    } else if (s_copy_file(from, tmp) == SN_OK) {
        f = H5Fopen(tmp, H5F_ACC_RDWR, fapl);
    }
    H5Pclose(fapl);
    size_t added = 0;
    int rc = (f >= 0) ? SN_OK : SN_EIO;
    if (rc == SN_OK && from == NULL) {
        rc = s_create_layout(f, opts);
    }
    if (rc == SN_OK) {
        rc = s_add_detectors(f, opts, &added);
    }
    if (rc == SN_OK && H5Lexists(f, ANA_AR_CORRECTIONS, H5P_DEFAULT) <= 0) {
        rc = ana_ar_create_fixes(f);
    }
    if (f >= 0 && H5Fclose(f) < 0) {
        rc = SN_EARCHIVE;
    }
    int fd = (rc == SN_OK) ? open(tmp, O_RDWR | O_CLOEXEC) : -1;
    if (rc == SN_OK && (fd < 0 || fsync(fd) != 0)) {
        rc = SN_EIO;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (rc == SN_OK && rename(tmp, path) != 0) {
        rc = SN_EIO;
    }
    if (rc != SN_OK) {
        unlink(tmp);
    }
    return rc;
}

/* A writer killed while HDF5 grew the file can leave the superblock's
 * end-of-allocation address past the end of the file, which HDF5 refuses
 * as truncated. The space between was allocated but never written (no
 * flushed object points there), so extending the file with zeros is what
 * `h5clear --increment` does too. @return true when the file was grown. */
static bool
s_fix_eoa(int fd)
{
    unsigned char sb[48];
    struct stat st;
    if (pread(fd, sb, sizeof sb, 0) != (ssize_t)sizeof sb ||
        memcmp(sb, "\211HDF\r\n\032\n", 8) != 0 || sb[8] < 2 || sb[9] != 8 ||
        fstat(fd, &st) != 0) {
        return false;
    }
    uint64_t eoa = 0;
    for (int i = 7; i >= 0; i--) {
        eoa = (eoa << 8) | sb[28 + i]; /* v2/v3: base 12, ext 20, EOA 28 */
    }
    if (eoa <= (uint64_t)st.st_size || eoa > ((uint64_t)1 << 48)) {
        return false;
    }
    return ftruncate(fd, (off_t)eoa) == 0;
}

/* Open `path` read-write without SWMR, clearing a killed writer's flags
 * (our lock is held, so no live writer has them), growing a file cut
 * short by a kill and covering what it wrote past its recorded end. */
static hid_t
s_open_rw(const char *path, int fd, bool *recovered)
{
    hid_t fapl = s_fapl(false);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    for (int attempt = 0; f < 0 && attempt < 2; attempt++) {
        if (attempt == 1 && !s_fix_eoa(fd)) {
            break;
        }
        fapl = s_fapl(true);
        f = H5Fopen(path, H5F_ACC_RDWR, fapl);
        H5Pclose(fapl);
        *recovered = f >= 0;
    }
    /* A killed SWMR writer can also leave objects written past the end of
     * allocation its superblock last recorded (the file is longer than
     * that address); a later allocation there would overwrite them. Move
     * the end of allocation to the end of the file, as `h5clear
     * --increment=0` does. */
    if (*recovered && f >= 0 && H5Fincrement_filesize(f, 0) < 0) {
        H5Fclose(f);
        f = H5I_INVALID_HID;
    }
    return f;
}

/* Move an archive that HDF5 cannot open out of the way, never deleting
 * it: `path` becomes `path.unreadable-YYYYmmddTHHMMSS`, named in `moved`. */
static int
s_move_aside(const char *path, char *moved, size_t cap)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    snprintf(moved, cap, "%s.unreadable-%s", path, stamp);
    return rename(path, moved) == 0 ? SN_OK : SN_EIO;
}

/* The existing file: open it, or move it aside and start a new one when
 * nothing can open it; copy it to add new detectors. */
static int
s_open_existing(const char *path, int fd, const ana_archive_opts_t *opts,
                ana_ar_open_t *info, sn_err_t *err)
{
    hid_t f = s_open_rw(path, fd, &info->recovered);
    if (f < 0) {
        if (s_move_aside(path, info->moved, sizeof info->moved) != SN_OK ||
            s_build(path, NULL, opts) != SN_OK) {
            return sn_err_set(err, SN_EARCHIVE,
                              "%s: HDF5 cannot open the file, and it could "
                              "not be moved aside",
                              path);
        }
        info->replaced = info->recovered = true;
        return SN_OK;
    }
    int rc = ana_ar_check_version(f, path, err);
    bool missing = H5Lexists(f, ANA_AR_CORRECTIONS, H5P_DEFAULT) <= 0;
    for (size_t i = 0; rc == SN_OK && i < opts->n_detectors; i++) {
        char p[256];
        snprintf(p, sizeof p, ANA_AR_DETECTORS "/%s", opts->detectors[i]);
        missing |= H5Lexists(f, p, H5P_DEFAULT) <= 0;
    }
    if (rc == SN_OK && !missing) {
        info->file = f;
        return SN_OK;
    }
    H5Fclose(f);
    if (rc == SN_OK && missing) {
        rc = s_build(path, path, opts);
        info->replaced = rc == SN_OK;
        if (rc != SN_OK) {
            rc = sn_err_set(err, rc,
                            "%s: cannot add detectors or the "
                            "corrections table",
                            path);
        }
    }
    return rc;
}

int
ana_ar_open_file(const char *path, int fd, const ana_archive_opts_t *opts,
                 ana_ar_open_t *info, sn_err_t *err)
{
    struct stat st;
    memset(info, 0, sizeof *info);
    info->file = H5I_INVALID_HID;
    if (fstat(fd, &st) == 0 && st.st_size == 0) {
        if (s_build(path, NULL, opts) != SN_OK) {
            return sn_err_set(err, SN_EIO, "%s: cannot create the archive",
                              path);
        }
        info->replaced = true;
        return SN_OK;
    }
    if (H5Fis_hdf5(path) <= 0) {
        return sn_err_set(err, SN_EARCHIVE,
                          "%s: not a Sentinel archive (not an HDF5 file)",
                          path);
    }
    return s_open_existing(path, fd, opts, info, err);
}
