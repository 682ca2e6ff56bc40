/*  tests/e2e/test_collect_kafka.c - `sentinel collect` over Kafka
 *
 *  The real binary against librdkafka's mock cluster (hosted by this test
 *  process): a record the collector rejects goes to the dead-letter file
 *  and, because the transport is Kafka, to the dead-letter topic keyed by
 *  the site, with its reason and without the personal identifier that got
 *  it rejected. The input holds no good record, so the collector has
 *  nothing to wait for on its main topic: the copy is on the topic only
 *  because `sentinel collect` waits for it before it exits.
 */
#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *s_dir;
static rd_kafka_t *s_owner;                /* holds the mock cluster */
static rd_kafka_mock_cluster_t *s_cluster; /* one mock broker */
static const char *s_brokers;              /* its bootstrap list */

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    char msg[256];
    s_owner =
        rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), msg, sizeof msg);
    ck_assert_msg(s_owner != NULL, "rd_kafka_new: %s", msg);
    s_cluster = rd_kafka_mock_cluster_new(s_owner, 1);
    ck_assert_ptr_nonnull(s_cluster);
    s_brokers = rd_kafka_mock_cluster_bootstraps(s_cluster);
    ck_assert_int_eq(rd_kafka_mock_topic_create(s_cluster, "events", 2, 1),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_int_eq(
        rd_kafka_mock_topic_create(s_cluster, "events.dead-letter", 1, 1),
        RD_KAFKA_RESP_ERR_NO_ERROR);
}

static void
s_teardown(void)
{
    rd_kafka_mock_cluster_destroy(s_cluster);
    rd_kafka_destroy(s_owner);
    ts_rmtree(s_dir);
    free(s_dir);
}

/* @return the path of a collector configuration over the mock cluster. */
static char *
s_write_config(void)
{
    char *yaml = sn_strdup_printf(
        "site: {id: \"S1\", source: fever_clinic, region: \"110105\"}\n"
        "dead_letter: {path: \"%s/dead.jsonl\"}\n"
        "log: {level: info}\n"
        "spool: {dir: \"%s/spool\"}\n"
        "transport: {kind: kafka, endpoint: \"%s\", topic: events}\n",
        s_dir, s_dir, s_brokers);
    char *path = ts_write_file(s_dir, "collector.yaml", yaml);
    free(yaml);
    return path;
}

/* @return the messages of partition 0 of `topic` read within 5 s, one
 * "<key>|<value>\n" each. Caller owns the result. */
static char *
s_consume(const char *topic)
{
    char msg[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", s_brokers, msg, sizeof msg);
    rd_kafka_conf_set(conf, "group.id", "t", msg, sizeof msg);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, msg, sizeof msg);
    ck_assert_msg(rk != NULL, "consumer: %s", msg);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    char *out = sn_strdup("");
    for (int i = 0; i < 50; i++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m != NULL && m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            char *more = sn_strdup_printf("%s%.*s|%.*s\n", out, (int)m->key_len,
                                          (const char *)m->key, (int)m->len,
                                          (const char *)m->payload);
            free(out);
            out = more;
        }
        if (m != NULL) {
            rd_kafka_message_destroy(m);
        }
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return out;
}

START_TEST(test_collect_kafka_dead_letter_topic)
{
    char *conf = s_write_config();
    char *in = ts_write_file(s_dir, "bad.jsonl",
                             "{\"event_id\":\"x2\",\"condition\":\"ILI\","
                             "\"report_time\":\"2026-11-20T08:00:00Z\","
                             "\"id_number\":\"110105199001011234\"}\n");
    ts_run_t r = ts_sentinel(NULL, 60, "collect", "-c", conf, in, NULL);
    ck_assert_msg(r.status == 3, "exit %d: %s", r.status, r.err);
    ck_assert_ptr_null(strstr(r.err, "dead_letter_topic"));
    ts_run_free(&r);
    char *got = s_consume("events.dead-letter");
    char *dl = sn_strdup_printf("%s/dead.jsonl", s_dir);
    char *line = ts_read_file(dl, NULL);
    /* The file's own line, up to the raw bytes, which stay at the site. */
    size_t head = (size_t)(strstr(line, ",\"raw\":") - line);
    char *want = sn_strdup_printf(
        "S1|%.*s,\"raw_len\":105,\"raw\":\"kept at the site\"}\n", (int)head,
        line);
    ck_assert_str_eq(got, want);
    ck_assert_ptr_nonnull(strstr(got, "\"reason\":\"field 'id_number': "
                                      "personal identifiers"));
    ck_assert_ptr_null(strstr(got, "199001011234"));
    free(want);
    free(line);
    free(dl);
    free(got);
    free(in);
    free(conf);
}
END_TEST

START_TEST(test_collect_kafka_dead_letter_unreachable)
{
    /* No broker answers: the collector says so, and the file has it. */
    char *yaml = sn_strdup_printf(
        "site: {id: \"S1\", source: fever_clinic, region: \"110105\"}\n"
        "dead_letter: {path: \"%s/dead.jsonl\", topic: rejected}\n"
        "spool: {dir: \"%s/spool\"}\n"
        "transport: {kind: kafka, endpoint: \"127.0.0.1:1\", topic: e}\n",
        s_dir, s_dir);
    char *conf = ts_write_file(s_dir, "collector.yaml", yaml);
    char *in = ts_write_file(s_dir, "bad.jsonl", "not json\n");
    ts_run_t r = ts_sentinel(NULL, 60, "collect", "-c", conf, in, NULL);
    ck_assert_msg(r.status == 3, "exit %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(
        strstr(r.err, "1 dead letter(s) not delivered to topic 'rejected' "
                      "within 10000 ms"));
    ts_run_free(&r);
    char *dl = sn_strdup_printf("%s/dead.jsonl", s_dir);
    char *line = ts_read_file(dl, NULL);
    ck_assert_ptr_nonnull(strstr(line, "\"source\":\""));
    free(line);
    free(dl);
    free(in);
    free(conf);
    free(yaml);
}
END_TEST

static Suite *
collect_kafka_suite(void)
{
    Suite *s = suite_create("collect_kafka");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 120);
    tcase_add_test(usage, test_collect_kafka_dead_letter_topic);
    suite_add_tcase(s, usage);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 120);
    tcase_add_test(errors, test_collect_kafka_dead_letter_unreachable);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(collect_kafka_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
