/*  tests/analyzer/test_handoff.c - two-phase Kafka checkpoints in the journal
 *
 *  Frames written by ana_handoff_write() and ana_handoff_verdict() into a
 *  real journal file, read back through ana_handoff_read() as the analyzer
 *  does at start: a confirmed pending frame is applied in its place, a
 *  dropped one never is (and its archive days are given), one without a
 *  verdict is held until it is settled, and plain frames pass through.
 *  Settling against a real group is in tests/e2e/test_kafka_group.c.
 */
#include "handoff.h"
#include "journal.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frames applied. */
typedef struct seen {
    int n;          /* frames */
    char text[256]; /* their payloads, joined with '|' */
} seen_t;

static int
s_apply(const uint8_t *p, size_t len, void *arg)
{
    seen_t *s = arg;
    size_t at = strlen(s->text);
    snprintf(s->text + at, sizeof s->text - at, "%s%.*s", s->n ? "|" : "",
             (int)len, (const char *)p);
    s->n++;
    return SN_OK;
}

static char *s_dir;
static char *s_path;

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    s_path = sn_strdup_printf("%s/analyzer.journal", s_dir);
}

static void
s_teardown(void)
{
    ts_rmtree(s_dir);
    free(s_dir);
    free(s_path);
}

/* Open the journal for writing (no reader). */
static ana_journal_t *
s_writer(void)
{
    ana_journal_t *j = NULL;
    ck_assert_int_eq(ana_journal_open(s_path, 1, NULL, NULL, &j, NULL), SN_OK);
    return j;
}

/* Reopen the journal through a handoff reader; @return the reader. */
static ana_handoff_t *
s_read(seen_t *seen, ana_journal_t **j)
{
    ana_handoff_t *h = ana_handoff_new(s_apply, seen);
    ck_assert_int_eq(ana_journal_open(s_path, 1, ana_handoff_read, h, j, NULL),
                     SN_OK);
    return h;
}

static void
s_pending(ana_journal_t *j, const char *mark, const char *body)
{
    ck_assert_int_eq(ana_handoff_write(j, (const uint8_t *)mark, strlen(mark),
                                       100, 102, body, strlen(body), "", 0,
                                       NULL),
                     SN_OK);
}

static void
s_verdict(ana_journal_t *j, const char *mark, bool landed)
{
    ck_assert_int_eq(ana_handoff_verdict(j, (const uint8_t *)mark, strlen(mark),
                                         landed, false, NULL),
                     SN_OK);
}

START_TEST(test_handoff_usage)
{
    ana_journal_t *j = s_writer();
    ck_assert_int_eq(ana_journal_append(j, "plain", 5, "-1", 2, NULL), SN_OK);
    s_pending(j, "mark-a", "kafka-1");
    s_verdict(j, "mark-a", true);
    s_pending(j, "mark-b", "kafka-2");
    s_verdict(j, "mark-b", true);
    ana_journal_destroy(&j);
    seen_t seen = {0};
    ana_handoff_t *h = s_read(&seen, &j);
    ck_assert_str_eq(seen.text, "plain-1|kafka-1|kafka-2");
    ck_assert(!ana_handoff_held(h));
    sn_day_t first, last;
    ck_assert(!ana_handoff_dropped_days(h, &first, &last));
    ck_assert_int_eq(ana_handoff_resolve(h, NULL, j, NULL), 0); /* none */
    ana_handoff_destroy(&h);
    ck_assert_ptr_null(h);
    ana_journal_destroy(&j);
}
END_TEST

START_TEST(test_handoff_dropped_frame_is_never_applied)
{
    ana_journal_t *j = s_writer();
    s_pending(j, "mark-a", "kafka-1");
    s_verdict(j, "mark-a", false);
    ck_assert_int_eq(ana_journal_append(j, "after", 5, "", 0, NULL), SN_OK);
    ana_journal_destroy(&j);
    seen_t seen = {0};
    ana_handoff_t *h = s_read(&seen, &j);
    ck_assert_str_eq(seen.text, "after");
    sn_day_t first = 0, last = 0;
    ck_assert(ana_handoff_dropped_days(h, &first, &last));
    ck_assert_int_eq(first, 100);
    ck_assert_int_eq(last, 102);
    ana_handoff_destroy(&h);
    ana_journal_destroy(&j);
}
END_TEST

START_TEST(test_handoff_pending_is_held_until_settled)
{
    ana_journal_t *j = s_writer();
    s_pending(j, "mark-a", "kafka-1");
    s_verdict(j, "mark-a", true);
    s_pending(j, "mark-b", "kafka-2");
    s_verdict(j, "mark-x", true); /* another frame's: changes nothing */
    ana_journal_destroy(&j);
    seen_t seen = {0};
    ana_handoff_t *h = s_read(&seen, &j);
    ck_assert_str_eq(seen.text, "kafka-1");
    ck_assert(ana_handoff_held(h));
    /* Settled (as ana_handoff_resolve() does once the group answered):
     * the next start applies it. */
    s_verdict(j, "mark-b", true);
    ana_handoff_destroy(&h);
    ana_journal_destroy(&j);
    seen_t again = {0};
    h = s_read(&again, &j);
    ck_assert_str_eq(again.text, "kafka-1|kafka-2");
    ck_assert(!ana_handoff_held(h));
    ana_handoff_destroy(&h);
    ana_journal_destroy(&j);
}
END_TEST

START_TEST(test_handoff_unsettled_then_checkpoint_is_taken)
{
    /* A pending frame followed by a later checkpoint, no verdict between
     * (journals of a version that wrote none): taken as committed. */
    ana_journal_t *j = s_writer();
    s_pending(j, "mark-a", "kafka-1");
    ck_assert_int_eq(ana_journal_append(j, "plain", 5, "", 0, NULL), SN_OK);
    ana_journal_destroy(&j);
    seen_t seen = {0};
    ana_handoff_t *h = s_read(&seen, &j);
    ck_assert_str_eq(seen.text, "kafka-1|plain");
    ck_assert(!ana_handoff_held(h));
    ana_handoff_destroy(&h);
    ana_journal_destroy(&j);
}
END_TEST

START_TEST(test_handoff_errors)
{
    ana_journal_t *j = s_writer();
    s_pending(j, "mark-a", "kafka-1");
    ana_journal_destroy(&j);
    seen_t seen = {0};
    ana_handoff_t *h = s_read(&seen, &j);
    ck_assert(ana_handoff_held(h));
    sn_err_t err;
    ck_assert_int_eq(ana_handoff_resolve(h, NULL, j, &err), SN_ESTATE);
    ck_assert_str_eq(err.msg,
                     "journal: the last checkpoint waits for its Kafka commit "
                     "to be confirmed; start with the Kafka transport "
                     "configured to settle it");
    ck_assert(ana_handoff_held(h)); /* nothing guessed */
    ck_assert_int_eq(seen.n, 0);
    ana_handoff_destroy(&h);
    ana_handoff_destroy(&h); /* twice: safe */
    ana_journal_destroy(&j);
    /* A pending frame cut short is corrupt. */
    uint8_t bad[12] = {0};
    uint64_t w = ANA_HANDOFF_PENDING;
    uint32_t n = 100;
    memcpy(bad, &w, 8);
    memcpy(bad + 8, &n, 4);
    h = ana_handoff_new(s_apply, &seen);
    ck_assert_int_eq(ana_handoff_read(bad, sizeof bad, h), SN_ECORRUPT);
    ana_handoff_destroy(&h);
}
END_TEST

static Suite *
handoff_suite(void)
{
    Suite *s = suite_create("handoff");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 30);
    tcase_add_test(usage, test_handoff_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 30);
    tcase_add_test(edges, test_handoff_dropped_frame_is_never_applied);
    tcase_add_test(edges, test_handoff_pending_is_held_until_settled);
    tcase_add_test(edges, test_handoff_unsettled_then_checkpoint_is_taken);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 30);
    tcase_add_test(errors, test_handoff_errors);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(handoff_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
