/*  bench/bench_archive.c - archive writer and reader, next to raw HDF5
 *
 *  Three figures, each printed beside the best plain-HDF5 figure for the
 *  same layout measured in the same run (no Sentinel code: H5Dwrite and
 *  H5Dread on hyperslabs of the same chunked datasets, SWMR-write mode,
 *  the same compression for sealed blocks):
 *  - appending one day for 100,000 series (one detector: five value
 *    fields), flushed, averaged over 32 days so the sealing of a 16-day
 *    block is counted in its share;
 *  - reading one series over 3 years (1,096 days; sealed blocks and the
 *    recent block) from a 2,000-series archive, averaged over 200 series;
 *  - archive bytes per series-year of that 3-year archive (all five fields,
 *    Poisson-like counts). Figures only: it never fails on time.
 */
#include "archive.h"
#include "archive_read.h"
#include "sentinel/date.h"
#include "sentinel/mem.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define W_SERIES 100000 /* series of the write benchmark */
#define W_DAYS 32       /* days appended */
#define R_SERIES 2000   /* series of the read benchmark */
#define R_DAYS 1096     /* three years */
#define R_READS 200     /* series read */
#define CS 512          /* chunk shape, the defaults */
#define CD 16
#define NF 5 /* observed + expected, upperbound, score, alarm */

static const char *const s_dets[] = {"ears-c2"};

static double
s_now(void)
{
    return (double)sn_clock_ns() / 1e6;
}

static double
s_count(size_t row, int d)
{
    return (double)((row * 7919 + (size_t)d * 104729) % 13);
}

/* Put day `d` of `n` series through the writer. */
static void
s_put(ana_archive_t *a, ana_archive_row_t *rows, sn_det_point_t *pts, size_t n,
      int d)
{
    for (size_t r = 0; r < n; r++) {
        double v = s_count(r, d);
        pts[r] = (sn_det_point_t){.expected = 6,
                                  .upperbound = 12.5,
                                  .score = v / 6,
                                  .alarm = v > 12.5};
        rows[r] = (ana_archive_row_t){r, v, &pts[r]};
    }
    if (ana_archive_put_day(a, 20000 + d, rows, n, NULL) != SN_OK) {
        fprintf(stderr, "bench_archive: put day failed\n");
        exit(1);
    }
}

/* Write `days` days of `n` series with the writer; @return ms per day. */
static double
s_write_sentinel(const char *path, size_t n, int days)
{
    ana_archive_opts_t o;
    ana_archive_opts_default(&o);
    o.path = path;
    o.detectors = s_dets;
    o.n_detectors = 1;
    o.chunk_series = CS;
    o.chunk_days = CD;
    ana_archive_t *a = NULL;
    sn_err_t err;
    if (ana_archive_open(&o, &a, &err) != SN_OK) {
        fprintf(stderr, "bench_archive: %s\n", err.msg);
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        char region[24];
        snprintf(region, sizeof region, "%06zu", i);
        ana_archive_key_t k = {"ILI", region, "fever_clinic", NULL};
        size_t row = 0;
        ana_archive_series(a, &k, &row, NULL);
    }
    ana_archive_flush(a, NULL);
    ana_archive_row_t *rows = sn_calloc(n, sizeof *rows);
    sn_det_point_t *pts = sn_calloc(n, sizeof *pts);
    double t0 = s_now();
    for (int d = 0; d < days; d++) {
        s_put(a, rows, pts, n, d);
        ana_archive_flush(a, NULL);
    }
    double ms = (s_now() - t0) / days;
    ana_archive_destroy(&a);
    free(rows);
    free(pts);
    return ms;
}

/* Create a [n x cols] float dataset chunked CS x CD (compressed: sealed). */
static hid_t
s_raw_dataset(hid_t f, const char *name, size_t n, bool sealed)
{
    hsize_t dims[2] = {n, sealed ? 0 : CD};
    /* As the writer: one unlimited dimension each (extensible-array chunk
     * index); sealed rows up to a fixed capacity of CS x 1024 series. */
    hsize_t maxd[2] = {sealed ? (hsize_t)CS * 1024 : H5S_UNLIMITED,
                       sealed ? H5S_UNLIMITED : CD};
    hsize_t chunk[2] = {CS, CD};
    hid_t sp = H5Screate_simple(2, dims, maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    if (sealed) {
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 4);
    }
    hid_t ds =
        H5Dcreate2(f, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return ds;
}

static void
s_raw_write(hid_t ds, hsize_t r0, hsize_t nr, hsize_t c0, hsize_t nc,
            const float *buf)
{
    hsize_t off[2] = {r0, c0}, cnt[2] = {nr, nc};
    hid_t fs = H5Dget_space(ds);
    hid_t ms = H5Screate_simple(2, cnt, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, buf);
    H5Sclose(ms);
    H5Sclose(fs);
}

/* The same appends with plain HDF5: one column per field per day into the
 * recent datasets, a flush, and every CD days the block (kept in memory,
 * not read back) written once into the compressed datasets. */
static double
s_write_raw(const char *path, size_t n, int days)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    hid_t rec[NF], main[NF];
    for (int k = 0; k < NF; k++) {
        char name[32];
        snprintf(name, sizeof name, "recent%d", k);
        rec[k] = s_raw_dataset(f, name, n, false);
        snprintf(name, sizeof name, "sealed%d", k);
        main[k] = s_raw_dataset(f, name, n, true);
    }
    H5Fstart_swmr_write(f);
    float *block = sn_calloc(NF * n * CD, sizeof(float)); /* [k][r][c] */
    float *col = sn_calloc(n, sizeof(float));
    double t0 = s_now();
    for (int d = 0; d < days; d++) {
        int c = d % CD;
        for (int k = 0; k < NF; k++) {
            for (size_t r = 0; r < n; r++) {
                col[r] = (float)(k == 0 ? s_count(r, d) : k);
                block[(size_t)k * n * CD + r * CD + (size_t)c] = col[r];
            }
            s_raw_write(rec[k], 0, n, (hsize_t)c, 1, col);
        }
        H5Fflush(f, H5F_SCOPE_LOCAL);
        if (c == CD - 1) {
            for (int k = 0; k < NF; k++) {
                hsize_t dims[2] = {n, (hsize_t)(d + 1)};
                H5Dset_extent(main[k], dims);
                s_raw_write(main[k], 0, n, (hsize_t)(d + 1 - CD), CD,
                            block + (size_t)k * n * CD);
            }
            H5Fflush(f, H5F_SCOPE_LOCAL);
        }
    }
    double ms = (s_now() - t0) / days;
    for (int k = 0; k < NF; k++) {
        H5Dclose(rec[k]);
        H5Dclose(main[k]);
    }
    H5Fclose(f);
    free(block);
    free(col);
    return ms;
}

/* Read R_READS series over every day with the reader; @return ms each. */
static double
s_read_sentinel(const char *path)
{
    ana_archive_read_t *r = NULL;
    if (ana_archive_read_open(path, &r, NULL) != SN_OK) {
        exit(1);
    }
    size_t days = ana_archive_read_days(r);
    double *v = sn_calloc(days, sizeof(double));
    double t0 = s_now(), sum = 0;
    for (size_t i = 0; i < R_READS; i++) {
        size_t row = (i * 7) % R_SERIES;
        ana_archive_read_values(r, row, 0, 0, days, v, NULL);
        sum += v[days - 1];
    }
    double ms = (s_now() - t0) / R_READS;
    free(v);
    ana_archive_read_destroy(&r);
    return sum < 0 ? -1 : ms;
}

/* The same reads with plain HDF5 on the same file: one row hyperslab of the
 * sealed dataset, one of the recent dataset. */
static double
s_read_raw(const char *path)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    H5Pclose(fapl);
    hid_t sealed = H5Dopen2(f, "observed", H5P_DEFAULT);
    hid_t recent = H5Dopen2(f, "recent/observed", H5P_DEFAULT);
    hsize_t dims[2];
    hid_t sp = H5Dget_space(sealed);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    size_t ns = (size_t)dims[1], nr = R_DAYS - ns;
    float *v = sn_calloc(R_DAYS, sizeof(float));
    double t0 = s_now();
    for (size_t i = 0; i < R_READS; i++) {
        hsize_t row = (i * 7) % R_SERIES;
        hsize_t off[2] = {row, 0}, c1[2] = {1, ns}, c2[2] = {1, nr};
        hid_t fs = H5Dget_space(sealed), ms = H5Screate_simple(2, c1, NULL);
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, c1, NULL);
        H5Dread(sealed, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, v);
        H5Sclose(ms);
        H5Sclose(fs);
        fs = H5Dget_space(recent);
        ms = H5Screate_simple(2, c2, NULL);
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, c2, NULL);
        H5Dread(recent, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, v + ns);
        H5Sclose(ms);
        H5Sclose(fs);
    }
    double ms = (s_now() - t0) / R_READS;
    H5Dclose(sealed);
    H5Dclose(recent);
    H5Fclose(f);
    free(v);
    return ms;
}

static long long
s_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

int
main(void)
{
    char dir[] = "/tmp/sentinel-bench-XXXXXX", a[64], b[64], c[64];
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(a, sizeof a, "%s/write.h5", dir);
    snprintf(b, sizeof b, "%s/raw.h5", dir);
    snprintf(c, sizeof c, "%s/read.h5", dir);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    double ws = s_write_sentinel(a, W_SERIES, W_DAYS);
    double wr = s_write_raw(b, W_SERIES, W_DAYS);
    printf("append one day, %d series, 1 detector (5 fields), flushed:\n"
           "  sentinel %.1f ms/day   raw HDF5 %.1f ms/day   ratio %.2f\n",
           W_SERIES, ws, wr, ws / wr);
    s_write_sentinel(c, R_SERIES, R_DAYS);
    double rs = s_read_sentinel(c);
    double rr = s_read_raw(c);
    printf("read one series over %d days (of %d series):\n"
           "  sentinel %.3f ms   raw HDF5 %.3f ms   ratio %.2f\n",
           R_DAYS, R_SERIES, rs, rr, rs / rr);
    long long bytes = s_size(c);
    printf("archive bytes per series-year (5 fields, %d series x %d days): "
           "%.0f (file %lld bytes)\n",
           R_SERIES, R_DAYS, (double)bytes / (R_SERIES * (R_DAYS / 365.25)),
           bytes);
    unlink(a);
    unlink(b);
    unlink(c);
    rmdir(dir);
    return 0;
}
