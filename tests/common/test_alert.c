/*  tests/common/test_alert.c - the alert record, its protobuf and JSON forms
 *
 *  Builds an alert as the analyzer does, round-trips it through the
 *  sentinel.v1.Alert encoding and the JSON mapping, and checks the refusals.
 */
#include "sentinel/alert.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sn_alert_t *
s_sample(void)
{
    sn_err_t err;
    sn_alert_t *a = sn_alert_new(SN_LEVEL_YELLOW, "multi-source", "ILI",
                                 "110105", sn_day_from_ymd(2026, 11, 24),
                                 1764078699000, "two sources", &err);
    ck_assert_ptr_nonnull(a);
    for (int i = 0; i < 2; i++) {
        sn_evidence_t ev;
        sn_evidence_init(&ev);
        snprintf(ev.series_key, sizeof ev.series_key, "ILI/110105/%s",
                 i ? "lab" : "pharmacy");
        strcpy(ev.condition, "ILI");
        strcpy(ev.region, "110105");
        ev.source = i ? SN_SOURCE_LAB : SN_SOURCE_PHARMACY;
        strcpy(ev.detector, "ears-c2");
        ev.day = a->day;
        ev.observed = 17 + i;
        ev.expected = 6.25;
        ev.upperbound = i ? NAN : 11.5;
        ev.score = 4.0;
        ck_assert_int_eq(sn_alert_add_evidence(a, &ev, &err), SN_OK);
    }
    return a;
}

static void
s_assert_same(const sn_alert_t *a, const sn_alert_t *b)
{
    ck_assert_int_eq(a->level, b->level);
    ck_assert_str_eq(a->rule, b->rule);
    ck_assert_str_eq(a->region, b->region);
    ck_assert_int_eq(a->day, b->day);
    ck_assert_int_eq(a->raised, b->raised);
    ck_assert_str_eq(a->summary, b->summary);
    ck_assert_uint_eq(a->n_evidence, b->n_evidence);
    ck_assert_str_eq(a->evidence[1].series_key, b->evidence[1].series_key);
    ck_assert_int_eq(a->evidence[1].source, b->evidence[1].source);
    ck_assert(a->evidence[1].observed == b->evidence[1].observed);
    ck_assert(isnan(b->evidence[1].upperbound));
    ck_assert(b->evidence[0].upperbound == 11.5);
}

START_TEST(test_alert_roundtrip)
{
    sn_alert_t *a = s_sample(), *b = NULL, *c = NULL;
    sn_err_t err;
    size_t n = sn_alert_encoded_size(a);
    uint8_t *buf = malloc(n);
    ck_assert_int_eq(sn_alert_encode(a, buf, n), (int)n);
    ck_assert_int_eq(sn_alert_encode(a, buf, n - 1), SN_EOVERFLOW);
    ck_assert_int_eq(sn_alert_decode(buf, n, &b, &err), SN_OK);
    s_assert_same(a, b);
    char *json = sn_alert_to_json(a);
    ck_assert_ptr_nonnull(strstr(json, "\"alert_key\":\"multi-source|ILI|"
                                       "110105\",\"level\":\"yellow\""));
    ck_assert_ptr_nonnull(strstr(json, "\"upperbound\":null"));
    ck_assert_int_eq(sn_alert_from_json(json, strlen(json), &c, &err), SN_OK);
    s_assert_same(a, c);
    ck_assert_int_eq(sn_alert_validate(c, &err), SN_OK);
    free(json);
    free(buf);
    sn_alert_destroy(&a);
    sn_alert_destroy(&b);
    sn_alert_destroy(&c);
    sn_alert_destroy(&c);
}
END_TEST

START_TEST(test_alert_levels_and_summary_cut)
{
    sn_level_t l;
    ck_assert_str_eq(sn_level_name(SN_LEVEL_RED), "red");
    ck_assert_str_eq(sn_level_name((sn_level_t)9), "none");
    ck_assert_int_eq(sn_level_parse("Orange", &l), SN_OK);
    ck_assert_int_eq(l, SN_LEVEL_ORANGE);
    ck_assert_int_eq(sn_level_parse("purple", &l), SN_ENOTFOUND);
    sn_alert_t *a = s_sample();
    char big[SN_SUMMARY_MAX + 8];
    memset(big, 'x', sizeof big);
    strcpy(big + SN_SUMMARY_MAX - 1, "\xe4\xb8\xad!"); /* a 3-byte char */
    sn_alert_set_summary(a, big);
    ck_assert_uint_eq(strlen(a->summary), SN_SUMMARY_MAX - 1);
    sn_alert_t *d = sn_alert_dup(a);
    ck_assert_str_eq(d->evidence[0].series_key, a->evidence[0].series_key);
    sn_alert_destroy(&d);
    sn_alert_destroy(&a);
}
END_TEST

START_TEST(test_alert_refusals)
{
    sn_err_t err;
    ck_assert_ptr_null(
        sn_alert_new(SN_LEVEL_NONE, "r", "c", "1", 0, 0, NULL, &err));
    ck_assert_str_eq(err.msg, "field 'level': 0 is not blue..red");
    ck_assert_ptr_null(
        sn_alert_new(SN_LEVEL_RED, "", "c", "1", 0, 0, NULL, &err));
    ck_assert_str_eq(err.msg, "field 'rule': empty");
    sn_alert_t *a = s_sample(), *b = NULL;
    a->evidence[1].detector[0] = '\0';
    ck_assert_int_eq(sn_alert_validate(a, &err), SN_EVALIDATE);
    ck_assert_str_eq(err.msg, "evidence[1]: field 'detector': empty");
    uint8_t junk[] = {0xff, 0xff, 0xff};
    ck_assert_int_eq(sn_alert_decode(junk, 3, &b, &err), SN_EPARSE);
    const char *bad = "{\"level\":\"blue\",\"rule\":\"r\",\"condition\":\"c\","
                      "\"region\":\"1\",\"day\":\"2026-01-01\",\"x\":1}";
    ck_assert_int_eq(sn_alert_from_json(bad, strlen(bad), &b, &err), SN_EPARSE);
    ck_assert_str_eq(err.msg, "key 'x': unknown");
    ck_assert_ptr_null(b);
    sn_alert_destroy(&a);
}
END_TEST

static Suite *
alert_suite(void)
{
    Suite *s = suite_create("alert");
    TCase *tc = tcase_create("usage");
    tcase_add_test(tc, test_alert_roundtrip);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    tcase_add_test(tc, test_alert_levels_and_summary_cut);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_alert_refusals);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(alert_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
