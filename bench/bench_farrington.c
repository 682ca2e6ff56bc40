/*  bench/bench_farrington.c - throughput of the GLM-based detectors
 *
 *  farrington, farrington-flexible with the Noufaily settings and with the
 *  original-like settings, and glrnb, each on simulated weekly series of
 *  520 weeks (1,000 by default; the first argument sets another number),
 *  evaluated from week 105 or the first evaluable week to the end with one
 *  sn_detector_eval() per series, single threaded. Prints evaluated points
 *  per second and microseconds per point. With a second argument FILE,
 *  every evaluated point's bound and alarm are written there (%.17g), so
 *  two builds can be compared point by point on the simulated data. A
 *  third argument runs only the cases whose name contains it, and a
 *  fourth, "sparse", simulates sparse series (levels from 0.05) instead,
 *  which exercise the degenerate fits.
 *  Times are the process's CPU time, so other load on the machine
 *  disturbs them less. Figures only: it never fails on time.
 */
#define _POSIX_C_SOURCE 200809L

#include "sentinel/date.h"
#include "simdata.h"

#include "sentinel/detector.h"
#include "sentinel/mem.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_WEEKS 520
#define FIRST_WEEK 104 /* 0-based: week 105 */

/* A benchmark case: a method and its parameters. */
typedef struct bench_case {
    const char *label;      /* printed name */
    const char *method;     /* --method */
    const char *params[12]; /* NAME=VALUE, NULL-terminated */
} bench_case_t;

static const bench_case_t s_cases[] = {
    {"farrington",
     "farrington",
     {"b=3", "w=3", "reweight=TRUE", "alpha=0.01", "trend=TRUE", NULL}},
    {"farrington-flexible (Noufaily)",
     "farrington-flexible",
     {"noPeriods=10", "b=5", "w=3", "weightsThreshold=2.58",
      "pastWeeksNotIncluded=26", "pThresholdTrend=0.05",
      "thresholdMethod=nbPlugin", "alpha=0.01", NULL}},
    {"farrington-flexible (orig)",
     "farrington-flexible",
     {"noPeriods=1", "b=3", "w=3", "weightsThreshold=1",
      "pastWeeksNotIncluded=3", "pThresholdTrend=0.05", "thresholdMethod=delta",
      "alpha=0.01", NULL}},
    {"glrnb", "glrnb", {"c.ARL=5", NULL}},
};

static double
s_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static sn_detector_t *
s_detector(const bench_case_t *bc)
{
    sn_err_t err;
    sn_detector_t *det = sn_detector_new(bc->method, &err);
    for (int i = 0; det && bc->params[i]; i++) {
        char name[64];
        const char *eq = strchr(bc->params[i], '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq - bc->params[i]),
                 bc->params[i]);
        if (sn_detector_set(det, name, eq + 1, &err) < 0) {
            fprintf(stderr, "%s: %s\n", bc->method, err.msg);
            sn_detector_destroy(&det);
        }
    }
    return det;
}

/* Run one case over every series; print its figures. */
static void
s_run(const bench_case_t *bc, const double *y, const sn_day_t *day,
      size_t nseries, sn_det_point_t *out, FILE *dump)
{
    sn_detector_t *det = s_detector(bc);
    if (det == NULL) {
        return;
    }
    sn_det_input_t in0 = {y, day, N_WEEKS, 52, true};
    int64_t first = sn_detector_first(det, &in0);
    size_t from = first > FIRST_WEEK ? (size_t)first : FIRST_WEEK;
    size_t points = 0;
    double secs = 0;
    for (size_t s = 0; s < nseries; s++) {
        sn_det_input_t in = {y + s * N_WEEKS, day, N_WEEKS, 52, true};
        sn_err_t err;
        double t0 = s_cpu_seconds();
        int rc = sn_detector_eval(det, &in, from, N_WEEKS - 1, out, &err);
        secs += s_cpu_seconds() - t0;
        if (rc < 0) {
            printf("%s: series %zu: %s\n", bc->label, s, err.msg);
            break;
        }
        points += N_WEEKS - from;
        for (size_t i = 0; dump && i < N_WEEKS - from; i++) {
            fprintf(dump, "%s,%zu,%zu,%.17g,%d\n", bc->method, s, from + i + 1,
                    out[i].upperbound, out[i].alarm);
        }
    }
    printf("%-32s %8zu points %9.0f points/s %9.2f us/point\n", bc->label,
           points, (double)points / secs, 1e6 * secs / (double)points);
    sn_detector_destroy(&det);
}

int
main(int argc, char **argv)
{
    size_t nseries = argc > 1 ? (size_t)atol(argv[1]) : 1000;
    FILE *dump =
        argc > 2 && strcmp(argv[2], "-") != 0 ? fopen(argv[2], "w") : NULL;
    const char *only = argc > 3 ? argv[3] : "";
    bool sparse = argc > 4 && strcmp(argv[4], "sparse") == 0;
    if (nseries == 0 || (argc > 2 && strcmp(argv[2], "-") != 0 && !dump)) {
        fprintf(stderr, "usage: bench_farrington [SERIES [DUMPFILE|- "
                        "[CASE [sparse]]]]\n");
        return 2;
    }
    double *y = sn_malloc(nseries * N_WEEKS * sizeof(double));
    sn_day_t *day = sn_malloc(N_WEEKS * sizeof(sn_day_t));
    sn_det_point_t *out = sn_malloc(N_WEEKS * sizeof(sn_det_point_t));
    for (size_t t = 0; t < N_WEEKS; t++) {
        day[t] = sn_day_from_ymd(2010, 1, 4) + 7 * (sn_day_t)t;
    }
    for (size_t s = 0; s < nseries; s++) {
        bench_sim_series(y + s * N_WEEKS, N_WEEKS, 52, s, sparse);
    }
    printf("%zu simulated weekly series of %d weeks, single thread\n", nseries,
           N_WEEKS);
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        if (strstr(s_cases[i].label, only) == NULL) {
            continue;
        }
        s_run(&s_cases[i], y, day, nseries, out, dump);
    }
    if (dump) {
        fclose(dump);
    }
    free(y);
    free(day);
    free(out);
    return 0;
}
