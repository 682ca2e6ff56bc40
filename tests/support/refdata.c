/*  tests/support/refdata.c - reference series and outputs for detector suites
 *
 *  See refdata.h. The CSV files of the reference set are simple (no quotes,
 *  "NA" for missing), so sscanf reads them.
 */
#include "refdata.h"

#include "support.h"

#include "sentinel/mem.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ts_ref_load(const char *name, ts_ref_series_t *s)
{
    char *rel = sn_strdup_printf("series/%s.csv", name);
    char *path = ts_reference_path(rel);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[128], date[16], count[16];
    s->n = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    while (s->n < TS_REF_MAX && fgets(line, sizeof line, f) &&
           sscanf(line, "%*d,%15[^,],%15s", date, count) == 2) {
        sn_day_parse(date, &s->day[s->n]);
        s->count[s->n++] = strcmp(count, "NA") == 0 ? NAN : atof(count);
    }
    fclose(f);
    free(rel);
    free(path);
}

void
ts_ref_compare(const char *name, const char *cs, const sn_det_point_t *pt,
               size_t from, double tol, int rows)
{
    char *rel = sn_strdup_printf("out/%s__%s.csv", name, cs);
    char *path = ts_reference_path(rel);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[160], ub[32], al[8];
    int t, seen = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f) &&
           sscanf(line, "%d,%*[^,],%*[^,],%31[^,],%7s", &t, ub, al) == 3) {
        const sn_det_point_t *p = &pt[(size_t)t - 1 - from];
        if (strcmp(ub, "NA") == 0) {
            ck_assert_msg(isnan(p->upperbound), "t=%d: NA expected", t);
        } else {
            double r = atof(ub);
            ck_assert_msg(fabs(p->upperbound - r) <= tol * fabs(r) + 1e-9,
                          "t=%d: ours %.12g, R %s", t, p->upperbound, ub);
        }
        ck_assert_int_eq(p->alarm, atoi(al));
        seen++;
    }
    ck_assert_int_eq(seen, rows);
    fclose(f);
    free(rel);
    free(path);
}

sn_detector_t *
ts_ref_detector(const char *method, const char *const *kv)
{
    sn_err_t err;
    sn_detector_t *det = sn_detector_new(method, &err);
    ck_assert_msg(det != NULL, "%s", err.msg);
    for (size_t i = 0; kv[i] != NULL; i += 2) {
        ck_assert_msg(sn_detector_set(det, kv[i], kv[i + 1], &err) == SN_OK,
                      "%s", err.msg);
    }
    return det;
}
