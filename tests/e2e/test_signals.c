/*  tests/e2e/test_signals.c - a daemon stopped while it starts exits cleanly
 *
 *  Real processes: the collector's site daemon (MLLP listener and inbox),
 *  the analyzer and the alerting daemon are each started and sent SIGTERM
 *  (or SIGINT) at once, and again at later moments of their start-up
 *  (while they read the configuration, open the spool, the archive or the
 *  store, bind their sockets). Each time the process must exit 0, not die
 *  of the signal's default action. "At once" is the moment the process
 *  opens its configuration file (seen through inotify), which all three do
 *  early in main(), before any of them used to install its handler; the
 *  dynamic loader has mapped the libraries by then (before main() no
 *  program code can run, so no program can take a signal there). A
 *  command that is not a daemon must still die of the signal. Every process
 *  started is waited for (SIGKILL after a bound).
 */
#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_EXIT_S 60 /* bound on a clean stop */

static char *s_dir;

/* Delays (ms) after the signals are blocked at which the stop is sent. */
static const int s_delays_ms[] = {0, 0, 1, 3, 10, 30, 100, 300};
#define N_DELAYS (sizeof s_delays_ms / sizeof s_delays_ms[0])

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    char *text = sn_strdup_printf(
        "site: {id: \"S1\", source: hospital, region: \"110105\"}\n"
        "mllp: {listen: \"127.0.0.1:0\"}\n"
        "inbox: {path: \"%s/inbox\", done: \"%s/done\", poll_ms: 50}\n"
        "dead_letter: {path: \"%s/dead.jsonl\"}\n"
        "log: {level: warn}\n"
        "spool: {dir: \"%s/spool\"}\n"
        "transport: {endpoint: \"ipc://%s/events.ipc\", curve: false}\n",
        s_dir, s_dir, s_dir, s_dir, s_dir);
    free(ts_write_file(s_dir, "collector.yaml", text));
    free(text);
    text = sn_strdup_printf(
        "analyzer: {state_dir: %s/state, dead_letter: %s/adead.jsonl,\n"
        "           dedup_capacity: 1024}\n"
        "transport: {endpoint: \"ipc://%s/events.ipc\", curve: false}\n"
        "alerts:\n"
        "  transport: {endpoint: \"ipc://%s/alerts.ipc\", curve: false,\n"
        "              sender_id: analyzer}\n"
        "  spool: {dir: %s/outbox}\n"
        "archive: {path: %s/archive.h5}\n"
        "series:\n  - {condition: ili}\n"
        "detectors:\n  - {name: ears-c2}\n"
        "rules:\n  - {name: single, kind: single, level: blue,"
        " detector: ears-c2}\n",
        s_dir, s_dir, s_dir, s_dir, s_dir, s_dir);
    free(ts_write_file(s_dir, "sentinel.yaml", text));
    free(text);
    text = sn_strdup_printf(
        "alerting:\n"
        "  store: %s/alerts.db\n"
        "  sinks:\n    - {name: log, kind: log, path: %s/alerts.jsonl}\n"
        "transport: {kind: zmq, endpoint: \"ipc://%s/alerts.ipc\","
        " curve: false}\n",
        s_dir, s_dir, s_dir);
    free(ts_write_file(s_dir, "alerting.yaml", text));
    free(text);
}

static void
s_teardown(void)
{
    ts_rmtree(s_dir);
    free(s_dir);
}

/* Start argv with stdout and stderr appended to `log` and stdin from
 * `in_fd` (or /dev/null when -1); return once the child has exec'd. */
static pid_t
s_spawn(char *const argv[], const char *log, int in_fd)
{
    int in = in_fd >= 0 ? in_fd : open("/dev/null", O_RDONLY);
    pid_t pid = ts_spawn_in(argv, log, in);
    if (in_fd < 0 && in >= 0) {
        close(in);
    }
    return pid;
}

/* @return the signal mask line `field` (SigBlk, SigCgt) of `pid`, or 0. */
static unsigned long long
s_proc_mask(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    unsigned long long mask = 0;
    size_t n = strlen(field);
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            mask = strtoull(line + n + 1, NULL, 16);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return mask;
}

static bool
s_has(unsigned long long mask, int sig)
{
    return (mask >> (sig - 1)) & 1u;
}

/* @return an inotify descriptor that reports every open of `path`. */
static int
s_watch_opens(const char *path)
{
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(inotify_add_watch(fd, path, IN_OPEN), 0);
    return fd;
}

/* Wait (bounded, 30 s) until the watched file is opened while `pid` runs.
 * @return true when it was. */
static bool
s_wait_open(int ifd, pid_t pid)
{
    char buf[4096] __attribute__((aligned(8)));
    for (int i = 0; i < 30000; i++) {
        struct pollfd p = {ifd, POLLIN, 0};
        if (poll(&p, 1, 1) > 0 && read(ifd, buf, sizeof buf) > 0) {
            return true;
        }
        siginfo_t si = {0};
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            si.si_pid == pid) {
            return false; /* it ended; ts_wait_exit() reaps it */
        }
    }
    return false;
}

/* Start the daemon `args` (after the executable; args[2] is its
 * configuration) N_DELAYS times, send `sig` once it has opened its
 * configuration plus each delay, and check that it exits 0 every time. */
static void
s_stop_while_starting(const char *name, const char *const *args, int sig)
{
    char *argv[8] = {(char *)ts_sentinel_bin()};
    for (int i = 0; args[i] != NULL && i < 6; i++) {
        argv[i + 1] = (char *)args[i];
    }
    char *log = sn_strdup_printf("%s/%s.log", s_dir, name);
    for (size_t i = 0; i < N_DELAYS; i++) {
        int ifd = s_watch_opens(args[2]);
        pid_t pid = s_spawn(argv, log, -1);
        bool opened = s_wait_open(ifd, pid);
        close(ifd);
        ts_sleep_ms(s_delays_ms[i]);
        kill(pid, sig);
        int st = ts_wait_exit(pid, WAIT_EXIT_S);
        char *text = ts_read_file(log, NULL);
        ck_assert_msg(opened, "%s never opened %s\n%s", name, args[2],
                      text ? text : "");
        ck_assert_msg(st == 0, "%s stopped %d ms after start: status %d\n%s",
                      name, s_delays_ms[i], st, text ? text : "");
        free(text);
    }
    free(log);
}

START_TEST(test_signals_collect_daemon_stops_cleanly)
{
    char *conf = sn_strdup_printf("%s/collector.yaml", s_dir);
    const char *args[] = {"collect", "-c", conf, NULL};
    s_stop_while_starting("collect", args, SIGTERM);
    free(conf);
}
END_TEST

START_TEST(test_signals_analyze_stops_cleanly)
{
    char *conf = sn_strdup_printf("%s/sentinel.yaml", s_dir);
    const char *args[] = {"analyze", "-c", conf, NULL};
    s_stop_while_starting("analyze", args, SIGTERM);
    free(conf);
}
END_TEST

START_TEST(test_signals_alerts_serve_stops_cleanly)
{
    char *conf = sn_strdup_printf("%s/alerting.yaml", s_dir);
    const char *args[] = {"alerts", "-c", conf, "serve", NULL};
    s_stop_while_starting("alerts", args, SIGTERM);
    free(conf);
}
END_TEST

START_TEST(test_signals_sigint_stops_cleanly)
{
    char *conf = sn_strdup_printf("%s/collector.yaml", s_dir);
    const char *args[] = {"collect", "-c", conf, NULL};
    s_stop_while_starting("collect-int", args, SIGINT);
    free(conf);
    conf = sn_strdup_printf("%s/sentinel.yaml", s_dir);
    const char *aargs[] = {"analyze", "-c", conf, NULL};
    s_stop_while_starting("analyze-int", aargs, SIGINT);
    free(conf);
}
END_TEST

/* A command that is not a daemon keeps the default action: `alerts ingest
 * -` waiting on its stdin dies of SIGTERM, and does not block it. */
START_TEST(test_signals_other_commands_keep_default)
{
    char *conf = sn_strdup_printf("%s/alerting.yaml", s_dir);
    char *log = sn_strdup_printf("%s/ingest.log", s_dir);
    char *argv[] = {
        (char *)ts_sentinel_bin(), "alerts", "-c", conf, "ingest", "-", NULL};
    int in[2];
    ck_assert_int_eq(pipe(in), 0);
    pid_t pid = s_spawn(argv, log, in[0]);
    close(in[0]);
    /* Wait until it has opened its store and reads stdin. */
    char *db = sn_strdup_printf("%s/alerts.db", s_dir);
    for (int i = 0; i < 2000 && access(db, F_OK) != 0; i++) {
        ts_sleep_ms(10);
    }
    ck_assert_int_eq(access(db, F_OK), 0);
    ck_assert(!s_has(s_proc_mask(pid, "SigBlk"), SIGTERM));
    kill(pid, SIGTERM);
    ck_assert_int_eq(ts_wait_exit(pid, WAIT_EXIT_S), 128 + SIGTERM);
    close(in[1]);
    free(db);
    free(log);
    free(conf);
}
END_TEST

/* A daemon that cannot start (an unknown key in its configuration) still
 * says why and exits 2, also when a stop is pending: the signals blocked
 * at its start change nothing there. */
START_TEST(test_signals_bad_config_still_exits_2)
{
    char *conf = ts_write_file(s_dir, "bad.yaml", "bogus: 1\n");
    char *log = sn_strdup_printf("%s/bad.log", s_dir);
    const char *cmds[] = {"collect", "analyze"};
    for (int i = 0; i < 2; i++) {
        char *argv[] = {(char *)ts_sentinel_bin(), (char *)cmds[i], "-c", conf,
                        NULL};
        int ifd = s_watch_opens(conf);
        pid_t pid = s_spawn(argv, log, -1);
        if (s_wait_open(ifd, pid)) {
            kill(pid, SIGTERM);
        }
        close(ifd);
        ck_assert_int_eq(ts_wait_exit(pid, WAIT_EXIT_S), 2);
    }
    char *text = ts_read_file(log, NULL);
    ck_assert_ptr_nonnull(strstr(text, "sentinel collect: "));
    ck_assert_ptr_nonnull(strstr(text, "unknown key 'bogus'"));
    ck_assert_ptr_nonnull(strstr(text, "sentinel analyze: "));
    free(text);
    free(log);
    free(conf);
}
END_TEST

static Suite *
signals_suite(void)
{
    Suite *s = suite_create("signals");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 600);
    tcase_add_test(usage, test_signals_collect_daemon_stops_cleanly);
    tcase_add_test(usage, test_signals_analyze_stops_cleanly);
    tcase_add_test(usage, test_signals_alerts_serve_stops_cleanly);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 600);
    tcase_add_test(edges, test_signals_sigint_stops_cleanly);
    tcase_add_test(edges, test_signals_other_commands_keep_default);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 120);
    tcase_add_test(errors, test_signals_bad_config_still_exits_2);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(signals_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
