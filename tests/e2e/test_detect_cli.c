/*  tests/e2e/test_detect_cli.c - `sentinel detect` against the reference
 *
 *  Runs the real binary on every runnable case of the reference manifests
 *  (R's surveillance, MPM, Rnssp's EWMA) whose method the binary lists in
 *  `sentinel detect --help`, with the case's own `sentinel_args`, and
 *  compares its CSV with R's by column name: numbers within 1e-6 relative
 *  (absolute 1e-9; 1e-5 for glrnb), alarms and labels identical. Then the
 *  contract's edges: batch mode with a series column, stdin, and bad
 *  flags, parameters and rows exiting 2 with the reason.
 */
#include "support.h"

#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 32
#define MAX_ARGS 64

/* A CSV text cut into fields in place. */
typedef struct csv {
    char *text;           /* owned */
    char *head[MAX_COLS]; /* column names */
    int ncol;             /* columns */
    char **cell;          /* nrow * ncol */
    size_t nrow;          /* data rows */
} csv_t;

static void
csv_parse(char *text, csv_t *c)
{
    memset(c, 0, sizeof *c);
    c->text = text;
    size_t cap = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
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
            c->cell = realloc(c->cell, cap * (size_t)c->ncol * sizeof(char *));
            ck_assert_ptr_nonnull(c->cell);
        }
        for (int i = 0; i < c->ncol; i++) {
            c->cell[c->nrow * (size_t)c->ncol + (size_t)i] = i < n ? f[i] : "";
        }
        c->nrow++;
    }
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

/* Is `s` a number or NA (so the column compares numerically)? */
static bool
s_numeric(const char *s)
{
    char *end;
    if (strcmp(s, "NA") == 0) {
        return true;
    }
    strtod(s, &end);
    return end != s && *end == '\0';
}

static bool
s_cell_ok(const char *col, const char *ours, const char *ref, double tol)
{
    if (!s_numeric(ref) || strcmp(col, "alarm") == 0 ||
        strcmp(ref, "NA") == 0 || strcmp(ours, "NA") == 0) {
        return strcmp(ours, ref) == 0;
    }
    double a = strtod(ours, NULL), b = strtod(ref, NULL);
    return fabs(a - b) <= tol * fabs(b) + 1e-9;
}

/* Compare our stdout with the reference file; @return mismatching cells. */
static int
s_compare(const char *what, char *ours_text, const char *ref_path, double tol,
          int *shown)
{
    csv_t ours, ref;
    csv_parse(ours_text, &ours);
    char *rt = ts_read_file(ref_path, NULL);
    ck_assert_msg(rt != NULL, "cannot read %s", ref_path);
    csv_parse(rt, &ref);
    int bad = ours.nrow != ref.nrow;
    if (bad && (*shown)++ < 8) {
        printf("%s: %zu rows, R has %zu\n", what, ours.nrow, ref.nrow);
    }
    for (int k = 0; k < ref.ncol; k++) {
        int j = csv_col(&ours, ref.head[k]);
        if (j < 0 || strcmp(ref.head[k], "date") == 0) {
            continue;
        }
        for (size_t r = 0; r < ref.nrow && r < ours.nrow; r++) {
            const char *a = ours.cell[r * (size_t)ours.ncol + (size_t)j];
            const char *b = ref.cell[r * (size_t)ref.ncol + (size_t)k];
            if (!s_cell_ok(ref.head[k], a, b, tol)) {
                if ((*shown)++ < 8) {
                    printf("%s row %zu %s: ours %s, R %s\n", what, r + 1,
                           ref.head[k], a, b);
                }
                bad++;
            }
        }
    }
    free(ours.cell);
    free(ref.cell);
    free(rt);
    return bad;
}

/* The methods the binary lists after "methods:" in detect --help. */
static char *
s_methods(void)
{
    ts_run_t r = ts_sentinel(NULL, 10, "detect", "--help", NULL);
    ck_assert_int_eq(r.status, 0);
    const char *m = strstr(r.out, "methods:");
    ck_assert_ptr_nonnull(m);
    char *list = malloc(strlen(m) + 2);
    sprintf(list, "%s ", m + strlen("methods:"));
    for (char *c = list; *c; c++) {
        *c = *c == '\n' ? ' ' : *c;
    }
    ts_run_free(&r);
    return list;
}

static bool
s_listed(const char *methods, const char *m)
{
    char key[80];
    snprintf(key, sizeof key, " %s ", m);
    return strstr(methods, key) != NULL;
}

/* @return dir/rel; caller frees. */
static char *
s_join(const char *dir, const char *rel)
{
    size_t len = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(len);
    ck_assert_ptr_nonnull(p);
    snprintf(p, len, "%s/%s", dir, rel);
    return p;
}

/* Run one case through the binary. @return mismatches, -1 if not built. */
static int
s_run_case(const char *dir, const char *what, json_t *args, const char *out,
           const char *methods, int *shown)
{
    char *argv[MAX_ARGS];
    int argc = 0;
    char *bin = strdup(ts_sentinel_bin()), *cmd = strdup("detect");
    argv[argc++] = bin;
    argv[argc++] = cmd;
    const char *method = "";
    for (size_t i = 0; i < json_array_size(args) && argc < MAX_ARGS - 1; i++) {
        const char *a = json_string_value(json_array_get(args, i));
        method = i > 0 && strcmp(json_string_value(json_array_get(args, i - 1)),
                                 "--method") == 0
                     ? a
                     : method;
        bool file = i + 1 == json_array_size(args);
        char *rel = file ? s_join(dir, a) : NULL;
        argv[argc++] = file ? ts_reference_path(rel) : strdup(a);
        free(rel);
    }
    argv[argc] = NULL;
    int bad = -1;
    if (s_listed(methods, method)) {
        ts_run_t r = ts_run(argv, NULL, 120);
        char *rel = s_join(dir, out), *ref = ts_reference_path(rel);
        if (r.status != 0) {
            printf("%s: exit %d: %s", what, r.status, r.err);
            bad = 1;
        } else {
            double tol = strcmp(method, "glrnb") == 0 ? 1e-5 : 1e-6;
            bad = s_compare(what, r.out, ref, tol, shown) > 0;
        }
        free(rel);
        free(ref);
        ts_run_free(&r);
    }
    for (int i = 0; i < argc; i++) {
        free(argv[i]);
    }
    return bad;
}

/* Every runnable case of one manifest. @return failing cases. */
static int
s_manifest(const char *dir, int *ran)
{
    char *methods = s_methods(), *rel = s_join(dir, "manifest.json");
    char *path = ts_reference_path(rel);
    json_t *root = json_load_file(path, 0, NULL);
    ck_assert_msg(root != NULL, "cannot read %s", path);
    json_t *list = json_object_get(root, "series");
    bool nested = list != NULL;
    list = nested ? list : json_object_get(root, "cases");
    int failed = 0, shown = 0;
    *ran = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *s = json_array_get(list, i);
        json_t *cases = nested ? json_object_get(s, "cases") : NULL;
        for (size_t j = 0; j < (nested ? json_array_size(cases) : 1); j++) {
            json_t *c = nested ? json_array_get(cases, j) : s;
            json_t *args = json_object_get(c, "sentinel_args");
            if (args == NULL) {
                continue;
            }
            const char *sname = json_string_value(
                json_object_get(nested ? s : c, nested ? "name" : "series"));
            const char *cname = json_string_value(json_object_get(c, "case"));
            char what[256], out[256];
            snprintf(what, sizeof what, "%s %s", sname, cname);
            snprintf(out, sizeof out, "out/%s__%s.csv", sname, cname);
            int bad = s_run_case(dir, what, args, out, methods, &shown);
            *ran += bad >= 0;
            failed += bad > 0;
        }
    }
    json_decref(root);
    free(path);
    free(rel);
    free(methods);
    return failed;
}

START_TEST(test_detect_cli_reference)
{
    static const char *const dirs[] = {".", "mpm", "ewma"};
    static const int least[] = {589, 6, 3}; /* every runnable case */
    for (int d = 0; d < 3; d++) {
        int ran, failed = s_manifest(dirs[d], &ran);
        printf("%s: %d cases run, %d failing\n", dirs[d], ran, failed);
        ck_assert_int_ge(ran, least[d]);
        ck_assert_int_eq(failed, 0);
    }
}
END_TEST

static const char s_two[] = "series,date,count\n"
                            "a,2020-01-06,1\na,2020-01-13,2\na,2020-01-20,1\n"
                            "a,2020-01-27,0\na,2020-02-03,7\n"
                            "b,2020-01-06,3\nb,2020-01-13,3\nb,2020-01-20,4\n"
                            "b,2020-01-27,3\nb,2020-02-03,3\n";

START_TEST(test_detect_cli_batch_series)
{
    ts_run_t r = ts_sentinel(s_two, 10, "detect", "--method", "ears-c1",
                             "--param", "baseline=3", "-", NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    /* a, t=4: baseline 1,2,1: 4/3 + z(0.999) sqrt(1/3); t=5: 1 + z. */
    ck_assert_str_eq(r.out, "series,t,date,observed,upperbound,alarm\n"
                            "a,4,2020-01-27,0,3.1174797871578,0\n"
                            "a,5,2020-02-03,7,4.09023230616781,1\n"
                            "b,4,2020-01-27,3,5.1174797871578,0\n"
                            "b,5,2020-02-03,3,5.1174797871578,0\n");
    ts_run_free(&r);
}
END_TEST

START_TEST(test_detect_cli_na_and_frequency)
{
    ts_run_t r = ts_sentinel("t,date,count\n1,2021-03-01,1\n2,2021-03-02,NA\n"
                             "3,2021-03-03,2\n4,2021-03-04,2\n"
                             "5,2021-03-05,1\n",
                             10, "detect", "--method", "ears-c1", "--param",
                             "baseline=3", "--range", "4:5", "-", NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_str_eq(r.out, "t,date,observed,upperbound,alarm\n"
                            "4,2021-03-04,2,NA,NA\n"
                            "5,2021-03-05,1,NA,NA\n");
    ts_run_free(&r);
}
END_TEST

/* Run detect on `input` with the extra arguments; expect exit 2 and `err`
 * as the first line of stderr. */
static void
s_expect_usage(const char *input, const char *err, const char *a1,
               const char *a2, const char *a3, const char *a4)
{
    ts_run_t r = ts_sentinel(input, 10, "detect", a1, a2, a3, a4, "-", NULL);
    ck_assert_msg(r.status == 2, "exit %d: %s", r.status, r.err);
    ck_assert_msg(strncmp(r.err, err, strlen(err)) == 0, "stderr: %s", r.err);
    ts_run_free(&r);
}

START_TEST(test_detect_cli_errors)
{
    const char *ok = "date,count\n2020-01-06,1\n2020-01-13,2\n"
                     "2020-01-20,1\n2020-01-27,1\n2020-02-03,1\n"
                     "2020-02-10,1\n2020-02-17,1\n2020-02-24,1\n";
    s_expect_usage(ok, "sentinel detect: unknown method 'nope'\n", "--method",
                   "nope", "--frequency", "52");
    s_expect_usage(ok,
                   "sentinel detect: --param alpha=x: parameter 'alpha': "
                   "expected a number, got 'x'\n",
                   "--method", "ears-c1", "--param", "alpha=x");
    s_expect_usage(ok,
                   "sentinel detect: --param zz=1: method 'ears-c1' has no "
                   "parameter 'zz'\n",
                   "--method", "ears-c1", "--param", "zz=1");
    s_expect_usage(ok, "sentinel detect: --range '0:3': expected FROM:TO",
                   "--method", "ears-c1", "--range", "0:3");
    s_expect_usage(ok, "sentinel detect: unknown flag '--bogus'", "--method",
                   "ears-c1", "--bogus", "1");
    s_expect_usage("date,count\n2020-01-06,1\n2020-13-13,2\n",
                   "sentinel detect: -:3: field 'date': expected YYYY-MM-DD\n",
                   "--method", "ears-c1", "--frequency", "52");
    s_expect_usage("date,count\n2020-01-06,1\n2020-01-13,x\n",
                   "sentinel detect: -:3: field 'count': expected a number",
                   "--method", "ears-c1", "--frequency", "52");
    s_expect_usage("day,count\n2020-01-06,1\n",
                   "sentinel detect: -:1: the header needs 'date' and "
                   "'count' columns\n",
                   "--method", "ears-c1", "--frequency", "52");
    s_expect_usage(ok,
                   "sentinel detect: -: time point 1 has too little "
                   "history: method 'ears-c1' with these parameters starts "
                   "at 8\n",
                   "--method", "ears-c1", "--range", "1:2");
}
END_TEST

static Suite *
detect_cli_suite(void)
{
    Suite *s = suite_create("detect_cli");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 2400); /* sanitizer builds are slow */
    tcase_add_test(usage, test_detect_cli_reference);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 60);
    tcase_add_test(edges, test_detect_cli_batch_series);
    tcase_add_test(edges, test_detect_cli_na_and_frequency);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 60);
    tcase_add_test(errors, test_detect_cli_errors);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(detect_cli_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
