/*  tests/common/test_event_json.c - the JSON mapping of the case event
 *
 *  Both directions, the round trip of every field, nulls for absent
 *  optional fields, and the refusals: not JSON, wrong types, unknown keys
 *  and personal identifiers, each with its exact message.
 */
#include "sentinel/event.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_NOW 1795608000000LL /* 2026-11-25T12:00:00Z */

static const char *const s_example =
    "{\"event_id\":\"EV-2026-000123\",\"revision\":2,\"site_id\":\"bj-h001\","
    "\"source\":\"fever_clinic\",\"region\":\"110105\",\"condition\":\"ILI\","
    "\"onset_date\":\"2026-11-23\",\"report_time\":\"2026-11-25T09:30:00+08:"
    "00\","
    "\"count\":3,\"age_years\":34,\"sex\":\"female\",\"lab_confirmed\":true}";

static int
s_parse(const char *text, sn_event_t *ev, sn_err_t *err)
{
    return sn_event_from_json(text, strlen(text), ev, err);
}

START_TEST(test_event_json_usage)
{
    sn_event_t ev;
    sn_err_t err = {0};
    ck_assert_int_eq(s_parse(s_example, &ev, &err), SN_OK);
    ck_assert_str_eq(ev.event_id, "EV-2026-000123");
    ck_assert_uint_eq(ev.revision, 2);
    ck_assert_str_eq(ev.site_id, "bj-h001");
    ck_assert_int_eq(ev.source, SN_SOURCE_FEVER_CLINIC);
    ck_assert_str_eq(ev.region, "110105");
    ck_assert_str_eq(ev.condition, "ILI");
    ck_assert_int_eq(ev.onset_date, sn_day_from_ymd(2026, 11, 23));
    ck_assert_int_eq(ev.report_time, T_NOW - 10 * 3600000LL - 1800000LL);
    ck_assert_uint_eq(ev.count, 3);
    ck_assert_int_eq(ev.age_years, 34);
    ck_assert_int_eq(ev.sex, SN_SEX_FEMALE);
    ck_assert_int_eq(ev.lab_confirmed, SN_LAB_CONFIRMED);
    ck_assert_int_eq(sn_event_validate(&ev, T_NOW, &err), SN_OK);
    char *text = sn_event_to_json(&ev);
    ck_assert_str_eq(
        text, "{\"event_id\":\"EV-2026-000123\",\"revision\":2,"
              "\"site_id\":\"bj-h001\",\"source\":\"fever_clinic\","
              "\"region\":\"110105\",\"condition\":\"ILI\","
              "\"onset_date\":\"2026-11-23\","
              "\"report_time\":\"2026-11-25T01:30:00.000Z\",\"count\":3,"
              "\"age_years\":34,\"sex\":\"female\",\"lab_confirmed\":true}");
    free(text);
}
END_TEST

START_TEST(test_event_json_absent_fields)
{
    const char *min = "{\"event_id\":\"e1\",\"site_id\":\"s1\","
                      "\"source\":\"lab\",\"region\":\"310101\","
                      "\"condition\":\"A00\","
                      "\"report_time\":\"2026-11-25T00:00:00Z\"}";
    sn_event_t ev;
    ck_assert_int_eq(s_parse(min, &ev, NULL), SN_OK);
    ck_assert_uint_eq(ev.count, 1);
    ck_assert_uint_eq(ev.revision, 0);
    ck_assert_int_eq(ev.onset_date, SN_DAY_NONE);
    ck_assert_int_eq(ev.age_years, SN_AGE_NONE);
    ck_assert_int_eq(ev.sex, SN_SEX_UNKNOWN);
    ck_assert_int_eq(ev.lab_confirmed, SN_LAB_UNKNOWN);
    char *text = sn_event_to_json(&ev);
    ck_assert_str_eq(text, "{\"event_id\":\"e1\",\"revision\":0,"
                           "\"site_id\":\"s1\",\"source\":\"lab\","
                           "\"region\":\"310101\",\"condition\":\"A00\","
                           "\"onset_date\":null,"
                           "\"report_time\":\"2026-11-25T00:00:00.000Z\","
                           "\"count\":1,\"age_years\":null,"
                           "\"sex\":\"unknown\",\"lab_confirmed\":null}");
    free(text);
    const char *nulls = "{\"onset_date\":null,\"age_years\":null,"
                        "\"sex\":null,\"lab_confirmed\":false,"
                        "\"source\":null}";
    ck_assert_int_eq(s_parse(nulls, &ev, NULL), SN_OK);
    ck_assert_int_eq(ev.lab_confirmed, SN_LAB_NEGATIVE);
    ck_assert_int_eq(ev.source, SN_SOURCE_UNKNOWN);
}
END_TEST

static void
s_assert_round_trip(const sn_event_t *ev)
{
    char *text = sn_event_to_json(ev);
    sn_event_t back;
    sn_err_t err = {0};
    ck_assert_msg(s_parse(text, &back, &err) == SN_OK, "%s: %s", text, err.msg);
    char *again = sn_event_to_json(&back);
    ck_assert_str_eq(text, again);
    ck_assert_int_eq(back.report_time, ev->report_time);
    ck_assert_int_eq(back.onset_date, ev->onset_date);
    ck_assert_uint_eq(back.revision, ev->revision);
    free(text);
    free(again);
}

START_TEST(test_event_json_round_trip_every_value)
{
    sn_event_t ev;
    ck_assert_int_eq(s_parse(s_example, &ev, NULL), SN_OK);
    for (int s = 0; s < SN_SOURCE_COUNT; s++) {
        ev.source = (sn_source_t)s;
        s_assert_round_trip(&ev);
    }
    for (int s = SN_SEX_UNKNOWN; s <= SN_SEX_OTHER; s++) {
        ev.sex = (sn_sex_t)s;
        s_assert_round_trip(&ev);
    }
    for (int l = SN_LAB_UNKNOWN; l <= SN_LAB_NEGATIVE; l++) {
        ev.lab_confirmed = (sn_lab_t)l;
        s_assert_round_trip(&ev);
    }
    ev.revision = UINT32_MAX;
    ev.count = UINT32_MAX;
    ev.age_years = 0;
    ev.onset_date = sn_day_from_ymd(1900, 1, 1);
    ev.report_time = 1;
    memset(ev.event_id, 'q', SN_EVENT_ID_MAX);
    ev.event_id[SN_EVENT_ID_MAX] = '\0';
    strcpy(ev.condition, "he said \"x\\y\"");
    s_assert_round_trip(&ev);
    sn_event_init(&ev);
    s_assert_round_trip(&ev);
}
END_TEST

START_TEST(test_event_json_renders_bad_bytes)
{
    /* An event refused for its bytes still renders for the dead letters. */
    sn_event_t ev;
    sn_event_init(&ev);
    strcpy(ev.event_id, "ab\xff\xfe");
    char *text = sn_event_to_json(&ev);
    ck_assert_ptr_nonnull(strstr(text, "\"event_id\":\"ab??\""));
    free(text);
}
END_TEST

#define ASSERT_REFUSED(text, code, message)                                    \
    do {                                                                       \
        sn_event_t ev_;                                                        \
        memset(&ev_, 0x44, sizeof ev_);                                        \
        sn_err_t e_ = {0};                                                     \
        ck_assert_int_eq(s_parse((text), &ev_, &e_), (code));                  \
        ck_assert_str_eq(e_.msg, (message));                                   \
        ck_assert_uint_eq((unsigned char)ev_.event_id[0], 0x44);               \
    } while (0)

START_TEST(test_event_json_refuses_personal_identifiers)
{
    ASSERT_REFUSED("{\"event_id\":\"e\",\"name\":\"Zhang San\"}", SN_EVALIDATE,
                   "field 'name': personal identifiers are not accepted");
    ASSERT_REFUSED("{\"Patient-Name\":\"x\"}", SN_EVALIDATE,
                   "field 'Patient-Name': personal identifiers are not "
                   "accepted");
    ASSERT_REFUSED("{\"count\":\"wrong\",\"id_number\":\"110\"}", SN_EVALIDATE,
                   "field 'id_number': personal identifiers are not "
                   "accepted");
    const char *keys[] = {"national_id", "address",       "phone",   "mobile",
                          "email",       "date_of_birth", "passport"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char text[128];
        char msg[128];
        snprintf(text, sizeof text, "{\"%s\":1}", keys[i]);
        snprintf(msg, sizeof msg,
                 "field '%s': personal identifiers are not accepted", keys[i]);
        ASSERT_REFUSED(text, SN_EVALIDATE, msg);
    }
}
END_TEST

START_TEST(test_event_json_refuses_bad_documents)
{
    ASSERT_REFUSED("{\"event_id\":", SN_EPARSE,
                   "not valid JSON: unexpected token near end of file "
                   "(column 12)");
    ASSERT_REFUSED("", SN_EPARSE,
                   "not valid JSON: unexpected token near end of file "
                   "(column 0)");
    ASSERT_REFUSED("[1,2]", SN_EPARSE, "expected a JSON object per event");
    ASSERT_REFUSED("{\"count\":1,\"count\":2}", SN_EPARSE,
                   "not valid JSON: duplicate object key near "
                   "'\"count\"' (column 18)");
    ASSERT_REFUSED("{\"evnet_id\":\"x\"}", SN_EVALIDATE,
                   "field 'evnet_id': unknown key (expected one of: "
                   "event_id, revision, site_id, source, region, condition, "
                   "onset_date, report_time, count, age_years, sex, "
                   "lab_confirmed)");
}
END_TEST

START_TEST(test_event_json_refuses_bad_values)
{
    ASSERT_REFUSED("{\"event_id\":7}", SN_EPARSE,
                   "field 'event_id': expected a string");
    ASSERT_REFUSED("{\"region\":\"1234567890123\"}", SN_EPARSE,
                   "field 'region': longer than 12 bytes");
    ASSERT_REFUSED("{\"count\":1.5}", SN_EPARSE,
                   "field 'count': expected an integer");
    ASSERT_REFUSED("{\"count\":-1}", SN_EPARSE,
                   "field 'count': -1 is out of range");
    ASSERT_REFUSED("{\"revision\":4294967296}", SN_EPARSE,
                   "field 'revision': 4294967296 is out of range");
    ASSERT_REFUSED("{\"age_years\":-1}", SN_EPARSE,
                   "field 'age_years': -1 is out of range");
    ASSERT_REFUSED("{\"source\":\"clinic\"}", SN_EPARSE,
                   "field 'source': unknown source 'clinic' (expected one "
                   "of: hospital, fever_clinic, pharmacy, lab, school, "
                   "direct_report, clinician_report, public_report, media, "
                   "animal_health, food_safety)");
    ASSERT_REFUSED("{\"source\":3}", SN_EPARSE,
                   "field 'source': expected a string");
    ASSERT_REFUSED("{\"onset_date\":\"2026-02-30\"}", SN_EPARSE,
                   "field 'onset_date': '2026-02-30' is not a date "
                   "\"YYYY-MM-DD\"");
    ASSERT_REFUSED("{\"onset_date\":20260101}", SN_EPARSE,
                   "field 'onset_date': expected a date \"YYYY-MM-DD\"");
    ASSERT_REFUSED("{\"report_time\":\"yesterday\"}", SN_EPARSE,
                   "field 'report_time': 'yesterday' is not an RFC 3339 "
                   "time");
    ASSERT_REFUSED("{\"report_time\":null}", SN_EPARSE,
                   "field 'report_time': expected an RFC 3339 time");
    ASSERT_REFUSED("{\"sex\":\"F\"}", SN_EPARSE,
                   "field 'sex': unknown value 'F' (expected one of: male, "
                   "female, other, unknown)");
    ASSERT_REFUSED("{\"lab_confirmed\":\"yes\"}", SN_EPARSE,
                   "field 'lab_confirmed': expected true, false or null");
}
END_TEST

static Suite *
event_json_suite(void)
{
    Suite *s = suite_create("event_json");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_event_json_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_test(edges, test_event_json_absent_fields);
    tcase_add_test(edges, test_event_json_round_trip_every_value);
    tcase_add_test(edges, test_event_json_renders_bad_bytes);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_event_json_refuses_personal_identifiers);
    tcase_add_test(errors, test_event_json_refuses_bad_documents);
    tcase_add_test(errors, test_event_json_refuses_bad_values);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(event_json_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
