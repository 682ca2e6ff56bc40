/*  tests/e2e/test_collect_kill.c - no loss, no duplicate, under kill -9
 *
 *  Real processes: `sentinel collect` publishing 100,000 events from a JSON
 *  lines file over ZeroMQ (ipc://) to sentinel-test-sink, which writes each
 *  record durably before acknowledging. The collector is killed with SIGKILL
 *  at random points of the publish (the receiver holds back its acks, and
 *  each kill waits until the receiver has taken some but not all of the
 *  records) and restarted; then the receiver is; then the receiver
 *  is down for 30 s (SENTINEL_E2E_DOWN_S=N for N seconds when
 *  replaying) while the collector spools, and comes back. Each time the sink's
 * file must hold every event exactly once. The random seed is printed, and
 * taken from SENTINEL_E2E_SEED when set, so a failure can be replayed.
 */
#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N_EVENTS 100000
#define KILL_ROUNDS 6 /* collector kills in test_collect_kill_collector */
#define LINE_BYTES 20 /* about one line of the sink's output */

static char *s_dir;

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    const char *env = getenv("SENTINEL_E2E_SEED");
    unsigned seed = env ? (unsigned)atoi(env) : (unsigned)time(NULL);
    fprintf(stderr, "collect_kill: seed %u (SENTINEL_E2E_SEED)\n", seed);
    srand(seed);
    char *path = sn_strdup_printf("%s/events.jsonl", s_dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < N_EVENTS; i++) {
        fprintf(f,
                "{\"event_id\":\"e%d\",\"source\":\"fever_clinic\","
                "\"condition\":\"ILI\",\"report_time\":"
                "\"2026-11-20T08:00:00Z\",\"count\":1}\n",
                i);
    }
    fclose(f);
    free(path);
    char *yaml = sn_strdup_printf(
        "site: {id: \"S1\", source: fever_clinic, region: \"110105\"}\n"
        "dead_letter: {path: \"%s/dead.jsonl\"}\n"
        "log: {level: warn}\n"
        "spool: {dir: \"%s/spool\", fsync: batch, segment_bytes: 1048576}\n"
        "transport: {endpoint: \"ipc://%s/rx.sock\", curve: false,\n"
        "            heartbeat_ms: 200, timeout_ms: 2000,\n"
        "            batch_records: 500, window: 2000}\n",
        s_dir, s_dir, s_dir);
    free(ts_write_file(s_dir, "collector.yaml", yaml));
    free(yaml);
}

static void
s_teardown(void)
{
    ts_rmtree(s_dir);
    free(s_dir);
}

static char *
s_sink_bin(void)
{
    char *bin = sn_strdup(ts_sentinel_bin());
    char *path =
        sn_strdup_printf("%s/../tests/sentinel-test-sink", dirname(bin));
    free(bin);
    return path;
}

/* Start the receiver; it holds each acknowledgement back `delay_ms`. */
static pid_t
s_start_slow_sink(const char *delay_ms)
{
    char *bin = s_sink_bin();
    char *ep = sn_strdup_printf("ipc://%s/rx.sock", s_dir);
    char *out = sn_strdup_printf("%s/received.txt", s_dir);
    char *log = sn_strdup_printf("%s/sink.log", s_dir);
    char *argv[] = {bin,          "--endpoint",     ep,  "--out", out,
                    "--delay-ms", (char *)delay_ms, NULL};
    pid_t pid = ts_spawn(argv, log);
    free(bin);
    free(ep);
    free(out);
    free(log);
    return pid;
}

static pid_t
s_start_collector(void)
{
    char *conf = sn_strdup_printf("%s/collector.yaml", s_dir);
    char *in = sn_strdup_printf("%s/events.jsonl", s_dir);
    char *log = sn_strdup_printf("%s/collector.log", s_dir);
    char *argv[] = {(char *)ts_sentinel_bin(),
                    "collect",
                    "-c",
                    conf,
                    "--timeout",
                    "300",
                    in,
                    NULL};
    pid_t pid = ts_spawn(argv, log);
    free(conf);
    free(in);
    free(log);
    return pid;
}

static pid_t
s_start_sink(void)
{
    return s_start_slow_sink("0");
}

/* Kill with SIGKILL. @return true if it was still running. */
static bool
s_kill9(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
        return false;
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return true;
}

/* Stop the receiver: it exits 0, or dies of the SIGTERM itself when the
 * signal came before its handler was installed (a sink started just now). */
static void
s_stop_sink(pid_t pid)
{
    kill(pid, SIGTERM);
    int st = ts_wait_exit(pid, 30);
    ck_assert_msg(st == 0 || st == 128 + SIGTERM, "sink ended with %d", st);
}

/* @return the size of the receiver's output (0 before it exists). */
static long
s_received_bytes(void)
{
    char *path = sn_strdup_printf("%s/received.txt", s_dir);
    struct stat st;
    long n = stat(path, &st) == 0 ? (long)st.st_size : 0;
    free(path);
    return n;
}

/* @return the records the receiver holds (lines of its output). */
static long
s_received_lines(void)
{
    char *path = sn_strdup_printf("%s/received.txt", s_dir);
    FILE *f = fopen(path, "r");
    long lines = 0;
    int ch;
    while (f != NULL && (ch = getc(f)) != EOF) {
        lines += ch == '\n';
    }
    if (f != NULL) {
        fclose(f);
    }
    free(path);
    return lines;
}

/* Start a collector and kill it with SIGKILL once the receiver holds a
 * random share more of the output than before (at most 60 s). @return true
 * when the kill landed mid-publish: the collector was still running and
 * the receiver did not yet hold every record. */
static bool
s_kill_mid_publish(void)
{
    long before = s_received_bytes();
    long left = (long)N_EVENTS * LINE_BYTES - before;
    long target = before + 1 + (left > 8 ? rand() % (left / 4) : 0);
    pid_t col = s_start_collector();
    for (int i = 0; i < 12000 && s_received_bytes() < target; i++) {
        ts_sleep_ms(5);
    }
    bool running = s_kill9(col);
    long lines = s_received_lines();
    fprintf(stderr, "collect_kill: kill at %ld of %d records (%s)\n", lines,
            N_EVENTS, running ? "running" : "had exited");
    return running && lines < N_EVENTS;
}

/* Every event e0..e99999 exactly once, and no (sender, seq) twice. */
static void
s_check_received(void)
{
    char *path = sn_strdup_printf("%s/received.txt", s_dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    uint8_t *count = sn_calloc(N_EVENTS, 1);
    uint8_t *seqs = sn_calloc(N_EVENTS + 1, 1);
    char sender[64], site[64], id[80];
    unsigned long long seq;
    unsigned rev;
    long lines = 0;
    while (fscanf(f, "%63s %llu %63s %79s %u", sender, &seq, site, id, &rev) ==
           5) {
        lines++;
        ck_assert_str_eq(sender, "S1");
        ck_assert_uint_le(seq, N_EVENTS);
        ck_assert_msg(seqs[seq]++ == 0, "seq %llu delivered twice", seq);
        int n = atoi(id + 1);
        ck_assert(id[0] == 'e' && n >= 0 && n < N_EVENTS);
        ck_assert_msg(count[n]++ == 0, "event %s delivered twice", id);
    }
    fclose(f);
    ck_assert_int_eq(lines, N_EVENTS);
    free(count);
    free(seqs);
    free(path);
}

START_TEST(test_collect_kill_collector)
{
    pid_t sink = s_start_slow_sink("5");
    int killed = 0;
    for (int round = 0; round < KILL_ROUNDS; round++) {
        killed += s_kill_mid_publish();
    }
    fprintf(stderr, "collect_kill: collector killed %d times mid-publish\n",
            killed);
    if (killed != KILL_ROUNDS) {
        s_stop_sink(sink);
    }
    ck_assert_int_eq(killed, KILL_ROUNDS);
    int st = ts_wait_exit(s_start_collector(), 120);
    s_stop_sink(sink); /* before any assertion: no process outlives it */
    ck_assert_int_eq(st, 0);
    s_check_received();
}
END_TEST

START_TEST(test_collect_kill_receiver)
{
    pid_t sink = s_start_sink();
    pid_t col = s_start_collector();
    int killed = 0;
    for (int round = 0; round < 6; round++) {
        ts_sleep_ms(10 + rand() % 120);
        killed += s_kill9(sink);
        sink = s_start_sink();
    }
    fprintf(stderr, "collect_kill: receiver killed %d times\n", killed);
    ck_assert_int_eq(ts_wait_exit(col, 120), 0);
    s_stop_sink(sink);
    s_check_received();
}
END_TEST

START_TEST(test_collect_receiver_down_then_drain)
{
    const char *env = getenv("SENTINEL_E2E_DOWN_S");
    int down_s = env != NULL && atoi(env) > 0 ? atoi(env) : 30;
    pid_t col = s_start_collector();
    char *seg =
        sn_strdup_printf("%s/spool/seg-00000000000000000001.log", s_dir);
    struct stat st = {0};
    /* Wait (bounded) until records are spooled: a busy or sanitized build
     * may take longer than the down time to parse the first ones. */
    for (int i = 0; i < 600 && (stat(seg, &st) != 0 || st.st_size == 0); i++) {
        ts_sleep_ms(100);
    }
    ck_assert_int_gt(st.st_size, 0); /* spooled, not yet acknowledged */
    ts_sleep_ms(down_s * 1000L);
    int status;
    ck_assert_int_eq(waitpid(col, &status, WNOHANG), 0); /* still waiting */
    free(seg);
    pid_t sink = s_start_sink();
    ck_assert_int_eq(ts_wait_exit(col, 120), 0);
    s_stop_sink(sink);
    s_check_received();
}
END_TEST

START_TEST(test_collect_exit_codes)
{
    /* No receiver: exit 1 after the timeout, records kept in the spool. */
    char *conf = sn_strdup_printf("%s/collector.yaml", s_dir);
    char *bad = ts_write_file(s_dir, "bad.jsonl",
                              "{\"event_id\":\"x1\",\"condition\":\"ILI\","
                              "\"report_time\":\"2026-11-20T08:00:00Z\"}\n"
                              "{\"event_id\":\"x2\",\"id_number\":\"1\"}\n");
    ts_run_t r = ts_sentinel(NULL, 60, "collect", "-c", conf, "--timeout", "1",
                             bad, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "acknowledged 0 of 1 records"));
    ts_run_free(&r);
    /* With the receiver: the good record goes, the bad one was
     * dead-lettered in the first run, so this run exits 0. */
    pid_t sink = s_start_sink();
    r = ts_sentinel(NULL, 60, "collect", "-c", conf, bad, NULL);
    ck_assert_int_eq(r.status, 0);
    ts_run_free(&r);
    s_stop_sink(sink);
    char *dl = sn_strdup_printf("%s/dead.jsonl", s_dir);
    char *text = ts_read_file(dl, NULL);
    ck_assert_ptr_nonnull(strstr(text, "id_number"));
    free(text);
    free(dl);
    free(bad);
    free(conf);
}
END_TEST

START_TEST(test_collect_rejected_exit_3)
{
    char *conf = sn_strdup_printf("%s/collector.yaml", s_dir);
    char *bad = ts_write_file(s_dir, "mixed.jsonl",
                              "{\"event_id\":\"y1\",\"condition\":\"ILI\","
                              "\"report_time\":\"2026-11-20T08:00:00Z\"}\n"
                              "not json\n");
    pid_t sink = s_start_sink();
    ts_run_t r = ts_sentinel(NULL, 60, "collect", "-c", conf, bad, NULL);
    ck_assert_int_eq(r.status, 3);
    ts_run_free(&r);
    r = ts_sentinel(NULL, 60, "collect", "-c", conf, "--timeout", NULL);
    ck_assert_int_eq(r.status, 2);
    ts_run_free(&r);
    s_stop_sink(sink);
    free(bad);
    free(conf);
}
END_TEST

static Suite *
collect_kill_suite(void)
{
    Suite *s = suite_create("collect_kill");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 300);
    tcase_add_test(usage, test_collect_kill_collector);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 300);
    tcase_add_test(edges, test_collect_kill_receiver);
    tcase_add_test(edges, test_collect_receiver_down_then_drain);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 120);
    tcase_add_test(errors, test_collect_exit_codes);
    tcase_add_test(errors, test_collect_rejected_exit_3);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(collect_kill_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
