/*  alerting/report.c - the response report: counts, medians, shares
 *
 *  Loads the alerts opened since the given time, groups them by (level,
 *  rule) and computes the figures described in report.h. Alerts are few
 *  (hundreds a year), so everything is done in memory.
 */
#include "report.h"

#include "sentinel/mem.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of `v` (sorted in place), NAN when n is 0. */
static double
s_median(double *v, size_t n)
{
    if (n == 0) {
        return NAN;
    }
    qsort(v, n, sizeof *v, s_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int
s_cmp_group(const void *a, const void *b)
{
    const alr_record_t *x = *(alr_record_t *const *)a;
    const alr_record_t *y = *(alr_record_t *const *)b;
    if (x->alert->level != y->alert->level) {
        return (int)y->alert->level - (int)x->alert->level;
    }
    return strcmp(x->alert->rule, y->alert->rule);
}

/* Fill one row from the records recs[0..n) of one group. */
static void
s_fill(alr_report_row_t *row, alr_record_t **recs, size_t n)
{
    double *ack = sn_calloc(n, sizeof *ack), *ver = sn_calloc(n, sizeof *ver);
    memset(row, 0, sizeof *row);
    row->level = recs[0]->alert->level;
    snprintf(row->rule, sizeof row->rule, "%s", recs[0]->alert->rule);
    row->count = n;
    for (size_t i = 0; i < n; i++) {
        const alr_record_t *r = recs[i];
        if (r->ack_time != 0) {
            double d = (double)(r->ack_time - r->opened);
            ack[row->acked++] = d;
            row->acked_2h += d <= ALR_REPORT_ACK_MS;
        }
        if (r->verify_time != 0) {
            double d = (double)(r->verify_time - r->opened);
            ver[row->verified++] = d;
            row->verified_24h += d <= ALR_REPORT_VERIFY_MS;
        }
        row->confirmed += r->outcome == ALR_OUTCOME_CONFIRMED;
    }
    row->median_ack_ms = s_median(ack, row->acked);
    row->median_verify_ms = s_median(ver, row->verified);
    free(ack);
    free(ver);
}

int
alr_report_build(alr_store_t *store, sn_time_t since, alr_report_row_t **rows,
                 size_t *n, sn_err_t *err)
{
    alr_record_t **recs = NULL;
    size_t count = 0;
    int rc = alr_store_records(store, since, &recs, &count, err);
    if (rc != SN_OK) {
        return rc;
    }
    if (count > 0) {
        qsort(recs, count, sizeof *recs, s_cmp_group);
    }
    alr_report_row_t *out = NULL;
    size_t groups = 0;
    for (size_t i = 0; i < count;) {
        size_t j = i + 1;
        while (j < count && s_cmp_group(&recs[i], &recs[j]) == 0) {
            j++;
        }
        out = sn_reallocarray(out, groups + 1, sizeof *out);
        s_fill(&out[groups++], recs + i, j - i);
        i = j;
    }
    for (size_t i = 0; i < count; i++) {
        alr_record_destroy(&recs[i]);
    }
    free(recs);
    *rows = out;
    *n = groups;
    return SN_OK;
}

/* Format a duration in ms as "1h05m" or "-" for NAN. */
static const char *
s_dur(char *buf, size_t size, double ms)
{
    if (isnan(ms)) {
        return "-";
    }
    long min = lround(ms / 60000.0);
    snprintf(buf, size, "%ldh%02ldm", min / 60, min % 60);
    return buf;
}

static double
s_share(size_t part, size_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0;
}

void
alr_report_print(FILE *out, const alr_report_row_t *rows, size_t n)
{
    fprintf(out, "%-7s %-20s %6s %10s %10s %8s %9s %10s\n", "level", "rule",
            "alerts", "ack_med", "verify_med", "ack<=2h", "ver<=24h",
            "confirmed");
    for (size_t i = 0; i < n; i++) {
        const alr_report_row_t *r = &rows[i];
        char a[32], v[32];
        fprintf(out, "%-7s %-20s %6zu %10s %10s %7.0f%% %8.0f%% %9.0f%%\n",
                sn_level_name(r->level), r->rule, r->count,
                s_dur(a, sizeof a, r->median_ack_ms),
                s_dur(v, sizeof v, r->median_verify_ms),
                s_share(r->acked_2h, r->count),
                s_share(r->verified_24h, r->count),
                s_share(r->confirmed, r->count));
    }
    if (n == 0) {
        fprintf(out, "(no alerts in the period)\n");
    }
}

static json_t *
s_num(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

char *
alr_report_json(const alr_report_row_t *rows, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const alr_report_row_t *r = &rows[i];
        json_array_append_new(
            arr, json_pack(
                     "{s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:f, s:f,"
                     " s:f}",
                     "level", sn_level_name(r->level), "rule", r->rule,
                     "alerts", (json_int_t)r->count, "acknowledged",
                     (json_int_t)r->acked, "verified", (json_int_t)r->verified,
                     "confirmed", (json_int_t)r->confirmed, "median_ack_ms",
                     s_num(r->median_ack_ms), "median_verify_ms",
                     s_num(r->median_verify_ms), "share_ack_2h",
                     s_share(r->acked_2h, r->count) / 100, "share_verify_24h",
                     s_share(r->verified_24h, r->count) / 100,
                     "share_confirmed", s_share(r->confirmed, r->count) / 100));
    }
    char *s = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(arr);
    if (s == NULL) {
        abort(); /* out of memory, mem.h's policy */
    }
    return s;
}
