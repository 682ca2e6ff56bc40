/*  tests/e2e/test_kafka_group.c - two analyzers in one Kafka consumer group
 *
 *  Real processes against librdkafka's mock cluster, which this test hosts
 *  (its brokers listen on loopback; the daemons connect to them as to any
 *  Kafka cluster). Two `sentinel analyze` daemons, each with its own state
 *  folder and archive, join the group "analyzers" on a four-partition topic
 *  whose events are keyed by prefecture. A first batch is split between
 *  them; during a second batch one of them is killed with SIGKILL, and the
 *  other takes over its partitions once the group declares it dead. At the
 *  end the two durable states together hold every case exactly once: the
 *  killed one's last checkpoint (its offsets were committed with it) and
 *  the survivor's everything after.
 *
 *  The second case kills one at the worst moment, deterministically: the
 *  analyzer's test hook (SENTINEL_TEST_EXIT_BEFORE_COMMIT, compiled with
 *  SENTINEL_TEST_HOOKS) ends it right after a Kafka checkpoint is written
 *  as pending and before its offsets are committed. The survivor re-reads
 *  those events from the older committed offsets; the killed one, started
 *  again, asks the group, learns that its commit never landed, drops the
 *  pending checkpoint and puts the archive days it wrote back. Then the
 *  states add up to the events sent, and each archive holds exactly its
 *  state's closed days.
 */
#define _GNU_SOURCE /* pipe2 */
#include "ana_config.h"
#include "archive_read.h"
#include "ingest.h"

#include "sentinel/event.h"
#include "sentinel/mem.h"
#include "sentinel/spool.h"
#include "sentinel/transport.h"
#include "support.h"

#include <check.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_PART 4
#define N_FIRST 3000
#define N_SECOND 20000
#define N_PREFECTURES 8

/* The test's cluster, folder and daemons. */
typedef struct env {
    rd_kafka_t *owner;                /* holds the mock cluster */
    rd_kafka_mock_cluster_t *cluster; /* three mock brokers */
    const char *brokers;              /* their bootstrap list */
    rd_kafka_t *watch;                /* reads the group's offsets */
    char *dir;                        /* temporary folder */
    sn_spool_t *spool;                /* the site's outbox */
    sn_sender_t *tx;                  /* producing it */
    uint64_t events;                  /* events spooled */
} env_t;

static void
s_cluster(env_t *e)
{
    char msg[256];
    e->owner =
        rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), msg, sizeof msg);
    ck_assert_msg(e->owner != NULL, "rd_kafka_new: %s", msg);
    e->cluster = rd_kafka_mock_cluster_new(e->owner, 3);
    ck_assert_ptr_nonnull(e->cluster);
    e->brokers = rd_kafka_mock_cluster_bootstraps(e->cluster);
    ck_assert_int_eq(
        rd_kafka_mock_topic_create(e->cluster, "events", N_PART, 3),
        RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", e->brokers, msg, sizeof msg);
    rd_kafka_conf_set(conf, "group.id", "analyzers", msg, sizeof msg);
    e->watch = rd_kafka_new(RD_KAFKA_CONSUMER, conf, msg, sizeof msg);
    ck_assert_msg(e->watch != NULL, "watch: %s", msg);
}

/* The message key: the prefecture (4-digit prefix) of the event's region,
 * as collectors key them. */
static int
s_key(const uint8_t *data, size_t len, char *key, size_t size, void *arg)
{
    (void)arg;
    sn_event_t ev;
    int rc = sn_event_decode(data, len, &ev, NULL);
    if (rc == SN_OK) {
        snprintf(key, size, "%.4s", ev.region);
    }
    return rc;
}

static void
s_site(env_t *e)
{
    sn_spool_opts_t so;
    sn_spool_opts_init(&so);
    char *dir = sn_strdup_printf("%s/site-spool", e->dir);
    so.dir = dir;
    so.fsync = SN_SPOOL_FSYNC_NEVER;
    sn_err_t err;
    ck_assert_msg(sn_spool_open(&so, &e->spool, &err) == SN_OK, "%s", err.msg);
    free(dir);
    sn_transport_opts_t to;
    sn_transport_opts_init(&to);
    to.kind = SN_TRANSPORT_KAFKA;
    to.endpoint = e->brokers;
    to.topic = "events";
    to.sender_id = "site-k";
    ck_assert_msg(sn_sender_new(&to, e->spool, s_key, NULL, &e->tx, &err) ==
                      SN_OK,
                  "%s", err.msg);
}

/* Spool and produce `n` ILI cases, one per event, over 40 days and
 * N_PREFECTURES prefectures, days in order. */
static void
s_produce(env_t *e, uint64_t n, sn_day_t d0)
{
    for (uint64_t i = 0; i < n; i++) {
        sn_event_t ev;
        sn_event_init(&ev);
        uint64_t k = e->events++;
        snprintf(ev.event_id, sizeof ev.event_id, "ev-%llu",
                 (unsigned long long)k);
        strcpy(ev.site_id, "site-k");
        snprintf(ev.region, sizeof ev.region, "44%02d%02d",
                 (int)(k % N_PREFECTURES) + 1, (int)(k % 3) + 1);
        strcpy(ev.condition, "ili");
        ev.source = SN_SOURCE_FEVER_CLINIC;
        sn_day_t day = d0 + (sn_day_t)(i * 40 / n);
        ev.report_time = (sn_time_t)day * 86400000 + 3600000;
        uint8_t buf[512];
        int len = sn_event_encode(&ev, buf, sizeof buf);
        ck_assert_int_gt(len, 0);
        ck_assert_int_eq(
            sn_spool_append(e->spool, buf, (size_t)len, NULL, NULL), SN_OK);
    }
    ck_assert_int_eq(sn_spool_flush(e->spool, NULL), SN_OK);
    for (int t = 0; t < 1200 && !sn_sender_drained(e->tx); t++) {
        ck_assert_int_eq(sn_sender_poll(e->tx, 50, NULL), SN_OK);
    }
    ck_assert_msg(sn_sender_drained(e->tx), "the mock cluster took not all");
}

/* One analyzer's configuration; `kafka` false leaves the transport out
 * (a start that only folds the journal into the state file). */
static char *
s_config(const env_t *e, const char *name, bool kafka)
{
    char *transport =
        kafka ? sn_strdup_printf("transport: {kind: kafka, endpoint: \"%s\", "
                                 "topic: events, group: analyzers}\n",
                                 e->brokers)
              : sn_strdup("");
    char *yaml = sn_strdup_printf(
        "analyzer:\n"
        "  state_dir: %s/%s\n"
        "  checkpoint_ms: 100\n"
        "  wall_clock: false\n"
        "  window_days: 200\n"
        "  dedup_capacity: 100000\n"
        "%s"
        "archive: {path: %s/%s.h5, flush_interval: 0.5}\n"
        "series:\n"
        "  - {condition: ili, levels: [county]}\n"
        "detectors:\n"
        "  - {name: ears-c2}\n"
        "rules:\n"
        "  - {name: class-a, kind: threshold, level: red, classes: A}\n",
        e->dir, name, transport, e->dir, name);
    char *file = sn_strdup_printf("%s%s.yaml", name, kafka ? "" : "-offline");
    char *path = ts_write_file(e->dir, file, yaml);
    free(file);
    free(yaml);
    free(transport);
    return path;
}

/* Start `sentinel analyze -c CONFIG`, its log in DIR/NAME.log. Returns
 * once the child has exec'd (the close-on-exec pipe reads end-of-file), so
 * a signal sent next reaches the daemon, not the copy of this test. */
static pid_t
s_start_hook(const env_t *e, const char *name, const char *config,
             const char *exit_flag)
{
    char *log = sn_strdup_printf("%s/%s.log", e->dir, name);
    const char *bin = ts_sentinel_bin();
    int fds[2];
    ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        if (freopen(log, "a", stderr) == NULL) {
            _exit(126);
        }
        if (exit_flag != NULL) {
            setenv("SENTINEL_TEST_EXIT_BEFORE_COMMIT", exit_flag, 1);
        }
        execl(bin, "sentinel", "analyze", "-c", config, "--log-level", "info",
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char c;
    while (read(fds[0], &c, 1) > 0) {
    }
    close(fds[0]);
    free(log);
    return pid;
}

static pid_t
s_start(const env_t *e, const char *name, const char *config)
{
    return s_start_hook(e, name, config, NULL);
}

static int
s_stop(pid_t pid, int sig)
{
    int status = 0;
    kill(pid, sig);
    waitpid(pid, &status, 0);
    return status;
}

/* @return the number of partitions in the last assignment `name` logged
 * (0 when it has none, or revoked it since). */
static int
s_assigned(const env_t *e, const char *name)
{
    char *path = sn_strdup_printf("%s/%s.log", e->dir, name);
    char *log = ts_read_file(path, NULL);
    free(path);
    const char *last = NULL, *p = log;
    while (p != NULL && (p = strstr(p, "event=kafka_")) != NULL) {
        last = p++;
    }
    int n = 0;
    if (last != NULL && strncmp(last, "event=kafka_assign", 18) == 0) {
        const char *q = strstr(last, "partitions=");
        for (q = q ? q + 11 : NULL; q != NULL && *q >= '0' && *q <= '9'; q++) {
            n++;
            while (q[1] >= '0' && q[1] <= '9') {
                q++;
            }
            if (q[1] != ',') {
                break;
            }
            q++;
        }
    }
    free(log);
    return n;
}

/* @return true when the group has committed every message of the topic. */
static bool
s_all_committed(const env_t *e)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new(N_PART);
    for (int i = 0; i < N_PART; i++) {
        rd_kafka_topic_partition_list_add(l, "events", i);
    }
    bool done = rd_kafka_committed(e->watch, l, 5000) == 0;
    for (int i = 0; done && i < N_PART; i++) {
        int64_t lo = 0, hi = 0;
        done = rd_kafka_query_watermark_offsets(e->watch, "events", i, &lo, &hi,
                                                5000) == 0 &&
               (hi == 0 || l->elems[i].offset == hi);
    }
    rd_kafka_topic_partition_list_destroy(l);
    return done;
}

static bool
s_wait_all_committed(const env_t *e, int seconds)
{
    for (int t = 0; t < seconds * 5; t++) {
        if (s_all_committed(e)) {
            return true;
        }
        usleep(200000);
    }
    return false;
}

/* The cases in `name`'s state file (written at its clean stop); with
 * `closed`, only those of the days the state has closed. */
static uint64_t
s_counted_days(const env_t *e, const char *name, bool closed,
               sn_day_t *closed_day)
{
    char *cfgpath = sn_strdup_printf("%s/%s-offline.yaml", e->dir, name);
    sn_config_t *cfg = NULL;
    sn_err_t err;
    ck_assert_msg(sn_config_load(cfgpath, ana_config_schema, &cfg, &err) ==
                      SN_OK,
                  "%s", err.msg);
    ana_config_t c;
    ck_assert_int_eq(ana_config_read(cfg, &c, &err), SN_OK);
    ana_ingest_t *in = NULL;
    ck_assert_int_eq(ana_ingest_new(&c, NULL, &in, &err), SN_OK);
    char *path = sn_strdup_printf("%s/%s/analyzer.state", e->dir, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: no state file", path);
    ck_assert_msg(ana_ingest_load(in, f, &err) == SN_OK, "%s", err.msg);
    fclose(f);
    uint64_t total = 0;
    ana_series_t *s = ana_ingest_series(in);
    sn_day_t last = closed ? ana_ingest_closed(in) : INT32_MAX;
    if (closed_day != NULL) {
        *closed_day = ana_ingest_closed(in);
    }
    for (uint32_t id = 0; id < ana_series_size(s); id++) {
        ana_window_t *w = ana_series_window(s, id);
        sn_day_t d0 = ana_window_today(w) - (sn_day_t)ana_window_span(w) + 1;
        for (size_t i = 0; i < ana_window_span(w); i++) {
            total += d0 + (sn_day_t)i <= last ? ana_window_counts(w)[i] : 0;
        }
    }
    ana_ingest_destroy(&in);
    ana_config_fini(&c);
    sn_config_destroy(&cfg);
    free(path);
    free(cfgpath);
    return total;
}

static uint64_t
s_counted(const env_t *e, const char *name)
{
    return s_counted_days(e, name, false, NULL);
}

/* The sum of the observed counts in `name`'s archive on days after
 * `after` (missing days skipped). */
static uint64_t
s_archived_after(const env_t *e, const char *name, sn_day_t after)
{
    char *path = sn_strdup_printf("%s/%s.h5", e->dir, name);
    ana_archive_read_t *ar = NULL;
    sn_err_t err;
    ck_assert_msg(ana_archive_read_open(path, &ar, &err) == SN_OK, "%s",
                  err.msg);
    size_t days = ana_archive_read_days(ar);
    double *v = sn_calloc(days + 1, sizeof *v);
    double total = 0;
    for (size_t r = 0; r < ana_archive_read_series_count(ar); r++) {
        ck_assert_int_eq(ana_archive_read_values(ar, r, 0, 0, days, v, &err),
                         SN_OK);
        sn_day_t d0 = ana_archive_read_first_day(ar);
        for (size_t d = 0; d < days; d++) {
            bool in = d0 + (sn_day_t)d > after && !isnan(v[d]);
            total += in ? v[d] : 0;
        }
    }
    free(v);
    ana_archive_read_destroy(&ar);
    free(path);
    return (uint64_t)total;
}

static uint64_t
s_archived(const env_t *e, const char *name)
{
    return s_archived_after(e, name, INT32_MIN);
}

/* Wait until `name` has logged `what`. */
static void
s_wait_log(const env_t *e, const char *name, const char *what)
{
    char *path = sn_strdup_printf("%s/%s.log", e->dir, name);
    bool seen = false;
    for (int t = 0; t < 300 && !seen; t++) {
        char *log = ts_read_file(path, NULL);
        seen = log != NULL && strstr(log, what) != NULL;
        free(log);
        if (!seen) {
            usleep(100000);
        }
    }
    ck_assert_msg(seen, "%s: no '%s'", path, what);
    free(path);
}

/* Both daemons hold partitions, and together all of them. */
static void
s_wait_split(const env_t *e)
{
    int a = 0, b = 0;
    for (int t = 0; t < 600 && !(a > 0 && b > 0 && a + b == N_PART); t++) {
        usleep(100000);
        a = s_assigned(e, "a");
        b = s_assigned(e, "b");
    }
    ck_assert_msg(a > 0 && b > 0 && a + b == N_PART,
                  "partitions not split: a %d, b %d", a, b);
}

START_TEST(test_kafka_group_takeover_after_kill9)
{
    env_t e = {0};
    e.dir = ts_tmpdir();
    s_cluster(&e);
    s_site(&e);
    char *ca = s_config(&e, "a", true), *cb = s_config(&e, "b", true);
    char *oa = s_config(&e, "a", false), *ob = s_config(&e, "b", false);
    pid_t a = s_start(&e, "a", ca);
    pid_t b = s_start(&e, "b", cb);
    s_wait_split(&e);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 3);
    s_produce(&e, N_FIRST, d0);
    ck_assert_msg(s_wait_all_committed(&e, 120), "first batch not committed");
    s_produce(&e, N_SECOND, d0 + 40);
    usleep(300000); /* a is in the middle of the second batch, or done */
    s_stop(a, SIGKILL);
    for (int t = 0; t < 600 && s_assigned(&e, "b") != N_PART; t++) {
        usleep(100000);
    }
    ck_assert_int_eq(s_assigned(&e, "b"), N_PART); /* b took a's over */
    ck_assert_msg(s_wait_all_committed(&e, 120), "second batch not committed");
    ck_assert_int_eq(s_stop(b, SIGTERM), 0);
    /* Started again (with the group, so a checkpoint the kill left
     * pending can be settled), a folds its journal into its state. */
    a = s_start(&e, "a-offline", ca);
    s_wait_log(&e, "a-offline", "event=start");
    ck_assert_int_eq(s_stop(a, SIGTERM), 0);
    uint64_t na = s_counted(&e, "a"), nb = s_counted(&e, "b");
    printf("kafka_group: a counted %llu, b %llu, of %d\n",
           (unsigned long long)na, (unsigned long long)nb, N_FIRST + N_SECOND);
    ck_assert_uint_gt(na, 0);
    ck_assert_uint_gt(nb, 0);
    ck_assert_uint_eq(na + nb, (uint64_t)N_FIRST + N_SECOND);
    /* Nothing in a's archive past the days its state closed: what it
     * flushed after its last checkpoint was put back at its start. */
    sn_day_t closed = 0;
    (void)s_counted_days(&e, "a", true, &closed);
    ck_assert_uint_eq(s_archived_after(&e, "a", closed), 0);
    sn_sender_destroy(&e.tx);
    sn_spool_destroy(&e.spool);
    rd_kafka_destroy(e.watch);
    rd_kafka_mock_cluster_destroy(e.cluster);
    rd_kafka_destroy(e.owner);
    ts_rmtree(e.dir);
    free(e.dir);
    free(ca);
    free(cb);
    free(oa);
    free(ob);
}
END_TEST

static void
s_env_open(env_t *e)
{
    e->dir = ts_tmpdir();
    s_cluster(e);
    s_site(e);
}

static void
s_env_close(env_t *e)
{
    sn_sender_destroy(&e->tx);
    sn_spool_destroy(&e->spool);
    rd_kafka_destroy(e->watch);
    rd_kafka_mock_cluster_destroy(e->cluster);
    rd_kafka_destroy(e->owner);
    ts_rmtree(e->dir);
    free(e->dir);
}

/* `name`'s archive holds exactly the counts of the days its state has
 * closed; @return those. */
static uint64_t
s_archive_matches_state(const env_t *e, const char *name)
{
    uint64_t archived = s_archived(e, name);
    uint64_t closed = s_counted_days(e, name, true, NULL);
    printf("kafka_group: %s archived %llu, its state's closed days %llu\n",
           name, (unsigned long long)archived, (unsigned long long)closed);
    ck_assert_uint_eq(archived, closed);
    return archived;
}

/* a dies (test hook) between a pending checkpoint and its commit, during
 * the second batch; b takes over. */
static void
s_kill_before_commit(env_t *e, const char *ca, const char *cb)
{
    char *flag = sn_strdup_printf("%s/exit-before-commit", e->dir);
    pid_t a = s_start_hook(e, "a", ca, flag);
    pid_t b = s_start(e, "b", cb);
    s_wait_split(e);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 3);
    s_produce(e, N_FIRST, d0);
    ck_assert_msg(s_wait_all_committed(e, 120), "first batch not committed");
    free(ts_write_file(e->dir, "exit-before-commit", "now\n"));
    s_produce(e, N_SECOND, d0 + 40);
    int status = 0;
    ck_assert_int_eq(waitpid(a, &status, 0), a);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 99,
                  "a did not stop at the test hook (status %d): built "
                  "without SENTINEL_TEST_HOOKS?",
                  status);
    s_wait_log(e, "a", "event=test_exit_before_commit");
    for (int t = 0; t < 600 && s_assigned(e, "b") != N_PART; t++) {
        usleep(100000);
    }
    ck_assert_int_eq(s_assigned(e, "b"), N_PART);
    ck_assert_msg(s_wait_all_committed(e, 120), "second batch not committed");
    ck_assert_int_eq(s_stop(b, SIGTERM), 0);
    unlink(flag);
    free(flag);
}

START_TEST(test_kafka_group_kill_before_commit)
{
    env_t e = {0};
    s_env_open(&e);
    char *ca = s_config(&e, "a", true), *cb = s_config(&e, "b", true);
    char *oa = s_config(&e, "a", false), *ob = s_config(&e, "b", false);
    s_kill_before_commit(&e, ca, cb);
    /* Started again, a settles its pending checkpoint with the group. */
    pid_t a = s_start(&e, "a-again", ca);
    s_wait_log(&e, "a-again", "event=start");
    ck_assert_int_eq(s_stop(a, SIGTERM), 0);
    uint64_t na = s_counted(&e, "a"), nb = s_counted(&e, "b");
    printf("kafka_group: kill before commit: a counted %llu, b %llu, of %d\n",
           (unsigned long long)na, (unsigned long long)nb, N_FIRST + N_SECOND);
    ck_assert_uint_gt(na, 0);
    ck_assert_uint_gt(nb, 0);
    ck_assert_uint_eq(na + nb, (uint64_t)N_FIRST + N_SECOND);
    s_wait_log(&e, "a-again", "commit=lost");
    uint64_t aa = s_archive_matches_state(&e, "a");
    uint64_t ab = s_archive_matches_state(&e, "b");
    uint64_t open = na - s_counted_days(&e, "a", true, NULL) + nb -
                    s_counted_days(&e, "b", true, NULL);
    ck_assert_uint_gt(aa, 0);
    ck_assert_uint_eq(aa + ab + open, (uint64_t)N_FIRST + N_SECOND);
    s_env_close(&e);
    free(ca);
    free(cb);
    free(oa);
    free(ob);
}
END_TEST

static Suite *
kafka_group_suite(void)
{
    Suite *s = suite_create("kafka_group");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 400);
    tcase_add_test(usage, test_kafka_group_takeover_after_kill9);
    tcase_add_test(usage, test_kafka_group_kill_before_commit);
    suite_add_tcase(s, usage);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(kafka_group_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
