/*  tests/analyzer/test_limits.c - a hostile site cannot grow the analyzer
 *
 *  The new-series limit (analyzer.max_new_series_per_site_day): every new
 *  (condition, region, source, site) allocates a leaf and windows, so each
 *  sender may open only so many per day. Events past the limit are
 *  dead-lettered with the reason; known series keep counting, other senders
 *  keep their own quota, and the next day the quota is fresh. Over Kafka
 *  (librdkafka's mock cluster, hosted here) the same limits hold: a message
 *  larger than max_message is skipped and committed, a poll hands over at
 *  most max_batch_records records, and a real `sentinel analyze` consuming
 *  the topic refuses new series past the quota of the producing sender.
 */
#include "ana_config.h"
#include "ingest.h"
#include "series.h"

#include "sentinel/event.h"
#include "sentinel/mem.h"
#include "sentinel/spool.h"
#include "sentinel/transport.h"
#include "support.h"

#include <check.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DAY_MS 86400000LL

/* One pipeline from a YAML text, with its dead letter in a temp folder. */
typedef struct s_env {
    char *dir;        /* temporary folder */
    sn_config_t *cfg; /* loaded file */
    ana_config_t c;   /* read configuration */
    ana_ingest_t *in; /* the pipeline */
    sn_time_t now;    /* wall clock given to ingest */
    uint64_t seq;     /* next transport sequence */
} s_env_t;

static void
s_open(s_env_t *e, const char *analyzer_extra)
{
    memset(e, 0, sizeof *e);
    e->dir = ts_tmpdir();
    char *yaml = sn_strdup_printf("analyzer:\n  state_dir: %s/state\n"
                                  "  wall_clock: false\n%s"
                                  "series:\n  - {condition: ili}\n",
                                  e->dir, analyzer_extra);
    char *path = ts_write_file(e->dir, "sentinel.yaml", yaml);
    sn_err_t err;
    ck_assert_msg(sn_config_load(path, ana_config_schema, &e->cfg, &err) ==
                      SN_OK,
                  "%s", err.msg);
    ck_assert_int_eq(ana_config_read(e->cfg, &e->c, &err), SN_OK);
    ck_assert_int_eq(ana_ingest_new(&e->c, NULL, &e->in, &err), SN_OK);
    char *dl = sn_strdup_printf("%s/dead.jsonl", e->dir);
    ck_assert_int_eq(ana_ingest_dead_letter(e->in, dl, &err), SN_OK);
    e->now = (sn_time_t)sn_day_from_ymd(2026, 3, 2) * DAY_MS + 12 * 3600000;
    free(dl);
    free(path);
    free(yaml);
}

static void
s_close(s_env_t *e)
{
    ana_ingest_destroy(&e->in);
    ana_config_fini(&e->c);
    sn_config_destroy(&e->cfg);
    ts_rmtree(e->dir);
    free(e->dir);
}

/* Send one ILI event of `site` in `region` as sender `sender`.
 * @return what ana_ingest_record() returned. */
static int
s_send(s_env_t *e, const char *sender, const char *site, const char *region)
{
    sn_event_t ev;
    sn_event_init(&ev);
    snprintf(ev.event_id, sizeof ev.event_id, "e%" PRIu64, e->seq);
    snprintf(ev.site_id, sizeof ev.site_id, "%s", site);
    snprintf(ev.region, sizeof ev.region, "%s", region);
    strcpy(ev.condition, "ili");
    ev.source = SN_SOURCE_HOSPITAL;
    ev.report_time = e->now - 3600000;
    uint8_t buf[512];
    int n = sn_event_encode(&ev, buf, sizeof buf);
    ck_assert_int_gt(n, 0);
    sn_err_t err;
    return ana_ingest_record(e->in, buf, (size_t)n, sender, ++e->seq, e->now,
                             &err);
}

static char *
s_dead_letter(const s_env_t *e)
{
    char *dl = sn_strdup_printf("%s/dead.jsonl", e->dir);
    char *text = ts_read_file(dl, NULL);
    free(dl);
    return text;
}

START_TEST(test_limits_new_series_per_sender_day)
{
    s_env_t e;
    s_open(&e, "  max_new_series_per_site_day: 3\n");
    const char *regions[] = {"330101", "330102", "330103", "330104", "330105"};
    for (int i = 0; i < 5; i++) {
        int rc = s_send(&e, "site-x", "site-x", regions[i]);
        ck_assert_int_eq(rc < 0, i >= 3);
    }
    /* Known series still count; the refused ones opened nothing. */
    ck_assert_int_ge(s_send(&e, "site-x", "site-x", "330101"), 0);
    ck_assert_uint_eq(ana_series_leaves(ana_ingest_series(e.in)), 3);
    ck_assert_uint_eq(ana_ingest_stats(e.in)->rejected, 2);
    char *text = s_dead_letter(&e);
    ck_assert_ptr_nonnull(strstr(text, "\"sender\":\"site-x\""));
    ck_assert_ptr_nonnull(strstr(text, "reached its limit of 3 new series "
                                       "today "
                                       "(analyzer.max_new_series_per_site_"
                                       "day)"));
    free(text);
    s_close(&e);
}
END_TEST

START_TEST(test_limits_quota_is_per_sender_and_day)
{
    s_env_t e;
    s_open(&e, "  max_new_series_per_site_day: 2\n");
    ck_assert_int_ge(s_send(&e, "a", "a", "330101"), 0);
    ck_assert_int_ge(s_send(&e, "a", "a", "330102"), 0);
    ck_assert_int_lt(s_send(&e, "a", "a", "330103"), 0);
    /* A site code made up per event does not escape the sender's quota. */
    ck_assert_int_lt(s_send(&e, "a", "forged-1", "330101"), 0);
    ck_assert_int_ge(s_send(&e, "b", "b", "330103"), 0);
    e.now += DAY_MS;
    ck_assert_int_ge(s_send(&e, "a", "a", "330103"), 0);
    ck_assert_uint_eq(ana_series_leaves(ana_ingest_series(e.in)), 4);
    s_close(&e);
}
END_TEST

START_TEST(test_limits_default_and_range)
{
    s_env_t e;
    s_open(&e, "");
    ck_assert_uint_eq(e.c.max_new_series, ANA_MAX_NEW_SERIES_DEFAULT);
    s_close(&e);
    char *dir = ts_tmpdir();
    char *path = ts_write_file(dir, "bad.yaml",
                               "analyzer:\n  state_dir: x\n"
                               "  max_new_series_per_site_day: 0\n");
    sn_config_t *cfg = NULL;
    sn_err_t err;
    ck_assert_int_eq(sn_config_load(path, ana_config_schema, &cfg, &err),
                     SN_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "bad.yaml:3:"));
    ck_assert_ptr_nonnull(strstr(err.msg, "max_new_series_per_site_day"));
    ts_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* ---- Kafka ------------------------------------------------------------ */

/* A mock cluster with a two-partition topic "events", and a site that
 * produces spooled records to it. */
typedef struct s_kafka {
    rd_kafka_t *owner;                /* holds the mock cluster */
    rd_kafka_mock_cluster_t *cluster; /* one mock broker */
    const char *brokers;              /* its bootstrap list */
    char *dir;                        /* temporary folder */
    sn_spool_t *spool;                /* the site's outbox */
    sn_sender_t *tx;                  /* producing it as "site-h" */
} s_kafka_t;

/* Every message goes under one key, so one partition keeps their order. */
static int
s_kafka_key(const uint8_t *data, size_t len, char *key, size_t size, void *arg)
{
    (void)data;
    (void)len;
    (void)arg;
    snprintf(key, size, "3301");
    return SN_OK;
}

static void
s_kafka_open(s_kafka_t *k)
{
    memset(k, 0, sizeof *k);
    k->dir = ts_tmpdir();
    char msg[256];
    k->owner =
        rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), msg, sizeof msg);
    ck_assert_ptr_nonnull(k->owner);
    k->cluster = rd_kafka_mock_cluster_new(k->owner, 1);
    k->brokers = rd_kafka_mock_cluster_bootstraps(k->cluster);
    ck_assert_int_eq(rd_kafka_mock_topic_create(k->cluster, "events", 2, 1),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    sn_spool_opts_t so;
    sn_spool_opts_init(&so);
    char *sdir = sn_strdup_printf("%s/spool", k->dir);
    so.dir = sdir;
    so.fsync = SN_SPOOL_FSYNC_NEVER;
    ck_assert_int_eq(sn_spool_open(&so, &k->spool, NULL), SN_OK);
    free(sdir);
    sn_transport_opts_t to;
    sn_transport_opts_init(&to);
    to.kind = SN_TRANSPORT_KAFKA;
    to.endpoint = k->brokers;
    to.topic = "events";
    to.sender_id = "site-h";
    sn_err_t err;
    ck_assert_msg(
        sn_sender_new(&to, k->spool, s_kafka_key, NULL, &k->tx, &err) == SN_OK,
        "%s", err.msg);
}

static void
s_kafka_close(s_kafka_t *k)
{
    sn_sender_destroy(&k->tx);
    sn_spool_destroy(&k->spool);
    rd_kafka_mock_cluster_destroy(k->cluster);
    rd_kafka_destroy(k->owner);
    ts_rmtree(k->dir);
    free(k->dir);
}

/* Spool `len` bytes and produce everything spooled. */
static void
s_kafka_put(s_kafka_t *k, const void *data, size_t len)
{
    ck_assert_int_eq(sn_spool_append(k->spool, data, len, NULL, NULL), SN_OK);
    ck_assert_int_eq(sn_spool_flush(k->spool, NULL), SN_OK);
    for (int t = 0; t < 400 && !sn_sender_drained(k->tx); t++) {
        ck_assert_int_eq(sn_sender_poll(k->tx, 50, NULL), SN_OK);
    }
    ck_assert(sn_sender_drained(k->tx));
}

/* Produce an ILI event `id` of site-h in `region` on `day`. */
static void
s_kafka_event(s_kafka_t *k, const char *id, const char *region, sn_day_t day)
{
    sn_event_t ev;
    sn_event_init(&ev);
    snprintf(ev.event_id, sizeof ev.event_id, "%s", id);
    strcpy(ev.site_id, "site-h");
    snprintf(ev.region, sizeof ev.region, "%s", region);
    strcpy(ev.condition, "ili");
    ev.source = SN_SOURCE_HOSPITAL;
    ev.report_time = (sn_time_t)day * DAY_MS + 3600000;
    uint8_t buf[512];
    int n = sn_event_encode(&ev, buf, sizeof buf);
    ck_assert_int_gt(n, 0);
    s_kafka_put(k, buf, (size_t)n);
}

static int
s_count_rec(const sn_record_t *rec, void *arg)
{
    (void)rec;
    (*(int *)arg)++;
    return SN_OK;
}

START_TEST(test_limits_kafka_message_and_poll_limits)
{
    s_kafka_t k;
    s_kafka_open(&k);
    char big[2000];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 25; i++) {
        s_kafka_put(&k, i == 7 ? big : "small", i == 7 ? sizeof big : 5);
    }
    sn_transport_opts_t o;
    sn_transport_opts_init(&o);
    o.kind = SN_TRANSPORT_KAFKA;
    o.endpoint = k.brokers;
    o.topic = "events";
    o.group = "limits";
    o.max_message = 1024;
    o.max_batch_records = 10;
    sn_receiver_t *rx = NULL;
    ck_assert_int_eq(sn_receiver_new(&o, &rx, NULL), SN_OK);
    int seen = 0;
    for (int t = 0; t < 300 && seen < 24; t++) {
        int before = seen;
        int n = sn_receiver_poll(rx, 50, s_count_rec, &seen, NULL);
        ck_assert_int_ge(n, 0);
        ck_assert_int_le(n, 10); /* at most max_batch_records per poll */
        ck_assert_int_eq(seen - before, n);
    }
    ck_assert_int_eq(seen, 24); /* the 2000-byte message is not handed over */
    ck_assert_int_eq(sn_receiver_commit(rx, NULL), SN_OK);
    sn_receiver_destroy(&rx);
    ck_assert_int_eq(sn_receiver_new(&o, &rx, NULL), SN_OK);
    int again = 0; /* all committed, the refused one too */
    for (int t = 0; t < 40; t++) {
        sn_receiver_poll(rx, 50, s_count_rec, &again, NULL);
    }
    ck_assert_int_eq(again, 0);
    sn_receiver_destroy(&rx);
    s_kafka_close(&k);
}
END_TEST

/* @return true when group "analyzers" has committed every message. */
static bool
s_kafka_committed(const s_kafka_t *k)
{
    char msg[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", k->brokers, msg, sizeof msg);
    rd_kafka_conf_set(conf, "group.id", "analyzers", msg, sizeof msg);
    rd_kafka_t *w = rd_kafka_new(RD_KAFKA_CONSUMER, conf, msg, sizeof msg);
    ck_assert_ptr_nonnull(w);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(l, "events", 0);
    rd_kafka_topic_partition_list_add(l, "events", 1);
    bool done = rd_kafka_committed(w, l, 5000) == 0;
    for (int i = 0; done && i < 2; i++) {
        int64_t lo = 0, hi = 0;
        done = rd_kafka_query_watermark_offsets(w, "events", i, &lo, &hi,
                                                5000) == 0 &&
               (hi == 0 || l->elems[i].offset == hi);
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(w);
    return done;
}

/* Run `sentinel analyze` on the topic until the group has committed every
 * message, then stop it; @return its log. */
static char *
s_kafka_analyze(const s_kafka_t *k, const char *cfg)
{
    char *log = sn_strdup_printf("%s/analyze.log", k->dir);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (freopen(log, "w", stderr) == NULL) {
            _exit(126);
        }
        execl(ts_sentinel_bin(), "sentinel", "analyze", "-c", cfg,
              "--log-level", "info", (char *)NULL);
        _exit(127);
    }
    bool done = false;
    for (int t = 0; t < 300 && !done; t++) {
        usleep(200000);
        done = s_kafka_committed(k);
    }
    ck_assert_msg(done, "the analyzer did not commit every message");
    int st = 0;
    kill(pid, SIGTERM);
    waitpid(pid, &st, 0);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    char *text = ts_read_file(log, NULL);
    free(log);
    return text;
}

START_TEST(test_limits_kafka_path_quota_and_size)
{
    s_kafka_t k;
    s_kafka_open(&k);
    sn_day_t d = sn_time_day(sn_time_now()) - 2;
    const char *regions[] = {"330101", "330102", "330103", "330104"};
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof id, "k-%d", i);
        s_kafka_event(&k, id, regions[i], d);
    }
    char big[1500];
    memset(big, 'x', sizeof big);
    s_kafka_put(&k, big, sizeof big);
    s_kafka_event(&k, "k-last", "330101", d); /* a known series */
    char *yaml = sn_strdup_printf(
        "analyzer:\n  state_dir: %s/state\n  wall_clock: false\n"
        "  max_new_series_per_site_day: 2\n"
        "transport: {kind: kafka, endpoint: \"%s\", topic: events,\n"
        "            group: analyzers, max_message: 1024}\n"
        "series:\n  - {condition: ili}\n",
        k.dir, k.brokers);
    char *cfg = ts_write_file(k.dir, "sentinel.yaml", yaml);
    char *log = s_kafka_analyze(&k, cfg);
    ck_assert_msg(strstr(log, "message of 1500 bytes is larger than "
                              "max_message 1024") != NULL,
                  "%s", log);
    ck_assert_msg(strstr(log, "counted=3 ") != NULL, "%s", log);
    char *dl = sn_strdup_printf("%s/state/dead-letter.jsonl", k.dir);
    char *dead = ts_read_file(dl, NULL);
    ck_assert_ptr_nonnull(dead);
    ck_assert_ptr_nonnull(strstr(dead, "sender 'site-h' reached its limit of "
                                       "2 new series today"));
    ck_assert_ptr_nonnull(strstr(dead, "k-3"));
    free(dead);
    free(dl);
    free(log);
    free(cfg);
    free(yaml);
    s_kafka_close(&k);
}
END_TEST

static Suite *
limits_suite(void)
{
    Suite *s = suite_create("limits");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 30);
    tcase_add_test(usage, test_limits_new_series_per_sender_day);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 120);
    tcase_add_test(edges, test_limits_quota_is_per_sender_and_day);
    tcase_add_test(edges, test_limits_kafka_message_and_poll_limits);
    tcase_add_test(edges, test_limits_kafka_path_quota_and_size);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 30);
    tcase_add_test(errors, test_limits_default_and_range);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(limits_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
