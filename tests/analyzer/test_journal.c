/*  tests/analyzer/test_journal.c - the checkpoint journal and the redo log
 *
 *  The journal file: frames come back in order after a reopen, a torn tail
 *  is cut off, a journal of an older generation is ignored. The redo log:
 *  a pipeline rebuilt from another's log holds the same counts and the same
 *  dedup memory.
 */
#include "ingest.h"
#include "journal.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Frames seen by a replay. */
typedef struct seen {
    int n;          /* frames */
    char text[256]; /* their payloads, joined with '|' */
} seen_t;

static int
s_collect(const uint8_t *p, size_t len, void *arg)
{
    seen_t *s = arg;
    size_t at = strlen(s->text);
    snprintf(s->text + at, sizeof s->text - at, "%s%.*s", s->n ? "|" : "",
             (int)len, (const char *)p);
    s->n++;
    return SN_OK;
}

static ana_journal_t *
s_open(const char *path, uint64_t gen, seen_t *seen)
{
    ana_journal_t *j = NULL;
    sn_err_t err;
    memset(seen, 0, sizeof *seen);
    ck_assert_msg(ana_journal_open(path, gen, s_collect, seen, &j, &err) ==
                      SN_OK,
                  "%s", err.msg);
    return j;
}

static void
s_append(ana_journal_t *j, const char *a, const char *b)
{
    sn_err_t err;
    ck_assert_msg(ana_journal_append(j, a, strlen(a), b, strlen(b), &err) ==
                      SN_OK,
                  "%s", err.msg);
}

START_TEST(test_journal_usage)
{
    char *dir = ts_tmpdir();
    char *path = sn_strdup_printf("%s/j", dir);
    seen_t seen;
    ana_journal_t *j = s_open(path, 0, &seen);
    ck_assert_int_eq(seen.n, 0);
    s_append(j, "one", "");
    s_append(j, "tw", "o");
    s_append(j, "", "three");
    ck_assert_uint_eq(ana_journal_bytes(j), 16 + 3 * 12 + 11);
    ana_journal_destroy(&j);
    ck_assert_ptr_null(j);
    j = s_open(path, 0, &seen);
    ck_assert_int_eq(seen.n, 3);
    ck_assert_str_eq(seen.text, "one|two|three");
    ana_journal_destroy(&j);
    ts_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* A kill -9 in the middle of a write leaves a short or garbled last frame:
 * it is cut off and the journal goes on after the last good one. */
START_TEST(test_journal_torn_tail_is_cut)
{
    char *dir = ts_tmpdir();
    char *path = sn_strdup_printf("%s/j", dir);
    seen_t seen;
    ana_journal_t *j = s_open(path, 4, &seen);
    s_append(j, "good", "");
    s_append(j, "torn-frame", "");
    uint64_t good = 16 + 12 + 4;
    ana_journal_destroy(&j);
    ck_assert_int_eq(truncate(path, (off_t)(good + 12 + 5)), 0);
    j = s_open(path, 4, &seen);
    ck_assert_int_eq(seen.n, 1);
    ck_assert_str_eq(seen.text, "good");
    ck_assert_uint_eq(ana_journal_bytes(j), good);
    s_append(j, "after", "");
    ana_journal_destroy(&j);
    /* A flipped byte fails the frame's CRC the same way. */
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "X", 1, (off_t)(good + 12)), 1);
    close(fd);
    j = s_open(path, 4, &seen);
    ck_assert_str_eq(seen.text, "good");
    ana_journal_destroy(&j);
    ts_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* After a snapshot of generation g+1, a journal still marked g (a crash
 * before its reset) is already inside the snapshot: it must not replay. */
START_TEST(test_journal_older_generation_is_ignored)
{
    char *dir = ts_tmpdir();
    char *path = sn_strdup_printf("%s/j", dir);
    seen_t seen;
    ana_journal_t *j = s_open(path, 1, &seen);
    s_append(j, "in-the-snapshot", "");
    ana_journal_destroy(&j);
    j = s_open(path, 2, &seen);
    ck_assert_int_eq(seen.n, 0);
    ck_assert_uint_eq(ana_journal_gen(j), 2);
    ck_assert_uint_eq(ana_journal_bytes(j), 16);
    s_append(j, "new", "");
    ck_assert_int_eq(ana_journal_reset(j, 3, NULL), SN_OK);
    ck_assert_uint_eq(ana_journal_bytes(j), 16);
    ana_journal_destroy(&j);
    j = s_open(path, 3, &seen);
    ck_assert_int_eq(seen.n, 0);
    ana_journal_destroy(&j);
    ts_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* ---- the redo log -------------------------------------------------------- */

static const char s_yaml[] =
    "analyzer: {state_dir: x, wall_clock: false, lateness_days: 0}\n"
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

static int
s_offer(ana_ingest_t *in, const char *site, const char *region, int i,
        sn_day_t day, uint32_t revision)
{
    sn_event_t ev;
    sn_event_init(&ev);
    snprintf(ev.site_id, sizeof ev.site_id, "%s", site);
    snprintf(ev.event_id, sizeof ev.event_id, "ev-%d", i);
    snprintf(ev.region, sizeof ev.region, "%s", region);
    snprintf(ev.condition, sizeof ev.condition, "ili");
    ev.source = SN_SOURCE_PHARMACY;
    ev.revision = revision;
    ev.count = 1 + (uint32_t)i % 3;
    ev.report_time = (sn_time_t)day * 86400000 + 3600000;
    return ana_ingest_event(in, &ev, sn_time_now(), NULL);
}

/* Every series' bins, summed with their day as a weight. */
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

START_TEST(test_journal_redo_log_rebuilds_the_state)
{
    ana_ingest_t *live = s_pipeline(), *copy = s_pipeline();
    ana_ingest_journal(live, true);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 3);
    for (int i = 0; i < 300; i++) {
        ck_assert_int_ge(s_offer(live, i % 2 ? "ph-1" : "ph-2",
                                 i % 3 ? "330106" : "330108", i, d0 + i / 30,
                                 0),
                         0);
    }
    ana_ingest_close_through(live, d0 + 5, sn_time_now());
    /* A revision moves a count, a late event corrects a closed day. */
    ck_assert_int_eq(s_offer(live, "ph-2", "330108", 0, d0 + 7, 1),
                     ANA_INGEST_REVISED);
    ck_assert_int_eq(s_offer(live, "ph-1", "330106", 999, d0 + 1, 0),
                     ANA_INGEST_LATE);
    size_t len;
    const uint8_t *ops = ana_ingest_delta(live, &len);
    ck_assert_uint_gt(len, 0);
    sn_err_t err;
    ck_assert_msg(ana_ingest_replay(copy, ops, len, &err) == SN_OK, "%s",
                  err.msg);
    ck_assert_uint_eq(s_digest(copy), s_digest(live));
    ck_assert_int_eq(ana_ingest_closed(copy), ana_ingest_closed(live));
    ck_assert_uint_eq(ana_ingest_stats(copy)->alerts, 0);
    /* The copy remembers what the live one counted: resends are dropped. */
    ck_assert_int_eq(s_offer(copy, "ph-1", "330106", 999, d0 + 1, 0), SN_EDUP);
    ana_ingest_delta_clear(live);
    ana_ingest_delta(live, &len);
    ck_assert_uint_eq(len, 0);
    ana_ingest_destroy(&live);
    ana_ingest_destroy(&copy);
}
END_TEST

START_TEST(test_journal_open_fails_on_a_missing_folder)
{
    ana_journal_t *j = NULL;
    sn_err_t err;
    ck_assert_int_eq(
        ana_journal_open("/nonexistent-dir/j", 0, NULL, NULL, &j, &err),
        SN_EIO);
    ck_assert_ptr_null(j);
    ck_assert_str_eq(err.msg,
                     "journal '/nonexistent-dir/j': No such file or directory");
}
END_TEST

START_TEST(test_journal_replay_refuses_a_bad_operation)
{
    ana_ingest_t *in = s_pipeline();
    const uint8_t ops[] = {'Z', 1, 2, 3};
    sn_err_t err;
    ck_assert_int_eq(ana_ingest_replay(in, ops, sizeof ops, &err), SN_ECORRUPT);
    ck_assert_str_eq(err.msg, "journal: operation at byte 0 of 4 does not "
                              "apply (tag 0x5a)");
    ana_ingest_destroy(&in);
}
END_TEST

static Suite *
journal_suite(void)
{
    Suite *s = suite_create("journal");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 20);
    tcase_add_test(usage, test_journal_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 20);
    tcase_add_test(edges, test_journal_torn_tail_is_cut);
    tcase_add_test(edges, test_journal_older_generation_is_ignored);
    tcase_add_test(edges, test_journal_redo_log_rebuilds_the_state);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 20);
    tcase_add_test(errors, test_journal_open_fails_on_a_missing_folder);
    tcase_add_test(errors, test_journal_replay_refuses_a_bad_operation);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(journal_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
