/*  tests/analyzer/test_reference.c - every detector against R's own outputs
 *
 *  Runs every runnable case of the reference manifests (R's surveillance,
 *  the MPM definition and Rnssp's EWMA) whose method is registered through
 *  the library: the case's `sentinel_args` give the method, parameters,
 *  frequency, range and input; every numeric column present both in the
 *  reference output and in ours must agree within |c - r| <= 1e-6 |r| +
 *  1e-9 (1e-5 for glrnb), and alarms and labels must be identical. A
 *  mismatch fails the test and the first ones are printed.
 */
#include "support.h"

#include "sentinel/detector.h"
#include "sentinel/mem.h"

#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 32
#define MAX_SHOW 8

/* A CSV file, all fields as text. */
typedef struct csv {
    char *text;           /* the file, cut into fields in place */
    char *head[MAX_COLS]; /* column names */
    int ncol;             /* columns */
    char **cell;          /* nrow * ncol fields */
    size_t nrow;          /* data rows */
} csv_t;

static int
csv_load(const char *path, csv_t *c)
{
    memset(c, 0, sizeof *c);
    c->text = ts_read_file(path, NULL);
    if (c->text == NULL) {
        return -1;
    }
    size_t cap = 0;
    char *save = NULL;
    for (char *line = strtok_r(c->text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        line[strcspn(line, "\r")] = '\0';
        char *f[MAX_COLS];
        int n = 0;
        for (char *p = line; p && n < MAX_COLS; n++) {
            f[n] = p;
            p = strchr(p, ',');
            if (p) {
                *p++ = '\0';
            }
        }
        if (c->ncol == 0) {
            memcpy(c->head, f, sizeof(char *) * (size_t)n);
            c->ncol = n;
            continue;
        }
        if (c->nrow == cap) {
            cap = cap ? 2 * cap : 512;
            c->cell =
                sn_reallocarray(c->cell, cap * (size_t)c->ncol, sizeof(char *));
        }
        for (int i = 0; i < c->ncol; i++) {
            c->cell[c->nrow * (size_t)c->ncol + (size_t)i] = i < n ? f[i] : "";
        }
        c->nrow++;
    }
    return 0;
}

static void
csv_free(csv_t *c)
{
    free(c->text);
    free(c->cell);
}

static int
csv_col(const csv_t *c, const char *name)
{
    for (int i = 0; i < c->ncol; i++) {
        if (strcmp(c->head[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

/* One case to run: its folder, name and arguments. */
typedef struct ref_case {
    const char *dir;    /* manifest folder, relative to the reference */
    const char *series; /* series name */
    const char *name;   /* case name */
    json_t *args;       /* sentinel_args */
    const char *output; /* out/ file, relative to dir */
} ref_case_t;

/* The value of column `name` of our point as text-free numbers. */
static int
s_our_value(const sn_detector_t *det, const sn_det_point_t *pt,
            const char *name, double *v, const char **label)
{
    *label = NULL;
    if (strcmp(name, "observed") == 0) {
        *v = pt->observed;
    } else if (strcmp(name, "upperbound") == 0) {
        *v = pt->upperbound;
    } else if (strcmp(name, "alarm") == 0) {
        *v = pt->alarm == SN_DET_NA ? NAN : pt->alarm;
    } else if (sn_detector_label_name(det) &&
               strcmp(name, sn_detector_label_name(det)) == 0) {
        *label = pt->label ? pt->label : "NA";
    } else {
        for (size_t i = 0; i < sn_detector_extra_count(det); i++) {
            if (strcmp(sn_detector_extra_name(det, i), name) == 0) {
                *v = pt->extra[i];
                return 0;
            }
        }
        return -1;
    }
    return 0;
}

/* Compare one cell; @return 1 on a mismatch, with a note in msg. */
static int
s_cmp_cell(const char *col, const char *ref, double ours, const char *label,
           double rel, char *msg, size_t len)
{
    if (label) {
        if (strcmp(label, ref) != 0) {
            snprintf(msg, len, "%s: ours %s, R %s", col, label, ref);
            return 1;
        }
        return 0;
    }
    bool rna = strcmp(ref, "NA") == 0;
    double r = rna ? NAN : strtod(ref, NULL);
    if (rna || isnan(ours)) {
        if (rna != (bool)isnan(ours)) {
            snprintf(msg, len, "%s: ours %.15g, R %s", col, ours, ref);
            return 1;
        }
        return 0;
    }
    bool exact = strcmp(col, "alarm") == 0;
    if ((exact && ours != r) ||
        (!exact && !(fabs(ours - r) <= rel * fabs(r) + 1e-9))) {
        snprintf(msg, len, "%s: ours %.15g, R %s", col, ours, ref);
        return 1;
    }
    return 0;
}

/* Load the series CSV (t,date,count) into an input. */
static int
s_load_input(const char *path, sn_det_input_t *in, double **cnt, sn_day_t **day)
{
    csv_t c;
    if (csv_load(path, &c) < 0) {
        return -1;
    }
    int cd = csv_col(&c, "date"), cc = csv_col(&c, "count");
    *cnt = sn_calloc(c.nrow + 1, sizeof **cnt);
    *day = sn_calloc(c.nrow + 1, sizeof **day);
    for (size_t i = 0; i < c.nrow; i++) {
        const char *v = c.cell[i * (size_t)c.ncol + (size_t)cc];
        (*cnt)[i] = strcmp(v, "NA") == 0 ? NAN : strtod(v, NULL);
        sn_day_parse(c.cell[i * (size_t)c.ncol + (size_t)cd], &(*day)[i]);
    }
    in->count = *cnt;
    in->day = *day;
    in->n = c.nrow;
    in->date_mode = true;
    csv_free(&c);
    return 0;
}

/* Set up the detector and input from the case's arguments. */
static sn_detector_t *
s_setup(const ref_case_t *rc, sn_det_input_t *in, size_t *from, size_t *to,
        double **cnt, sn_day_t **day)
{
    sn_detector_t *det = NULL;
    const char *file = NULL;
    long f = 0, t = 0;
    in->frequency = 0;
    for (size_t i = 0; i < json_array_size(rc->args); i++) {
        const char *a = json_string_value(json_array_get(rc->args, i));
        const char *v = json_string_value(json_array_get(rc->args, i + 1));
        if (strcmp(a, "--method") == 0) {
            det = sn_detector_new(v, NULL);
            if (det == NULL) {
                return NULL; /* not registered (yet) */
            }
        } else if (strcmp(a, "--param") == 0) {
            char *name = sn_strdup(v), *eq = strchr(name, '=');
            *eq = '\0';
            sn_err_t err;
            int r = sn_detector_set(det, name, eq + 1, &err);
            ck_assert_msg(r == 0, "%s %s: %s", rc->series, rc->name, err.msg);
            free(name);
        } else if (strcmp(a, "--frequency") == 0) {
            in->frequency = atoi(v);
        } else if (strcmp(a, "--range") == 0) {
            ck_assert(sscanf(v, "%ld:%ld", &f, &t) == 2);
        } else {
            file = a;
            continue;
        }
        i++;
    }
    char *rel = sn_strdup_printf("%s/%s", rc->dir, file);
    char *path = ts_reference_path(rel);
    ck_assert_msg(s_load_input(path, in, cnt, day) == 0, "cannot read %s",
                  path);
    free(rel);
    free(path);
    *from = (size_t)f - 1;
    *to = (size_t)t - 1;
    return det;
}

/* Compare our points with the reference file; @return mismatches. */
static int
s_compare(const ref_case_t *rc, const sn_detector_t *det,
          const sn_det_point_t *pts, size_t npts, int *shown)
{
    char *rel = sn_strdup_printf("%s/%s", rc->dir, rc->output);
    char *path = ts_reference_path(rel);
    csv_t c;
    ck_assert_msg(csv_load(path, &c) == 0, "cannot read %s", path);
    int bad = 0;
    double tol = strcmp(sn_detector_method(det), "glrnb") == 0 ? 1e-5 : 1e-6;
    if (c.nrow != npts) {
        printf("%s %s: %zu rows, R has %zu\n", rc->series, rc->name, npts,
               c.nrow);
        bad++;
    }
    for (size_t r = 0; r < c.nrow && r < npts; r++) {
        for (int k = 0; k < c.ncol; k++) {
            double v;
            const char *label;
            char msg[160];
            if (s_our_value(det, &pts[r], c.head[k], &v, &label) < 0) {
                continue; /* t, date, or a column we do not give */
            }
            const char *ref = c.cell[r * (size_t)c.ncol + (size_t)k];
            if (s_cmp_cell(c.head[k], ref, v, label, tol, msg, sizeof msg)) {
                if ((*shown)++ < MAX_SHOW) {
                    printf("%s %s t=%s: %s\n", rc->series, rc->name,
                           c.cell[r * (size_t)c.ncol], msg);
                }
                bad++;
            }
        }
    }
    csv_free(&c);
    free(rel);
    free(path);
    return bad;
}

/* Run one case. @return mismatches, or -1 when its method is not built. */
static int
s_run_case(const ref_case_t *rc, int *shown)
{
    sn_det_input_t in;
    size_t from, to;
    double *cnt = NULL;
    sn_day_t *day = NULL;
    sn_detector_t *det = s_setup(rc, &in, &from, &to, &cnt, &day);
    if (det == NULL) {
        return -1;
    }
    sn_det_point_t *pts = sn_calloc(to - from + 1, sizeof *pts);
    sn_err_t err;
    int bad = 0;
    if (sn_detector_eval(det, &in, from, to, pts, &err) < 0) {
        printf("%s %s: %s\n", rc->series, rc->name, err.msg);
        bad = 1;
    } else {
        bad = s_compare(rc, det, pts, to - from + 1, shown);
    }
    free(pts);
    free(cnt);
    free(day);
    sn_detector_destroy(&det);
    return bad;
}

/* Run every runnable case of the manifest in `dir`; @return mismatching
 * cases, and the cases run in *ran. */
static int
s_run_manifest(const char *dir, int *ran)
{
    char *rel = sn_strdup_printf("%s/manifest.json", dir);
    char *path = ts_reference_path(rel);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    ck_assert_msg(root != NULL, "%s: %s", path, jerr.text);
    json_t *list = json_object_get(root, "series");
    bool nested = list != NULL;
    list = nested ? list : json_object_get(root, "cases");
    int failed = 0, shown = 0;
    *ran = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *s = json_array_get(list, i);
        json_t *cases = nested ? json_object_get(s, "cases") : NULL;
        size_t nc = nested ? json_array_size(cases) : 1;
        for (size_t j = 0; j < nc; j++) {
            json_t *c = nested ? json_array_get(cases, j) : s;
            ref_case_t rc = {dir,
                             json_string_value(json_object_get(
                                 nested ? s : c, nested ? "name" : "series")),
                             json_string_value(json_object_get(c, "case")),
                             json_object_get(c, "sentinel_args"), NULL};
            if (rc.args == NULL) {
                continue; /* skipped or failed in R */
            }
            const char *out = json_string_value(json_object_get(c, "output"));
            char *own =
                out ? NULL
                    : sn_strdup_printf("out/%s__%s.csv", rc.series, rc.name);
            rc.output = out ? out : own;
            int bad = s_run_case(&rc, &shown);
            *ran += bad >= 0;
            failed += bad > 0;
            free(own);
        }
    }
    json_decref(root);
    free(rel);
    free(path);
    return failed;
}

START_TEST(test_reference_surveillance)
{
    int ran;
    int failed = s_run_manifest(".", &ran);
    printf("surveillance: %d cases run, %d mismatching\n", ran, failed);
    ck_assert_int_eq(ran, 589); /* every runnable case of the manifest */
    ck_assert_int_eq(failed, 0);
}
END_TEST

START_TEST(test_reference_mpm)
{
    int ran;
    int failed = s_run_manifest("mpm", &ran);
    printf("mpm: %d cases run, %d mismatching\n", ran, failed);
    ck_assert_int_eq(ran, 6);
    ck_assert_int_eq(failed, 0);
}
END_TEST

START_TEST(test_reference_ewma)
{
    int ran;
    int failed = s_run_manifest("ewma", &ran);
    printf("ewma: %d cases run, %d mismatching\n", ran, failed);
    ck_assert_int_eq(ran, 3);
    ck_assert_int_eq(failed, 0);
}
END_TEST

static Suite *
reference_suite(void)
{
    Suite *s = suite_create("reference");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 600);
    tcase_add_test(usage, test_reference_surveillance);
    tcase_add_test(usage, test_reference_mpm);
    tcase_add_test(usage, test_reference_ewma);
    suite_add_tcase(s, usage);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(reference_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
