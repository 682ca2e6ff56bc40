/*  tests/collectors/test_feed_hl7.c - the HL7 v2 ADT feed
 *
 *  The fixtures under tests/collectors/hl7/ are ADT messages as a hospital
 *  sends them for syndromic surveillance: A01 admit, A03 discharge, A04
 *  registration, A08 update, a batch file, unusual separators, and broken
 *  messages with the ACK code each must get.
 */
#include "feed_hl7.h"
#include "mllp.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const col_site_t s_site = {"H0001", SN_SOURCE_HOSPITAL, "110105"};

/* 2026-11-20T08:30:00+08:00 as seconds since 2000-01-01Z, twice (an A01
 * is not an update). */
#define A01_REVISION                                                           \
    ((uint32_t)(2 * ((sn_day_from_ymd(2026, 11, 20) * 86400LL + 30 * 60) -     \
                     946684800LL)))

static char *
s_fixture(const char *name, size_t *len)
{
    char *rel = sn_strdup_printf("tests/collectors/hl7/%s", name);
    char *path = ts_source_path(rel);
    char *text = ts_read_file(path, len);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    free(rel);
    free(path);
    return text;
}

static col_feed_t *
s_feed(const col_hl7_opts_t *opts)
{
    col_cmap_t *cmap = col_cmap_new(true);
    col_feed_t *feed = col_feed_hl7_new("adt.hl7", &s_site, opts, &cmap, 0);
    ck_assert_ptr_null(cmap);
    return feed;
}

/* Read the one message of fixture `name` with `opts`. */
static int
s_read_one(const char *name, const col_hl7_opts_t *opts, col_record_t *rec)
{
    size_t len;
    char *text = s_fixture(name, &len);
    col_feed_t *feed = s_feed(opts);
    col_feed_push(feed, text, len);
    col_feed_end(feed);
    int r = col_feed_next(feed, rec);
    col_record_t extra;
    ck_assert_int_eq(col_feed_next(feed, &extra), COL_FEED_AGAIN);
    rec->source = NULL; /* the feed is gone */
    rec->raw = NULL;
    col_feed_destroy(&feed);
    free(text);
    return r;
}

START_TEST(test_feed_hl7_usage)
{
    col_record_t rec;
    ck_assert_int_eq(s_read_one("a01.hl7", NULL, &rec), COL_FEED_EVENT);
    sn_event_t *ev = &rec.event;
    ck_assert_str_eq(ev->condition, "cholera");
    ck_assert_int_eq(ev->age_years, 46);
    ck_assert_int_eq(ev->sex, SN_SEX_MALE);
    ck_assert_int_eq(ev->onset_date, sn_day_from_ymd(2026, 11, 20));
    ck_assert_int_eq(ev->report_time,
                     (sn_day_from_ymd(2026, 11, 20) * 86400LL + 1800) * 1000);
    ck_assert_uint_eq(ev->revision, A01_REVISION);
    ck_assert_str_eq(ev->site_id, "H0001");
    ck_assert_str_eq(ev->region, "110105");
    ck_assert_int_eq(ev->source, SN_SOURCE_HOSPITAL);
    ck_assert_uint_eq(strlen(ev->event_id), 32);
    ck_assert_uint_eq(rec.position, 1);
    sn_err_t err;
    ck_assert_int_eq(
        sn_event_validate(ev, sn_day_from_ymd(2026, 11, 25) * 86400000LL, &err),
        SN_OK);
    /* Name, record number, address and phone stay out of the event. */
    char *json = sn_event_to_json(ev);
    ck_assert_ptr_null(strstr(json, "Zhang"));
    ck_assert_ptr_null(strstr(json, "MRN123456"));
    ck_assert_ptr_null(strstr(json, "Changan"));
    ck_assert_ptr_null(strstr(json, "55551234"));
    ck_assert_ptr_null(strstr(json, "V0001"));
    free(json);
}
END_TEST

START_TEST(test_feed_hl7_update_raises_revision)
{
    col_record_t a04, a08, a01, a03;
    ck_assert_int_eq(s_read_one("a04.hl7", NULL, &a04), COL_FEED_EVENT);
    ck_assert_int_eq(s_read_one("a08.hl7", NULL, &a08), COL_FEED_EVENT);
    ck_assert_str_eq(a04.event.condition, "ili"); /* from OBX 8661-1 */
    ck_assert_int_eq(a04.event.onset_date, sn_day_from_ymd(2026, 11, 19));
    ck_assert_int_eq(a04.event.age_years, 7);
    ck_assert_int_eq(a04.event.sex, SN_SEX_FEMALE);
    /* The update: same visit, same id, later revision, new condition. */
    ck_assert_str_eq(a08.event.event_id, a04.event.event_id);
    ck_assert_uint_eq(a08.event.revision,
                      a04.event.revision + 2 * 6 * 3600 + 1);
    ck_assert_str_eq(a08.event.condition, "measles"); /* DG1 beats text */
    ck_assert_int_eq(s_read_one("a01.hl7", NULL, &a01), COL_FEED_EVENT);
    ck_assert_int_eq(s_read_one("a03.hl7", NULL, &a03), COL_FEED_EVENT);
    ck_assert_str_eq(a03.event.event_id, a01.event.event_id);
    ck_assert_uint_gt(a03.event.revision, a01.event.revision);
    ck_assert_str_ne(a01.event.event_id, a04.event.event_id);
}
END_TEST

START_TEST(test_feed_hl7_update_in_the_same_second)
{
    /* An interface engine that sends the A08 in the second of the A04:
     * the update still carries the higher revision and replaces it. */
    size_t len;
    char *a04 = s_fixture("a04.hl7", &len);
    char *a08 = s_fixture("a08.hl7", &len);
    char *at;
    while ((at = strstr(a08, "20261121153000")) != NULL) {
        memcpy(at, "20261121093000", 14); /* MSH-7 and EVN-2 of the A04 */
    }
    col_feed_t *feed = s_feed(NULL);
    col_feed_push(feed, a04, strlen(a04));
    col_feed_push(feed, a08, strlen(a08));
    col_feed_end(feed);
    col_record_t first, second;
    ck_assert_int_eq(col_feed_next(feed, &first), COL_FEED_EVENT);
    sn_event_t reg = first.event;
    ck_assert_int_eq(col_feed_next(feed, &second), COL_FEED_EVENT);
    ck_assert_str_eq(second.event.event_id, reg.event_id);
    ck_assert_int_eq(second.event.report_time, reg.report_time);
    ck_assert_uint_eq(second.event.revision, reg.revision + 1);
    col_feed_destroy(&feed);
    free(a04);
    free(a08);
}
END_TEST

START_TEST(test_feed_hl7_batch_file_bytewise)
{
    size_t len;
    char *text = s_fixture("batch.hl7", &len);
    col_feed_t *feed = s_feed(NULL);
    col_record_t rec;
    char ids[2][SN_EVENT_ID_MAX + 1];
    uint64_t pos[2];
    int n = 0;
    for (size_t i = 0; i < len; i++) {
        col_feed_push(feed, text + i, 1);
        while (col_feed_next(feed, &rec) == COL_FEED_EVENT) {
            pos[n] = rec.position;
            strcpy(ids[n++], rec.event.event_id);
        }
    }
    col_feed_end(feed);
    while (col_feed_next(feed, &rec) == COL_FEED_EVENT) {
        pos[n] = rec.position;
        strcpy(ids[n++], rec.event.event_id);
    }
    ck_assert_int_eq(n, 2);
    ck_assert_uint_eq(pos[0], 1);
    ck_assert_uint_eq(pos[1], 2);
    ck_assert_str_eq(ids[0], ids[1]);
    ck_assert_uint_eq(col_feed_rejected(feed), 0);
    col_feed_destroy(&feed);
    free(text);
}
END_TEST

START_TEST(test_feed_hl7_other_separators)
{
    col_hl7_opts_t o = {.event_id = COL_HL7_ID_PLAIN, .tz_offset_minutes = 480};
    col_record_t rec;
    ck_assert_int_eq(s_read_one("separators.hl7", &o, &rec), COL_FEED_EVENT);
    /* MSH-4 universal id; PV1-19 "V77\F\1" unescaped with '$' as escape. */
    ck_assert_str_eq(rec.event.event_id, "1.2.156.112604.1.7/V77#1");
    ck_assert_str_eq(rec.event.condition, "diarrhoea");
    ck_assert_int_eq(rec.event.age_years, 1); /* OBX 21612-7: 18 mo */
    ck_assert_int_eq(rec.event.sex, SN_SEX_UNKNOWN);
    /* No zone in MSH-7: the configured +08:00 applies. */
    ck_assert_int_eq(
        rec.event.report_time,
        (sn_day_from_ymd(2026, 11, 22) * 86400LL + 2 * 3600 + 15 * 60) * 1000);
}
END_TEST

START_TEST(test_feed_hl7_unmatched_and_classes)
{
    size_t len;
    char *text = s_fixture("a04.hl7", &len);
    /* Without its complaint the visit maps to nothing. */
    char *cut = strstr(text, "OBX|1|");
    memcpy(cut + 10, "9999", 4); /* 8661-1 becomes an unknown code */
    col_feed_t *feed = s_feed(NULL);
    col_record_t rec;
    ck_assert_int_eq(col_feed_parse(feed, text, len, &rec), COL_FEED_EVENT);
    ck_assert_str_eq(rec.event.condition, "unexplained");
    col_feed_destroy(&feed);
    col_hl7_opts_t o = {.reject_unmatched = true};
    feed = s_feed(&o);
    ck_assert_int_eq(col_feed_parse(feed, text, len, &rec), COL_FEED_REJECT);
    ck_assert_int_eq(rec.err.code, SN_ENOTFOUND);
    ck_assert_int_eq(col_mllp_ack_code(rec.err.code), COL_ACK_AE);
    col_feed_destroy(&feed);
    col_hl7_opts_t c = {.classes = "IO"};
    feed = s_feed(&c);
    ck_assert_int_eq(col_feed_parse(feed, text, len, &rec), COL_FEED_REJECT);
    ck_assert_str_eq(rec.err.msg, "PV1-2: patient class 'E' is not collected "
                                  "(accepted: IO)");
    col_feed_destroy(&feed);
    free(text);
}
END_TEST

/* Bad input never crashes the collector: fixtures with bytes replaced,
 * deleted or duplicated at random (fixed seed) always give an event or a
 * rejection with a reason, and an ACK can be built for each. */
START_TEST(test_feed_hl7_mutations)
{
    const char *names[] = {"a01.hl7", "a08.hl7", "separators.hl7"};
    const char alphabet[] = "|^~\\&#!$*\r\n0123456789AMSHPVOBXDG.\x0b\x1c\xff";
    uint32_t seed = 12345;
    for (size_t f = 0; f < 3; f++) {
        size_t len;
        char *orig = s_fixture(names[f], &len);
        char *text = sn_malloc(len * 2 + 1);
        col_feed_t *feed = s_feed(NULL);
        for (int round = 0; round < 1500; round++) {
            memcpy(text, orig, len);
            size_t n = len;
            for (int k = 0; k < 1 + round % 5; k++) {
                seed = seed * 1103515245u + 12345u;
                size_t at = (seed >> 8) % n;
                char c = alphabet[(seed >> 20) % (sizeof alphabet - 1)];
                if (seed % 3 == 0 && n > 1) {
                    memmove(text + at, text + at + 1, n - at - 1);
                    n--;
                } else {
                    text[at] = c;
                }
            }
            col_record_t rec;
            int r = col_feed_parse(feed, text, n, &rec);
            ck_assert(r == COL_FEED_EVENT || r == COL_FEED_REJECT);
            ck_assert(r == COL_FEED_EVENT || rec.err.msg[0] != '\0');
            size_t alen;
            free(col_mllp_ack(text, n, col_mllp_ack_code(rec.err.code),
                              rec.err.msg, 0, &alen));
        }
        col_feed_destroy(&feed);
        free(text);
        free(orig);
    }
}
END_TEST

/* One broken fixture: its code, ACK code and message. */
static void
s_expect_reject(const char *name, int code, col_ack_t ack, const char *msg)
{
    col_record_t rec;
    ck_assert_msg(s_read_one(name, NULL, &rec) == COL_FEED_REJECT, "%s", name);
    ck_assert_msg(rec.err.code == code, "%s: code %d: %s", name, rec.err.code,
                  rec.err.msg);
    ck_assert_int_eq(col_mllp_ack_code(rec.err.code), ack);
    ck_assert_str_eq(rec.err.msg, msg);
    ck_assert_str_eq(rec.event.event_id, "");
}

START_TEST(test_feed_hl7_malformed)
{
    s_expect_reject("no_msh.hl7", SN_EPROTO, COL_ACK_AR,
                    "no MSH segment at the start");
    s_expect_reject("wrong_separators.hl7", SN_EPROTO, COL_ACK_AR,
                    "segment 2 (EVN): fields separated by '#', not by the "
                    "field separator '|' of MSH-1");
    s_expect_reject("duplicate_encoding.hl7", SN_EPROTO, COL_ACK_AR,
                    "MSH-2: encoding characters '^^\\&' are not four "
                    "different separators");
    s_expect_reject("unsupported_type.hl7", SN_EUNSUPPORTED, COL_ACK_AR,
                    "MSH-9: message type 'ORU^R01' is not supported "
                    "(ADT^A01, A03, A04, A08)");
    s_expect_reject("bad_segment.hl7", SN_EPARSE, COL_ACK_AE,
                    "segment 3: 'pid|1||x' is not a segment");
    s_expect_reject("missing_pv1_19.hl7", SN_EPARSE, COL_ACK_AE,
                    "PV1-19: missing visit number");
}
END_TEST

START_TEST(test_feed_hl7_bad_fields)
{
    size_t len;
    char *text = s_fixture("a04.hl7", &len);
    col_feed_t *feed = s_feed(NULL);
    col_record_t rec;
    char *birth = strstr(text, "20190502");
    memcpy(birth, "20291302", 8);
    ck_assert_int_eq(col_feed_parse(feed, text, len, &rec), COL_FEED_REJECT);
    ck_assert_str_eq(rec.err.msg, "PID-7: '20291302' is not a birth date "
                                  "before the visit");
    memcpy(birth, "20190502", 8);
    char *t = strstr(text, "|20261121093000+0800|");
    memcpy(t + 1, "1999", 4);
    ck_assert_int_eq(col_feed_parse(feed, text, len, &rec), COL_FEED_REJECT);
    ck_assert_str_eq(rec.err.msg, "MSH-7: message time "
                                  "'19991121093000+0800' is before 2000");
    ck_assert_int_eq(col_feed_parse(feed, "\r\n", 2, &rec), COL_FEED_REJECT);
    ck_assert_int_eq(rec.err.code, SN_EPROTO);
    ck_assert_uint_eq(rec.position, 3);
    col_feed_destroy(&feed);
    free(text);
}
END_TEST

static Suite *
feed_hl7_suite(void)
{
    Suite *s = suite_create("feed_hl7");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 10);
    tcase_add_test(usage, test_feed_hl7_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 10);
    tcase_add_test(edges, test_feed_hl7_update_raises_revision);
    tcase_add_test(edges, test_feed_hl7_update_in_the_same_second);
    tcase_add_test(edges, test_feed_hl7_batch_file_bytewise);
    tcase_add_test(edges, test_feed_hl7_other_separators);
    tcase_add_test(edges, test_feed_hl7_unmatched_and_classes);
    tcase_add_test(edges, test_feed_hl7_mutations);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 10);
    tcase_add_test(errors, test_feed_hl7_malformed);
    tcase_add_test(errors, test_feed_hl7_bad_fields);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(feed_hl7_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
