/*  tests/e2e/archive_fixture.h - write a known archive for the e2e suites
 *
 *  The query CLI suite and the docs-examples suite both need an archive
 *  written by the real writer with values they can predict: series i (in
 *  the order of `regions`) holds i * 100 + d on day DAY0 + d, except day 5
 *  of series 0, which is missing; detectors "ears-c2" and "cusum" give
 *  expected 3, upper bound 7.5, score 0.25 and an alarm on every day
 *  d % 7 == 3. Functions are static: each suite includes this once.
 *
 *  Threading: test process main thread only.
 */
#ifndef SENTINEL_TESTS_E2E_ARCHIVE_FIXTURE_H
#define SENTINEL_TESTS_E2E_ARCHIVE_FIXTURE_H

#include "archive.h"

#include <check.h>
#include <math.h>
#include <stddef.h>

#define AF_DAY0 20000 /* 2024-10-04, a Friday */

static double
af_obs(size_t row, int d)
{
    return (row == 0 && d == 5) ? NAN : (double)(row * 100 + (size_t)d);
}

/* Put day d of `n` series (rows 0..n-1). */
static void
af_put(ana_archive_t *a, size_t n, int d)
{
    ana_archive_row_t r[8];
    sn_det_point_t p[16];
    ck_assert_uint_le(n, 8);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < 2; k++) {
            p[2 * i + k] =
                (sn_det_point_t){.expected = 3,
                                 .upperbound = 7.5,
                                 .score = 0.25,
                                 .alarm = d == 5 ? SN_DET_NA : (d % 7 == 3)};
        }
        r[i] = (ana_archive_row_t){i, af_obs(i, d), &p[2 * i]};
    }
    ck_assert_int_eq(ana_archive_put_day(a, AF_DAY0 + d, r, n, NULL), SN_OK);
}

/* Write `ndays` days of the series "ILI/<region>/fever_clinic/" and a star, for
 * the n regions, and one open alert, to `path`. */
static void
af_write(const char *path, const char *const *regions, size_t n, int ndays)
{
    static const char *const dets[] = {"ears-c2", "cusum"};
    ana_archive_opts_t o;
    ana_archive_opts_default(&o);
    o.path = path;
    o.detectors = dets;
    o.n_detectors = 2;
    ana_archive_t *a = NULL;
    ck_assert_int_eq(ana_archive_open(&o, &a, NULL), SN_OK);
    for (size_t i = 0; i < n; i++) {
        ana_archive_key_t k = {"ILI", regions[i], "fever_clinic", NULL};
        size_t row = 0;
        ck_assert_int_eq(ana_archive_series(a, &k, &row, NULL), SN_OK);
    }
    for (int d = 0; d < ndays; d++) {
        af_put(a, n, d);
    }
    ana_archive_alert_t al = {.time = 1728259200000LL,
                              .day = AF_DAY0 + 3,
                              .id = "A1",
                              .rule = "single",
                              .level = "blue",
                              .state = "open",
                              .condition = "ILI",
                              .region = regions[0],
                              .series = "ILI/440106/fever_clinic/*",
                              .observed = 3,
                              .expected = 3,
                              .upperbound = 7.5,
                              .message = "over the bound"};
    ck_assert_int_eq(ana_archive_alert(a, &al, NULL), SN_OK);
    ana_archive_destroy(&a);
}

#endif
