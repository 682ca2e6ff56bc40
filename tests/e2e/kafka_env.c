/*  tests/e2e/kafka_env.c - the cluster, site and daemons of e2e/kafka_group
 *
 *  The consumer-group suite's shared machinery: it hosts the mock cluster,
 *  produces the site's events, writes the analyzers' configurations, runs
 *  and reaps the daemons, and reads back their logs, the group's offsets,
 *  /metrics, the durable states and the archives. The cases themselves are
 *  in test_kafka_group.c.
 */
#define _GNU_SOURCE /* pipe2 */
#include "kafka_env.h"

#include "ana_config.h"
#include "archive_read.h"
#include "ingest.h"

#include "sentinel/event.h"
#include "sentinel/mem.h"
#include "support.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
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

#define MAX_DAEMONS 4

/* The daemons started and not reaped yet. This is the suite's one mutable
 * file-scope variable, against the house rule, because a Check fixture
 * takes no argument and its teardown must find what a failed assertion
 * left running. */
static pid_t s_daemons[MAX_DAEMONS];

/* Kill and reap every daemon still recorded: a failed assertion ends the
 * test before its own stops. (Check's fork mode ends the test process with
 * _exit and skips this teardown; there the daemons die with it, by
 * PR_SET_PDEATHSIG, and Check kills the test's process group besides.) */
void
kg_teardown(void)
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
bool
kg_reap(pid_t pid, int seconds, int *status)
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
s_grid_add(kg_grid_t *g, const char *region, int64_t d, uint64_t n)
{
    int row = s_row(region);
    if (row < 0 || d < 0 || d >= N_DAYS) {
        g->stray += n;
    } else {
        g->n[row][d] += n;
    }
}

uint64_t
kg_grid_total(const kg_grid_t *g)
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
void
kg_grid_eq(const kg_grid_t *got, const kg_grid_t *want, const char *what)
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
s_cluster(kg_env_t *e)
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

static void
s_site(kg_env_t *e)
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
    ck_assert_msg(sn_sender_new(&to, e->spool, sn_event_prefecture_key, NULL,
                                &e->tx, &err) == SN_OK,
                  "%s", err.msg);
}

void
kg_env_open(kg_env_t *e)
{
    e->dir = ts_tmpdir();
    e->d0 = sn_day_from_ymd(2025, 3, 3);
    s_cluster(e);
    s_site(e);
}

void
kg_env_close(kg_env_t *e)
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
void
kg_produce(kg_env_t *e, uint64_t n, sn_day_t d0, uint64_t from, uint64_t to)
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
char *
kg_config(const kg_env_t *e, const char *name, bool kafka, int metrics_port)
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
pid_t
kg_start_hook(const kg_env_t *e, const char *name, const char *config,
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
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* see kg_teardown() */
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

pid_t
kg_start(const kg_env_t *e, const char *name, const char *config)
{
    return kg_start_hook(e, name, config, NULL);
}

/* Send `sig` to `pid` and reap it within 60 s (else it is killed and the
 * test fails). @return its wait status. */
int
kg_stop(pid_t pid, int sig)
{
    int status = 0;
    kill(pid, sig);
    ck_assert_msg(kg_reap(pid, 60, &status),
                  "pid %d still ran 60 s after signal %d", (int)pid, sig);
    return status;
}

/* The partitions of the last assignment `name` logged, into parts.
 * @return how many (0 when it has none, or revoked them since). */
int
kg_partitions(const kg_env_t *e, const char *name, int parts[N_PART])
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
s_assigned(const kg_env_t *e, const char *name)
{
    int parts[N_PART];
    return kg_partitions(e, name, parts);
}

/* @return the offsets the group has committed on `parts`, summed (0 for
 * a partition without a commit), or -1 when the group does not answer. */
int64_t
kg_committed(const kg_env_t *e, const int *parts, int n)
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
bool
kg_all_committed(const kg_env_t *e)
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

bool
kg_wait_all_committed(const kg_env_t *e, int seconds)
{
    for (int t = 0; t < seconds * 5; t++) {
        if (kg_all_committed(e)) {
            return true;
        }
        usleep(200000);
    }
    return false;
}

/* @return counter `name` of the /metrics page at `port`, or -1 when the
 * page or the counter is missing. */
int64_t
kg_metric(int port, const char *name)
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

/* Add the cases in `name`'s state file (written at its clean stop) to g,
 * per series and day (g may be NULL); with `closed`, only those of the
 * days the state has closed. @return the state's last closed day. */
sn_day_t
kg_state_grid(const kg_env_t *e, const char *name, bool closed, kg_grid_t *g)
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
void
kg_archive_grid(const kg_env_t *e, const char *name, sn_day_t after,
                kg_grid_t *g)
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
void
kg_wait_log(const kg_env_t *e, const char *name, const char *what)
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
void
kg_wait_split(const kg_env_t *e)
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
void
kg_wait_takeover(const kg_env_t *e)
{
    for (int t = 0; t < 600 && s_assigned(e, "b") != N_PART; t++) {
        usleep(100000);
    }
    ck_assert_int_eq(s_assigned(e, "b"), N_PART);
}

void
kg_wait_assigned_all(const kg_env_t *e, const char *name)
{
    for (int t = 0; t < 600 && s_assigned(e, name) != N_PART; t++) {
        usleep(100000);
    }
    ck_assert_int_eq(s_assigned(e, name), N_PART);
}

/* Both states hold cases, and together exactly the cases sent, per series
 * and day: none lost, none counted twice. */
void
kg_states_hold_sent(const kg_env_t *e, const char *what)
{
    kg_grid_t g = {0};
    kg_state_grid(e, "a", false, &g);
    uint64_t na = kg_grid_total(&g);
    kg_state_grid(e, "b", false, &g);
    uint64_t nb = kg_grid_total(&g) - na;
    printf("kafka_group: %s: a counted %llu, b %llu, of %llu\n", what,
           (unsigned long long)na, (unsigned long long)nb,
           (unsigned long long)kg_grid_total(&e->sent));
    ck_assert_uint_gt(na, 0);
    ck_assert_uint_gt(nb, 0);
    kg_grid_eq(&g, &e->sent, what);
}
