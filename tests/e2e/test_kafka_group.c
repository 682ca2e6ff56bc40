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
#include "kafka_env.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_FIRST 3000
#define N_SECOND 20000
#define N_CHUNKS 20 /* the second batch of the first case, in chunks */
#define IN_METRIC "sentinel_analyzer_events_in_total"
#define KAFKA_API_OFFSET_COMMIT 8 /* the protocol's OffsetCommit request */

/* Once the first batch is committed, `a`'s count of events taken in equals
 * the offsets committed on its partitions: both count the messages of
 * those partitions, so the count passing the offsets later means events
 * taken in and not committed. */
static void
s_wait_at_rest(const kg_env_t *e, int port, const int *parts, int n)
{
    int64_t in = -1, done = -2;
    for (int t = 0; t < 50 && in != done; t++) {
        in = kg_metric(port, IN_METRIC);
        done = kg_committed(e, parts, n);
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
    int64_t in = kg_metric(port, IN_METRIC);
    for (int w = 0; w < 400 && in <= before; w++) {
        usleep(5000);
        in = kg_metric(port, IN_METRIC);
    }
    return in;
}

static void
s_produce_chunk(kg_env_t *e, int k)
{
    kg_produce(e, N_SECOND, e->d0 + 40, (uint64_t)k * N_SECOND / N_CHUNKS,
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
s_kill_holding(kg_env_t *e, pid_t a, int port, const int *parts, int n)
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
        done = kg_committed(e, parts, n);
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
    ck_assert(kg_reap(a, 30, &status));
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

START_TEST(test_kafka_group_takeover_after_kill9)
{
    kg_env_t e = {0};
    kg_env_open(&e);
    int port = ts_free_port();
    char *ca = kg_config(&e, "a", true, port),
         *cb = kg_config(&e, "b", true, 0);
    char *oa = kg_config(&e, "a", false, 0), *ob = kg_config(&e, "b", false, 0);
    pid_t a = kg_start(&e, "a", ca);
    pid_t b = kg_start(&e, "b", cb);
    kg_wait_split(&e);
    int parts[N_PART];
    int np = kg_partitions(&e, "a", parts);
    kg_produce(&e, N_FIRST, e.d0, 0, N_FIRST);
    ck_assert_msg(kg_wait_all_committed(&e, 120), "first batch not committed");
    s_wait_at_rest(&e, port, parts, np);
    s_kill_holding(&e, a, port, parts, np);
    kg_wait_takeover(&e); /* b took a's over */
    ck_assert_msg(kg_wait_all_committed(&e, 120), "second batch not committed");
    ck_assert_int_eq(kg_stop(b, SIGTERM), 0);
    /* Started again (with the group, so a checkpoint the kill left
     * pending can be settled), a folds its journal into its state. */
    a = kg_start(&e, "a-offline", ca);
    kg_wait_log(&e, "a-offline", "event=start");
    ck_assert_int_eq(kg_stop(a, SIGTERM), 0);
    kg_states_hold_sent(&e, "kill -9");
    /* Nothing in a's archive past the days its state closed: what it
     * flushed after its last checkpoint was put back at its start. */
    kg_grid_t g = {0};
    sn_day_t closed = kg_state_grid(&e, "a", true, NULL);
    kg_archive_grid(&e, "a", closed, &g);
    ck_assert_uint_eq(kg_grid_total(&g), 0);
    kg_env_close(&e);
    free(ca);
    free(cb);
    free(oa);
    free(ob);
}
END_TEST

/* `name`'s archive holds exactly the counts of the days its state has
 * closed, per series and day; @return their total. */
static uint64_t
s_archive_matches_state(const kg_env_t *e, const char *name)
{
    kg_grid_t archived = {0}, closed = {0};
    kg_archive_grid(e, name, INT32_MIN, &archived);
    kg_state_grid(e, name, true, &closed);
    printf("kafka_group: %s archived %llu, its state's closed days %llu\n",
           name, (unsigned long long)kg_grid_total(&archived),
           (unsigned long long)kg_grid_total(&closed));
    char *what = sn_strdup_printf("%s's archive against its state", name);
    kg_grid_eq(&archived, &closed, what);
    free(what);
    return kg_grid_total(&archived);
}

/* a dies (test hook) between a pending checkpoint and its commit, during
 * the second batch; b takes over. */
static void
s_kill_before_commit(kg_env_t *e, const char *ca, const char *cb)
{
    char *flag = sn_strdup_printf("%s/exit-before-commit", e->dir);
    pid_t a = kg_start_hook(e, "a", ca, flag);
    pid_t b = kg_start(e, "b", cb);
    kg_wait_split(e);
    kg_produce(e, N_FIRST, e->d0, 0, N_FIRST);
    ck_assert_msg(kg_wait_all_committed(e, 120), "first batch not committed");
    free(ts_write_file(e->dir, "exit-before-commit", "now\n"));
    kg_produce(e, N_SECOND, e->d0 + 40, 0, N_SECOND);
    int status = 0;
    ck_assert_msg(kg_reap(a, 60, &status), "a still ran 60 s after the batch");
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 99,
                  "a did not stop at the test hook (status %d): built "
                  "without SENTINEL_TEST_HOOKS?",
                  status);
    kg_wait_log(e, "a", "event=test_exit_before_commit");
    kg_wait_takeover(e);
    ck_assert_msg(kg_wait_all_committed(e, 120), "second batch not committed");
    ck_assert_int_eq(kg_stop(b, SIGTERM), 0);
    unlink(flag);
    free(flag);
}

START_TEST(test_kafka_group_kill_before_commit)
{
    kg_env_t e = {0};
    kg_env_open(&e);
    char *ca = kg_config(&e, "a", true, 0), *cb = kg_config(&e, "b", true, 0);
    char *oa = kg_config(&e, "a", false, 0), *ob = kg_config(&e, "b", false, 0);
    s_kill_before_commit(&e, ca, cb);
    /* Started again, a settles its pending checkpoint with the group. */
    pid_t a = kg_start(&e, "a-again", ca);
    kg_wait_log(&e, "a-again", "event=start");
    ck_assert_int_eq(kg_stop(a, SIGTERM), 0);
    kg_states_hold_sent(&e, "kill before commit");
    kg_wait_log(&e, "a-again", "commit=lost");
    /* With the states' union equal to the cases sent, this also makes the
     * archives plus the states' open days add up to them. */
    ck_assert_uint_gt(s_archive_matches_state(&e, "a"), 0);
    s_archive_matches_state(&e, "b");
    kg_env_close(&e);
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

/* a holds the second batch uncommitted when b joins; the broker refuses
 * the commit of a's revoke checkpoint (a fault the mock cluster injects,
 * not a test hook), so a is fenced: it stops with an error and leaves its
 * marker file, b counts the batch from the older offsets, and a, started
 * again, falls back to its last confirmed checkpoint. */
static void
s_fail_revoke_commit(kg_env_t *e, const char *ca, const char *cb, int port)
{
    pid_t a = kg_start(e, "a-fenced", ca);
    kg_wait_assigned_all(e, "a-fenced");
    kg_produce(e, N_SECOND, e->d0 + 40, 0, N_SECOND);
    int64_t in = 0;
    for (int t = 0; t < 600 && in < N_SECOND; t++) {
        usleep(100000);
        in = kg_metric(port, IN_METRIC);
    }
    ck_assert_int_eq(in, N_SECOND);
    ck_assert(!kg_all_committed(e)); /* a holds them uncommitted */
    rd_kafka_mock_push_request_errors(
        e->cluster, KAFKA_API_OFFSET_COMMIT, 1,
        RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE);
    pid_t b = kg_start(e, "b", cb);
    int status = 0;
    ck_assert_msg(kg_reap(a, 60, &status), "a still ran 60 s after b joined");
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 0,
                  "a was not stopped by the failed checkpoint (status %d)",
                  status);
    kg_wait_log(e, "a-fenced", "event=kafka_revoke_commit");
    char *fence = sn_strdup_printf("%s/a/analyzer.fenced", e->dir);
    ck_assert_int_eq(access(fence, F_OK), 0);
    kg_wait_takeover(e);
    ck_assert_msg(kg_wait_all_committed(e, 120), "second batch not committed");
    ck_assert_int_eq(kg_stop(b, SIGTERM), 0);
    a = kg_start(e, "a-again", ca);
    kg_wait_log(e, "a-again", "event=start");
    ck_assert_int_eq(kg_stop(a, SIGTERM), 0);
    ck_assert_int_ne(access(fence, F_OK), 0); /* settled at that start */
    free(fence);
}

START_TEST(test_kafka_group_revoke_commit_fails)
{
    kg_env_t e = {0};
    kg_env_open(&e);
    int port = ts_free_port();
    char *ca = kg_config(&e, "a", true, port),
         *cb = kg_config(&e, "b", true, 0);
    char *oa = kg_config(&e, "a", false, 0), *ob = kg_config(&e, "b", false, 0);
    pid_t a = kg_start(&e, "a", ca);
    kg_wait_assigned_all(&e, "a");
    kg_produce(&e, N_FIRST, e.d0, 0, N_FIRST);
    ck_assert_msg(kg_wait_all_committed(&e, 120), "first batch not committed");
    ck_assert_int_eq(kg_stop(a, SIGTERM), 0);
    s_slow_checkpoints(ca);
    s_fail_revoke_commit(&e, ca, cb, port);
    kg_states_hold_sent(&e, "failed revoke commit");
    ck_assert_uint_gt(s_archive_matches_state(&e, "a"), 0);
    s_archive_matches_state(&e, "b");
    kg_env_close(&e);
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
    tcase_add_checked_fixture(usage, NULL, kg_teardown);
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
