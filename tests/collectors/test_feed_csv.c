/*  tests/collectors/test_feed_csv.c - the CSV feed
 *
 *  A hospital export with its own column names and a day/month/year date
 *  format; RFC 4180 quoting (delimiters, doubled quotes and line breaks
 *  inside quotes); broken rows rejected with their line number and reason
 *  while the rows around them go on.
 */
#include "feed_csv.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const col_site_t s_site = {"H0001", SN_SOURCE_HOSPITAL, "110105"};

/* The mapping of the export used by most tests. */
static col_csv_opts_t
s_opts(void)
{
    col_csv_opts_t o = {0};
    o.date_format = "%d/%m/%Y";
    o.columns[COL_CSV_EVENT_ID] = "Case No";
    o.columns[COL_CSV_CONDITION] = "Diagnosis";
    o.columns[COL_CSV_ONSET_DATE] = "Onset";
    o.columns[COL_CSV_REPORT_TIME] = "Reported";
    o.columns[COL_CSV_SEX] = "Sex";
    o.columns[COL_CSV_AGE_YEARS] = "Age";
    return o;
}

/* Read all of `text` through a feed; returns the number of records. */
static size_t
s_read_all(col_feed_t *feed, const char *text, col_record_t *recs, int *res,
           size_t max)
{
    col_feed_push(feed, text, strlen(text));
    col_feed_end(feed);
    size_t n = 0;
    int r;
    while (n < max && (r = col_feed_next(feed, &recs[n])) > 0) {
        res[n++] = r;
    }
    return n;
}

START_TEST(test_feed_csv_usage)
{
    const char *text =
        "Case No,Patient Name,Diagnosis,Onset,Reported,Sex,Age\n"
        "C-1,Li Si,ili,20/11/2026,2026-11-21T08:00:00+08:00,F,34\n"
        "C-2,Wang Wu,fever,21/11/2026,22/11/2026,m,\n";
    col_csv_opts_t o = s_opts();
    col_feed_t *feed = col_feed_csv_new("export.csv", &s_site, &o, NULL, 0);
    col_record_t r[4];
    int res[4];
    ck_assert_uint_eq(s_read_all(feed, text, r, res, 4), 2);
    ck_assert_int_eq(res[0], COL_FEED_EVENT);
    ck_assert_str_eq(r[0].event.event_id, "C-1");
    ck_assert_str_eq(r[0].event.condition, "ili");
    ck_assert_int_eq(r[0].event.onset_date, sn_day_from_ymd(2026, 11, 20));
    ck_assert_int_eq(r[0].event.sex, SN_SEX_FEMALE);
    ck_assert_int_eq(r[0].event.age_years, 34);
    ck_assert_str_eq(r[0].event.site_id, "H0001");
    ck_assert_uint_eq(r[0].position, 2);
    ck_assert_int_eq(res[1], COL_FEED_EVENT);
    ck_assert_int_eq(r[1].event.age_years, SN_AGE_NONE);
    ck_assert_int_eq(r[1].event.report_time,
                     sn_day_from_ymd(2026, 11, 22) * 86400000LL);
    ck_assert_uint_eq(r[1].position, 3);
    /* The name column is in the export but never reaches an event. */
    char *json = sn_event_to_json(&r[1].event);
    ck_assert_ptr_null(strstr(json, "Wang"));
    free(json);
    sn_err_t err;
    ck_assert_int_eq(
        sn_event_validate(&r[0].event,
                          sn_day_from_ymd(2026, 11, 25) * 86400000LL, &err),
        SN_OK);
    col_feed_destroy(&feed);
}
END_TEST

START_TEST(test_feed_csv_quotes)
{
    const char *text =
        "\xEF\xBB\xBF\"Case No\";Diagnosis;Onset;Reported;Sex;Age\r\n"
        "\"C;1\";\"fever \"\"high\"\"\";01/02/2026;01/02/2026;;\r\n"
        "\"C\n2\";ili;01/02/2026;01/02/2026;;5\r\n"
        "\r\n"
        "C-3;rash;01/02/2026;01/02/2026;u;7";
    col_csv_opts_t o = s_opts();
    o.delimiter = ';';
    col_feed_t *feed = col_feed_csv_new("q.csv", &s_site, &o, NULL, 0);
    col_record_t r[4];
    int res[4];
    ck_assert_uint_eq(s_read_all(feed, text, r, res, 4), 3);
    ck_assert_int_eq(res[0], COL_FEED_EVENT);
    ck_assert_str_eq(r[0].event.event_id, "C;1");
    ck_assert_str_eq(r[0].event.condition, "fever \"high\"");
    ck_assert_str_eq(r[1].event.event_id, "C\n2");
    ck_assert_uint_eq(r[1].position, 3);
    /* The quoted line break and the blank line still count as lines. */
    ck_assert_uint_eq(r[2].position, 6);
    ck_assert_str_eq(r[2].event.event_id, "C-3");
    col_feed_destroy(&feed);
}
END_TEST

START_TEST(test_feed_csv_condition_map)
{
    const char *text = "Case No,Diagnosis,Onset,Reported,Sex,Age\n"
                       "1,A00.1,01/02/2026,01/02/2026,,\n"
                       "2,Fever and COUGH for 3 days,01/02/2026,01/02/2026,,\n"
                       "3,hfmd,01/02/2026,01/02/2026,,\n"
                       "4,broken leg,01/02/2026,01/02/2026,,\n";
    col_csv_opts_t o = s_opts();
    col_cmap_t *cmap = col_cmap_new(true);
    col_feed_t *feed = col_feed_csv_new("c.csv", &s_site, &o, &cmap, 0);
    ck_assert_ptr_null(cmap);
    col_record_t r[5];
    int res[5];
    ck_assert_uint_eq(s_read_all(feed, text, r, res, 5), 4);
    ck_assert_str_eq(r[0].event.condition, "cholera");
    ck_assert_str_eq(r[1].event.condition, "ili");
    ck_assert_str_eq(r[2].event.condition, "hfmd");
    ck_assert_int_eq(res[3], COL_FEED_REJECT);
    ck_assert_str_eq(r[3].err.msg,
                     "field 'condition' (column 'Diagnosis'): 'broken leg' "
                     "is not a known condition, ICD-10 code or complaint");
    col_feed_destroy(&feed);
}
END_TEST

/* Read `text` pushed whole (seed 0) or in chunks of pseudo-random size;
 * write each result and position into out (as "E2 R3 …"). */
static void
s_trace(const char *text, size_t len, uint32_t seed, char *out, size_t size)
{
    col_csv_opts_t o = s_opts();
    col_feed_t *feed = col_feed_csv_new("t.csv", &s_site, &o, NULL, 0);
    col_record_t rec;
    size_t at = 0;
    size_t w = 0;
    out[0] = '\0';
    for (bool chunked = seed != 0;;) {
        seed = seed * 1103515245u + 12345u;
        size_t step = chunked ? 1 + (seed >> 16) % 7 : len;
        step = at + step > len ? len - at : step;
        col_feed_push(feed, text + at, step);
        at += step;
        if (at == len) {
            col_feed_end(feed);
        }
        int r;
        while ((r = col_feed_next(feed, &rec)) > 0 && w + 24 < size) {
            w += (size_t)snprintf(out + w, size - w, "%c%llu ",
                                  r == COL_FEED_EVENT ? 'E' : 'R',
                                  (unsigned long long)rec.position);
        }
        if (at == len) {
            break;
        }
    }
    col_feed_destroy(&feed);
}

/* However TCP or a pipe cuts the input, the same records come out with
 * the same positions, even from mangled bytes. */
START_TEST(test_feed_csv_chunking)
{
    const char *base = "Case No,Diagnosis,Onset,Reported,Sex,Age\r\n"
                       "\"C\n1\",\"a \"\"b\"\"\",01/02/2026,01/02/2026,f,3\r\n"
                       "2,ili,01/02/2026,01/02/2026,,\n"
                       "3,\"x,y\",01/02/2026,01/02/2026,m,44\n";
    const char alphabet[] = ",\"\r\nx1/";
    size_t len = strlen(base);
    char *text = malloc(len + 1);
    char whole[1024], cut[1024];
    uint32_t seed = 7;
    for (int round = 0; round < 400; round++) {
        memcpy(text, base, len + 1);
        for (int k = 0; k < round % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            text[(seed >> 8) % len] = alphabet[(seed >> 20) % 7];
        }
        s_trace(text, len, 0, whole, sizeof whole);
        s_trace(text, len, seed | 1, cut, sizeof cut);
        ck_assert_str_eq(cut, whole);
        if (round == 0) {
            ck_assert_str_eq(whole, "E2 E4 E5 ");
        }
    }
    free(text);
}
END_TEST

START_TEST(test_feed_csv_broken_rows)
{
    const char *text = "Case No,Diagnosis,Onset,Reported,Sex,Age\n"
                       "1,ili,01/02/2026,01/02/2026,,\n"
                       "2,ili,01/02/2026\n"
                       "3,ili,31/02/2026,01/02/2026,,\n"
                       "4,ili,01/02/2026,01/02/2026,X,\n"
                       "5,i\"li,01/02/2026,01/02/2026,,\n"
                       "6,ili,01/02/2026,01/02/2026,,200\n"
                       "7,ili,01/02/2026,01/02/2026,,\n"
                       "\"8,ili,01/02/2026,01/02/2026,,\n";
    col_csv_opts_t o = s_opts();
    col_feed_t *feed = col_feed_csv_new("bad.csv", &s_site, &o, NULL, 0);
    col_record_t r[10];
    int res[10];
    ck_assert_uint_eq(s_read_all(feed, text, r, res, 10), 8);
    ck_assert_int_eq(res[0], COL_FEED_EVENT);
    ck_assert_int_eq(res[1], COL_FEED_REJECT);
    ck_assert_uint_eq(r[1].position, 3);
    ck_assert_str_eq(r[1].err.msg, "row has 3 fields, the header 6");
    ck_assert_str_eq(r[2].err.msg, "field 'onset_date' (column 'Onset'): "
                                   "'31/02/2026' is not a date in the "
                                   "configured format");
    ck_assert_uint_eq(r[2].position, 4);
    ck_assert_str_eq(r[3].err.msg,
                     "field 'sex' (column 'Sex'): 'X' is not a valid value");
    ck_assert_str_eq(r[4].err.msg, "field 2: quote inside an unquoted field");
    ck_assert_int_eq(res[5], COL_FEED_REJECT);
    ck_assert_int_eq(res[6], COL_FEED_EVENT);
    ck_assert_uint_eq(r[6].position, 8);
    ck_assert_int_eq(res[7], COL_FEED_REJECT);
    ck_assert_str_eq(r[7].err.msg, "field 1: unterminated quote");
    ck_assert_uint_eq(r[7].position, 9);
    ck_assert_uint_eq(col_feed_rejected(feed), 6);
    col_feed_destroy(&feed);
}
END_TEST

START_TEST(test_feed_csv_missing_column)
{
    const char *text = "Case No,Diagnosis,Reported,Sex,Age\n"
                       "1,ili,01/02/2026,,\n";
    col_csv_opts_t o = s_opts();
    col_feed_t *feed = col_feed_csv_new("h.csv", &s_site, &o, NULL, 0);
    col_record_t r[3];
    int res[3];
    ck_assert_uint_eq(s_read_all(feed, text, r, res, 3), 2);
    ck_assert_int_eq(res[0], COL_FEED_REJECT);
    ck_assert_uint_eq(r[0].position, 1);
    ck_assert_str_eq(r[0].err.msg,
                     "header: no column 'Onset' (mapped to onset_date)");
    ck_assert_int_eq(res[1], COL_FEED_REJECT);
    ck_assert_str_eq(r[1].err.msg, "no usable header row (header: no column "
                                   "'Onset' (mapped to onset_date))");
    ck_assert_int_eq(col_csv_field_parse("lab_confirmed"),
                     COL_CSV_LAB_CONFIRMED);
    ck_assert_int_eq(col_csv_field_parse("name"), -1);
    col_feed_destroy(&feed);
}
END_TEST

static Suite *
feed_csv_suite(void)
{
    Suite *s = suite_create("feed_csv");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_feed_csv_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_test(edges, test_feed_csv_quotes);
    tcase_add_test(edges, test_feed_csv_condition_map);
    tcase_add_test(edges, test_feed_csv_chunking);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_feed_csv_broken_rows);
    tcase_add_test(errors, test_feed_csv_missing_column);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(feed_csv_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
