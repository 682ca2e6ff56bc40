/*  tests/collectors/test_feed_json.c - the JSON lines feed
 *
 *  Lines in, events or rejections out: site defaults fill what a line
 *  leaves out, positions are the editor's line numbers, a broken line or a
 *  personal identifier is rejected and the lines around it go on.
 */
#include "feed_json.h"

#include "sentinel/mem.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const col_site_t s_site = {"H0001", SN_SOURCE_HOSPITAL, "110105"};

static const char s_line_a[] =
    "{\"event_id\":\"e1\",\"condition\":\"ili\",\"onset_date\":\"2026-11-20\","
    "\"report_time\":\"2026-11-21T08:00:00+08:00\",\"sex\":\"female\","
    "\"age_years\":34}";
static const char s_line_b[] =
    "{\"event_id\":\"e2\",\"site_id\":\"F0009\",\"source\":\"fever_clinic\","
    "\"region\":\"110108\",\"condition\":\"fever\","
    "\"report_time\":\"2026-11-21T09:00:00Z\",\"count\":3}";

/* Push `text`, end the input and read every record into recs[]. */
static size_t
s_read_all(col_feed_t *feed, const char *text, col_record_t *recs, int *res,
           size_t max)
{
    ck_assert_int_eq(col_feed_push(feed, text, strlen(text)), SN_OK);
    col_feed_end(feed);
    size_t n = 0;
    int r;
    while (n < max && (r = col_feed_next(feed, &recs[n])) > 0) {
        res[n++] = r;
    }
    return n;
}

START_TEST(test_feed_json_usage)
{
    col_feed_t *feed = col_feed_json_new("cases.jsonl", &s_site, 0);
    char *text = sn_strdup_printf("%s\n%s\n", s_line_a, s_line_b);
    col_record_t recs[4];
    int res[4];
    ck_assert_uint_eq(s_read_all(feed, text, recs, res, 4), 2);
    ck_assert_int_eq(res[0], COL_FEED_EVENT);
    ck_assert_str_eq(recs[0].event.event_id, "e1");
    ck_assert_str_eq(recs[0].event.site_id, "H0001");
    ck_assert_str_eq(recs[0].event.region, "110105");
    ck_assert_int_eq(recs[0].event.source, SN_SOURCE_HOSPITAL);
    ck_assert_int_eq(recs[0].event.sex, SN_SEX_FEMALE);
    ck_assert_uint_eq(recs[0].position, 1);
    ck_assert_str_eq(recs[0].source, "cases.jsonl");
    sn_err_t err;
    sn_time_t now = sn_day_from_ymd(2026, 11, 25) * 86400000LL;
    ck_assert_int_eq(sn_event_validate(&recs[0].event, now, &err), SN_OK);
    /* What a line says wins over the site defaults. */
    ck_assert_int_eq(res[1], COL_FEED_EVENT);
    ck_assert_str_eq(recs[1].event.site_id, "F0009");
    ck_assert_str_eq(recs[1].event.region, "110108");
    ck_assert_int_eq(recs[1].event.source, SN_SOURCE_FEVER_CLINIC);
    ck_assert_uint_eq(recs[1].event.count, 3);
    ck_assert_uint_eq(recs[1].position, 2);
    ck_assert_uint_eq(col_feed_records(feed), 2);
    ck_assert_uint_eq(col_feed_rejected(feed), 0);
    free(text);
    col_feed_destroy(&feed);
    ck_assert_ptr_null(feed);
    col_feed_destroy(&feed);
}
END_TEST

START_TEST(test_feed_json_split_pushes)
{
    /* One byte at a time, CRLF line ends, blank lines counted. */
    char *text = sn_strdup_printf("\r\n%s\r\n\n  \n%s", s_line_a, s_line_b);
    col_feed_t *feed = col_feed_json_new("-", &s_site, 0);
    col_record_t rec;
    uint64_t pos[2];
    int n = 0;
    for (size_t i = 0; text[i]; i++) {
        col_feed_push(feed, &text[i], 1);
        while (col_feed_next(feed, &rec) == COL_FEED_EVENT) {
            pos[n++] = rec.position;
        }
    }
    /* The last line has no newline: it waits for the end of input. */
    ck_assert_int_eq(n, 1);
    col_feed_end(feed);
    ck_assert_int_eq(col_feed_next(feed, &rec), COL_FEED_EVENT);
    pos[n++] = rec.position;
    ck_assert_str_eq(rec.event.event_id, "e2");
    ck_assert_int_eq(col_feed_next(feed, &rec), COL_FEED_AGAIN);
    ck_assert_uint_eq(pos[0], 2);
    ck_assert_uint_eq(pos[1], 5);
    ck_assert_int_eq(col_feed_push(feed, "x", 1), SN_ESTATE);
    free(text);
    col_feed_destroy(&feed);
}
END_TEST

START_TEST(test_feed_json_parse_one)
{
    col_feed_t *feed = col_feed_json_new("kafka", NULL, 0);
    col_record_t rec;
    ck_assert_int_eq(col_feed_parse(feed, s_line_a, strlen(s_line_a), &rec),
                     COL_FEED_EVENT);
    ck_assert_str_eq(rec.event.site_id, "");
    ck_assert_ptr_eq(rec.raw, (const uint8_t *)s_line_a);
    ck_assert_int_eq(col_feed_parse(feed, "{", 1, &rec), COL_FEED_REJECT);
    ck_assert_uint_eq(rec.position, 2);
    ck_assert_int_eq(col_feed_kind(feed), COL_FEED_JSON);
    col_feed_destroy(&feed);
}
END_TEST

START_TEST(test_feed_json_oversize_line)
{
    col_feed_t *feed = col_feed_json_new("big.jsonl", &s_site, 256);
    char big[1000];
    memset(big, 'x', sizeof big);
    col_feed_push(feed, big, sizeof big);
    col_record_t rec;
    ck_assert_int_eq(col_feed_next(feed, &rec), COL_FEED_REJECT);
    ck_assert_int_eq(rec.err.code, SN_EOVERFLOW);
    ck_assert_str_eq(rec.err.msg, "record longer than 256 bytes");
    ck_assert_uint_eq(rec.position, 1);
    col_feed_push(feed, big, sizeof big);
    ck_assert_int_eq(col_feed_next(feed, &rec), COL_FEED_AGAIN);
    col_feed_push(feed, "\n", 1);
    col_feed_push(feed, s_line_a, strlen(s_line_a));
    col_feed_push(feed, "\n", 1);
    ck_assert_int_eq(col_feed_next(feed, &rec), COL_FEED_EVENT);
    ck_assert_uint_eq(rec.position, 2);
    ck_assert_uint_eq(col_feed_rejected(feed), 1);
    col_feed_destroy(&feed);
}
END_TEST

START_TEST(test_feed_json_broken_lines)
{
    char *text =
        sn_strdup_printf("%s\n{\"event_id\":\"e9\",\n"
                         "{\"event_id\":\"e3\",\"name\":\"Zhang San\"}\n"
                         "{\"event_id\":\"e4\",\"colour\":\"red\"}\n%s\n",
                         s_line_a, s_line_b);
    col_feed_t *feed = col_feed_json_new("cases.jsonl", &s_site, 0);
    col_record_t recs[8];
    int res[8];
    ck_assert_uint_eq(s_read_all(feed, text, recs, res, 8), 5);
    ck_assert_int_eq(res[0], COL_FEED_EVENT);
    ck_assert_int_eq(res[1], COL_FEED_REJECT);
    ck_assert_int_eq(recs[1].err.code, SN_EPARSE);
    ck_assert_uint_eq(recs[1].position, 2);
    ck_assert_int_eq(res[2], COL_FEED_REJECT);
    ck_assert_int_eq(recs[2].err.code, SN_EVALIDATE);
    ck_assert_str_eq(recs[2].err.msg,
                     "field 'name': personal identifiers are not accepted");
    ck_assert_int_eq(res[3], COL_FEED_REJECT);
    ck_assert_uint_eq(recs[3].position, 4);
    ck_assert_ptr_nonnull(strstr(recs[3].err.msg, "'colour'"));
    ck_assert_int_eq(res[4], COL_FEED_EVENT);
    ck_assert_uint_eq(recs[4].position, 5);
    ck_assert_uint_eq(col_feed_rejected(feed), 3);
    free(text);
    col_feed_destroy(&feed);
}
END_TEST

START_TEST(test_feed_json_kind_names)
{
    col_feed_kind_t k;
    ck_assert_int_eq(col_feed_kind_parse("NDJSON", &k), SN_OK);
    ck_assert_int_eq(k, COL_FEED_JSON);
    ck_assert_int_eq(col_feed_kind_for_path("a/b.c/cases.csv", &k), SN_OK);
    ck_assert_int_eq(k, COL_FEED_CSV);
    ck_assert_int_eq(col_feed_kind_for_path("in/adt.hl7", &k), SN_OK);
    ck_assert_int_eq(k, COL_FEED_HL7);
    ck_assert_int_eq(col_feed_kind_for_path("a.d/noext", &k), SN_ENOTFOUND);
    ck_assert_int_eq(col_feed_kind_parse("xml", &k), SN_ENOTFOUND);
    ck_assert_str_eq(col_feed_kind_name(COL_FEED_HL7), "hl7");
}
END_TEST

static Suite *
feed_json_suite(void)
{
    Suite *s = suite_create("feed_json");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_feed_json_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_test(edges, test_feed_json_split_pushes);
    tcase_add_test(edges, test_feed_json_parse_one);
    tcase_add_test(edges, test_feed_json_oversize_line);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_feed_json_broken_lines);
    tcase_add_test(errors, test_feed_json_kind_names);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(feed_json_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
