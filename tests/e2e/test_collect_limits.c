/*  tests/e2e/test_collect_limits.c - the site daemon at its limits
 *
 *  Real processes: `sentinel collect -c collector.yaml` as the site daemon
 *  (an MLLP listener on 127.0.0.1 and an inbox folder), with no receiver:
 *  the daemon answers AA once a message is in its spool, so none is
 *  needed. This test is the interface engine and the export job. It checks
 *  that mllp.max_message is the limit (a larger frame gets AR and is
 *  dead-lettered, redacted), that a refusal the dead-letter file cannot
 *  take (a full disk, /dev/full) is answered AR (so the engine resends it),
 *  that an inbox file still being written is not taken before it has
 *  settled (inbox.settle_ms) and that a silent MLLP connection is closed
 *  after mllp.idle_timeout_s.
 */
#include "sentinel/mem.h"
#include "support.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAIT_S 60 /* bound on any wait for the daemon */

static char *s_dir;
static int s_port;

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    s_port = ts_free_port();
    char *inbox = sn_strdup_printf("%s/inbox", s_dir);
    ck_assert_int_eq(mkdir(inbox, 0700), 0);
    free(inbox);
}

static void
s_teardown(void)
{
    ts_rmtree(s_dir);
    free(s_dir);
}

/* Start the daemon with these mllp, inbox and dead_letter sections (the
 * text inside their braces). */
static pid_t
s_start(const char *mllp, const char *inbox, const char *dead_letter)
{
    char *yaml = sn_strdup_printf(
        "site: {id: \"H1\", source: hospital, region: \"110105\"}\n"
        "inputs: {hl7: {event_id: plain, patient_classes: \"EO\"}}\n"
        "mllp: {listen: \"127.0.0.1:%d\"%s}\n"
        "inbox: {path: \"%s/inbox\", done: \"%s/done\", poll_ms: 50%s}\n"
        "dead_letter: {%s}\n"
        "log: {level: info}\n"
        "spool: {dir: \"%s/spool\", fsync: batch}\n"
        "transport: {endpoint: \"ipc://%s/rx.sock\", curve: false}\n",
        s_port, mllp, s_dir, s_dir, inbox, dead_letter, s_dir, s_dir);
    char *conf = ts_write_file(s_dir, "collector.yaml", yaml);
    char *log = sn_strdup_printf("%s/collector.log", s_dir);
    char *argv[] = {(char *)ts_sentinel_bin(), "collect", "-c", conf, NULL};
    pid_t pid = ts_spawn(argv, log);
    free(log);
    free(conf);
    free(yaml);
    return pid;
}

/* SIGTERM and wait: the daemon must exit 0. */
static void
s_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    ck_assert_int_eq(ts_wait_exit(pid, WAIT_S), 0);
}

/* @return the dead-letter path of the default sections below. */
static char *
s_dead_path(void)
{
    return sn_strdup_printf("%s/dead.jsonl", s_dir);
}

/* Connect to the listener, retrying while the daemon starts. */
static int
s_connect(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)s_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < WAIT_S * 20; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
            return fd;
        }
        close(fd);
        ts_sleep_ms(50);
    }
    ck_abort_msg("the MLLP listener did not come up");
    return -1;
}

/* Send `msg` in one MLLP frame and return the MSA segment of its ACK up
 * to its CR (caller frees), or NULL when the connection closed first. */
static char *
s_send(int fd, const char *msg)
{
    char *frame = sn_strdup_printf("\x0b%s\x1c\r", msg);
    size_t n = strlen(frame);
    ssize_t w = send(fd, frame, n, MSG_NOSIGNAL);
    free(frame);
    char buf[8192];
    size_t got = 0;
    while (w == (ssize_t)n && got < sizeof buf - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t r = poll(&p, 1, WAIT_S * 1000) == 1
                        ? recv(fd, buf + got, sizeof buf - 1 - got, 0)
                        : -1;
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
        buf[got] = '\0';
        const char *m = strstr(buf, "\rMSA|");
        if (m != NULL && got >= 2 && memcmp(buf + got - 2, "\x1c\r", 2) == 0) {
            return sn_strndup(m + 1, strcspn(m + 1, "\r"));
        }
    }
    return NULL;
}

/* An A01 of visit `visit` whose patient is ZHANG^SAN, padded with an NTE
 * segment of `pad` bytes. Caller frees. */
static char *
s_adt(const char *ctrl, const char *visit, size_t pad)
{
    char *fill = sn_malloc(pad + 1);
    memset(fill, 'n', pad);
    fill[pad] = '\0';
    char *m = sn_strdup_printf(
        "MSH|^~\\&|EHR|HOSP1|SENTINEL|CDC|20261120083000+0800||ADT^A01^ADT_A01|"
        "%s|P|2.5.1\r"
        "EVN||20261120083000+0800\r"
        "PID|1||MRN77^^^HOSP1||ZHANG^SAN||20190502|F\r"
        "PV1|1|E|||||||||||||||||%s|||||||||||||||||||||||||"
        "20261120083000+0800\r"
        "DG1|1||J11.1^Influenza^I10|||F\r"
        "NTE|1||%s\r",
        ctrl, visit, fill);
    free(fill);
    return m;
}

/* Send `msg` and check its MSA starts with `want`. */
static void
s_expect(int fd, const char *msg, const char *want)
{
    char *msa = s_send(fd, msg);
    ck_assert_msg(msa != NULL && strncmp(msa, want, strlen(want)) == 0,
                  "ACK '%s', expected '%s…'", msa ? msa : "(none)", want);
    free(msa);
}

/* @return how many lines of `path` hold `what` (0 when it is missing). */
static int
s_count(const char *path, const char *what)
{
    char *text = ts_read_file(path, NULL);
    int n = 0;
    for (char *p = text; p != NULL && (p = strstr(p, what)) != NULL;) {
        n++;
        p = strchr(p, '\n');
    }
    free(text);
    return n;
}

/* mllp.max_message: 1024, so a message of 2 KiB (which the default 1 MiB
 * would take) gets AR and is dead-lettered with its first bytes, the
 * patient's name emptied; the next message on the connection is taken. */
START_TEST(test_collect_limits_mllp_max_message)
{
    char *dl = sn_strdup_printf("path: \"%s/dead.jsonl\"", s_dir);
    pid_t col = s_start(", max_message: 1024", "", dl);
    int fd = s_connect();
    char *big = s_adt("C1", "V1", 2048);
    s_expect(fd, big, "MSA|AR||message longer than 1024 bytes");
    char *small = s_adt("C2", "V2", 10);
    s_expect(fd, small, "MSA|AA|C2");
    close(fd);
    s_stop(col);
    char *path = s_dead_path();
    ck_assert_int_eq(s_count(path, "\"reason\""), 1);
    ck_assert_int_eq(s_count(path, "\"code\":\"SN_EOVERFLOW\",\"reason\":"
                                   "\"message longer than 1024 bytes\""),
                     1);
    ck_assert_int_eq(s_count(path, "PID|1||||||20190502|F"), 1);
    ck_assert_int_eq(s_count(path, "ZHANG"), 0);
    ck_assert_int_eq(s_count(path, "MRN77"), 0);
    free(path);
    free(small);
    free(big);
    free(dl);
}
END_TEST

/* mllp.idle_timeout_s: a connection that goes silent is closed (the
 * engine reads end of stream) and the daemon logs it. */
START_TEST(test_collect_limits_mllp_idle_timeout)
{
    char *dl = sn_strdup_printf("path: \"%s/dead.jsonl\"", s_dir);
    pid_t col = s_start(", idle_timeout_s: 1", "", dl);
    int fd = s_connect();
    char *m = s_adt("C1", "V1", 10);
    s_expect(fd, m, "MSA|AA|C1");
    struct pollfd p = {fd, POLLIN, 0};
    char buf[64];
    ck_assert_int_eq(poll(&p, 1, WAIT_S * 1000), 1);
    ck_assert_int_eq(recv(fd, buf, sizeof buf, 0), 0); /* closed */
    close(fd);
    s_stop(col);
    char *log = sn_strdup_printf("%s/collector.log", s_dir);
    ck_assert_int_eq(s_count(log, "event=mllp_idle_closed connections=1"), 1);
    free(log);
    free(m);
    free(dl);
}
END_TEST

/* An exporter writing straight into the inbox (no rename): the file is
 * left alone while it grows and taken once it has not changed for
 * settle_ms, whole, so its last line is not cut and dead-lettered. */
START_TEST(test_collect_limits_inbox_settle)
{
    char *dl = sn_strdup_printf("path: \"%s/dead.jsonl\"", s_dir);
    pid_t col = s_start("", ", settle_ms: 4000", dl);
    const char *ev = "\"condition\":\"ILI\",\"report_time\":"
                     "\"2026-11-20T08:00:00Z\"}\n";
    char *path = sn_strdup_printf("%s/inbox/export.jsonl", s_dir);
    char *done = sn_strdup_printf("%s/done/export.jsonl", s_dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"event_id\":\"j1\",%s{\"event_id\":\"j2\",", ev);
    fflush(f);
    for (int i = 0; i < 6; i++) { /* many scans (poll_ms: 50) go by */
        ts_sleep_ms(100);
        ck_assert_int_eq(access(path, F_OK), 0);
        fprintf(f, " ");
        fflush(f);
    }
    fprintf(f, "%s", ev);
    fclose(f);
    for (int i = 0; i < WAIT_S * 10 && access(done, F_OK) != 0; i++) {
        ts_sleep_ms(100);
    }
    ck_assert_int_eq(access(done, F_OK), 0);
    s_stop(col);
    char *dead = s_dead_path();
    ck_assert_int_eq(s_count(dead, "\"reason\""), 0);
    char *log = sn_strdup_printf("%s/collector.log", s_dir);
    ck_assert_int_eq(s_count(log, "spooled=2 rejected=0"), 1);
    free(log);
    free(dead);
    free(done);
    free(path);
    free(dl);
}
END_TEST

/* The dead-letter file cannot take a line (a full disk: /dev/full): a
 * refused message gets AR, not AE, so the interface engine keeps it and
 * resends it; the failure is logged; good messages still get AA. */
START_TEST(test_collect_limits_dead_letter_unwritable)
{
    pid_t col = s_start("", "", "path: \"/dev/full\", fsync: never");
    int fd = s_connect();
    char *bad = s_adt("C1", "", 10); /* no visit number: AE normally */
    s_expect(fd, bad,
             "MSA|AR|C1|the refusal (SN_EPARSE) cannot be "
             "recorded: resend later");
    char *good = s_adt("C2", "V2", 10);
    s_expect(fd, good, "MSA|AA|C2");
    close(fd);
    s_stop(col);
    char *log = sn_strdup_printf("%s/collector.log", s_dir);
    ck_assert_int_eq(s_count(log, "event=dead_letter_failed"), 1);
    ck_assert_int_eq(s_count(log, "No space left on device"), 1);
    free(log);
    free(good);
    free(bad);
}
END_TEST

static Suite *
collect_limits_suite(void)
{
    Suite *s = suite_create("collect_limits");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 120);
    tcase_add_test(usage, test_collect_limits_mllp_max_message);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 120);
    tcase_add_test(edges, test_collect_limits_inbox_settle);
    tcase_add_test(edges, test_collect_limits_mllp_idle_timeout);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 120);
    tcase_add_test(errors, test_collect_limits_dead_letter_unwritable);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(collect_limits_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
