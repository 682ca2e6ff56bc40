/*  tests/analyzer/test_handoff.c - two-phase Kafka checkpoints in the journal
 *
 *  Frames written by ana_handoff_write() and ana_handoff_verdict() into a
 *  real journal file, read back through ana_handoff_read() as the analyzer
 *  does at start: a confirmed pending frame is applied in its place, a
 *  dropped one never is (and its archive days are given), one without a
 *  verdict is held until it is settled, and plain frames pass through. A
 *  frame librdkafka's mock cluster reports as never committed is dropped
 *  only when the analyzer says its archive is repaired (ana_handoff_drop());
 *  settling against a real group with daemons is in
 *  tests/e2e/test_kafka_group.c.
 */
#include "handoff.h"
#include "journal.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
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

/* A commit mark as sn_receiver_mark() makes (common/transport_kmeta.c,
 * "SNK1"): magic, partition count, token, then (partition, offset) each. */
static size_t
s_mark(uint8_t m[28], uint64_t token)
{
    uint32_t magic = 0x314b4e53u, n = 1;
    int32_t partition = 0;
    int64_t offset = 5;
    memcpy(m, &magic, 4);
    memcpy(m + 4, &n, 4);
    memcpy(m + 8, &token, 8);
    memcpy(m + 16, &partition, 4);
    memcpy(m + 20, &offset, 8);
    return 28;
}

static rd_kafka_t *s_owner;             /* holds the mock cluster */
static rd_kafka_mock_cluster_t *s_mock; /* one mock broker */

/* A Kafka receiver of group "analyzers" on a mock cluster that never had
 * a commit (s_mock_end() ends the cluster). */
static sn_receiver_t *
s_receiver(void)
{
    char msg[256];
    s_owner =
        rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), msg, sizeof msg);
    ck_assert_ptr_nonnull(s_owner);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(s_owner, 1);
    ck_assert_ptr_nonnull(mc);
    s_mock = mc;
    ck_assert_int_eq(rd_kafka_mock_topic_create(mc, "events", 2, 1),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    sn_transport_opts_t o;
    sn_transport_opts_init(&o);
    o.kind = SN_TRANSPORT_KAFKA;
    o.endpoint = rd_kafka_mock_cluster_bootstraps(mc);
    o.topic = "events";
    o.group = "analyzers";
    sn_receiver_t *rx = NULL;
    ck_assert_int_eq(sn_receiver_new(&o, &rx, NULL), SN_OK);
    return rx;
}

static void
s_mock_end(sn_receiver_t **rx)
{
    sn_receiver_destroy(rx);
    rd_kafka_mock_cluster_destroy(s_mock);
    rd_kafka_destroy(s_owner);
}

START_TEST(test_handoff_lost_waits_for_the_drop)
{
    uint8_t mark[28];
    size_t n_mark = s_mark(mark, 0x1234abcd5678ef00ull);
    ana_journal_t *j = s_writer();
    ck_assert_int_eq(
        ana_handoff_write(j, mark, n_mark, 100, 102, "kafka-1", 7, "", 0, NULL),
        SN_OK);
    ana_journal_destroy(&j);
    sn_receiver_t *rx = s_receiver();
    /* The group never had the commit: to drop, but nothing is written
     * until the caller has repaired; a kill then (no drop) asks again. */
    for (int start = 0; start < 2; start++) {
        seen_t seen = {0};
        ana_handoff_t *h = s_read(&seen, &j);
        ck_assert(ana_handoff_held(h));
        ck_assert_int_eq(ana_handoff_resolve(h, rx, j, NULL), 1);
        sn_day_t first = 0, last = 0;
        ck_assert(ana_handoff_dropped_days(h, &first, &last));
        ck_assert_int_eq(first, 100);
        ck_assert_int_eq(last, 102);
        ck_assert(ana_handoff_held(h));
        if (start == 1) {
            ck_assert_int_eq(ana_handoff_drop(h, j, NULL), SN_OK);
            ck_assert(!ana_handoff_held(h));
        }
        ck_assert_int_eq(seen.n, 0);
        ana_handoff_destroy(&h);
        ana_journal_destroy(&j);
    }
    seen_t seen = {0};
    ana_handoff_t *h = s_read(&seen, &j);
    ck_assert(!ana_handoff_held(h)); /* the drop is durable */
    ck_assert_int_eq(seen.n, 0);
    ck_assert_int_eq(ana_handoff_resolve(h, rx, j, NULL), 0);
    ana_handoff_destroy(&h);
    ana_journal_destroy(&j);
    s_mock_end(&rx);
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
    ck_assert_int_eq(ana_handoff_drop(h, j, &err), SN_ESTATE);
    ck_assert_str_eq(err.msg, "journal: no checkpoint found lost to drop");
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
    TCase *kafka = tcase_create("kafka");
    tcase_add_checked_fixture(kafka, s_setup, s_teardown);
    tcase_set_timeout(kafka, 60);
    tcase_add_test(kafka, test_handoff_lost_waits_for_the_drop);
    suite_add_tcase(s, kafka);
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
