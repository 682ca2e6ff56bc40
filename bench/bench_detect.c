/*  bench/bench_detect.c - detector throughput, next to R's surveillance
 *
 *  For every registered method: 1,000 simulated series (weekly, 520 weeks;
 *  daily methods get 3,640 days), evaluated from week 105 (or the first
 *  evaluable point) to the end, one sn_detector_eval() per series, single
 *  threaded. The figure is evaluated points per second. When Rscript and
 *  the surveillance package are there, the same parameters run in R on the
 *  first series of the same data in the same run (bench/detect_r.R), the
 *  outputs are compared with the reference tolerance, and the speed ratio
 *  is printed, by elapsed time and by CPU time (the machine may be shared:
 *  CPU time is disturbed less by other load); otherwise "R: skipped
 *  (reason)". Figures only: it never fails on time.
 */
#define _POSIX_C_SOURCE 200809L

#include "simdata.h"

#include "sentinel/date.h"
#include "sentinel/detector.h"
#include "sentinel/mem.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef SENTINEL_SOURCE_DIR
#define SENTINEL_SOURCE_DIR "."
#endif

#define N_SERIES 1000
#define N_WEEKS 520
#define N_DAYS (520 * 7)

/* A method's benchmark settings: C parameters and the R call. */
typedef struct bench_case {
    const char *method;     /* --method */
    const char *params[12]; /* NAME=VALUE, NULL-terminated */
    const char *r_call;     /* R expression, or NULL: no R equivalent */
    int r_series;           /* series R runs (R is slow) */
} bench_case_t;

static const bench_case_t s_cases[] = {
    {"ears-c1",
     {"baseline=7", "alpha=0.001", NULL},
     "earsC(s, control = list(method = 'C1', baseline = 7, alpha = 0.001, "
     "range = RANGE))",
     50},
    {"ears-c2",
     {"baseline=7", "alpha=0.001", NULL},
     "earsC(s, control = list(method = 'C2', baseline = 7, alpha = 0.001, "
     "range = RANGE))",
     50},
    {"ears-c3",
     {"baseline=7", "alpha=0.001", NULL},
     "earsC(s, control = list(method = 'C3', baseline = 7, alpha = 0.001, "
     "range = RANGE))",
     50},
    {"cusum",
     {"k=1.04", "h=2.26", "trans=standard", NULL},
     "cusum(s, control = list(range = RANGE, k = 1.04, h = 2.26, "
     "trans = 'standard'))",
     200},
    {"bayes",
     {"b=0", "w=6", "actY=TRUE", "alpha=0.05", NULL},
     "bayes(s, control = list(range = RANGE, b = 0, w = 6, actY = TRUE, "
     "alpha = 0.05))",
     20},
    {"rki",
     {"b=2", "w=4", "actY=FALSE", NULL},
     "rki(s, control = list(range = RANGE, b = 2, w = 4, actY = FALSE))",
     20},
    {"farrington",
     {"b=3", "w=3", "reweight=TRUE", "alpha=0.01", "trend=TRUE", NULL},
     "farrington(s, control = list(range = RANGE, b = 3, w = 3, "
     "reweight = TRUE, alpha = 0.01, trend = TRUE))",
     3},
    {"farrington-flexible",
     {"noPeriods=10", "b=5", "w=3", "weightsThreshold=2.58",
      "pastWeeksNotIncluded=26", "pThresholdTrend=0.05",
      "thresholdMethod=nbPlugin", "alpha=0.01", NULL},
     "farringtonFlexible(s, control = list(range = RANGE, noPeriods = 10, "
     "b = 5, w = 3, weightsThreshold = 2.58, pastWeeksNotIncluded = 26, "
     "pThresholdTrend = 0.05, thresholdMethod = 'nbPlugin', alpha = 0.01, "
     "populationOffset = FALSE))",
     2},
    {"glrnb",
     {NULL},
     "glrnb(s, control = list(range = RANGE, c.ARL = 5, ret = 'value'))",
     5},
    {"mpm", {NULL}, NULL, 0},
    {"ewma", {NULL}, NULL, 0},
};

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

/* The data of one method: every series, and its days. */
typedef struct bench_data {
    double *y;     /* N_SERIES * n counts */
    sn_day_t *day; /* n days */
    size_t n;      /* points per series */
    int freq;      /* 52 or 365 */
    size_t from;   /* first evaluated point, 0-based */
} bench_data_t;

static const bench_case_t *
s_case(const char *method)
{
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        if (strcmp(s_cases[i].method, method) == 0) {
            return &s_cases[i];
        }
    }
    return NULL;
}

/* One pass of sn_detector_eval() over every series. @return the points,
 * or 0 on an error. */
static size_t
s_pass(const sn_detector_t *det, const bench_data_t *d, sn_det_point_t *out)
{
    size_t points = 0;
    for (size_t s = 0; s < N_SERIES; s++) {
        sn_det_input_t in = {d->y + s * d->n, d->day, d->n, d->freq, true};
        sn_err_t err;
        if (sn_detector_eval(det, &in, d->from, d->n - 1, out, &err) < 0) {
            printf("  C: series %zu: %s\n", s, err.msg);
            return 0;
        }
        points += d->n - d->from;
    }
    return points;
}

/* This process's CPU time in seconds: on a shared machine it is
 * disturbed less by other load than the elapsed time. */
static double
s_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Time the passes: the best of three when one takes under a second (the
 * first pass also pays for cold caches); *cpu gets the CPU time of the
 * same pass. @return points/s (elapsed), or -1. */
static double
s_time_c(const sn_detector_t *det, const bench_data_t *d, sn_det_point_t *out,
         double *secs, double *cpu)
{
    *secs = INFINITY;
    for (int rep = 0; rep < 3 && *secs > 1.0 / 3; rep++) {
        int64_t t0 = sn_clock_ns();
        double c0 = s_cpu_seconds();
        size_t points = s_pass(det, d, out);
        if (points == 0) {
            return -1;
        }
        double dt = (double)(sn_clock_ns() - t0) / 1e9;
        if (dt < *secs) {
            *secs = dt;
            *cpu = s_cpu_seconds() - c0;
        }
    }
    return (double)(N_SERIES * (d->n - d->from)) / *secs;
}

/* Why R cannot run here, or NULL when it can. */
static const char *
s_r_missing(void)
{
    if (system("Rscript --version >/dev/null 2>&1") != 0) {
        return "Rscript is not installed";
    }
    if (system("Rscript -e 'suppressMessages(library(surveillance))' "
               ">/dev/null 2>&1") != 0) {
        return "the R package surveillance is not installed";
    }
    return NULL;
}

static void
s_write_input(const char *path, const bench_data_t *d, int nseries)
{
    FILE *f = fopen(path, "w");
    fprintf(f, "series,t,count\n");
    for (int s = 0; s < nseries; s++) {
        for (size_t t = 0; t < d->n; t++) {
            fprintf(f, "%d,%zu,%.0f\n", s, t + 1, d->y[(size_t)s * d->n + t]);
        }
    }
    fclose(f);
}

/* Compare R's output file with ours for the same series: @return the
 * number of points that differ (bound beyond 1e-6 relative or alarm). */
static size_t
s_compare_r(const char *path, const sn_detector_t *det, const bench_data_t *d,
            sn_det_point_t *out, double tol)
{
    FILE *f = fopen(path, "r");
    char line[256];
    size_t bad = 0;
    long last = -1;
    if (f == NULL || fgets(line, sizeof line, f) == NULL) {
        return (size_t)-1;
    }
    while (fgets(line, sizeof line, f)) {
        char ub[64], al[16], *name = strtok(line, ",\"");
        long s = atol(name), t = atol(strtok(NULL, ","));
        snprintf(ub, sizeof ub, "%s", strtok(NULL, ","));
        snprintf(al, sizeof al, "%s", strtok(NULL, ",\n"));
        if (s != last) {
            sn_det_input_t in = {d->y + (size_t)s * d->n, d->day, d->n, d->freq,
                                 true};
            sn_detector_eval(det, &in, d->from, d->n - 1, out, NULL);
            last = s;
        }
        const sn_det_point_t *p = &out[(size_t)t - 1 - d->from];
        double r = strcmp(ub, "NA") == 0 ? NAN : atof(ub);
        int ra = strcmp(al, "NA") == 0 ? SN_DET_NA : atoi(al);
        bool same = (isnan(r) && isnan(p->upperbound)) ||
                    fabs(p->upperbound - r) <= tol * fabs(r) + 1e-9;
        bad += !same || ra != p->alarm;
    }
    fclose(f);
    return bad;
}

/* Run R on the first series; print its rate, the ratio and agreement. */
static void
s_run_r(const bench_case_t *bc, const sn_detector_t *det, const bench_data_t *d,
        sn_det_point_t *out, double c_rate, double c_cpu_rate)
{
    char dir[] = "/tmp/bench_detect_XXXXXX", in[64], res[64], cmd[2048];
    if (mkdtemp(dir) == NULL) {
        printf("  R: skipped (no temporary folder)\n");
        return;
    }
    snprintf(in, sizeof in, "%s/in.csv", dir);
    snprintf(res, sizeof res, "%s/out.csv", dir);
    s_write_input(in, d, bc->r_series);
    snprintf(cmd, sizeof cmd,
             "Rscript %s/bench/detect_r.R %s %d %zu %zu \"%s\" %s 2>&1",
             SENTINEL_SOURCE_DIR, in, d->freq, d->from + 1, d->n, bc->r_call,
             res);
    FILE *p = popen(cmd, "r");
    char line[512];
    double secs = -1, cpu = -1;
    while (p && fgets(line, sizeof line, p)) {
        if (sscanf(line, "seconds=%lf", &secs) != 1 &&
            sscanf(line, "cpu=%lf", &cpu) != 1) {
            fputs("  R says: ", stdout);
            fputs(line, stdout);
        }
    }
    if (p) {
        pclose(p);
    }
    if (secs <= 0) {
        printf("  R: skipped (the R run failed)\n");
    } else {
        double pts = (double)bc->r_series * (double)(d->n - d->from);
        double tol = strcmp(bc->method, "glrnb") == 0 ? 1e-5 : 1e-6;
        size_t bad = s_compare_r(res, det, d, out, tol);
        printf("  R: %.0f points in %.2f s (%d series) = %.4g points/s, "
               "%.3g us/point; C/R = %.0fx; outputs differing from R: %zu "
               "of %.0f\n",
               pts, secs, bc->r_series, pts / secs, secs / pts * 1e6,
               c_rate / (pts / secs), bad, pts);
        if (cpu > 0) {
            printf(
                "  CPU time: C %.3g us/point, R %.3g us/point; C/R = %.0fx\n",
                1e6 / c_cpu_rate, cpu / pts * 1e6, c_cpu_rate / (pts / cpu));
        }
    }
    unlink(in);
    unlink(res);
    rmdir(dir);
}

static void
s_bench(const char *method, const char *r_missing)
{
    const bench_case_t *bc = s_case(method);
    sn_detector_t *det = bc ? s_detector(bc) : sn_detector_new(method, NULL);
    bool daily = strcmp(method, "mpm") == 0 || strcmp(method, "ewma") == 0;
    bench_data_t d = {NULL, NULL, daily ? N_DAYS : N_WEEKS, daily ? 365 : 52,
                      0};
    d.y = sn_calloc(N_SERIES * d.n, sizeof *d.y);
    d.day = sn_calloc(d.n, sizeof *d.day);
    for (size_t t = 0; t < d.n; t++) {
        d.day[t] =
            sn_day_from_ymd(2000, 1, 3) + (sn_day_t)(t * (daily ? 1 : 7));
    }
    for (size_t s = 0; s < N_SERIES; s++) {
        bench_sim_series(d.y + s * d.n, d.n, d.freq, s + 1, false);
    }
    sn_det_input_t in0 = {d.y, d.day, d.n, d.freq, true};
    int64_t first = det ? sn_detector_first(det, &in0) : -1;
    d.from = first > 104 ? (size_t)first : 104;
    sn_det_point_t *out = sn_calloc(d.n, sizeof *out);
    double secs, cpu = 0, rate = det ? s_time_c(det, &d, out, &secs, &cpu) : -1;
    printf("%s: %d %s series of %zu, points %zu..%zu\n", method, N_SERIES,
           daily ? "daily" : "weekly", d.n, d.from + 1, d.n);
    if (rate > 0) {
        printf("  C: %.4g evaluated points/s (%.3f s; CPU %.3f s)\n", rate,
               secs, cpu);
        if (bc == NULL || bc->r_call == NULL) {
            printf("  R: skipped (no surveillance equivalent)\n");
        } else if (r_missing) {
            printf("  R: skipped (%s)\n", r_missing);
        } else {
            s_run_r(bc, det, &d, out, rate, rate * secs / cpu);
        }
    }
    free(out);
    free(d.y);
    free(d.day);
    sn_detector_destroy(&det);
}

int
main(int argc, char **argv)
{
    const char *r_missing = s_r_missing();
    if (argc > 1 && strcmp(argv[1], "--no-r") == 0) {
        r_missing = "--no-r given";
        argc--;
        argv++;
    }
    for (const char *const *m = sn_detector_methods(); *m; m++) {
        bool chosen = argc < 2;
        for (int i = 1; i < argc; i++) {
            chosen = chosen || strcmp(argv[i], *m) == 0;
        }
        if (chosen) {
            s_bench(*m, r_missing);
            fflush(stdout);
        }
    }
    return 0;
}
