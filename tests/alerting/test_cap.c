/*  tests/alerting/test_cap.c - CAP 1.2 rendering, checked with xmllint
 *
 *  Every document rendered here is validated against tests/alerting/
 *  cap12.xsd (written from the CAP 1.2 element tables) with xmllint. The
 *  errors case shows that the schema refuses a wrong enumeration and a
 *  wrong element order, so a passing check means something.
 */
#include "fixture.h"

#include "cap.h"

static char *s_dir;

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
}

static void
s_teardown(void)
{
    ts_rmtree(s_dir);
    free(s_dir);
}

/* Render message `seq` of type `type` about a one-row alert at `level`. */
static char *
s_render(sn_level_t level, alr_msg_type_t type, int seq, const char *status,
         const char *summary)
{
    const fx_row_t rows[] = {{"fever_clinic", "2026-11-20", 17},
                             {"lab", "2026-11-21", 6}};
    alr_record_t rec = {0};
    rec.id = 42;
    rec.alert = fx_alert(level, "2026-11-21", rows, 2);
    sn_alert_set_summary(rec.alert, summary);
    alr_cap_opts_t o = {"cdc.sentinel.test", status, "CDC only", NULL};
    alr_notice_t earlier[3] = {0};
    for (int i = 0; i < seq - 1 && i < 3; i++) {
        alr_cap_identifier(o.sender, 42, i + 1, earlier[i].identifier);
        earlier[i].created = 1764000000000 + i * 60000;
    }
    alr_notice_t n = {0};
    n.seq = seq;
    n.type = type;
    n.level = level;
    n.created = 1764078699123;
    n.reason = "because";
    alr_cap_identifier(o.sender, 42, seq, n.identifier);
    char *xml = alr_cap_render(&o, &n, &rec, earlier, (size_t)(seq - 1));
    sn_alert_destroy(&rec.alert);
    return xml;
}

START_TEST(test_cap_levels_and_types_validate)
{
    const alr_msg_type_t types[] = {ALR_MSG_ALERT, ALR_MSG_UPDATE,
                                    ALR_MSG_CANCEL};
    for (int l = SN_LEVEL_BLUE; l <= SN_LEVEL_RED; l++) {
        for (int t = 0; t < 3; t++) {
            char *xml = s_render((sn_level_t)l, types[t], t + 1, "Exercise",
                                 "ILI rising");
            fx_check_cap(s_dir, xml);
            free(xml);
        }
    }
    char *xml = s_render(SN_LEVEL_ORANGE, ALR_MSG_UPDATE, 3, "Exercise", "");
    ck_assert_ptr_nonnull(
        strstr(xml, "<identifier>cdc.sentinel.test.alert.42.3</identifier>"));
    ck_assert_ptr_nonnull(strstr(xml, "<sent>2025-11-25T13:51:39+00:00"));
    ck_assert_ptr_nonnull(strstr(xml, "<status>Exercise</status>"));
    ck_assert_ptr_nonnull(strstr(xml, "<scope>Restricted</scope>"));
    ck_assert_ptr_nonnull(strstr(
        xml, "<references>cdc.sentinel.test,cdc.sentinel.test.alert.42.1,"
             "2025-11-24T16:00:00+00:00 cdc.sentinel.test,"
             "cdc.sentinel.test.alert.42.2,2025-11-24T16:01:00+00:00"
             "</references>"));
    ck_assert_ptr_nonnull(strstr(xml, "<category>Health</category>"));
    ck_assert_ptr_nonnull(strstr(xml, "<urgency>Expected</urgency>"));
    ck_assert_ptr_nonnull(strstr(xml, "<severity>Severe</severity>"));
    ck_assert_ptr_nonnull(strstr(xml, "<certainty>Likely</certainty>"));
    ck_assert_ptr_nonnull(strstr(xml, "<valueName>detector</valueName>\n"
                                      "      <value>ears-c2</value>"));
    ck_assert_ptr_nonnull(strstr(xml, "<value>2026-11-20/2026-11-21</value>"));
    ck_assert_ptr_nonnull(strstr(xml, "<valueName>GB/T 2260</valueName>\n"
                                      "        <value>110105</value>"));
    free(xml);
}
END_TEST

START_TEST(test_cap_mapping_and_escaping)
{
    ck_assert_str_eq(alr_cap_urgency(SN_LEVEL_BLUE), "Future");
    ck_assert_str_eq(alr_cap_severity(SN_LEVEL_YELLOW), "Moderate");
    ck_assert_str_eq(alr_cap_certainty(SN_LEVEL_YELLOW), "Possible");
    ck_assert_str_eq(alr_cap_urgency(SN_LEVEL_RED), "Immediate");
    ck_assert_str_eq(alr_cap_severity(SN_LEVEL_RED), "Extreme");
    char *xml = s_render(SN_LEVEL_RED, ALR_MSG_CANCEL, 2, "Actual",
                         "cases <5 & \"rising\" 发热");
    fx_check_cap(s_dir, xml);
    ck_assert_ptr_nonnull(strstr(xml, "<status>Actual</status>"));
    ck_assert_ptr_nonnull(strstr(xml, "<urgency>Past</urgency>"));
    ck_assert_ptr_nonnull(strstr(xml, "<responseType>AllClear"));
    ck_assert_ptr_nonnull(
        strstr(xml, "cases &lt;5 &amp; &quot;rising&quot; 发热"));
    free(xml);
}
END_TEST

START_TEST(test_cap_schema_refuses_wrong_documents)
{
    char *xml = s_render(SN_LEVEL_BLUE, ALR_MSG_ALERT, 1, "Exercise", "x");
    char *bad = strdup(xml);
    memcpy(strstr(bad, "Restricted</scope>"), "Restrictex", 10);
    ck_assert_int_ne(fx_xmllint(s_dir, bad, NULL), 0);
    free(bad);
    /* status given as "Exercise" but placed after msgType: wrong order */
    char *swapped = s_render(SN_LEVEL_BLUE, ALR_MSG_ALERT, 1, "Exercise", "x");
    char *st = strstr(swapped, "  <status>Exercise</status>\n");
    char *mt = strstr(swapped, "  <msgType>Alert</msgType>\n");
    char line_st[64], line_mt[64];
    snprintf(line_st, sizeof line_st, "%.*s", 29, st);
    snprintf(line_mt, sizeof line_mt, "%.*s", 27, mt);
    memcpy(st, line_mt, 27);
    memcpy(st + 27, line_st, 29);
    ck_assert_int_ne(fx_xmllint(s_dir, swapped, NULL), 0);
    free(swapped);
    /* "Z" is not a CAP time zone */
    bad = strdup(xml);
    memcpy(strstr(bad, "+00:00</sent>"), "Z</sent>     ", 13);
    ck_assert_int_ne(fx_xmllint(s_dir, bad, NULL), 0);
    free(bad);
    free(xml);
}
END_TEST

static Suite *
cap_suite(void)
{
    Suite *s = suite_create("cap");
    TCase *tc = tcase_create("usage");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cap_levels_and_types_validate);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cap_mapping_and_escaping);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cap_schema_refuses_wrong_documents);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(cap_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
