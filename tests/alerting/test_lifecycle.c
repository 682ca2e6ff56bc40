/*  tests/alerting/test_lifecycle.c - open, update, escalate, close, respond
 *
 *  Runs alert sequences through the lifecycle on a real SQLite store and
 *  checks the exact notifications made (type, level, reason) and the outbox
 *  rows queued for them, then acknowledgement and verification.
 */
#include "fixture.h"

static char *s_dir;
static alr_store_t *s_store;
static alr_lifecycle_t *s_life;
static alr_lifecycle_opts_t s_opts;

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    s_store = fx_store(s_dir);
    s_opts = fx_opts();
    s_life = alr_lifecycle_new(s_store, &s_opts);
}

static void
s_teardown(void)
{
    fx_check_store_caps(s_dir, s_store);
    alr_lifecycle_destroy(&s_life);
    alr_store_destroy(&s_store);
    ts_rmtree(s_dir);
    free(s_dir);
}

/* Feed one alert and free it; returns the alert id. */
static int64_t
s_feed(sn_level_t level, const char *day, const fx_row_t *rows, size_t n)
{
    sn_alert_t *a = fx_alert(level, day, rows, n);
    int64_t id = 0;
    sn_err_t err;
    ck_assert_msg(
        alr_lifecycle_intake(s_life, a, 1764000000000 + n, &id, &err) == SN_OK,
        "%s", err.msg);
    sn_alert_destroy(&a);
    return id;
}

/* Check that the notifications so far are exactly `want` ("Type level
 * reason" each), and that every one is valid CAP. */
static void
s_expect(const char *const *want, size_t n_want)
{
    alr_notice_t *ns = NULL;
    size_t n = 0;
    ck_assert_int_eq(alr_store_notices(s_store, 0, &ns, &n, NULL), SN_OK);
    ck_assert_uint_eq(n, n_want);
    for (size_t i = 0; i < n; i++) {
        char got[1024];
        snprintf(got, sizeof got, "%s %s %s", alr_msg_type_name(ns[i].type),
                 sn_level_name(ns[i].level), ns[i].reason);
        ck_assert_str_eq(got, want[i]);
        fx_check_cap(s_dir, ns[i].cap);
    }
    alr_notices_free(&ns, n);
}

START_TEST(test_lifecycle_escalate_update_close)
{
    const fx_row_t r1[] = {{"pharmacy", "2026-11-20", 12}};
    const fx_row_t r2[] = {{"pharmacy", "2026-11-20", 12},
                           {"lab", "2026-11-21", 9}};
    int64_t id = s_feed(SN_LEVEL_BLUE, "2026-11-20", r1, 1);
    ck_assert_int_eq(s_feed(SN_LEVEL_BLUE, "2026-11-20", r1, 1), id);
    ck_assert_int_eq(s_feed(SN_LEVEL_BLUE, "2026-11-21", r2, 2), id);
    ck_assert_int_eq(s_feed(SN_LEVEL_YELLOW, "2026-11-21", r2, 2), id);
    ck_assert_int_eq(alr_lifecycle_tick(s_life, fx_day("2026-11-23"), 1, NULL),
                     0);
    ck_assert_int_eq(alr_lifecycle_tick(s_life, fx_day("2026-11-24"), 2, NULL),
                     1);
    const char *const want[] = {
        "Alert blue new blue warning: rule multi-source, ILI in 110105 on "
        "2026-11-20, 1 evidence rows",
        "Update blue new evidence: ILI/110105/lab on 2026-11-21 (ears-c2, "
        "observed 9)",
        "Update yellow escalated from blue to yellow",
        "Cancel yellow closed: no new evidence since 2026-11-21 (quiet period "
        "of 3 days)"};
    s_expect(want, 4);
    ck_assert_int_eq(alr_store_pending(s_store), 8); /* 4 notices x 2 sinks */
    alr_notice_t *ns = NULL;
    size_t n = 0;
    alr_store_notices(s_store, id, &ns, &n, NULL);
    ck_assert_ptr_nonnull(strstr(ns[3].cap, "<msgType>Cancel</msgType>"));
    ck_assert_ptr_nonnull(strstr(ns[3].cap, "<references>cdc.sentinel.test,"
                                            "cdc.sentinel.test.alert.1.1,"));
    ck_assert_ptr_nonnull(strstr(ns[3].cap, "cdc.sentinel.test.alert.1.3,"));
    ck_assert_ptr_nonnull(strstr(ns[2].json, "\"type\":\"Update\""));
    alr_notices_free(&ns, n);
}
END_TEST

START_TEST(test_lifecycle_what_matters)
{
    const fx_row_t r1[] = {{"pharmacy", "2026-11-20", 12}};
    const fx_row_t r2[] = {{"pharmacy", "2026-11-20", 15}};
    s_feed(SN_LEVEL_YELLOW, "2026-11-20", r1, 1);
    s_feed(SN_LEVEL_BLUE, "2026-11-20", r1, 1); /* lower: no de-escalation */
    s_feed(SN_LEVEL_YELLOW, "2026-11-20", r2, 1);
    sn_alert_t *a = fx_alert(SN_LEVEL_YELLOW, "2026-11-20", r2, 1);
    a->evidence[0].score = 99; /* a refreshed score only */
    ck_assert_int_eq(alr_lifecycle_intake(s_life, a, 5, NULL, NULL), SN_OK);
    sn_alert_destroy(&a);
    const char *const want[] = {
        "Alert yellow new yellow warning: rule multi-source, ILI in 110105 "
        "on 2026-11-20, 1 evidence rows",
        "Update yellow observed for ILI/110105/pharmacy on 2026-11-20: 12 -> "
        "15"};
    s_expect(want, 2);
    char *json = NULL;
    ck_assert_int_eq(alr_store_show_json(s_store, 1, &json, NULL), SN_OK);
    ck_assert_ptr_nonnull(strstr(json, "\"kind\":\"refreshed\""));
    ck_assert_ptr_nonnull(strstr(json, "\"level\":\"yellow\""));
    free(json);
}
END_TEST

START_TEST(test_lifecycle_alert_after_quiet_opens_new)
{
    const fx_row_t r1[] = {{"pharmacy", "2026-11-01", 12}};
    const fx_row_t r2[] = {{"pharmacy", "2026-11-10", 20}};
    int64_t first = s_feed(SN_LEVEL_BLUE, "2026-11-01", r1, 1);
    int64_t second = s_feed(SN_LEVEL_BLUE, "2026-11-10", r2, 1);
    ck_assert_int_ne(first, second);
    const char *const want[] = {
        "Alert blue new blue warning: rule multi-source, ILI in 110105 on "
        "2026-11-01, 1 evidence rows",
        "Cancel blue closed: no new evidence since 2026-11-01 (quiet period "
        "of 3 days)",
        "Alert blue new blue warning: rule multi-source, ILI in 110105 on "
        "2026-11-10, 1 evidence rows"};
    s_expect(want, 3);
}
END_TEST

START_TEST(test_lifecycle_ack_and_verify)
{
    const fx_row_t r1[] = {{"lab", "2026-11-20", 4}};
    int64_t id = s_feed(SN_LEVEL_ORANGE, "2026-11-20", r1, 1);
    sn_err_t err;
    ck_assert_int_eq(alr_lifecycle_ack(s_life, id, "li.wei", "calling site",
                                       1764000600000, &err),
                     SN_OK);
    ck_assert_int_eq(alr_lifecycle_verify(s_life, id, ALR_OUTCOME_CONFIRMED, 2,
                                          "li.wei", NULL, 1764003600000, &err),
                     SN_OK);
    alr_record_t *rec = NULL;
    ck_assert_int_eq(alr_store_get(s_store, id, &rec, NULL), SN_OK);
    ck_assert_str_eq(rec->ack_by, "li.wei");
    ck_assert_str_eq(rec->ack_note, "calling site");
    ck_assert_int_eq(rec->ack_time, 1764000600000);
    ck_assert_int_eq(rec->outcome, ALR_OUTCOME_CONFIRMED);
    ck_assert_int_eq(rec->grade, 2);
    alr_record_destroy(&rec);
    ck_assert_int_eq(alr_store_pending(s_store), 2); /* no new notices */
}
END_TEST

START_TEST(test_lifecycle_refusals)
{
    sn_err_t err;
    const fx_row_t r1[] = {{"lab", "2026-11-20", 4}};
    sn_alert_t *a = fx_alert(SN_LEVEL_RED, "2026-11-20", r1, 1);
    a->evidence[0].source = SN_SOURCE_UNKNOWN;
    ck_assert_int_eq(alr_lifecycle_intake(s_life, a, 1, NULL, &err),
                     SN_EVALIDATE);
    ck_assert_str_eq(err.msg, "evidence[0]: field 'source': unknown source");
    sn_alert_destroy(&a);
    ck_assert_int_eq(alr_store_pending(s_store), 0);
    int64_t id = s_feed(SN_LEVEL_RED, "2026-11-20", r1, 1);
    ck_assert_int_eq(alr_lifecycle_ack(s_life, 99, "x", NULL, 1, &err),
                     SN_ENOTFOUND);
    ck_assert_str_eq(err.msg, "alert 99: not found");
    ck_assert_int_eq(alr_lifecycle_ack(s_life, id, "", NULL, 1, &err),
                     SN_EINVAL);
    ck_assert_int_eq(alr_lifecycle_ack(s_life, id, "a", NULL, 1, &err), SN_OK);
    ck_assert_int_eq(alr_lifecycle_ack(s_life, id, "b", NULL, 2, &err),
                     SN_ESTATE);
    ck_assert_str_eq(err.msg, "alert 1: already acknowledged by a");
    ck_assert_int_eq(alr_lifecycle_verify(s_life, id, ALR_OUTCOME_MONITORING, 3,
                                          "a", NULL, 3, &err),
                     SN_EINVAL);
    ck_assert_str_eq(err.msg, "field 'grade': I..IV, and only for a "
                              "confirmed event");
    int g = 0;
    alr_outcome_t o;
    ck_assert_int_eq(alr_grade_parse("IV", &g), SN_OK);
    ck_assert_int_eq(g, 4);
    ck_assert_int_eq(alr_grade_parse("V", &g), SN_EINVAL);
    ck_assert_int_eq(alr_outcome_parse("maybe", &o), SN_EINVAL);
}
END_TEST

static int
s_position(const char *sender, uint64_t seq, void *arg)
{
    ck_assert_str_eq(sender, "analyzer-1");
    *(uint64_t *)arg = seq;
    return SN_OK;
}

START_TEST(test_lifecycle_intake_record_moves_position)
{
    const fx_row_t r1[] = {{"lab", "2026-11-20", 4}};
    sn_alert_t *a = fx_alert(SN_LEVEL_BLUE, "2026-11-20", r1, 1);
    uint8_t buf[4096];
    int len = sn_alert_encode(a, buf, sizeof buf);
    ck_assert_int_gt(len, 0);
    sn_alert_destroy(&a);
    sn_err_t err;
    int64_t id = 0;
    ck_assert_int_eq(alr_lifecycle_intake_record(s_life, buf, (size_t)len,
                                                 "analyzer-1", 7, 1, &id, &err),
                     SN_OK);
    ck_assert_int_eq(id, 1);
    uint8_t junk[] = {0x0a, 0xff, 0x01};
    ck_assert_int_eq(alr_lifecycle_intake_record(s_life, junk, sizeof junk,
                                                 "analyzer-1", 8, 2, NULL,
                                                 &err),
                     SN_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "record analyzer-1#8: alert: "));
    uint64_t pos = 0;
    ck_assert_int_eq(alr_store_positions(s_store, s_position, &pos, NULL),
                     SN_OK);
    ck_assert_int_eq(pos, 8);
    ck_assert_int_eq(alr_store_pending(s_store), 2);
}
END_TEST

static Suite *
lifecycle_suite(void)
{
    Suite *s = suite_create("lifecycle");
    TCase *tc = tcase_create("usage");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_lifecycle_escalate_update_close);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_lifecycle_what_matters);
    tcase_add_test(tc, test_lifecycle_alert_after_quiet_opens_new);
    tcase_add_test(tc, test_lifecycle_ack_and_verify);
    tcase_add_test(tc, test_lifecycle_intake_record_moves_position);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_lifecycle_refusals);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(lifecycle_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
