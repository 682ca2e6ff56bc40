/*  tests/common/test_event.c - case events: validation and the protobuf codec
 *
 *  Round trips of every field through sn_event_encode() and
 *  sn_event_decode(), every validation rule with its exact message, and
 *  garbage, truncated and hostile bytes that the decoder must refuse without
 *  crashing.
 */
#include "refevent.h"
#include "sentinel/event.h"

#include "sentinel/v1/event.pb-c.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2026-11-25T12:00:00Z: the "now" of every validation below. */
#define T_NOW 1795608000000LL

static sn_event_t
s_good(void)
{
    sn_event_t ev;
    sn_event_init(&ev);
    strcpy(ev.event_id, "EV-2026-000123");
    strcpy(ev.site_id, "bj-h001");
    ev.source = SN_SOURCE_FEVER_CLINIC;
    strcpy(ev.region, "110105");
    strcpy(ev.condition, "ILI");
    ev.onset_date = sn_day_from_ymd(2026, 11, 23);
    ev.report_time = T_NOW - 3600000;
    ev.count = 1;
    ev.age_years = 34;
    ev.sex = SN_SEX_FEMALE;
    ev.lab_confirmed = SN_LAB_CONFIRMED;
    return ev;
}

static void
s_assert_same(const sn_event_t *a, const sn_event_t *b)
{
    ck_assert_str_eq(a->event_id, b->event_id);
    ck_assert_uint_eq(a->revision, b->revision);
    ck_assert_str_eq(a->site_id, b->site_id);
    ck_assert_int_eq(a->source, b->source);
    ck_assert_str_eq(a->region, b->region);
    ck_assert_str_eq(a->condition, b->condition);
    ck_assert_int_eq(a->onset_date, b->onset_date);
    ck_assert_int_eq(a->report_time, b->report_time);
    ck_assert_uint_eq(a->count, b->count);
    ck_assert_int_eq(a->age_years, b->age_years);
    ck_assert_int_eq(a->sex, b->sex);
    ck_assert_int_eq(a->lab_confirmed, b->lab_confirmed);
}

static void
s_round_trip(const sn_event_t *ev)
{
    uint8_t buf[512];
    int n = sn_event_encode(ev, buf, sizeof buf);
    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq((size_t)n, sn_event_encoded_size(ev));
    sn_event_t back;
    memset(&back, 0x5a, sizeof back);
    sn_err_t err = {0};
    ck_assert_int_eq(sn_event_decode(buf, (size_t)n, &back, &err), SN_OK);
    s_assert_same(ev, &back);
}

START_TEST(test_event_usage)
{
    sn_event_t ev = s_good();
    sn_err_t err = {0};
    ck_assert_int_eq(sn_event_validate(&ev, T_NOW, &err), SN_OK);
    uint8_t buf[256];
    int n = sn_event_encode(&ev, buf, sizeof buf);
    ck_assert_int_gt(n, 0);
    sn_event_t back;
    ck_assert_int_eq(sn_event_decode(buf, (size_t)n, &back, &err), SN_OK);
    s_assert_same(&ev, &back);
    ck_assert_int_eq(sn_event_validate(&back, T_NOW, &err), SN_OK);
    /* Its Kafka key: the prefecture of its region. */
    char key[SN_REGION_MAX + 1];
    ck_assert_int_eq(
        sn_event_prefecture_key(buf, (size_t)n, key, sizeof key, NULL), SN_OK);
    ck_assert_int_eq(strlen(key), 4);
    ck_assert(strncmp(key, ev.region, 4) == 0);
    ck_assert_int_ne(sn_event_prefecture_key(buf, 1, key, sizeof key, NULL),
                     SN_OK);
}
END_TEST

START_TEST(test_event_init_defaults)
{
    sn_event_t ev;
    memset(&ev, 0x7f, sizeof ev);
    sn_event_init(&ev);
    ck_assert_str_eq(ev.event_id, "");
    ck_assert_uint_eq(ev.revision, 0);
    ck_assert_uint_eq(ev.count, 1);
    ck_assert_int_eq(ev.onset_date, SN_DAY_NONE);
    ck_assert_int_eq(ev.age_years, SN_AGE_NONE);
    ck_assert_int_eq(ev.sex, SN_SEX_UNKNOWN);
    ck_assert_int_eq(ev.lab_confirmed, SN_LAB_UNKNOWN);
    ck_assert_int_eq(ev.source, SN_SOURCE_UNKNOWN);
}
END_TEST

START_TEST(test_event_source_names)
{
    ck_assert_str_eq(sn_source_name(SN_SOURCE_HOSPITAL), "hospital");
    ck_assert_str_eq(sn_source_name(SN_SOURCE_FOOD_SAFETY), "food_safety");
    ck_assert_ptr_null(sn_source_name(SN_SOURCE_UNKNOWN));
    ck_assert_ptr_null(sn_source_name(SN_SOURCE_COUNT));
    for (int i = 1; i < SN_SOURCE_COUNT; i++) {
        sn_source_t s = SN_SOURCE_UNKNOWN;
        ck_assert_int_eq(sn_source_parse(sn_source_name(i), &s), SN_OK);
        ck_assert_int_eq(s, i);
    }
    sn_source_t s = SN_SOURCE_LAB;
    ck_assert_int_eq(sn_source_parse("Hospital", &s), SN_ENOTFOUND);
    ck_assert_int_eq(sn_source_parse(NULL, &s), SN_ENOTFOUND);
    ck_assert_int_eq(s, SN_SOURCE_LAB);
}
END_TEST

START_TEST(test_event_round_trip_extremes)
{
    sn_event_t ev = s_good();
    memset(ev.event_id, 'x', SN_EVENT_ID_MAX);
    ev.event_id[SN_EVENT_ID_MAX] = '\0';
    memset(ev.site_id, 's', SN_SITE_ID_MAX);
    ev.site_id[SN_SITE_ID_MAX] = '\0';
    memset(ev.condition, 'C', SN_CONDITION_MAX);
    ev.condition[SN_CONDITION_MAX] = '\0';
    ev.revision = UINT32_MAX;
    ev.count = SN_EVENT_MAX_COUNT;
    ev.age_years = 150;
    ev.sex = SN_SEX_OTHER;
    ev.lab_confirmed = SN_LAB_NEGATIVE;
    ev.onset_date = sn_day_from_ymd(1900, 1, 1);
    ck_assert_int_eq(sn_event_validate(&ev, T_NOW, NULL), SN_OK);
    s_round_trip(&ev);
    /* The empty event and the absent optional fields survive too. */
    sn_event_t empty;
    sn_event_init(&empty);
    s_round_trip(&empty);
    ev.age_years = SN_AGE_NONE;
    ev.onset_date = SN_DAY_NONE;
    ev.sex = SN_SEX_UNKNOWN;
    ev.lab_confirmed = SN_LAB_UNKNOWN;
    ev.revision = 0;
    ev.age_years = 0;
    ev.onset_date = 0; /* 1970-01-01 is a date, not "absent" */
    s_round_trip(&ev);
    for (int s = 1; s < SN_SOURCE_COUNT; s++) {
        ev.source = (sn_source_t)s;
        s_round_trip(&ev);
    }
}
END_TEST

START_TEST(test_event_encode_buffer_sizes)
{
    sn_event_t ev = s_good();
    size_t need = sn_event_encoded_size(&ev);
    uint8_t buf[256];
    ck_assert_int_eq(sn_event_encode(&ev, buf, need), (int)need);
    ck_assert_int_eq(sn_event_encode(&ev, buf, need - 1), SN_EOVERFLOW);
    ck_assert_int_eq(sn_event_encode(&ev, buf, 0), SN_EOVERFLOW);
}
END_TEST

START_TEST(test_event_tolerance_of_a_day)
{
    sn_event_t ev = s_good();
    ev.report_time = T_NOW + 86400000; /* exactly a day ahead: allowed */
    ev.onset_date = sn_time_day(T_NOW) + 1;
    ck_assert_int_eq(sn_event_validate(&ev, T_NOW, NULL), SN_OK);
    ev = s_good();
    ev.onset_date = sn_time_day(ev.report_time) + 1; /* time zones */
    ck_assert_int_eq(sn_event_validate(&ev, T_NOW, NULL), SN_OK);
    strcpy(ev.region, "820001"); /* Macao */
    ck_assert_int_eq(sn_event_validate(&ev, T_NOW, NULL), SN_OK);
}
END_TEST

/* Validate `ev` and check the exact message. */
#define ASSERT_INVALID(ev, text)                                               \
    do {                                                                       \
        sn_err_t e_ = {0};                                                     \
        ck_assert_int_eq(sn_event_validate(&(ev), T_NOW, &e_), SN_EVALIDATE);  \
        ck_assert_int_eq(e_.code, SN_EVALIDATE);                               \
        ck_assert_str_eq(e_.msg, (text));                                      \
    } while (0)

START_TEST(test_event_validate_identifiers)
{
    sn_event_t ev = s_good();
    ev.event_id[0] = '\0';
    ASSERT_INVALID(ev, "field 'event_id': missing");
    ev = s_good();
    memset(ev.event_id, 'x', sizeof ev.event_id);
    ASSERT_INVALID(ev, "field 'event_id': longer than 64 bytes");
    strcpy(ev.event_id, "EV 1");
    ASSERT_INVALID(ev, "field 'event_id': character 0x20 at offset 2 is not "
                       "allowed (letters, digits and '-_.:/')");
    ev = s_good();
    ev.site_id[0] = '\0';
    ASSERT_INVALID(ev, "field 'site_id': missing");
    strcpy(ev.site_id, "bj/h001");
    ASSERT_INVALID(ev, "field 'site_id': character 0x2f at offset 2 is not "
                       "allowed (letters, digits and '-_.')");
    ev = s_good();
    ev.condition[0] = '\0';
    ASSERT_INVALID(ev, "field 'condition': missing");
    memset(ev.condition, 'A', sizeof ev.condition);
    ASSERT_INVALID(ev, "field 'condition': longer than 32 bytes");
    strcpy(ev.condition, "A00\xc3\xa9");
    ASSERT_INVALID(ev, "field 'condition': character 0xc3 at offset 3 is not "
                       "allowed (letters, digits and '-_.')");
}
END_TEST

START_TEST(test_event_validate_refuses_personal_ids)
{
    /* A resident ID number (valid check character) anywhere in an id, or a
     * mobile number as a whole id, is a personal identifier. */
    static const char *const refused[][2] = {
        {"11010519491231002X", "it holds a resident ID number"},
        {"visit-11010519491231002x", "it holds a resident ID number"},
        {"110105199001011232/3", "it holds a resident ID number"},
        {"13812345678", "it is a mobile phone number"},
        {"8613812345678", "it is a mobile phone number"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sn_event_t ev = s_good();
        snprintf(ev.event_id, sizeof ev.event_id, "%s", refused[i][0]);
        sn_err_t err;
        ck_assert_int_eq(sn_event_validate(&ev, T_NOW, &err), SN_EVALIDATE);
        ck_assert_ptr_nonnull(strstr(err.msg, SN_EVENT_PERSONAL_REASON));
        ck_assert_ptr_nonnull(strstr(err.msg, refused[i][1]));
    }
    sn_event_t ev = s_good();
    strcpy(ev.site_id, "13812345678");
    sn_err_t err;
    ck_assert_int_eq(sn_event_validate(&ev, T_NOW, &err), SN_EVALIDATE);
    ck_assert_str_eq(err.msg, "field 'site_id': " SN_EVENT_PERSONAL_REASON
                              " (it is a mobile phone number)");
    /* Not refused: a wrong check character, a longer or shorter run, a
     * visit number, a hashed id. */
    static const char *const kept[] = {"110105199001011234",
                                       "1101051990010112321",
                                       "11010519900101123",
                                       "V20261121-000123",
                                       "138123456789",
                                       "23812345678",
                                       "9f1c2e4a7b3d5e6f8a9b0c1d2e3f4a5b"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        ev = s_good();
        snprintf(ev.event_id, sizeof ev.event_id, "%s", kept[i]);
        ck_assert_msg(sn_event_validate(&ev, T_NOW, &err) == SN_OK, "%s: %s",
                      kept[i], err.msg);
    }
}
END_TEST

START_TEST(test_event_validate_source_and_region)
{
    sn_event_t ev = s_good();
    ev.source = SN_SOURCE_UNKNOWN;
    ASSERT_INVALID(ev, "field 'source': missing");
    ev.source = (sn_source_t)42;
    ASSERT_INVALID(ev, "field 'source': unknown value 42");
    ev = s_good();
    ev.region[0] = '\0';
    ASSERT_INVALID(ev, "field 'region': missing");
    strcpy(ev.region, "11010");
    ASSERT_INVALID(ev, "field 'region': '11010' is not 6 digits (GB/T 2260)");
    strcpy(ev.region, "1101050");
    ASSERT_INVALID(ev, "field 'region': '1101050' is not 6 digits (GB/T 2260)");
    strcpy(ev.region, "11O105");
    ASSERT_INVALID(ev, "field 'region': '11O105' is not 6 digits (GB/T 2260)");
    strcpy(ev.region, "991234");
    ASSERT_INVALID(ev,
                   "field 'region': '991234' has no province 99 (GB/T 2260)");
    strcpy(ev.region, "101234");
    ASSERT_INVALID(ev,
                   "field 'region': '101234' has no province 10 (GB/T 2260)");
}
END_TEST

START_TEST(test_event_validate_dates)
{
    sn_event_t ev = s_good();
    ev.report_time = 0;
    ASSERT_INVALID(ev, "field 'report_time': missing");
    ev.report_time = -1000;
    ASSERT_INVALID(ev, "field 'report_time': 1969-12-31T23:59:59.000Z is "
                       "before 1970");
    ev.report_time = T_NOW + 86400001;
    ASSERT_INVALID(ev, "field 'report_time': 2026-11-26T12:00:00.001Z is in "
                       "the future");
    ev = s_good();
    ev.onset_date = sn_day_from_ymd(1899, 12, 31);
    ASSERT_INVALID(ev, "field 'onset_date': 1899-12-31 is before 1900");
    ev.onset_date = sn_day_from_ymd(2031, 1, 2);
    ASSERT_INVALID(ev, "field 'onset_date': 2031-01-02 is in the future");
    ev.report_time = sn_day_from_ymd(2026, 11, 1) * 86400000LL;
    ev.onset_date = sn_day_from_ymd(2026, 11, 3);
    ASSERT_INVALID(ev, "field 'onset_date': 2026-11-03 is after report_time "
                       "2026-11-01T00:00:00.000Z");
}
END_TEST

START_TEST(test_event_validate_numbers)
{
    sn_event_t ev = s_good();
    ev.count = 0;
    ASSERT_INVALID(ev, "field 'count': must be at least 1");
    ev.count = SN_EVENT_MAX_COUNT + 1;
    ASSERT_INVALID(ev, "field 'count': 100001 is more than 100000");
    ev = s_good();
    ev.age_years = 151;
    ASSERT_INVALID(ev, "field 'age_years': 151 is outside 0..150");
    ev.age_years = -2;
    ASSERT_INVALID(ev, "field 'age_years': -2 is outside 0..150");
    ev = s_good();
    ev.sex = (sn_sex_t)9;
    ASSERT_INVALID(ev, "field 'sex': unknown value 9");
    ev = s_good();
    ev.lab_confirmed = (sn_lab_t)3;
    ASSERT_INVALID(ev, "field 'lab_confirmed': unknown value 3");
}
END_TEST

/* Decode `bytes` and check that it is refused with the exact message and
 * that the output event was not touched. */
static void
s_assert_refused(const uint8_t *bytes, size_t len, const char *text)
{
    sn_event_t ev;
    memset(&ev, 0x33, sizeof ev);
    sn_err_t err = {0};
    ck_assert_int_eq(sn_event_decode(bytes, len, &ev, &err), SN_EPARSE);
    ck_assert_str_eq(err.msg, text);
    ck_assert_uint_eq((unsigned char)ev.event_id[0], 0x33);
}

START_TEST(test_event_decode_hostile_fields)
{
    uint8_t b[128];
    b[0] = 0x0a; /* field 1 (event_id), length-delimited */
    b[1] = 65;
    memset(b + 2, 'a', 65);
    s_assert_refused(b, 67, "field 'event_id': longer than 64 bytes");
    b[0] = 0x2a; /* field 5 (region) */
    b[1] = 13;
    s_assert_refused(b, 15, "field 'region': longer than 12 bytes");
    const uint8_t source[] = {0x20, 42};
    s_assert_refused(source, sizeof source, "field 'source': unknown value 42");
    const uint8_t sex[] = {0x60, 4};
    s_assert_refused(sex, sizeof sex, "field 'sex': unknown value 4");
    const uint8_t lab[] = {0x68, 0x7f};
    s_assert_refused(lab, sizeof lab,
                     "field 'lab_confirmed': unknown value 127");
    const uint8_t wire[] = {0x0d, 1, 2, 3, 4}; /* event_id as fixed32 */
    s_assert_refused(wire, sizeof wire,
                     "not a sentinel.v1.CaseEvent (5 bytes of malformed "
                     "protobuf)");
}
END_TEST

START_TEST(test_event_decode_truncated)
{
    sn_event_t ev = s_good();
    uint8_t buf[256];
    int n = sn_event_encode(&ev, buf, sizeof buf);
    ck_assert_int_gt(n, 10);
    int refused = 0;
    for (int len = 0; len < n; len++) {
        sn_event_t out;
        int rc = sn_event_decode(buf, (size_t)len, &out, NULL);
        /* A prefix that ends between fields is a valid, shorter message. */
        ck_assert(rc == SN_OK || rc == SN_EPARSE);
        refused += rc == SN_EPARSE;
    }
    ck_assert_int_gt(refused, n / 2);
}
END_TEST

START_TEST(test_event_decode_garbage)
{
    /* A fixed xorshift stream, so a failure reproduces. */
    uint32_t x = 2463534242u;
    uint8_t buf[300];
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(round % (int)sizeof buf);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf[i] = (uint8_t)x;
        }
        sn_event_t out;
        sn_err_t err = {0};
        int rc = sn_event_decode(buf, len, &out, &err);
        ck_assert(rc == SN_OK || rc == SN_EPARSE);
        ck_assert(rc == SN_OK || err.msg[0] != '\0');
    }
}
END_TEST

/* -------------------------------------------- protobuf-c, the reference */

static uint32_t
s_next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* A random string of up to `max` bytes (sometimes empty or full). */
static void
s_rand_str(char *dst, size_t size, uint32_t *x)
{
    size_t n = s_next(x) % size;
    for (size_t i = 0; i < n; i++) {
        dst[i] = (char)('0' + s_next(x) % 75);
    }
    dst[n] = '\0';
}

static int64_t
s_rand_scalar(uint32_t *x)
{
    static const int64_t edges[] = {
        0, 1, -1, 127, 128, 16383, 16384, INT32_MAX, INT32_MIN, UINT32_MAX};
    uint32_t r = s_next(x);
    return r % 3 == 0 ? edges[r / 3 % 10] : (int64_t)(int32_t)s_next(x);
}

static sn_event_t
s_rand_event(uint32_t *x)
{
    sn_event_t ev;
    sn_event_init(&ev);
    s_rand_str(ev.event_id, sizeof ev.event_id, x);
    s_rand_str(ev.site_id, sizeof ev.site_id, x);
    s_rand_str(ev.region, sizeof ev.region, x);
    s_rand_str(ev.condition, sizeof ev.condition, x);
    ev.revision = (uint32_t)s_rand_scalar(x);
    ev.source = (sn_source_t)(s_next(x) % SN_SOURCE_COUNT);
    ev.onset_date = s_next(x) % 4 ? (sn_day_t)s_rand_scalar(x) : SN_DAY_NONE;
    ev.report_time = s_rand_scalar(x) * (int64_t)(s_next(x) % 100000);
    ev.count = (uint32_t)s_rand_scalar(x);
    ev.age_years = (int32_t)s_rand_scalar(x);
    ev.sex = (sn_sex_t)(s_next(x) % 4);
    ev.lab_confirmed = (sn_lab_t)(s_next(x) % 3);
    return ev;
}

/* The encoding protobuf-c's generated code writes for `ev`. */
static size_t
s_ref_pack(const sn_event_t *ev, uint8_t *buf)
{
    Sentinel__V1__CaseEvent m = SENTINEL__V1__CASE_EVENT__INIT;
    m.event_id = (char *)ev->event_id;
    m.revision = ev->revision;
    m.site_id = (char *)ev->site_id;
    m.source = (Sentinel__V1__Source)ev->source;
    m.region = (char *)ev->region;
    m.condition = (char *)ev->condition;
    m.has_onset_date = ev->onset_date != SN_DAY_NONE;
    m.onset_date = m.has_onset_date ? ev->onset_date : 0;
    m.report_time_ms = ev->report_time;
    m.count = ev->count;
    m.age_years = ev->age_years;
    m.sex = (Sentinel__V1__Sex)ev->sex;
    m.lab_confirmed = (Sentinel__V1__LabResult)ev->lab_confirmed;
    return sentinel__v1__case_event__pack(&m, buf);
}

/* The hand-written encoder writes protobuf-c's bytes exactly. */
START_TEST(test_event_encode_matches_protobuf_c)
{
    uint32_t x = 88172645u;
    for (int i = 0; i < 20000; i++) {
        sn_event_t ev = s_rand_event(&x);
        uint8_t ours[512], ref[512];
        int n = sn_event_encode(&ev, ours, sizeof ours);
        size_t r = s_ref_pack(&ev, ref);
        ck_assert_int_eq(n, (int)r);
        ck_assert_uint_eq(sn_event_encoded_size(&ev), r);
        ck_assert_msg(memcmp(ours, ref, r) == 0, "event %d encodes apart", i);
    }
}
END_TEST

/* Encodings with a few bytes changed, cut or added: the decoder (fast path
 * and fallback) and protobuf-c with the model's rules give the same answer
 * and, when both accept, the same event. */
START_TEST(test_event_decode_agrees_with_protobuf_c)
{
    uint32_t x = 521288629u;
    int accepted = 0;
    for (int i = 0; i < 20000; i++) {
        sn_event_t ev = s_rand_event(&x);
        uint8_t buf[600];
        size_t n = (size_t)sn_event_encode(&ev, buf, 512);
        for (int m = (int)(s_next(&x) % 4); m > 0 && n > 0; m--) {
            size_t at = s_next(&x) % n;
            uint32_t what = s_next(&x) % 3;
            if (what == 0) {
                buf[at] = (uint8_t)s_next(&x);
            } else if (what == 1) {
                n = at;
            } else {
                memmove(buf + at + 1, buf + at, n - at);
                buf[at] = (uint8_t)s_next(&x);
                n++;
            }
        }
        sn_event_t got, want;
        memset(&want, 0, sizeof want);
        int rc = sn_event_decode(buf, n, &got, NULL);
        int ref = ts_ref_event_unpack(buf, n, &want);
        ck_assert_msg(rc == ref, "round %d: %d, reference %d", i, rc, ref);
        if (rc == SN_OK) {
            s_assert_same(&got, &want);
            accepted++;
        }
    }
    ck_assert_int_gt(accepted, 2000);
    ck_assert_int_lt(accepted, 19000);
}
END_TEST

static Suite *
event_suite(void)
{
    Suite *s = suite_create("event");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_event_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_test(edges, test_event_init_defaults);
    tcase_add_test(edges, test_event_source_names);
    tcase_add_test(edges, test_event_round_trip_extremes);
    tcase_add_test(edges, test_event_encode_buffer_sizes);
    tcase_add_test(edges, test_event_tolerance_of_a_day);
    tcase_add_test(edges, test_event_encode_matches_protobuf_c);
    tcase_add_test(edges, test_event_decode_agrees_with_protobuf_c);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_event_validate_identifiers);
    tcase_add_test(errors, test_event_validate_refuses_personal_ids);
    tcase_add_test(errors, test_event_validate_source_and_region);
    tcase_add_test(errors, test_event_validate_dates);
    tcase_add_test(errors, test_event_validate_numbers);
    tcase_add_test(errors, test_event_decode_hostile_fields);
    tcase_add_test(errors, test_event_decode_truncated);
    tcase_add_test(errors, test_event_decode_garbage);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(event_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
