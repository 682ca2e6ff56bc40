/*  tests/e2e/test_kafka_group.c - two analyzers in one Kafka consumer group
 *
 *  Real processes against librdkafka's mock cluster, which this test hosts
 *  (its brokers listen on loopback; the daemons connect to them as to any
 *  Kafka cluster). Two `sentinel analyze` daemons, each with its own state
 *  folder and archive, join the group "analyzers" on a four-partition topic
 *  whose events are keyed by prefecture. A first batch is split between
 *  them; during a second batch one of them is killed with SIGKILL while it
 *  holds events it has taken in but not committed (its /metrics count of
 *  events taken in passes the offsets the group holds for its partitions),
 *  and the other takes over its partitions once the group declares it
 *  dead. At the end the two durable states together hold every case
 *  exactly once, per series and day: the killed one's last checkpoint (its
 *  offsets were committed with it) and the survivor's everything after.
 *
 *  The second case kills one at the worst moment, deterministically: the
 *  analyzer's test hook (SENTINEL_TEST_EXIT_BEFORE_COMMIT, compiled with
 *  SENTINEL_TEST_HOOKS) ends it right after a Kafka checkpoint is written
 *  as pending and before its offsets are committed. The survivor re-reads
 *  those events from the older committed offsets; the killed one, started
 *  again, asks the group, learns that its commit never landed, drops the
 *  pending checkpoint and puts the archive days it wrote back. Then the
 *  states add up to the events sent, and each archive holds exactly its
 *  state's closed days, again per series and day.
 *
 *  Every daemon started is recorded until it is reaped, and the fixture's
 *  teardown kills and reaps what a failed assertion left running; every
 *  wait for a daemon to end is bounded.
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

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_PART 4
#define N_FIRST 3000
#define N_SECOND 20000
#define N_CHUNKS 20 /* the second batch of the first case, in chunks */
#define N_PREFECTURES 8
#define N_COUNTIES (N_PREFECTURES * 3) /* the series: 3 counties each */
#define N_DAYS 80                      /* 40 days per batch */
#define MAX_DAEMONS 4
#define IN_METRIC "sentinel_analyzer_events_in_total"
#define KAFKA_API_OFFSET_COMMIT 8 /* the protocol's OffsetCommit request */

/* Cases per county series (row (prefecture - 1) * 3 + county - 1) and day
 * (since env_t.d0), so a lost case and a double count elsewhere cannot
 * cancel out. */
typedef struct grid {
    uint64_t n[N_COUNTIES][N_DAYS]; /* cases */
    uint64_t stray;                 /* cases of any other series or day */
} grid_t;

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
    sn_day_t d0;                      /* the first batch's first day */
    grid_t sent;                      /* the cases spooled */
} env_t;

/* The daemons started and not reaped yet. This is the suite's one mutable
 * file-scope variable, against the house rule, because a Check fixture
 * takes no argument and its teardown must find what a failed assertion
 * left running. */
static pid_t s_daemons[MAX_DAEMONS];

/* Kill and reap every daemon still recorded: a failed assertion ends the
 * test before its own stops. (Check's fork mode ends the test process with
 * _exit and skips this teardown; there the daemons die with it, by
 * PR_SET_PDEATHSIG, and Check kills the test's process group besides.) */
static void
s_teardown(void)
{
    for (int i = 0; i < MAX_DAEMONS; i++) {
        if (s_daemons[i] > 0) {
            kill(s_daemons[i], SIGKILL);
            waitpid(s_daemons[i], NULL, 0);
            s_daemons[i] = 0;
        }
    }
}

static void
s_track(pid_t pid)
{
    for (int i = 0; i < MAX_DAEMONS; i++) {
        if (s_daemons[i] == 0) {
            s_daemons[i] = pid;
            return;
        }
    }
    kill(pid, SIGKILL);
    ck_abort_msg("more than %d daemons", MAX_DAEMONS);
}

/* Wait at most `seconds` for `pid` to end, polling; past that, SIGKILL
 * it (which it cannot ignore) and reap it. *status gets its wait status.
 * @return whether it ended by itself. */
static bool
s_reap(pid_t pid, int seconds, int *status)
{
    pid_t r = 0;
    for (int t = 0; t < seconds * 20 && r == 0; t++) {
        r = waitpid(pid, status, WNOHANG);
        if (r == 0) {
            usleep(50000);
        }
    }
    if (r == 0) {
        kill(pid, SIGKILL);
        r = waitpid(pid, status, 0) == pid ? 0 : -1;
    }
    for (int i = 0; i < MAX_DAEMONS; i++) {
        s_daemons[i] = s_daemons[i] == pid ? 0 : s_daemons[i];
    }
    ck_assert_msg(r >= 0, "waitpid %d: %s", (int)pid, strerror(errno));
    return r == pid;
}

/* The row of the county series of `region`, or -1 for any other. */
static int
s_row(const char *region)
{
    unsigned p = 0, c = 0;
    if (strlen(region) != 6 || sscanf(region, "44%2u%2u", &p, &c) != 2 ||
        p < 1 || p > N_PREFECTURES || c < 1 || c > 3) {
        return -1;
    }
    return (int)(p - 1) * 3 + (int)(c - 1);
}

/* Add `n` cases of `region` on day d0 + `d` to g. */
static void
s_grid_add(grid_t *g, const char *region, int64_t d, uint64_t n)
{
    int row = s_row(region);
    if (row < 0 || d < 0 || d >= N_DAYS) {
        g->stray += n;
    } else {
        g->n[row][d] += n;
    }
}

static uint64_t
s_grid_total(const grid_t *g)
{
    uint64_t total = g->stray;
    for (int r = 0; r < N_COUNTIES; r++) {
        for (int d = 0; d < N_DAYS; d++) {
            total += g->n[r][d];
        }
    }
    return total;
}

/* Assert that `got` holds `want`'s cases in every series and day. */
static void
s_grid_eq(const grid_t *got, const grid_t *want, const char *what)
{
    for (int r = 0; r < N_COUNTIES; r++) {
        for (int d = 0; d < N_DAYS; d++) {
            ck_assert_msg(got->n[r][d] == want->n[r][d],
                          "%s: series 44%02d%02d, day d0+%d: %llu cases, "
                          "expected %llu",
                          what, r / 3 + 1, r % 3 + 1, d,
                          (unsigned long long)got->n[r][d],
                          (unsigned long long)want->n[r][d]);
        }
    }
    ck_assert_msg(got->stray == want->stray,
                  "%s: %llu cases outside the series and days sent", what,
                  (unsigned long long)got->stray);
}

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

static void
s_env_open(env_t *e)
{
    e->dir = ts_tmpdir();
    e->d0 = sn_day_from_ymd(2025, 3, 3);
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

/* Spool and produce cases [from, to) of a batch of `n` ILI cases, one per
 * event, over the 40 days from d0 (in order) and N_PREFECTURES
 * prefectures; each is noted in e->sent. */
static void
s_produce(env_t *e, uint64_t n, sn_day_t d0, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i < to; i++) {
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
        s_grid_add(&e->sent, ev.region, day - e->d0, 1);
    }
    ck_assert_int_eq(sn_spool_flush(e->spool, NULL), SN_OK);
    for (int t = 0; t < 1200 && !sn_sender_drained(e->tx); t++) {
        ck_assert_int_eq(sn_sender_poll(e->tx, 50, NULL), SN_OK);
    }
    ck_assert_msg(sn_sender_drained(e->tx), "the mock cluster took not all");
}

/* One analyzer's configuration; `kafka` false leaves the transport out
 * (a start that only folds the journal into the state file), and a
 * `metrics_port` above 0 serves /metrics there. */
static char *
s_config(const env_t *e, const char *name, bool kafka, int metrics_port)
{
    char *transport =
        kafka ? sn_strdup_printf("transport: {kind: kafka, endpoint: \"%s\", "
                                 "topic: events, group: analyzers}\n",
                                 e->brokers)
              : sn_strdup("");
    char *metrics =
        metrics_port > 0
            ? sn_strdup_printf("  metrics: 127.0.0.1:%d\n", metrics_port)
            : sn_strdup("");
    char *yaml = sn_strdup_printf(
        "analyzer:\n"
        "  state_dir: %s/%s\n"
        "  checkpoint_ms: 1000\n"
        "  wall_clock: false\n"
        "  window_days: 200\n"
        "  dedup_capacity: 100000\n"
        "%s"
        "%s"
        "archive: {path: %s/%s.h5, flush_interval: 0.5}\n"
        "series:\n"
        "  - {condition: ili, levels: [county]}\n"
        "detectors:\n"
        "  - {name: ears-c2}\n"
        "rules:\n"
        "  - {name: class-a, kind: threshold, level: red, classes: A}\n",
        e->dir, name, metrics, transport, e->dir, name);
    char *file = sn_strdup_printf("%s%s.yaml", name, kafka ? "" : "-offline");
    char *path = ts_write_file(e->dir, file, yaml);
    free(file);
    free(yaml);
    free(metrics);
    free(transport);
    return path;
}

/* Start `sentinel analyze -c CONFIG`, its log in DIR/NAME.log, and record
 * it for the teardown. Returns once the child has exec'd (the
 * close-on-exec pipe reads end-of-file), so a signal sent next reaches the
 * daemon, not the copy of this test. */
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
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* see s_teardown() */
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
    s_track(pid);
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

/* Send `sig` to `pid` and reap it within 60 s (else it is killed and the
 * test fails). @return its wait status. */
static int
s_stop(pid_t pid, int sig)
{
    int status = 0;
    kill(pid, sig);
    ck_assert_msg(s_reap(pid, 60, &status),
                  "pid %d still ran 60 s after signal %d", (int)pid, sig);
    return status;
}

/* The partitions of the last assignment `name` logged, into parts.
 * @return how many (0 when it has none, or revoked them since). */
static int
s_partitions(const env_t *e, const char *name, int parts[N_PART])
{
    char *path = sn_strdup_printf("%s/%s.log", e->dir, name);
    char *log = ts_read_file(path, NULL);
    free(path);
    const char *last = NULL, *p = log;
    while (p != NULL && (p = strstr(p, "event=kafka_")) != NULL) {
        last = p++;
    }
    const char *q = NULL;
    if (last != NULL && strncmp(last, "event=kafka_assign ", 19) == 0) {
        q = strstr(last, "partitions=");
    }
    int n = 0;
    for (q = q ? q + 11 : NULL;
         q != NULL && n < N_PART && *q >= '0' && *q <= '9';) {
        char *end = NULL;
        parts[n++] = (int)strtol(q, &end, 10);
        q = *end == ',' ? end + 1 : NULL;
    }
    free(log);
    return n;
}

static int
s_assigned(const env_t *e, const char *name)
{
    int parts[N_PART];
    return s_partitions(e, name, parts);
}

/* @return the offsets the group has committed on `parts`, summed (0 for
 * a partition without a commit), or -1 when the group does not answer. */
static int64_t
s_committed(const env_t *e, const int *parts, int n)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++) {
        rd_kafka_topic_partition_list_add(l, "events", parts[i]);
    }
    int64_t sum = rd_kafka_committed(e->watch, l, 5000) == 0 ? 0 : -1;
    for (int i = 0; sum >= 0 && i < n; i++) {
        int64_t off = l->elems[i].offset;
        sum = l->elems[i].err != 0 ? -1 : sum + (off > 0 ? off : 0);
    }
    rd_kafka_topic_partition_list_destroy(l);
    return sum;
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

/* @return counter `name` of the /metrics page at `port`, or -1 when the
 * page or the counter is missing. */
static int64_t
s_metric(int port, const char *name)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    size_t cap = 65536, len = 0;
    char *buf = sn_calloc(1, cap);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        const char *req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
        ssize_t k;
        while ((k = read(fd, buf + len, cap - 1 - len)) > 0) {
            len += (size_t)k;
        }
    }
    close(fd);
    char *key = sn_strdup_printf("\n%s ", name);
    const char *p = strstr(buf, key);
    int64_t v = p != NULL ? strtoll(p + strlen(key), NULL, 10) : -1;
    free(key);
    free(buf);
    return v;
}

/* Once the first batch is committed, `a`'s count of events taken in equals
 * the offsets committed on its partitions: both count the messages of
 * those partitions, so the count passing the offsets later means events
 * taken in and not committed. */
static void
s_wait_at_rest(const env_t *e, int port, const int *parts, int n)
{
    int64_t in = -1, done = -2;
    for (int t = 0; t < 50 && in != done; t++) {
        in = s_metric(port, IN_METRIC);
        done = s_committed(e, parts, n);
        if (in != done) {
            usleep(100000);
        }
    }
    ck_assert_msg(in == done && in > 0,
                  "a took in %lld events, %lld are committed on its "
                  "partitions",
                  (long long)in, (long long)done);
}

/* @return a's count of events taken in once it is above `before` (polled,
 * 2 s at most). */
static int64_t
s_taken_past(int port, int64_t before)
{
    int64_t in = s_metric(port, IN_METRIC);
    for (int w = 0; w < 400 && in <= before; w++) {
        usleep(5000);
        in = s_metric(port, IN_METRIC);
    }
    return in;
}

static void
s_produce_chunk(env_t *e, int k)
{
    s_produce(e, N_SECOND, e->d0 + 40, (uint64_t)k * N_SECOND / N_CHUNKS,
              (uint64_t)(k + 1) * N_SECOND / N_CHUNKS);
}

/* Produce the second batch in N_CHUNKS chunks, two at a time until a is
 * caught. A checkpoint that is due when events arrive commits them at once
 * (after a quiet spell it is always due), so: wait until a has taken in
 * the first chunk of a pair, send the second at once and wait until a has
 * taken in some of it, which its next checkpoint (checkpoint_ms later)
 * would commit; stop a (SIGSTOP), give a commit in flight 200 ms to land,
 * and read the offsets committed on its partitions. Caught when the count
 * is higher: a certainly holds events it has not committed, and is killed
 * (SIGKILL) right there; else it goes on (SIGCONT). */
static void
s_kill_holding(env_t *e, pid_t a, int port, const int *parts, int n)
{
    int64_t in = -1, done = -1;
    int caught = -1;
    for (int k = 0; k < N_CHUNKS; k++) {
        s_produce_chunk(e, k);
        if (caught >= 0 || k + 1 == N_CHUNKS) {
            continue;
        }
        in = s_taken_past(port, in);
        s_produce_chunk(e, ++k);
        in = s_taken_past(port, in);
        ck_assert_int_eq(kill(a, SIGSTOP), 0);
        usleep(200000);
        done = s_committed(e, parts, n);
        caught = done >= 0 && in > done ? k : -1;
        ck_assert_int_eq(kill(a, caught >= 0 ? SIGKILL : SIGCONT), 0);
    }
    ck_assert_msg(caught >= 0,
                  "a never held uncommitted events when stopped (last: "
                  "%lld taken in, %lld committed)",
                  (long long)in, (long long)done);
    printf("kafka_group: a killed after chunk %d of %d, holding %lld events "
           "taken in and not committed\n",
           caught + 1, N_CHUNKS, (long long)(in - done));
    int status = 0;
    ck_assert(s_reap(a, 30, &status));
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* Add the cases in `name`'s state file (written at its clean stop) to g,
 * per series and day (g may be NULL); with `closed`, only those of the
 * days the state has closed. @return the state's last closed day. */
static sn_day_t
s_state_grid(const env_t *e, const char *name, bool closed, grid_t *g)
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
    ana_series_t *s = ana_ingest_series(in);
    sn_day_t last_closed = ana_ingest_closed(in);
    sn_day_t last = closed ? last_closed : INT32_MAX;
    for (uint32_t id = 0; id < ana_series_size(s); id++) {
        const char *region = ana_series_key(s, id)->region;
        ana_window_t *w = ana_series_window(s, id);
        sn_day_t d0 = ana_window_today(w) - (sn_day_t)ana_window_span(w) + 1;
        for (size_t i = 0; i < ana_window_span(w); i++) {
            sn_day_t day = d0 + (sn_day_t)i;
            uint32_t count = ana_window_counts(w)[i];
            if (g != NULL && count > 0 && day <= last) {
                s_grid_add(g, region, day - e->d0, count);
            }
        }
    }
    ana_ingest_destroy(&in);
    ana_config_fini(&c);
    sn_config_destroy(&cfg);
    free(path);
    free(cfgpath);
    return last_closed;
}

/* Add the observed counts in `name`'s archive on days after `after` to g,
 * per series and day (missing days skipped). */
static void
s_archive_grid(const env_t *e, const char *name, sn_day_t after, grid_t *g)
{
    char *path = sn_strdup_printf("%s/%s.h5", e->dir, name);
    ana_archive_read_t *ar = NULL;
    sn_err_t err;
    ck_assert_msg(ana_archive_read_open(path, &ar, &err) == SN_OK, "%s",
                  err.msg);
    size_t days = ana_archive_read_days(ar);
    sn_day_t d0 = ana_archive_read_first_day(ar);
    double *v = sn_calloc(days + 1, sizeof *v);
    for (size_t r = 0; r < ana_archive_read_series_count(ar); r++) {
        const char *region = ana_archive_read_key(ar, r, ANA_ARCHIVE_REGION);
        ck_assert_int_eq(ana_archive_read_values(ar, r, 0, 0, days, v, &err),
                         SN_OK);
        for (size_t d = 0; d < days; d++) {
            sn_day_t day = d0 + (sn_day_t)d;
            if (day > after && !isnan(v[d]) && v[d] != 0) {
                ck_assert_msg(v[d] > 0 && v[d] == floor(v[d]),
                              "%s: count %g on day %d", path, v[d], day);
                s_grid_add(g, region, day - e->d0, (uint64_t)v[d]);
            }
        }
    }
    free(v);
    ana_archive_read_destroy(&ar);
    free(path);
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

/* b, left alone, takes all the partitions over. */
static void
s_wait_takeover(const env_t *e)
{
    for (int t = 0; t < 600 && s_assigned(e, "b") != N_PART; t++) {
        usleep(100000);
    }
    ck_assert_int_eq(s_assigned(e, "b"), N_PART);
}

/* Both states hold cases, and together exactly the cases sent, per series
 * and day: none lost, none counted twice. */
static void
s_states_hold_sent(const env_t *e, const char *what)
{
    grid_t g = {0};
    s_state_grid(e, "a", false, &g);
    uint64_t na = s_grid_total(&g);
    s_state_grid(e, "b", false, &g);
    uint64_t nb = s_grid_total(&g) - na;
    printf("kafka_group: %s: a counted %llu, b %llu, of %llu\n", what,
           (unsigned long long)na, (unsigned long long)nb,
           (unsigned long long)s_grid_total(&e->sent));
    ck_assert_uint_gt(na, 0);
    ck_assert_uint_gt(nb, 0);
    s_grid_eq(&g, &e->sent, what);
}

START_TEST(test_kafka_group_takeover_after_kill9)
{
    env_t e = {0};
    s_env_open(&e);
    int port = ts_free_port();
    char *ca = s_config(&e, "a", true, port), *cb = s_config(&e, "b", true, 0);
    char *oa = s_config(&e, "a", false, 0), *ob = s_config(&e, "b", false, 0);
    pid_t a = s_start(&e, "a", ca);
    pid_t b = s_start(&e, "b", cb);
    s_wait_split(&e);
    int parts[N_PART];
    int np = s_partitions(&e, "a", parts);
    s_produce(&e, N_FIRST, e.d0, 0, N_FIRST);
    ck_assert_msg(s_wait_all_committed(&e, 120), "first batch not committed");
    s_wait_at_rest(&e, port, parts, np);
    s_kill_holding(&e, a, port, parts, np);
    s_wait_takeover(&e); /* b took a's over */
    ck_assert_msg(s_wait_all_committed(&e, 120), "second batch not committed");
    ck_assert_int_eq(s_stop(b, SIGTERM), 0);
    /* Started again (with the group, so a checkpoint the kill left
     * pending can be settled), a folds its journal into its state. */
    a = s_start(&e, "a-offline", ca);
    s_wait_log(&e, "a-offline", "event=start");
    ck_assert_int_eq(s_stop(a, SIGTERM), 0);
    s_states_hold_sent(&e, "kill -9");
    /* Nothing in a's archive past the days its state closed: what it
     * flushed after its last checkpoint was put back at its start. */
    grid_t g = {0};
    sn_day_t closed = s_state_grid(&e, "a", true, NULL);
    s_archive_grid(&e, "a", closed, &g);
    ck_assert_uint_eq(s_grid_total(&g), 0);
    s_env_close(&e);
    free(ca);
    free(cb);
    free(oa);
    free(ob);
}
END_TEST

/* `name`'s archive holds exactly the counts of the days its state has
 * closed, per series and day; @return their total. */
static uint64_t
s_archive_matches_state(const env_t *e, const char *name)
{
    grid_t archived = {0}, closed = {0};
    s_archive_grid(e, name, INT32_MIN, &archived);
    s_state_grid(e, name, true, &closed);
    printf("kafka_group: %s archived %llu, its state's closed days %llu\n",
           name, (unsigned long long)s_grid_total(&archived),
           (unsigned long long)s_grid_total(&closed));
    char *what = sn_strdup_printf("%s's archive against its state", name);
    s_grid_eq(&archived, &closed, what);
    free(what);
    return s_grid_total(&archived);
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
    s_produce(e, N_FIRST, e->d0, 0, N_FIRST);
    ck_assert_msg(s_wait_all_committed(e, 120), "first batch not committed");
    free(ts_write_file(e->dir, "exit-before-commit", "now\n"));
    s_produce(e, N_SECOND, e->d0 + 40, 0, N_SECOND);
    int status = 0;
    ck_assert_msg(s_reap(a, 60, &status), "a still ran 60 s after the batch");
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 99,
                  "a did not stop at the test hook (status %d): built "
                  "without SENTINEL_TEST_HOOKS?",
                  status);
    s_wait_log(e, "a", "event=test_exit_before_commit");
    s_wait_takeover(e);
    ck_assert_msg(s_wait_all_committed(e, 120), "second batch not committed");
    ck_assert_int_eq(s_stop(b, SIGTERM), 0);
    unlink(flag);
    free(flag);
}

START_TEST(test_kafka_group_kill_before_commit)
{
    env_t e = {0};
    s_env_open(&e);
    char *ca = s_config(&e, "a", true, 0), *cb = s_config(&e, "b", true, 0);
    char *oa = s_config(&e, "a", false, 0), *ob = s_config(&e, "b", false, 0);
    s_kill_before_commit(&e, ca, cb);
    /* Started again, a settles its pending checkpoint with the group. */
    pid_t a = s_start(&e, "a-again", ca);
    s_wait_log(&e, "a-again", "event=start");
    ck_assert_int_eq(s_stop(a, SIGTERM), 0);
    s_states_hold_sent(&e, "kill before commit");
    s_wait_log(&e, "a-again", "commit=lost");
    /* With the states' union equal to the cases sent, this also makes the
     * archives plus the states' open days add up to them. */
    ck_assert_uint_gt(s_archive_matches_state(&e, "a"), 0);
    s_archive_matches_state(&e, "b");
    s_env_close(&e);
    free(ca);
    free(cb);
    free(oa);
    free(ob);
}
END_TEST

/* Make `config` checkpoint only when the group takes partitions away (or
 * past 32,768 records): its interval becomes ten minutes. */
static void
s_slow_checkpoints(const char *config)
{
    char *yaml = ts_read_file(config, NULL);
    char *at = strstr(yaml, "checkpoint_ms: 1000\n");
    ck_assert_ptr_nonnull(at);
    *at = '\0';
    char *slow = sn_strdup_printf("%scheckpoint_ms: 600000\n%s", yaml,
                                  at + strlen("checkpoint_ms: 1000\n"));
    FILE *f = fopen(config, "w");
    ck_assert_ptr_nonnull(f);
    fputs(slow, f);
    ck_assert_int_eq(fclose(f), 0);
    free(slow);
    free(yaml);
}

static void
s_wait_assigned_all(const env_t *e, const char *name)
{
    for (int t = 0; t < 600 && s_assigned(e, name) != N_PART; t++) {
        usleep(100000);
    }
    ck_assert_int_eq(s_assigned(e, name), N_PART);
}

/* a holds the second batch uncommitted when b joins; the broker refuses
 * the commit of a's revoke checkpoint (a fault the mock cluster injects,
 * not a test hook), so a is fenced: it stops with an error and leaves its
 * marker file, b counts the batch from the older offsets, and a, started
 * again, falls back to its last confirmed checkpoint. */
static void
s_fail_revoke_commit(env_t *e, const char *ca, const char *cb, int port)
{
    pid_t a = s_start(e, "a-fenced", ca);
    s_wait_assigned_all(e, "a-fenced");
    s_produce(e, N_SECOND, e->d0 + 40, 0, N_SECOND);
    int64_t in = 0;
    for (int t = 0; t < 600 && in < N_SECOND; t++) {
        usleep(100000);
        in = s_metric(port, IN_METRIC);
    }
    ck_assert_int_eq(in, N_SECOND);
    ck_assert(!s_all_committed(e)); /* a holds them uncommitted */
    rd_kafka_mock_push_request_errors(
        e->cluster, KAFKA_API_OFFSET_COMMIT, 1,
        RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE);
    pid_t b = s_start(e, "b", cb);
    int status = 0;
    ck_assert_msg(s_reap(a, 60, &status), "a still ran 60 s after b joined");
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 0,
                  "a was not stopped by the failed checkpoint (status %d)",
                  status);
    s_wait_log(e, "a-fenced", "event=kafka_revoke_commit");
    char *fence = sn_strdup_printf("%s/a/analyzer.fenced", e->dir);
    ck_assert_int_eq(access(fence, F_OK), 0);
    s_wait_takeover(e);
    ck_assert_msg(s_wait_all_committed(e, 120), "second batch not committed");
    ck_assert_int_eq(s_stop(b, SIGTERM), 0);
    a = s_start(e, "a-again", ca);
    s_wait_log(e, "a-again", "event=start");
    ck_assert_int_eq(s_stop(a, SIGTERM), 0);
    ck_assert_int_ne(access(fence, F_OK), 0); /* settled at that start */
    free(fence);
}

START_TEST(test_kafka_group_revoke_commit_fails)
{
    env_t e = {0};
    s_env_open(&e);
    int port = ts_free_port();
    char *ca = s_config(&e, "a", true, port), *cb = s_config(&e, "b", true, 0);
    char *oa = s_config(&e, "a", false, 0), *ob = s_config(&e, "b", false, 0);
    pid_t a = s_start(&e, "a", ca);
    s_wait_assigned_all(&e, "a");
    s_produce(&e, N_FIRST, e.d0, 0, N_FIRST);
    ck_assert_msg(s_wait_all_committed(&e, 120), "first batch not committed");
    ck_assert_int_eq(s_stop(a, SIGTERM), 0);
    s_slow_checkpoints(ca);
    s_fail_revoke_commit(&e, ca, cb, port);
    s_states_hold_sent(&e, "failed revoke commit");
    ck_assert_uint_gt(s_archive_matches_state(&e, "a"), 0);
    s_archive_matches_state(&e, "b");
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
    tcase_add_checked_fixture(usage, NULL, s_teardown);
    tcase_set_timeout(usage, 400);
    tcase_add_test(usage, test_kafka_group_takeover_after_kill9);
    tcase_add_test(usage, test_kafka_group_kill_before_commit);
    tcase_add_test(usage, test_kafka_group_revoke_commit_fails);
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
