/*  tests/collectors/test_condition_map.c - conditions from codes and words
 *
 *  The default catalogue (notifiable classes, deadlines, single-case
 *  alerting), ICD-10 prefix and keyword matching with its order of
 *  precedence, and configured rules tried before the catalogue's own.
 */
#include "condition_map.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_condition_map_usage)
{
    col_cmap_t *m = col_cmap_new(true);
    const char *dx[] = {"A00.1"};
    ck_assert_str_eq(col_cmap_match(m, dx, 1, NULL), "cholera");
    const col_condition_t *c = col_cmap_find(m, "cholera");
    ck_assert_int_eq(c->klass, COL_CLASS_A);
    ck_assert_int_eq(c->deadline_hours, 2);
    ck_assert(c->single_case);
    c = col_cmap_find(m, "plague");
    ck_assert_int_eq(c->klass, COL_CLASS_A);
    ck_assert(col_cmap_find(m, "measles")->klass == COL_CLASS_B);
    ck_assert_int_eq(col_cmap_find(m, "measles")->deadline_hours, 24);
    ck_assert(!col_cmap_find(m, "measles")->single_case);
    ck_assert(col_cmap_find(m, "mumps")->klass == COL_CLASS_C);
    const char *syndromes[] = {"ili",  "fever", "diarrhoea",
                               "rash", "hfmd",  "unexplained"};
    for (size_t i = 0; i < 6; i++) {
        ck_assert_msg(col_cmap_find(m, syndromes[i]) != NULL, "%s",
                      syndromes[i]);
    }
    ck_assert_str_eq(col_class_name(col_cmap_find(m, "ili")->klass),
                     "syndrome");
    ck_assert_uint_gt(col_cmap_size(m), 40);
    ck_assert_ptr_null(col_cmap_at(m, col_cmap_size(m)));
    col_cmap_destroy(&m);
    ck_assert_ptr_null(m);
    col_cmap_destroy(&m);
}
END_TEST

START_TEST(test_condition_map_precedence)
{
    col_cmap_t *m = col_cmap_new(true);
    /* Codes: case and the dot do not matter; the first rule wins. */
    const char *dx[] = {"r50.9", "a001"};
    ck_assert_str_eq(col_cmap_match(m, dx, 2, NULL), "cholera");
    /* A code beats a keyword. */
    const char *flu[] = {"J11.1"};
    ck_assert_str_eq(col_cmap_match(m, flu, 1, "RASH"), "influenza");
    /* Keywords, case-insensitive; "fever+cough" needs both words. */
    ck_assert_str_eq(col_cmap_match(m, NULL, 0, "Fever, dry COUGH"), "ili");
    ck_assert_str_eq(col_cmap_match(m, NULL, 0, "fever since monday"), "fever");
    ck_assert_str_eq(col_cmap_match(m, NULL, 0, "Scarlet fever"),
                     "scarlet_fever");
    ck_assert_str_eq(col_cmap_match(m, NULL, 0, "发热，咳嗽两天"), "ili");
    ck_assert_ptr_null(col_cmap_match(m, NULL, 0, "cough only"));
    ck_assert_ptr_null(col_cmap_match(m, NULL, 0, NULL));
    col_cmap_destroy(&m);
}
END_TEST

START_TEST(test_condition_map_configured_rules)
{
    col_cmap_t *m = col_cmap_new(true);
    sn_err_t err;
    /* A site rule goes before the catalogue's: fever in this ward is
     * reported as dengue suspicion; a new code is defined as "other". */
    const char *words[] = {"fever+joint pain", NULL};
    ck_assert_int_eq(col_cmap_add_rule(m, "dengue", NULL, words, &err), SN_OK);
    const char *codes[] = {"T78.4", NULL};
    ck_assert_int_eq(col_cmap_add_rule(m, "allergy", codes, NULL, &err), SN_OK);
    ck_assert_str_eq(col_cmap_match(m, NULL, 0, "Fever and joint pain"),
                     "dengue");
    ck_assert_str_eq(col_cmap_match(m, NULL, 0, "fever"), "fever");
    const char *dx[] = {"T78.40"};
    ck_assert_str_eq(col_cmap_match(m, dx, 1, NULL), "allergy");
    ck_assert_int_eq(col_cmap_find(m, "allergy")->klass, COL_CLASS_OTHER);
    ck_assert_int_eq(col_cmap_find(m, "dengue")->klass, COL_CLASS_B);
    col_cmap_destroy(&m);
    /* An empty map matches nothing until rules are added. */
    m = col_cmap_new(false);
    ck_assert_uint_eq(col_cmap_size(m), 0);
    ck_assert_ptr_null(col_cmap_match(m, dx, 1, "fever"));
    col_cmap_destroy(&m);
}
END_TEST

START_TEST(test_condition_map_bad_rules)
{
    col_cmap_t *m = col_cmap_new(false);
    sn_err_t err;
    const char *none[] = {NULL};
    ck_assert_int_eq(col_cmap_add_rule(m, "x", none, NULL, &err), SN_EINVAL);
    ck_assert_str_eq(err.msg, "rule for 'x': no icd10 prefix and no keyword");
    const char *words[] = {"a", NULL};
    ck_assert_int_eq(col_cmap_add_rule(m,
                                       "a_condition_code_that_is_far_too_"
                                       "long",
                                       NULL, words, &err),
                     SN_EINVAL);
    ck_assert_str_eq(err.msg, "condition code 'a_condition_code_that_is_far_"
                              "too_long': empty or longer than 32 bytes");
    col_condition_t c = {"", "nothing", COL_CLASS_OTHER, 0, false};
    ck_assert_int_eq(col_cmap_define(m, &c, &err), SN_EINVAL);
    ck_assert_uint_eq(col_cmap_size(m), 0);
    col_cmap_destroy(&m);
}
END_TEST

static Suite *
condition_map_suite(void)
{
    Suite *s = suite_create("condition_map");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_condition_map_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_test(edges, test_condition_map_precedence);
    tcase_add_test(edges, test_condition_map_configured_rules);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_condition_map_bad_rules);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(condition_map_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
