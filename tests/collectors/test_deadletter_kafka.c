/*  tests/collectors/test_deadletter_kafka.c - dead letters on a Kafka topic
 *
 *  Against librdkafka's mock cluster: a dead-letter writer with a topic
 *  puts the line of its file on the topic, keyed by the site, without the
 *  record's raw bytes (they stay at the site); the
 *  collector's configuration names the topic (by default after the
 *  transport's); a topic that cannot be reached makes the flush give up in
 *  its bound and say how many copies are missing.
 */
#include "col_config.h"
#include "deadletter.h"
#include "deadletter_kafka.h"
#include "feed_json.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>
#include <string.h>

#define T_NOW ((sn_time_t)sn_day_from_ymd(2026, 11, 25) * 86400000LL)
#define T_TOPIC "events.dead-letter"

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
    ck_assert_int_eq(rd_kafka_mock_topic_create(s_cluster, T_TOPIC, 1, 1),
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

/* Read the first message of partition 0 of T_TOPIC (at most 10 s):
 * "<key>|<value>". Caller owns the result. */
static char *
s_consume_first(void)
{
    char msg[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", s_brokers, msg, sizeof msg);
    rd_kafka_conf_set(conf, "group.id", "t", msg, sizeof msg);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, msg, sizeof msg);
    ck_assert_msg(rk != NULL, "consumer: %s", msg);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, T_TOPIC, 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    ck_assert_int_eq(rd_kafka_assign(rk, l), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(l);
    char *out = NULL;
    for (int i = 0; i < 100 && out == NULL; i++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m != NULL && m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            out = sn_strdup_printf("%.*s|%.*s", (int)m->key_len,
                                   (const char *)m->key, (int)m->len,
                                   (const char *)m->payload);
        }
        if (m != NULL) {
            rd_kafka_message_destroy(m);
        }
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    ck_assert_msg(out != NULL, "nothing on the dead-letter topic");
    return out;
}

/* Dead-letter the second record of a JSON lines input through `dl`. */
static void
s_reject_one(col_deadletter_t *dl)
{
    col_feed_t *feed = col_feed_json_new("cases.jsonl", NULL, 0);
    const char *in = "{\"event_id\":\"e1\"}\nnot json\n";
    col_feed_push(feed, in, strlen(in));
    col_feed_end(feed);
    col_record_t rec;
    sn_err_t err;
    while (col_feed_next(feed, &rec) > 0) {
        if (rec.err.code != SN_OK) {
            ck_assert_int_eq(col_deadletter_write(dl, &rec, T_NOW, &err),
                             SN_OK);
        }
    }
    col_feed_destroy(&feed);
}

START_TEST(test_deadletter_kafka_usage)
{
    char *path = sn_strdup_printf("%s/dead.jsonl", s_dir);
    sn_err_t err;
    col_deadletter_t *dl =
        col_deadletter_new(path, COL_DL_FSYNC_ALWAYS, 0, &err);
    col_deadletter_kafka_t *k =
        col_deadletter_kafka_new(s_brokers, T_TOPIC, "S1", &err);
    ck_assert_ptr_nonnull(k);
    col_deadletter_set_topic(dl, &k);
    ck_assert_ptr_null(k);
    ck_assert_str_eq(col_deadletter_topic(dl), T_TOPIC);
    s_reject_one(dl);
    ck_assert_int_eq(col_deadletter_flush_topic(dl, 10000, &err), SN_OK);
    ck_assert_int_eq(col_deadletter_poll_topic(dl, &err), SN_OK);
    col_deadletter_destroy(&dl);
    /* The topic has the file's line up to its raw bytes, keyed by site;
     * the raw record ("not json") stays in the file at the site. */
    char *text = ts_read_file(path, NULL);
    char *got = s_consume_first();
    size_t head = (size_t)(strstr(text, ",\"raw\":") - text);
    char *want = sn_strdup_printf(
        "S1|%.*s,\"raw_len\":8,\"raw\":\"kept at the site\"}", (int)head, text);
    ck_assert_str_eq(got, want);
    ck_assert_ptr_nonnull(strstr(got, "\"position\":2"));
    ck_assert_ptr_nonnull(strstr(got, "\"reason\":\""));
    ck_assert_ptr_null(strstr(got, "not json"));
    ck_assert_ptr_nonnull(strstr(text, "not json"));
    free(want);
    free(got);
    free(text);
    free(path);
}
END_TEST

/* Load a collector configuration with this transport and dead_letter. */
static sn_config_t *
s_config(const char *transport, const char *dead_letter)
{
    char *yaml = sn_strdup_printf("site: {id: \"S1\", region: \"110105\"}\n"
                                  "dead_letter: {path: \"%s/dead.jsonl\"%s}\n"
                                  "spool: {dir: \"%s/spool\"}\n"
                                  "transport: {%s}\n",
                                  s_dir, dead_letter, s_dir, transport);
    char *path = ts_write_file(s_dir, "collector.yaml", yaml);
    sn_config_t *cfg = NULL;
    sn_err_t err;
    ck_assert_msg(sn_config_load(path, col_config_schema, &cfg, &err) == SN_OK,
                  "%s", err.msg);
    free(path);
    free(yaml);
    return cfg;
}

START_TEST(test_deadletter_kafka_config)
{
    char *kafka = sn_strdup_printf("kind: kafka, endpoint: \"%s\", "
                                   "topic: events",
                                   s_brokers);
    sn_config_t *cfg = s_config(kafka, "");
    sn_err_t err;
    col_deadletter_t *dl = col_deadletter_from_config(cfg, &err);
    ck_assert_ptr_nonnull(dl);
    ck_assert_str_eq(col_deadletter_topic(dl), T_TOPIC);
    s_reject_one(dl);
    ck_assert_int_eq(col_deadletter_flush_topic(dl, 10000, &err), SN_OK);
    col_deadletter_destroy(&dl);
    free(s_consume_first());
    sn_config_destroy(&cfg);
    /* dead_letter.topic names it; ZeroMQ has none. */
    cfg = s_config(kafka, ", topic: rejected");
    dl = col_deadletter_from_config(cfg, &err);
    ck_assert_str_eq(col_deadletter_topic(dl), "rejected");
    col_deadletter_destroy(&dl);
    sn_config_destroy(&cfg);
    cfg = s_config("endpoint: \"ipc:///nonexistent\", curve: false", "");
    dl = col_deadletter_from_config(cfg, &err);
    ck_assert_ptr_null(col_deadletter_topic(dl));
    ck_assert_int_eq(col_deadletter_flush_topic(dl, 10, &err), SN_OK);
    col_deadletter_destroy(&dl);
    sn_config_destroy(&cfg);
    free(kafka);
}
END_TEST

START_TEST(test_deadletter_kafka_unreachable)
{
    sn_err_t err;
    col_deadletter_kafka_t *k =
        col_deadletter_kafka_new("127.0.0.1:1", "dl", "S1", &err);
    ck_assert_ptr_nonnull(k);
    col_deadletter_kafka_send(k, "{\"reason\":\"x\"}", 14);
    ck_assert_int_eq(col_deadletter_kafka_flush(k, 200, &err), SN_ETIMEDOUT);
    ck_assert_str_eq(err.msg, "1 dead letter(s) not delivered to topic 'dl' "
                              "within 200 ms");
    ck_assert_uint_eq(col_deadletter_kafka_delivered(k), 0);
    col_deadletter_kafka_destroy(&k);
    col_deadletter_kafka_destroy(&k); /* safe twice */
}
END_TEST

static Suite *
deadletter_kafka_suite(void)
{
    Suite *s = suite_create("deadletter_kafka");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 60);
    tcase_add_test(usage, test_deadletter_kafka_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 60);
    tcase_add_test(edges, test_deadletter_kafka_config);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 60);
    tcase_add_test(errors, test_deadletter_kafka_unreachable);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(deadletter_kafka_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
