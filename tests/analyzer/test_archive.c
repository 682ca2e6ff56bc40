/*  tests/analyzer/test_archive.c - the SWMR archive writer and reader
 *
 *  Writes series with known values, reads them back and compares; adds
 *  series after SWMR has started; kills a forked writer with SIGKILL at 20
 *  random points and checks that the file opens and holds every value
 *  flushed before the kill; runs a reader process while a writer appends;
 *  adds a detector to an existing file; moves an unreadable file aside;
 *  corrects days in sealed blocks, in the recent block and before the time
 *  axis, and reads the corrections back; restores days, leaving the rows
 *  whose count does not change as they were.
 */
#include "archive.h"
#include "archive_read.h"
#include "support.h"

#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DAY0 20000 /* 2024-10-04 */

static char *s_dir;
static char s_path[512];
static const char *const s_dets[] = {"ears-c2", "cusum"};

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    snprintf(s_path, sizeof s_path, "%s/archive.h5", s_dir);
}

static void
s_teardown(void)
{
    ts_rmtree(s_dir);
    free(s_dir);
}

static double
s_value(size_t row, int day)
{
    return (double)((row * 31 + (size_t)day * 7) % 97);
}

static ana_archive_t *
s_open(size_t cs, size_t cd, double flush)
{
    ana_archive_opts_t o;
    ana_archive_opts_default(&o);
    o.path = s_path;
    o.detectors = s_dets;
    o.n_detectors = 2;
    o.chunk_series = cs;
    o.chunk_days = cd;
    o.flush_interval = flush;
    ana_archive_t *a = NULL;
    sn_err_t err;
    int rc = ana_archive_open(&o, &a, &err);
    ck_assert_msg(rc == SN_OK, "open: %s", err.msg);
    return a;
}

static size_t
s_series(ana_archive_t *a, const char *region, const char *site)
{
    ana_archive_key_t k = {"ILI", region, "fever_clinic", site};
    size_t row = 0;
    ck_assert_int_eq(ana_archive_series(a, &k, &row, NULL), SN_OK);
    return row;
}

/* Put day `day` for rows [0, n) with the known values. */
static void
s_put(ana_archive_t *a, size_t n, int day)
{
    ana_archive_row_t *rows = calloc(n, sizeof *rows);
    sn_det_point_t *pts = calloc(2 * n, sizeof *pts);
    for (size_t r = 0; r < n; r++) {
        for (int d = 0; d < 2; d++) {
            pts[2 * r + d].expected = s_value(r, day) / 2 + d;
            pts[2 * r + d].upperbound = s_value(r, day) + 10;
            pts[2 * r + d].score = 0.5;
            pts[2 * r + d].alarm = (int)((r + (size_t)day) % 3) - 1;
        }
        rows[r] = (ana_archive_row_t){r, s_value(r, day), &pts[2 * r]};
    }
    sn_err_t err;
    int rc = ana_archive_put_day(a, day, rows, n, &err);
    ck_assert_msg(rc == SN_OK, "put day %d: %s", day, err.msg);
    free(rows);
    free(pts);
}

/* Check that the reader holds the known values of rows [0, n) for days
 * [d0, d1); @return the number of mismatches. */
static int
s_check(ana_archive_read_t *r, size_t n, int d0, int d1)
{
    int bad = 0;
    double *v = calloc((size_t)(d1 - d0) + 1, sizeof(double));
    size_t c0 = (size_t)(d0 - ana_archive_read_first_day(r));
    size_t k = (size_t)(d1 - d0);
    for (size_t row = 0; row < n && k > 0; row++) {
        if (ana_archive_read_values(r, row, 0, c0, k, v, NULL) != SN_OK) {
            bad += 1000;
            continue;
        }
        for (size_t i = 0; i < k; i++) {
            bad += v[i] != s_value(row, d0 + (int)i);
        }
        size_t alarm = 1 + 4 * 1 + ANA_ARCHIVE_ALARM; /* "ears-c2" */
        if (ana_archive_read_values(r, row, alarm, c0, k, v, NULL) != SN_OK) {
            bad += 1000;
            continue;
        }
        for (size_t i = 0; i < k; i++) {
            bad += v[i] != (double)((row + (size_t)d0 + i) % 3) - 1;
        }
    }
    free(v);
    return bad;
}

static ana_archive_read_t *
s_reader(void)
{
    ana_archive_read_t *r = NULL;
    sn_err_t err;
    int rc = ana_archive_read_open(s_path, &r, &err);
    ck_assert_msg(rc == SN_OK, "read open: %s", err.msg);
    return r;
}

START_TEST(test_archive_usage)
{
    ana_archive_t *a = s_open(2, 8, 5.0);
    for (int i = 0; i < 5; i++) {
        char region[24];
        snprintf(region, sizeof region, "44010%d", i);
        ck_assert_uint_eq(s_series(a, region, NULL), (size_t)i);
    }
    ck_assert_uint_eq(s_series(a, "440102", "*"), 2);
    for (int d = DAY0; d < DAY0 + 30; d++) {
        s_put(a, 5, d);
    }
    ana_archive_alert_t al = {.time = 1000,
                              .day = DAY0 + 3,
                              .id = "A1",
                              .rule = "single",
                              .level = "blue",
                              .state = "open",
                              .condition = "ILI",
                              .region = "440101",
                              .observed = 9,
                              .expected = 2,
                              .upperbound = 5};
    ck_assert_int_eq(ana_archive_alert(a, &al, NULL), SN_OK);
    ck_assert_int_eq(ana_archive_last_day(a), DAY0 + 29);
    ana_archive_destroy(&a);
    ck_assert_ptr_null(a);
    ana_archive_read_t *r = s_reader();
    ck_assert_uint_eq(ana_archive_read_series_count(r), 5);
    ck_assert_uint_eq(ana_archive_read_days(r), 30);
    ck_assert_int_eq(ana_archive_read_first_day(r), DAY0);
    ck_assert_str_eq(ana_archive_read_key(r, 3, ANA_ARCHIVE_KEY),
                     "ILI/440103/fever_clinic/*");
    ck_assert_str_eq(ana_archive_read_detector(r, 0), "cusum");
    ck_assert_int_eq(s_check(r, 5, DAY0, DAY0 + 30), 0);
    ana_archive_alert_rec_t rec;
    ck_assert_uint_eq(ana_archive_read_alert_count(r), 1);
    ck_assert_int_eq(ana_archive_read_alerts(r, 0, 1, &rec, NULL), SN_OK);
    ck_assert_str_eq(rec.id, "A1");
    ck_assert_double_eq(rec.upperbound, 5);
    ana_archive_read_destroy(&r);
}
END_TEST

START_TEST(test_archive_new_series_after_swmr_start)
{
    ana_archive_t *a = s_open(4, 8, 0);
    s_series(a, "440101", NULL);
    for (int d = DAY0; d < DAY0 + 10; d++) {
        s_put(a, 1, d);
    }
    ana_archive_read_t *r = s_reader();
    ck_assert_uint_eq(ana_archive_read_series_count(r), 1);
    for (int i = 2; i <= 9; i++) {
        char region[24];
        snprintf(region, sizeof region, "44010%d", i);
        s_series(a, region, NULL);
    }
    for (int d = DAY0 + 10; d < DAY0 + 20; d++) {
        s_put(a, 9, d);
    }
    ck_assert_int_eq(ana_archive_flush(a, NULL), SN_OK);
    ck_assert_int_eq(ana_archive_read_refresh(r, NULL), SN_OK);
    ck_assert_uint_eq(ana_archive_read_series_count(r), 9);
    ck_assert_uint_eq(ana_archive_read_days(r), 20);
    ck_assert_int_eq(s_check(r, 9, DAY0 + 10, DAY0 + 20), 0);
    double v[10];
    ck_assert_int_eq(ana_archive_read_values(r, 8, 0, 0, 10, v, NULL), SN_OK);
    ck_assert(isnan(v[0]) && isnan(v[9]));
    ana_archive_read_destroy(&r);
    ana_archive_destroy(&a);
    a = s_open(4, 8, 0); /* reopen: continues, keeps rows */
    ck_assert_uint_eq(ana_archive_series_count(a), 9);
    ck_assert_uint_eq(s_series(a, "440105", NULL), 4);
    s_put(a, 9, DAY0 + 20);
    ana_archive_destroy(&a);
    r = s_reader();
    ck_assert_int_eq(s_check(r, 9, DAY0 + 10, DAY0 + 21), 0);
    ana_archive_read_destroy(&r);
}
END_TEST

/* The writer child: write days forever from the file's next day, report
 * each flushed day on `fd`. */
static void
s_writer_child(int fd, size_t n)
{
    ana_archive_t *a = s_open(3, 5, 1e9);
    for (size_t i = 0; i < n; i++) {
        char region[24];
        snprintf(region, sizeof region, "44%04zu", i);
        s_series(a, region, NULL);
    }
    sn_day_t last = ana_archive_last_day(a);
    int d = (last == INT32_MIN) ? DAY0 : last + 1;
    for (;; d++) {
        s_put(a, n, d);
        if (ana_archive_flush(a, NULL) != SN_OK) {
            _exit(1);
        }
        if (write(fd, &d, sizeof d) != sizeof d) {
            _exit(1);
        }
    }
}

/* Kill a forked writer with SIGKILL after `us` microseconds, counted from
 * its start or, when `after_flush`, from its first flushed day (so the
 * kill lands in the middle of writing however slow the machine is);
 * @return the last day it reported flushed, or DAY0 - 1 when none. */
static int
s_kill_writer(size_t n, long us, bool after_flush)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        s_writer_child(fds[1], n);
        _exit(0);
    }
    close(fds[1]);
    int d = 0, last = DAY0 - 1;
    if (after_flush && read(fds[0], &d, sizeof d) == sizeof d) {
        last = d;
    }
    usleep((useconds_t)us);
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    while (read(fds[0], &d, sizeof d) == sizeof d) {
        last = d;
    }
    close(fds[0]);
    return last;
}

START_TEST(test_archive_kill9_keeps_flushed_values)
{
    srand((unsigned)time(NULL));
    int last = DAY0 - 1, recovered = 0;
    for (int i = 0; i < 20; i++) {
        /* Even kills: at any moment, start-up included; odd ones: while
         * the writer is writing days. */
        int got = (i % 2 == 0)
                      ? s_kill_writer(7, 20000 + rand() % 180000, false)
                      : s_kill_writer(7, rand() % 50000, true);
        last = got > last ? got : last;
        ana_archive_read_t *r = NULL;
        if (ana_archive_read_open(s_path, &r, NULL) != SN_OK) {
            /* Killed while opening, before SWMR started: only the next
             * writer start-up recovers that, and nothing was flushed. */
            ck_assert_int_eq(got, DAY0 - 1);
            ana_archive_t *w = s_open(3, 5, 1e9);
            ana_archive_destroy(&w);
            r = s_reader();
        }
        size_t days = ana_archive_read_days(r);
        ck_assert_msg(days >= (size_t)(last - DAY0 + 1),
                      "kill %d: %zu days on file, %d flushed", i, days,
                      last - DAY0 + 1);
        if (last >= DAY0) {
            ck_assert_uint_eq(ana_archive_read_series_count(r), 7);
            ck_assert_msg(s_check(r, 7, DAY0, last + 1) == 0,
                          "kill %d: flushed values differ", i);
        }
        ana_archive_read_destroy(&r);
        ana_archive_t *a = s_open(3, 5, 1e9); /* recovers the file */
        recovered += ana_archive_recovered(a);
        ana_archive_destroy(&a);
    }
    ck_assert_int_ge(last, DAY0 + 9); /* ten kills after a flushed day */
    ck_assert_int_ge(recovered, 10);
}
END_TEST

/* The reader child: refresh and check every visible value until the
 * writer has written `days` days; exit with 0 when all matched. */
static void
s_reader_child(int days)
{
    ana_archive_read_t *r = NULL;
    while (ana_archive_read_open(s_path, &r, NULL) != SN_OK) {
        usleep(1000); /* until the writer has created the file */
    }
    int seen = 0, bad = 0;
    while (seen < days) {
        usleep(500);
        if (ana_archive_read_refresh(r, NULL) != SN_OK) {
            _exit(2);
        }
        seen = (int)ana_archive_read_days(r);
        size_t n = ana_archive_read_series_count(r);
        bad += s_check(r, n < 4 ? n : 4, DAY0, DAY0 + seen);
    }
    ana_archive_read_destroy(&r);
    _exit(bad == 0 ? 0 : 1);
}

START_TEST(test_archive_reader_while_writer_appends)
{
    /* Fork first: a child must not inherit the writer's HDF5 state. */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        s_reader_child(80);
    }
    ana_archive_t *a = s_open(4, 6, 0);
    for (int i = 0; i < 10; i++) {
        char region[24];
        snprintf(region, sizeof region, "44%04d", i);
        s_series(a, region, NULL);
    }
    for (int d = DAY0; d < DAY0 + 80; d++) {
        s_put(a, 10, d);
        usleep(2000);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    ana_archive_destroy(&a);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "reader saw wrong values (status %d)", st);
}
END_TEST

START_TEST(test_archive_rejects_bad_rows_and_keys)
{
    ana_archive_t *a = s_open(2, 4, 5);
    s_series(a, "440101", NULL);
    for (int d = DAY0; d < DAY0 + 9; d++) {
        s_put(a, 1, d);
    }
    ana_archive_row_t row = {5, 1, NULL};
    sn_err_t err;
    ck_assert_int_eq(ana_archive_put_day(a, DAY0 + 9, &row, 1, &err),
                     SN_ERANGE);
    ck_assert_str_eq(err.msg + strlen(s_path),
                     ": row 0: series 5 was never registered");
    ck_assert_int_eq(ana_archive_correct_day(a, DAY0 + 2, &row, 1, 0, &err),
                     SN_ERANGE);
    ana_archive_key_t k = {"ILI", "44/01", "lab", NULL};
    size_t r = 0;
    ck_assert_int_eq(ana_archive_series(a, &k, &r, &err), SN_EINVAL);
    ck_assert_str_eq(err.msg, "series key: region '44/01' holds '/'");
    ana_archive_destroy(&a);
}
END_TEST

START_TEST(test_archive_refuses_foreign_and_newer_files)
{
    char *txt = ts_write_file(s_dir, "notes.h5", "hello");
    ana_archive_read_t *r = NULL;
    sn_err_t err;
    ck_assert_int_eq(ana_archive_read_open(txt, &r, &err), SN_EARCHIVE);
    ck_assert(strstr(err.msg, "not a Sentinel archive") != NULL);
    free(txt);
    ana_archive_t *a = s_open(2, 4, 5);
    ana_archive_destroy(&a);
    hid_t f = H5Fopen(s_path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t at = H5Aopen(f, "sentinel_schema_version", H5P_DEFAULT);
    int v = 99;
    H5Awrite(at, H5T_NATIVE_INT, &v);
    H5Aclose(at);
    H5Fclose(f);
    ck_assert_int_eq(ana_archive_read_open(s_path, &r, &err), SN_EUNSUPPORTED);
    ck_assert(strstr(err.msg, "schema version 99 is newer") != NULL);
    ana_archive_opts_t o;
    ana_archive_opts_default(&o);
    o.path = s_path;
    ck_assert_int_eq(ana_archive_open(&o, &a, &err), SN_EUNSUPPORTED);
}
END_TEST

START_TEST(test_archive_adds_detector_keeping_values)
{
    ana_archive_opts_t o;
    ana_archive_opts_default(&o);
    o.path = s_path;
    o.detectors = s_dets + 1; /* "cusum" only */
    o.n_detectors = 1;
    o.chunk_series = 2;
    o.chunk_days = 4;
    ana_archive_t *a = NULL;
    ck_assert_int_eq(ana_archive_open(&o, &a, NULL), SN_OK);
    s_series(a, "440101", NULL);
    ana_archive_row_t row = {0, 42, NULL};
    for (int d = DAY0; d < DAY0 + 6; d++) {
        ck_assert_int_eq(ana_archive_put_day(a, d, &row, 1, NULL), SN_OK);
    }
    ana_archive_destroy(&a);
    a = s_open(2, 4, 5); /* both detectors: the file is extended */
    s_put(a, 1, DAY0 + 6);
    ana_archive_destroy(&a);
    ana_archive_read_t *r = s_reader();
    ck_assert_uint_eq(ana_archive_read_detector_count(r), 2);
    double v[7];
    ck_assert_int_eq(ana_archive_read_values(r, 0, 0, 0, 7, v, NULL), SN_OK);
    ck_assert_double_eq(v[0], 42);
    ck_assert_double_eq(v[5], 42);
    ck_assert_double_eq(v[6], s_value(0, DAY0 + 6));
    ana_archive_read_destroy(&r);
}
END_TEST

/* Correct day `day` of `row` to `obs`, with ears-c2 points that raise. */
static void
s_correct(ana_archive_t *a, size_t row, int day, double obs, sn_time_t now)
{
    sn_det_point_t pts[2] = {{.expected = 1, .upperbound = 3, .alarm = 1},
                             {.expected = 2, .upperbound = 4, .alarm = 0}};
    ana_archive_row_t r = {row, obs, pts};
    sn_err_t err;
    int rc = ana_archive_correct_day(a, day, &r, 1, now, &err);
    ck_assert_msg(rc == SN_OK, "correct day %d: %s", day, err.msg);
}

static double
s_read1(ana_archive_read_t *r, size_t row, size_t field, int day)
{
    double v = 0;
    size_t c = (size_t)(day - ana_archive_read_first_day(r));
    ck_assert_int_eq(ana_archive_read_values(r, row, field, c, 1, &v, NULL),
                     SN_OK);
    return v;
}

START_TEST(test_archive_corrects_sealed_day_in_place)
{
    ana_archive_t *a = s_open(2, 4, 5);
    for (int i = 0; i < 3; i++) {
        char region[24];
        snprintf(region, sizeof region, "44010%d", i);
        s_series(a, region, NULL);
    }
    for (int d = DAY0; d < DAY0 + 10; d++) {
        s_put(a, 3, d); /* days 0..7 sealed, 8..9 recent */
    }
    ana_archive_read_t *live = s_reader();
    s_correct(a, 1, DAY0 + 2, 500, 1000);                  /* sealed */
    s_correct(a, 0, DAY0 + 9, 77, 2000);                   /* recent */
    s_correct(a, 2, DAY0 + 5, s_value(2, DAY0 + 5), 3000); /* unchanged */
    size_t row = s_series(a, "440109", NULL); /* new since the flush */
    s_correct(a, row, DAY0 + 1, 4, 4000);
    ck_assert_int_eq(ana_archive_flush(a, NULL), SN_OK);
    /* A reader open during the correction sees it after a refresh. */
    ck_assert_int_eq(ana_archive_read_refresh(live, NULL), SN_OK);
    ck_assert_double_eq(s_read1(live, 1, 0, DAY0 + 2), 500);
    ck_assert_uint_eq(ana_archive_read_fix_count(live), 3);
    ana_archive_read_destroy(&live);
    s_put(a, 4, DAY0 + 10); /* the writer goes on */
    /* A sealed day put again (after a restart) is rewritten the same way;
     * the same values make no record. */
    ana_archive_row_t again = {2, 9, NULL};
    ck_assert_int_eq(ana_archive_put_day(a, DAY0 + 3, &again, 1, NULL), SN_OK);
    ck_assert_int_eq(ana_archive_put_day(a, DAY0 + 3, &again, 1, NULL), SN_OK);
    ana_archive_destroy(&a);
    ana_archive_read_t *r = s_reader();
    ck_assert_double_eq(s_read1(r, 1, 0, DAY0 + 2), 500);
    size_t ears = 1 + 4 * 1; /* "ears-c2" is after "cusum" */
    ck_assert_double_eq(s_read1(r, 1, ears + ANA_ARCHIVE_ALARM, DAY0 + 2), 1);
    ck_assert_double_eq(s_read1(r, 1, ears + ANA_ARCHIVE_UPPERBOUND, DAY0 + 2),
                        3);
    ck_assert_double_eq(s_read1(r, 0, 0, DAY0 + 9), 77);
    ck_assert_double_eq(s_read1(r, row, 0, DAY0 + 1), 4);
    ck_assert(isnan(s_read1(r, row, 0, DAY0 + 2)));
    ck_assert_double_eq(s_read1(r, 1, 0, DAY0 + 3), s_value(1, DAY0 + 3));
    ck_assert_int_eq(s_check(r, 1, DAY0, DAY0 + 9), 0); /* row 0 intact */
    ck_assert_double_eq(s_read1(r, 2, 0, DAY0 + 3), 9);
    ana_archive_fix_rec_t fx[4];
    ck_assert_uint_eq(ana_archive_read_fix_count(r), 4);
    ck_assert_int_eq(ana_archive_read_fixes(r, 0, 4, fx, NULL), SN_OK);
    ck_assert_str_eq(fx[0].series, "ILI/440101/fever_clinic/*");
    ck_assert_int_eq(fx[0].day, DAY0 + 2);
    ck_assert_int_eq(fx[0].sealed, 1);
    ck_assert_int_eq(fx[0].time, 1000);
    ck_assert_double_eq(fx[0].previous, s_value(1, DAY0 + 2));
    ck_assert_double_eq(fx[0].observed, 500);
    ck_assert_int_eq(fx[1].sealed, 0);
    ck_assert_double_eq(fx[1].observed, 77);
    ck_assert_str_eq(fx[2].series, "ILI/440109/fever_clinic/*");
    ck_assert(isnan(fx[2].previous));
    ck_assert_int_eq(fx[3].day, DAY0 + 3);
    ck_assert_double_eq(fx[3].observed, 9);
    ana_archive_read_destroy(&r);
}
END_TEST

/* Restore day `day` of rows [0, n) to `obs` (NaN: missing), det NULL. */
static void
s_restore(ana_archive_t *a, int day, const double *obs, size_t n)
{
    ana_archive_row_t rows[4];
    for (size_t i = 0; i < n; i++) {
        rows[i] = (ana_archive_row_t){i, obs[i], NULL};
    }
    sn_err_t err;
    int rc = ana_archive_restore_day(a, day, rows, n, 5000, &err);
    ck_assert_msg(rc == SN_OK, "restore day %d: %s", day, err.msg);
}

START_TEST(test_archive_restore_leaves_unchanged_rows)
{
    ana_archive_t *a = s_open(2, 4, 5);
    for (int i = 0; i < 3; i++) {
        char region[24];
        snprintf(region, sizeof region, "44010%d", i);
        s_series(a, region, NULL);
    }
    for (int d = DAY0; d < DAY0 + 10; d++) {
        s_put(a, 3, d); /* days 0..7 sealed, 8..9 recent */
    }
    double sealed[3] = {s_value(0, DAY0 + 2), 500, s_value(2, DAY0 + 2)};
    double recent[3] = {s_value(0, DAY0 + 9), s_value(1, DAY0 + 9), NAN};
    for (int twice = 0; twice < 2; twice++) { /* the second changes nothing */
        s_restore(a, DAY0 + 2, sealed, 3);
        s_restore(a, DAY0 + 9, recent, 3);
    }
    ana_archive_destroy(&a);
    ana_archive_read_t *r = s_reader();
    size_t up = 1 + 4 * 1 + ANA_ARCHIVE_UPPERBOUND; /* "ears-c2" */
    ck_assert_double_eq(s_read1(r, 1, 0, DAY0 + 2), 500);
    ck_assert(isnan(s_read1(r, 1, up, DAY0 + 2))); /* computed on the old */
    ck_assert(isnan(s_read1(r, 2, 0, DAY0 + 9)));
    ck_assert(isnan(s_read1(r, 2, up, DAY0 + 9)));
    /* Unchanged rows keep their detector outputs, sealed and recent. */
    ck_assert_double_eq(s_read1(r, 0, up, DAY0 + 2), s_value(0, DAY0 + 2) + 10);
    ck_assert_double_eq(s_read1(r, 2, up, DAY0 + 2), s_value(2, DAY0 + 2) + 10);
    ck_assert_double_eq(s_read1(r, 0, up, DAY0 + 9), s_value(0, DAY0 + 9) + 10);
    ck_assert_double_eq(s_read1(r, 1, up, DAY0 + 9), s_value(1, DAY0 + 9) + 10);
    ck_assert_int_eq(s_check(r, 1, DAY0, DAY0 + 10), 0); /* row 0 intact */
    ana_archive_fix_rec_t fx[2];
    ck_assert_uint_eq(ana_archive_read_fix_count(r), 2);
    ck_assert_int_eq(ana_archive_read_fixes(r, 0, 2, fx, NULL), SN_OK);
    ck_assert_double_eq(fx[0].observed, 500);
    ck_assert_int_eq(fx[1].day, DAY0 + 9);
    ck_assert(isnan(fx[1].observed));
    ana_archive_read_destroy(&r);
}
END_TEST

START_TEST(test_archive_corrects_day_before_time_axis)
{
    ana_archive_t *a = s_open(2, 4, 5);
    s_series(a, "440101", NULL);
    s_put(a, 1, DAY0);
    s_correct(a, 0, DAY0 - 3, 2, 5000);
    ana_archive_destroy(&a);
    /* A file made before the corrections table: remove it, then the writer
     * adds it back (the readers of older files see no corrections). */
    hid_t f = H5Fopen(s_path, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    ck_assert_int_ge(H5Ldelete(f, "corrections", H5P_DEFAULT), 0);
    H5Fclose(f);
    ana_archive_read_t *r = s_reader();
    ck_assert_uint_eq(ana_archive_read_fix_count(r), 0);
    ana_archive_read_destroy(&r);
    a = s_open(2, 4, 5);
    s_correct(a, 0, DAY0 - 3, 2, 6000);
    ana_archive_destroy(&a);
    r = s_reader();
    ck_assert_uint_eq(ana_archive_read_days(r), 1);
    ana_archive_fix_rec_t fx;
    ck_assert_uint_eq(ana_archive_read_fix_count(r), 1);
    ck_assert_int_eq(ana_archive_read_fixes(r, 0, 1, &fx, NULL), SN_OK);
    ck_assert_int_eq(fx.sealed, -1); /* no column: the record holds it */
    ck_assert_int_eq(fx.day, DAY0 - 3);
    ck_assert_double_eq(fx.observed, 2);
    sn_err_t err;
    ck_assert_int_eq(ana_archive_read_fixes(r, 1, 1, &fx, &err), SN_ERANGE);
    ana_archive_read_destroy(&r);
}
END_TEST

START_TEST(test_archive_moves_unreadable_file_aside)
{
    /* An HDF5 signature and superblock start, then nothing HDF5 can use. */
    FILE *fp = fopen(s_path, "wb");
    ck_assert_ptr_nonnull(fp);
    const char sig[8] = "\211HDF\r\n\032\n";
    fwrite(sig, 1, 8, fp);
    for (int i = 0; i < 200; i++) {
        fputc(0x5a, fp);
    }
    fclose(fp);
    ana_archive_t *a = s_open(2, 4, 5);
    const char *moved = ana_archive_moved_aside(a);
    ck_assert_ptr_nonnull(moved);
    ck_assert(strstr(moved, "archive.h5.unreadable-") != NULL);
    ck_assert(ana_archive_recovered(a));
    ck_assert_int_eq(access(moved, R_OK), 0); /* kept, not deleted */
    s_series(a, "440101", NULL);
    s_put(a, 1, DAY0);
    ana_archive_destroy(&a);
    ana_archive_read_t *r = s_reader();
    ck_assert_uint_eq(ana_archive_read_days(r), 1);
    ana_archive_read_destroy(&r);
}
END_TEST

static Suite *
archive_suite(void)
{
    Suite *s = suite_create("archive");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 60);
    tcase_add_test(usage, test_archive_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 120);
    tcase_add_test(edges, test_archive_new_series_after_swmr_start);
    tcase_add_test(edges, test_archive_kill9_keeps_flushed_values);
    tcase_add_test(edges, test_archive_reader_while_writer_appends);
    tcase_add_test(edges, test_archive_adds_detector_keeping_values);
    tcase_add_test(edges, test_archive_corrects_sealed_day_in_place);
    tcase_add_test(edges, test_archive_corrects_day_before_time_axis);
    tcase_add_test(edges, test_archive_restore_leaves_unchanged_rows);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 60);
    tcase_add_test(errors, test_archive_rejects_bad_rows_and_keys);
    tcase_add_test(errors, test_archive_refuses_foreign_and_newer_files);
    tcase_add_test(errors, test_archive_moves_unreadable_file_aside);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(archive_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
