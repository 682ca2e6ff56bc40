/*  tests/e2e/test_archive_docs.c - the examples of docs/archive.md run
 *
 *  Writes an archive with the real writer, takes the h5py, pandas and R
 *  examples out of docs/archive.md as they are printed there (only the
 *  file name is swapped for the test archive), runs each with the real
 *  interpreter (Debian's /usr/bin/python3 with python3-h5py and
 *  python3-pandas, /usr/bin/Rscript with r-cran-hdf5r) and checks the
 *  values they print (the corrections example after a correction the test
 *  makes through the writer). A missing interpreter or package fails the test
 * with the package to install: these examples are a promise to analysts.
 */
#include "archive_fixture.h"
#include "support.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PYTHON "/usr/bin/python3"
#define RSCRIPT "/usr/bin/Rscript"

static char *s_dir;
static char s_path[512];
static char *s_doc;
static const char *const s_regions[] = {"440106", "440103"};

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    snprintf(s_path, sizeof s_path, "%s/archive.h5", s_dir);
    af_write(s_path, s_regions, 2, 40);
    char *md = ts_source_path("docs/archive.md");
    s_doc = ts_read_file(md, NULL);
    ck_assert_msg(s_doc != NULL, "cannot read %s", md);
    free(md);
}

static void
s_teardown(void)
{
    free(s_doc);
    ts_rmtree(s_dir);
    free(s_dir);
}

/* @return the body of the nth (from 0) fenced block of language `lang`
 * with "archive.h5" replaced by the test archive; caller frees. */
static char *
s_example(const char *lang, int nth)
{
    char fence[32];
    snprintf(fence, sizeof fence, "```%s\n", lang);
    const char *p = s_doc;
    for (int i = 0; p != NULL && i <= nth; i++) {
        p = strstr(p, fence);
        p = p ? p + strlen(fence) : NULL;
    }
    ck_assert_msg(p != NULL, "docs/archive.md: no %s example %d", lang, nth);
    const char *end = strstr(p, "```");
    ck_assert_ptr_nonnull(end);
    size_t lines = 0, cap = (size_t)(end - p) + 2 * sizeof s_path;
    char *out = calloc(1, cap);
    for (const char *q = p; q < end; q++) {
        lines += *q == '\n';
        if (strncmp(q, "\"archive.h5\"", 12) == 0) {
            snprintf(out + strlen(out), cap - strlen(out), "\"%s\"", s_path);
            q += 11;
        } else {
            out[strlen(out)] = *q;
        }
    }
    ck_assert_msg(lines == 5, "%s example %d has %zu lines, not 5", lang, nth,
                  lines);
    return out;
}

/* Run `interp` on the example; @return its stdout (caller frees). */
static char *
s_run(const char *interp, const char *code, const char *name)
{
    char *script = ts_write_file(s_dir, name, code);
    char *argv[] = {(char *)interp, script, NULL};
    ts_run_t r = ts_run(argv, NULL, 120);
    ck_assert_msg(r.status == 0, "%s %s exited %d:\n%s", interp, name, r.status,
                  r.err);
    char *out = r.out;
    r.out = NULL;
    ts_run_free(&r);
    free(script);
    return out;
}

/* @return true when one line of `text` holds both a and b. */
static bool
s_line_has(const char *text, const char *a, const char *b)
{
    for (const char *l = text; l != NULL && *l != '\0';) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        char *line = strndup(l, len);
        bool both = strstr(line, a) != NULL && strstr(line, b) != NULL;
        free(line);
        if (both) {
            return true;
        }
        l = nl ? nl + 1 : NULL;
    }
    return false;
}

START_TEST(test_archive_docs_h5py_example)
{
    char *code = s_example("python", 0);
    char *out = s_run(PYTHON, code, "h5py_example.py");
    ck_assert_msg(s_line_has(out, "2024-10-04", " 0.0"), "%s", out);
    ck_assert_msg(s_line_has(out, "2024-10-09", "NaN"), "%s", out);
    ck_assert_msg(s_line_has(out, "2024-11-12", "39.0"), "%s", out);
    free(out);
    free(code);
}
END_TEST

START_TEST(test_archive_docs_pandas_example)
{
    char *code = s_example("python", 1);
    char *out = s_run(PYTHON, code, "pandas_example.py");
    /* Week ending Sunday 2024-10-06: days 0-2 of both series. */
    ck_assert_msg(s_line_has(out, "2024-10-06", " 3.0") &&
                      s_line_has(out, "2024-10-06", "303.0"),
                  "%s", out);
    /* The last, cut week: days 38 and 39 only. */
    ck_assert_msg(s_line_has(out, "2024-11-17", "77.0") &&
                      s_line_has(out, "2024-11-17", "277.0"),
                  "%s", out);
    free(out);
    free(code);
}
END_TEST

/* Correct day 2 (2024-10-06) of the second series from 102 to 110 with
 * the writer's correction path, as the analyzer does for a late event. */
static void
s_correct_one_day(void)
{
    static const char *const dets[] = {"ears-c2", "cusum"};
    ana_archive_opts_t o;
    ana_archive_opts_default(&o);
    o.path = s_path;
    o.detectors = dets;
    o.n_detectors = 2;
    ana_archive_t *a = NULL;
    sn_err_t err;
    ck_assert_msg(ana_archive_open(&o, &a, &err) == SN_OK, "%s", err.msg);
    ana_archive_key_t k = {"ILI", s_regions[1], "fever_clinic", NULL};
    size_t row = 0;
    ck_assert_int_eq(ana_archive_series(a, &k, &row, NULL), SN_OK);
    ana_archive_row_t r = {row, 110, NULL};
    ck_assert_int_eq(
        ana_archive_correct_day(a, AF_DAY0 + 2, &r, 1, sn_time_now(), &err),
        SN_OK);
    ana_archive_destroy(&a);
}

START_TEST(test_archive_docs_corrections_example)
{
    s_correct_one_day();
    char *code = s_example("python", 2);
    char *out = s_run(PYTHON, code, "corrections_example.py");
    ck_assert_msg(s_line_has(out, "2024-10-06", "ILI/440103/fever_clinic/*"),
                  "%s", out);
    ck_assert_msg(s_line_has(out, "102.0", "110.0"), "%s", out);
    free(out);
    free(code);
}
END_TEST

START_TEST(test_archive_docs_r_example)
{
    char *argv[] = {RSCRIPT, "-e", "library(hdf5r)", NULL};
    ts_run_t r = ts_run(argv, NULL, 60);
    ck_assert_msg(r.status == 0,
                  "R package hdf5r cannot be loaded (install r-cran-hdf5r: "
                  "deploy/install-deps.sh), so the R example cannot run:\n%s",
                  r.err);
    ts_run_free(&r);
    char *code = s_example("r", 0);
    char *out = s_run(RSCRIPT, code, "r_example.R");
    ck_assert_msg(s_line_has(out, "2024-10-09", "NaN"), "%s", out);
    ck_assert_msg(s_line_has(out, "2024-11-12", "39"), "%s", out);
    free(out);
    free(code);
}
END_TEST

static Suite *
archive_docs_suite(void)
{
    Suite *s = suite_create("archive_docs");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 180);
    tcase_add_test(usage, test_archive_docs_h5py_example);
    tcase_add_test(usage, test_archive_docs_pandas_example);
    tcase_add_test(usage, test_archive_docs_corrections_example);
    tcase_add_test(usage, test_archive_docs_r_example);
    suite_add_tcase(s, usage);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(archive_docs_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
