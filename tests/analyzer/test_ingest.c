/*  tests/analyzer/test_ingest.c - a batch of records, as one record at a time
 *
 *  The daemon hands ingest whole transport batches (ana_ingest_records()),
 *  which decodes and prefetches a group of records before placing them.
 *  Its results must be those of ana_ingest_record() on each record in
 *  turn: the same bins, counters, redo log and dead letters, whatever the
 *  mix of new events, re-sent ones, revisions, bad bytes and unknown
 *  conditions, and wherever the batch and group boundaries fall.
 */
#include "ana_config.h"
#include "ingest.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_yaml[] =
    "analyzer: {state_dir: x, wall_clock: false, lateness_days: 0,\n"
    "           dedup_capacity: 5000}\n"
    "series:\n"
    "  - {condition: ili, levels: [site, county, prefecture]}\n";

static ana_ingest_t *
s_pipeline(void)
{
    sn_config_t *cfg = NULL;
    ana_config_t c;
    ana_ingest_t *in = NULL;
    sn_err_t err;
    ck_assert_int_eq(sn_config_parse(s_yaml, strlen(s_yaml), "t.yaml",
                                     ana_config_schema, &cfg, &err),
                     SN_OK);
    ck_assert_int_eq(ana_config_read(cfg, &c, &err), SN_OK);
    ck_assert_int_eq(ana_ingest_new(&c, NULL, &in, &err), SN_OK);
    ana_config_fini(&c);
    sn_config_destroy(&cfg);
    return in;
}

/* Records of every kind: mostly new events, some re-sent, some revised,
 * an unknown condition, bytes that are no event. */
typedef struct recs {
    uint8_t buf[3000][128]; /* encodings */
    sn_record_t r[3000];    /* the records */
    size_t n;               /* how many */
} recs_t;

static void
s_make(recs_t *rs, sn_day_t d0)
{
    rs->n = 3000;
    for (size_t i = 0; i < rs->n; i++) {
        size_t id = i % 7 == 3 ? i / 2 : i; /* re-sent, or revised */
        sn_event_t ev;
        sn_event_init(&ev);
        snprintf(ev.site_id, sizeof ev.site_id, "site-%zu", id % 13);
        snprintf(ev.event_id, sizeof ev.event_id, "ev-%zu", id);
        snprintf(ev.region, sizeof ev.region, "3301%02zu", id % 9 + 1);
        snprintf(ev.condition, sizeof ev.condition, "%s",
                 i % 101 == 5 ? "nonesuch" : "ili");
        ev.source = (sn_source_t)(id % 4 + 1);
        ev.revision = i % 14 == 3 ? 1 : 0;
        ev.count = (uint32_t)(i % 3 + 1);
        ev.report_time = (sn_time_t)(d0 + (sn_day_t)(i / 300)) * 86400000;
        int len = sn_event_encode(&ev, rs->buf[i], sizeof rs->buf[i]);
        ck_assert_int_gt(len, 0);
        if (i % 211 == 7) {
            len = 3; /* cut short: no event */
        }
        rs->r[i] = (sn_record_t){"tx", i + 1, rs->buf[i], (size_t)len};
    }
}

/* Every series' bins, summed with their position as a weight. */
static uint64_t
s_digest(ana_ingest_t *in)
{
    ana_series_t *s = ana_ingest_series(in);
    uint64_t d = ana_series_size(s);
    for (uint32_t id = 0; id < ana_series_size(s); id++) {
        ana_window_t *w = ana_series_window(s, id);
        for (size_t i = 0; i < ana_window_span(w); i++) {
            d = d * 31 + ana_window_counts(w)[i] * (i + 1);
        }
    }
    return d;
}

/* Compare two pipelines' states, counters, redo logs and dead letters. */
static void
s_assert_same(ana_ingest_t *a, ana_ingest_t *b, const char *dead_a,
              const char *dead_b)
{
    ck_assert_uint_eq(s_digest(a), s_digest(b));
    const ana_ingest_stats_t *x = ana_ingest_stats(a), *y = ana_ingest_stats(b);
    ck_assert_uint_eq(x->records, y->records);
    ck_assert_uint_eq(x->counted, y->counted);
    ck_assert_uint_eq(x->duplicates, y->duplicates);
    ck_assert_uint_eq(x->revised, y->revised);
    ck_assert_uint_eq(x->rejected, y->rejected);
    size_t la, lb;
    const uint8_t *oa = ana_ingest_delta(a, &la),
                  *ob = ana_ingest_delta(b, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert(memcmp(oa, ob, la) == 0);
    char *ta = ts_read_file(dead_a, NULL), *tb = ts_read_file(dead_b, NULL);
    ck_assert_ptr_nonnull(ta);
    ck_assert_msg(strcmp(ta, tb) == 0, "dead letters differ");
    free(ta);
    free(tb);
}

START_TEST(test_ingest_usage)
{
    static recs_t rs;
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 3);
    s_make(&rs, d0);
    char *dir = ts_tmpdir();
    char *dead[2] = {sn_strdup_printf("%s/one.jsonl", dir),
                     sn_strdup_printf("%s/many.jsonl", dir)};
    ana_ingest_t *one = s_pipeline(), *many = s_pipeline();
    ck_assert_int_eq(ana_ingest_dead_letter(one, dead[0], NULL), SN_OK);
    ck_assert_int_eq(ana_ingest_dead_letter(many, dead[1], NULL), SN_OK);
    ana_ingest_journal(one, true);
    ana_ingest_journal(many, true);
    sn_time_t now = sn_time_now();
    size_t counted = 0;
    for (size_t i = 0; i < rs.n; i++) {
        const sn_record_t *r = &rs.r[i];
        sn_err_t err; /* the reason the dead letter gives */
        int rc = ana_ingest_record(one, r->data, r->len, r->sender_id, r->seq,
                                   now, &err);
        counted += rc >= 0;
    }
    /* Batches of odd sizes, so groups straddle their ends. */
    size_t got = 0;
    for (size_t at = 0, k = 1; at < rs.n; at += k, k = k * 3 % 997 + 1) {
        size_t n = rs.n - at < k ? rs.n - at : k;
        got += ana_ingest_records(many, rs.r + at, n, now);
    }
    ck_assert_uint_eq(got, counted);
    ck_assert_uint_gt(ana_ingest_stats(many)->duplicates, 100);
    ck_assert_uint_gt(ana_ingest_stats(many)->revised, 10);
    ck_assert_uint_gt(ana_ingest_stats(many)->rejected, 20);
    s_assert_same(one, many, dead[0], dead[1]);
    ana_ingest_destroy(&one);
    ana_ingest_destroy(&many);
    ts_rmtree(dir);
    free(dead[0]);
    free(dead[1]);
    free(dir);
}
END_TEST

START_TEST(test_ingest_batch_matches_record_by_record)
{
    static recs_t rs;
    s_make(&rs, sn_day_from_ymd(2025, 6, 1));
    char *dir = ts_tmpdir();
    char *dead_a = sn_strdup_printf("%s/a.jsonl", dir);
    char *dead_b = sn_strdup_printf("%s/b.jsonl", dir);
    ana_ingest_t *a = s_pipeline(), *b = s_pipeline();
    ck_assert_int_eq(ana_ingest_dead_letter(a, dead_a, NULL), SN_OK);
    ck_assert_int_eq(ana_ingest_dead_letter(b, dead_b, NULL), SN_OK);
    ana_ingest_journal(a, true);
    ana_ingest_journal(b, true);
    sn_time_t now = sn_time_now();
    for (size_t i = 0; i < rs.n; i++) {
        sn_err_t err;
        ana_ingest_record(a, rs.r[i].data, rs.r[i].len, "tx", rs.r[i].seq, now,
                          &err);
    }
    ana_ingest_records(b, rs.r, 1000, now);
    ana_ingest_records(b, rs.r + 1000, 17, now);
    ana_ingest_records(b, rs.r + 1017, rs.n - 1017, now);
    s_assert_same(a, b, dead_a, dead_b);
    ana_ingest_destroy(&a);
    ana_ingest_destroy(&b);
    ts_rmtree(dir);
    free(dead_a);
    free(dead_b);
    free(dir);
}
END_TEST

/* The journal payload is the length of the redo log, then the log. */
START_TEST(test_ingest_delta_frame)
{
    ana_ingest_t *in = s_pipeline();
    size_t n;
    const uint8_t *f = ana_ingest_delta_frame(in, &n);
    uint64_t len;
    ck_assert_uint_eq(n, 8);
    memcpy(&len, f, 8);
    ck_assert_uint_eq(len, 0);
    ana_ingest_journal(in, true);
    static recs_t rs;
    s_make(&rs, sn_day_from_ymd(2025, 6, 1));
    ana_ingest_records(in, rs.r, 100, sn_time_now());
    size_t n_ops;
    const uint8_t *ops = ana_ingest_delta(in, &n_ops);
    ck_assert_uint_gt(n_ops, 0);
    f = ana_ingest_delta_frame(in, &n);
    ck_assert_uint_eq(n, 8 + n_ops);
    memcpy(&len, f, 8);
    ck_assert_uint_eq(len, n_ops);
    ck_assert(memcmp(f + 8, ops, n_ops) == 0);
    ana_ingest_delta_clear(in);
    ana_ingest_delta_frame(in, &n);
    ck_assert_uint_eq(n, 8);
    ana_ingest_destroy(&in);
}
END_TEST

/* A batch's dead letters name each record's sender and sequence. */
START_TEST(test_ingest_records_dead_letters_name_the_record)
{
    char *dir = ts_tmpdir();
    char *path = sn_strdup_printf("%s/dead.jsonl", dir);
    ana_ingest_t *in = s_pipeline();
    ck_assert_int_eq(ana_ingest_dead_letter(in, path, NULL), SN_OK);
    const uint8_t junk[] = {0x0a, 9, 'x'};
    sn_record_t r[2] = {{"site-q", 41, junk, sizeof junk},
                        {"site-q", 42, junk, 1}};
    ck_assert_uint_eq(ana_ingest_records(in, r, 2, sn_time_now()), 0);
    ana_ingest_destroy(&in);
    char *text = ts_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strstr(text, "\"sender\":\"site-q\",\"seq\":41") != NULL &&
                      strstr(text, "\"seq\":42") != NULL,
                  "%s", text);
    ck_assert_msg(strstr(text, "not a sentinel.v1.CaseEvent (3 bytes of "
                               "malformed protobuf)") != NULL,
                  "%s", text);
    free(text);
    ts_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* A sender id that is not UTF-8 (the transport does not check its
 * characters) and a refusal whose reason quotes bytes that are not UTF-8:
 * both dead letters are written, as JSON, with '?' for the bad bytes and
 * the sender's bytes in hex. */
START_TEST(test_ingest_dead_letters_of_a_sender_that_is_not_utf8)
{
    char *dir = ts_tmpdir();
    char *path = sn_strdup_printf("%s/dead.jsonl", dir);
    ana_ingest_t *in = s_pipeline();
    ck_assert_int_eq(ana_ingest_dead_letter(in, path, NULL), SN_OK);
    sn_event_t ev;
    sn_event_init(&ev);
    snprintf(ev.site_id, sizeof ev.site_id, "site-1");
    snprintf(ev.event_id, sizeof ev.event_id, "ev-1");
    /* "33", 0xff 0xfe, "01": the reason quotes it */
    snprintf(ev.region, sizeof ev.region, "33\xff\xfe\x30\x31");
    snprintf(ev.condition, sizeof ev.condition, "ili");
    ev.source = SN_SOURCE_LAB;
    ev.count = 1;
    ev.report_time = sn_time_now();
    uint8_t buf[128];
    int len = sn_event_encode(&ev, buf, sizeof buf);
    ck_assert_int_gt(len, 0);
    const uint8_t junk[] = {0x0a, 9, 'x'};
    sn_record_t r[2] = {{"site-\xff\xc3", 7, junk, sizeof junk},
                        {"site-ok", 8, buf, (size_t)len}};
    ck_assert_uint_eq(ana_ingest_records(in, r, 2, sn_time_now()), 0);
    ck_assert_uint_eq(ana_ingest_stats(in)->rejected, 2);
    ana_ingest_destroy(&in);
    char *text = ts_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    char *second = strchr(text, '\n');
    ck_assert_ptr_nonnull(second);
    *second++ = '\0';
    ck_assert_msg(strstr(text, "\"sender\":\"site-??\",\"sender_hex\":"
                               "\"736974652dffc3\",\"seq\":7") != NULL,
                  "%s", text);
    ck_assert_msg(strstr(second, "\"sender\":\"site-ok\",\"seq\":8") != NULL &&
                      strstr(second, "'33??01' is not 6 digits") != NULL,
                  "%s", second);
    ck_assert_str_eq(second + strlen(second) - 2, "}\n");
    const char *lines[2] = {text, second};
    for (int i = 0; i < 2; i++) {
        json_t *j = json_loads(lines[i], 0, NULL);
        ck_assert_msg(j != NULL, "not JSON: %s", lines[i]);
        json_decref(j);
    }
    free(text);
    ts_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

static Suite *
ingest_suite(void)
{
    Suite *s = suite_create("ingest");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 30);
    tcase_add_test(usage, test_ingest_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 30);
    tcase_add_test(edges, test_ingest_batch_matches_record_by_record);
    tcase_add_test(edges, test_ingest_delta_frame);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 30);
    tcase_add_test(errors, test_ingest_records_dead_letters_name_the_record);
    tcase_add_test(errors,
                   test_ingest_dead_letters_of_a_sender_that_is_not_utf8);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(ingest_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
