/*  tests/common/test_event_json.c - the JSON mapping of the case event
 *
 *  Both directions, the round trip of every field, nulls for absent
 *  optional fields, and the refusals: not JSON, wrong types, unknown keys
 *  and personal identifiers, each with its exact message.
 */
#include "event_jfast.h"
#include "sentinel/event.h"

#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
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

/* ------------------------------------------------------ differential */

/* The reference: the same rules read off a jansson tree, the way the
 * parser worked before it had its own scanner. It answers with the code
 * only; the keys it knows as personal are those the mutator uses. */
static const char *const s_diff_personal[] = {"name", "phone", "Patient-Name",
                                              NULL};

static bool
s_ref_personal(const char *key)
{
    for (size_t i = 0; s_diff_personal[i] != NULL; i++) {
        if (strcmp(key, s_diff_personal[i]) == 0) {
            return true;
        }
    }
    return false;
}

static int
s_ref_int(json_t *v, json_int_t hi, bool nullable, int64_t *out)
{
    if (nullable && json_is_null(v)) {
        *out = SN_AGE_NONE;
        return SN_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > hi) {
        return SN_EPARSE;
    }
    *out = json_integer_value(v);
    return SN_OK;
}

static int
s_ref_str(json_t *v, char *dst, size_t size)
{
    if (!json_is_string(v) || json_string_length(v) >= size) {
        return SN_EPARSE;
    }
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return SN_OK;
}

static int
s_ref_enum(const char *k, json_t *v, sn_event_t *ev)
{
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    static const char *const sexes[] = {"unknown", "male", "female", "other"};
    if (strcmp(k, "source") == 0) {
        ev->source = SN_SOURCE_UNKNOWN;
        return json_is_null(v) ||
                       (s != NULL && sn_source_parse(s, &ev->source) == SN_OK)
                   ? SN_OK
                   : SN_EPARSE;
    }
    if (strcmp(k, "sex") == 0) {
        for (int i = 0; s != NULL && i < 4; i++) {
            if (strcmp(s, sexes[i]) == 0) {
                ev->sex = (sn_sex_t)i;
                return SN_OK;
            }
        }
        ev->sex = SN_SEX_UNKNOWN;
        return json_is_null(v) ? SN_OK : SN_EPARSE;
    }
    if (strcmp(k, "onset_date") == 0) {
        ev->onset_date = SN_DAY_NONE;
        return json_is_null(v) ||
                       (s != NULL && sn_day_parse(s, &ev->onset_date) == 0)
                   ? SN_OK
                   : SN_EPARSE;
    }
    if (strcmp(k, "report_time") == 0) {
        return s != NULL && sn_time_parse(s, &ev->report_time) == SN_OK
                   ? SN_OK
                   : SN_EPARSE;
    }
    if (json_is_boolean(v) || json_is_null(v)) {
        ev->lab_confirmed = json_is_null(v)   ? SN_LAB_UNKNOWN
                            : json_is_true(v) ? SN_LAB_CONFIRMED
                                              : SN_LAB_NEGATIVE;
        return SN_OK;
    }
    return SN_EPARSE;
}

static int
s_ref_field(const char *k, json_t *v, sn_event_t *ev)
{
    int64_t n = 0;
    int rc = SN_OK;
    if (strcmp(k, "event_id") == 0) {
        return s_ref_str(v, ev->event_id, sizeof ev->event_id);
    } else if (strcmp(k, "site_id") == 0) {
        return s_ref_str(v, ev->site_id, sizeof ev->site_id);
    } else if (strcmp(k, "region") == 0) {
        return s_ref_str(v, ev->region, sizeof ev->region);
    } else if (strcmp(k, "condition") == 0) {
        return s_ref_str(v, ev->condition, sizeof ev->condition);
    } else if (strcmp(k, "revision") == 0) {
        rc = s_ref_int(v, UINT32_MAX, false, &n);
        ev->revision = (uint32_t)n;
    } else if (strcmp(k, "count") == 0) {
        rc = s_ref_int(v, UINT32_MAX, false, &n);
        ev->count = (uint32_t)n;
    } else if (strcmp(k, "age_years") == 0) {
        rc = s_ref_int(v, INT32_MAX, true, &n);
        ev->age_years = (int32_t)n;
    } else if (strcmp(k, "source") == 0 || strcmp(k, "sex") == 0 ||
               strcmp(k, "onset_date") == 0 || strcmp(k, "report_time") == 0 ||
               strcmp(k, "lab_confirmed") == 0) {
        return s_ref_enum(k, v, ev);
    } else {
        return SN_EVALIDATE;
    }
    return rc;
}

static int
s_ref_parse(const char *text, size_t len, sn_event_t *ev)
{
    json_t *root =
        json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    int rc = root == NULL || !json_is_object(root) ? SN_EPARSE : SN_OK;
    const char *k;
    json_t *v;
    sn_event_init(ev);
    if (rc == SN_OK) {
        json_object_foreach(root, k, v)
        {
            rc = rc == SN_OK && s_ref_personal(k) ? SN_EVALIDATE : rc;
        }
    }
    if (rc == SN_OK) {
        json_object_foreach(root, k, v)
        {
            rc = rc == SN_OK ? s_ref_field(k, v, ev) : rc;
        }
    }
    json_decref(root);
    return rc;
}

/* Values, keys and bytes the mutator splices in: each one a boundary of
 * the scanner (escapes, surrogates, UTF-8, numbers, nesting, lengths). */
static const char *const s_values[] = {"null",
                                       "true",
                                       "false",
                                       "0",
                                       "-0",
                                       "01",
                                       "1.5",
                                       "-1",
                                       "1e400",
                                       "1e-400",
                                       "4294967295",
                                       "4294967296",
                                       "2147483648",
                                       "9223372036854775807",
                                       "9223372036854775808",
                                       "-9223372036854775809",
                                       "1.",
                                       ".5",
                                       "-",
                                       "tru",
                                       "nulls",
                                       "\"\"",
                                       "\"lab\"",
                                       "\"lab\\u0000x\"",
                                       "\"f\\u0065male\"",
                                       "\"\\u00e9\"",
                                       "\"\\ud83d\\ude00\"",
                                       "\"\\ud800\"",
                                       "\"\\udc00x\"",
                                       "\"\\ud800\\u0041\"",
                                       "\"\\u12\"",
                                       "\"\\x\"",
                                       "\"a\tb\"",
                                       "\"\xc3\xa9\"",
                                       "\"\xc3\"",
                                       "\"\xe0\x80\xaf\"",
                                       "\"\xed\xa0\x80\"",
                                       "\"\xf4\x90\x80\x80\"",
                                       "\"\xff\"",
                                       "\"2026-02-28\"",
                                       "\"2026-02-30\"",
                                       "\"2026-11-25T01:02:03Z\"",
                                       "\"2026-11-25T01:02:03.123456+08:00\"",
                                       "[]",
                                       "{}",
                                       "[1,[2,{}]]",
                                       "{\"a\":1,\"a\":2}",
                                       "{\"a\":1,\"\\u0061\":2}",
                                       "[1,]",
                                       "{\"a\"}",
                                       "\"0123456789012\"",
                                       "\"012345678901\"",
                                       "1E5",
                                       "-1e+2",
                                       "2e-0"};
static const char *const s_keys[] = {
    "\"count\"",    "\"\\u0063ount\"",   "\"name\"",
    "\"phone\"",    "\"Patient-Name\"",  "\"colour\"",
    "\"evnet_id\"", "\"a\\u0000b\"",     "\"sex\"",
    "\"source\"",   "\"lab_confirmed\"", "\"age_years\""};
static const char s_bytes[] = "{}[]:,\"\\ \t\n0123456789eE.+-tfnul\x01\x7f"
                              "\xc3\xa9\xff";

static uint64_t
s_rand(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Replace the n bytes at `at` of line (length *len) with `with`. */
static void
s_splice(char *line, size_t *len, size_t at, size_t n, const char *with,
         size_t cap)
{
    size_t w = strlen(with);
    if (*len - n + w >= cap) {
        return;
    }
    memmove(line + at + w, line + at + n, *len - at - n);
    memcpy(line + at, with, w);
    *len = *len - n + w;
}

/* Apply one random mutation to line. */
static void
s_mutate(char *line, size_t *len, size_t cap, uint64_t *rng)
{
    size_t at = *len > 0 ? s_rand(rng) % *len : 0;
    char one[2] = {s_bytes[s_rand(rng) % (sizeof s_bytes - 1)], '\0'};
    const char *colon = strchr(line + at, ':');
    const char *quote = strchr(line + at, '"');
    switch (s_rand(rng) % 6) {
    case 0: /* a value swapped after some ':' */
        if (colon != NULL) {
            size_t v = (size_t)(colon - line) + 1;
            size_t e = v + strcspn(line + v, ",}");
            s_splice(
                line, len, v, e - v,
                s_values[s_rand(rng) % (sizeof s_values / sizeof s_values[0])],
                cap);
        }
        break;
    case 1: /* a key swapped */
        if (quote != NULL && line[at] == ',') {
            size_t k = (size_t)(quote - line);
            size_t e = k + 1 + strcspn(line + k + 1, "\"") + 1;
            s_splice(line, len, k, e - k,
                     s_keys[s_rand(rng) % (sizeof s_keys / sizeof s_keys[0])],
                     cap);
        }
        break;
    case 2: /* a member added at the front */
        if (*len > 1) {
            char m[96];
            snprintf(
                m, sizeof m, "%s:%s,",
                s_keys[s_rand(rng) % (sizeof s_keys / sizeof s_keys[0])],
                s_values[s_rand(rng) % (sizeof s_values / sizeof s_values[0])]);
            s_splice(line, len, 1, 0, m, cap);
        }
        break;
    case 3: /* a byte deleted */
        s_splice(line, len, at, *len > 0 ? 1 : 0, "", cap);
        break;
    case 4: /* a byte inserted */
        s_splice(line, len, at, 0, one, cap);
        break;
    default: /* a byte replaced */
        s_splice(line, len, at, *len > 0 ? 1 : 0, one, cap);
        break;
    }
    line[*len] = '\0';
}

static void
s_assert_same_event(const sn_event_t *a, const sn_event_t *b, const char *l)
{
    ck_assert_msg(memcmp(a->event_id, b->event_id, sizeof a->event_id) == 0 &&
                      memcmp(a->site_id, b->site_id, sizeof a->site_id) == 0 &&
                      memcmp(a->region, b->region, sizeof a->region) == 0 &&
                      memcmp(a->condition, b->condition, sizeof a->condition) ==
                          0,
                  "strings differ: %s", l);
    ck_assert_msg(a->revision == b->revision && a->source == b->source &&
                      a->onset_date == b->onset_date &&
                      a->report_time == b->report_time &&
                      a->count == b->count && a->age_years == b->age_years &&
                      a->sex == b->sex && a->lab_confirmed == b->lab_confirmed,
                  "fields differ: %s", l);
}

/* 10,000 seeded lines, each a valid event with up to three mutations:
 * the parser and the jansson reference agree on the code, and on every
 * field when both accept. */
START_TEST(test_event_json_agrees_with_jansson)
{
    uint64_t rng = 0x5e471e1ULL;
    int accepted = 0, fast = 0;
    for (int i = 0; i < 10000; i++) {
        sn_event_t ev;
        ck_assert_int_eq(s_parse(s_example, &ev, NULL), SN_OK);
        ev.source = (sn_source_t)(s_rand(&rng) % SN_SOURCE_COUNT);
        ev.sex = (sn_sex_t)(s_rand(&rng) % 4);
        ev.age_years = (int32_t)(s_rand(&rng) % 3) - 1;
        char *text = sn_event_to_json(&ev);
        char line[1024];
        size_t len = strlen(text);
        memcpy(line, text, len + 1);
        free(text);
        for (int m = (int)(s_rand(&rng) % 4); m > 0; m--) {
            s_mutate(line, &len, sizeof line, &rng);
        }
        sn_event_t got, want;
        sn_event_init(&got);
        int rc = sn_event_from_json(line, len, &got, NULL);
        int ref = s_ref_parse(line, len, &want);
        ck_assert_msg(rc == ref, "line %d: %d, reference %d: %s", i, rc, ref,
                      line);
        sn_event_t quick;
        if (sn_event_json_fast(line, len, &quick) == SN_OK) {
            ck_assert_msg(ref == SN_OK, "fast path took a refused line: %s",
                          line);
            s_assert_same_event(&quick, &want, line);
            fast++;
        }
        if (rc == SN_OK) {
            s_assert_same_event(&got, &want, line);
            accepted++;
        }
    }
    /* The mix must exercise both sides. */
    ck_assert_int_gt(accepted, 1000);
    ck_assert_int_lt(accepted, 9000);
    /* The fast path takes the plain lines, not only the empty object. */
    ck_assert_int_gt(fast, 1000);
}
END_TEST

/* The fast path's report times: whenever it reads one, sn_time_parse()
 * reads the same string to the same time, over valid and broken dates,
 * clocks and fractions, and it takes most of the well-formed ones. */
START_TEST(test_event_json_fast_time_agrees)
{
    uint64_t rng = 0x7173ULL;
    int taken = 0;
    for (int i = 0; i < 20000; i++) {
        char t[40];
        int y = 1890 + (int)(s_rand(&rng) % 220), mo = (int)(s_rand(&rng) % 14);
        int d = (int)(s_rand(&rng) % 33), hh = (int)(s_rand(&rng) % 26);
        int mi = (int)(s_rand(&rng) % 62), ss = (int)(s_rand(&rng) % 62);
        int ms = (int)(s_rand(&rng) % 1000);
        int n =
            s_rand(&rng) % 2
                ? snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo,
                           d, hh, mi, ss)
                : snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                           y, mo, d, hh, mi, ss, ms);
        if (s_rand(&rng) % 4 == 0) {
            t[s_rand(&rng) % (uint64_t)n] =
                "0123456789-:.TZz +"[s_rand(&rng) % 18];
        }
        sn_time_t fast = 0, slow = 0;
        if (sn_event_json_time(t, (size_t)n, &fast)) {
            ck_assert_msg(sn_time_parse(t, &slow) == SN_OK, "took %s", t);
            ck_assert_msg(fast == slow, "%s: %lld, not %lld", t,
                          (long long)fast, (long long)slow);
            taken++;
        }
    }
    ck_assert_int_gt(taken, 3000);
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
    tcase_add_test(edges, test_event_json_agrees_with_jansson);
    tcase_add_test(edges, test_event_json_fast_time_agrees);
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
