/*  tests/e2e/test_alerting_transport.c - alerts from the analyzer's side
 *
 *  Plays the analyzer: encodes sentinel.v1.Alert records into a spool and
 *  sends them with the real transport (ZeroMQ over ipc://, CURVE off as in
 *  the demo) to a running `sentinel alerts serve`. The daemon applies each
 *  record in one transaction with its position and only then acknowledges;
 *  a record that is not an alert is refused, recorded and acknowledged
 *  too, so it cannot block the stream.
 */
#include "support.h"

#include "sentinel/alert.h"
#include "sentinel/spool.h"
#include "sentinel/transport.h"

#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t
s_serve(const char *cfg, const char *log)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, 2);
        dup2(fd, 1);
        execl(ts_sentinel_bin(), "sentinel", "alerts", "-c", cfg, "serve",
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Append alert `level` about 440305 as an encoded record. */
static void
s_append(sn_spool_t *sp, sn_level_t level, double observed)
{
    sn_err_t err;
    sn_alert_t *a =
        sn_alert_new(level, "multi-site", "HFMD", "440305",
                     sn_day_from_ymd(2026, 11, 24), 0, "HFMD", &err);
    sn_evidence_t ev;
    sn_evidence_init(&ev);
    strcpy(ev.series_key, "HFMD/440305/school");
    ev.source = SN_SOURCE_SCHOOL;
    strcpy(ev.detector, "ears-c3");
    ev.day = a->day;
    ev.observed = observed;
    ck_assert_int_eq(sn_alert_add_evidence(a, &ev, &err), SN_OK);
    uint8_t buf[4096];
    int len = sn_alert_encode(a, buf, sizeof buf);
    ck_assert_int_gt(len, 0);
    ck_assert_int_eq(sn_spool_append(sp, buf, (size_t)len, NULL, &err), SN_OK);
    sn_alert_destroy(&a);
}

/* GET http://127.0.0.1:port/path with a plain socket; caller frees. */
static char *
s_http_get(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char req[256];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    ck_assert_int_eq(write(fd, req, (size_t)n), n);
    size_t cap = 65536, len = 0;
    char *buf = calloc(1, cap);
    ssize_t k;
    while ((k = read(fd, buf + len, cap - 1 - len)) > 0) {
        len += (size_t)k;
    }
    close(fd);
    return buf;
}

/* @return whether the file at `path` holds at least `n` lines. */
static int
s_has_lines(const char *path, int n)
{
    char *text = ts_read_file(path, NULL);
    int count = 0;
    for (const char *p = text; p != NULL && *p != '\0'; p++) {
        count += *p == '\n';
    }
    free(text);
    return count >= n;
}

static char *
s_config(const char *dir, int metrics_port)
{
    char text[2048];
    snprintf(text, sizeof text,
             "alerting:\n"
             "  store: %s/alerts.db\n"
             "  tick_ms: 50\n"
             "  metrics: 127.0.0.1:%d\n"
             "  sinks:\n"
             "    - {name: log, kind: log, path: %s/alerts.jsonl}\n"
             "transport:\n"
             "  kind: zmq\n"
             "  endpoint: ipc://%s/alerts.ipc\n"
             "  curve: false\n",
             dir, metrics_port, dir, dir);
    return ts_write_file(dir, "alerting.yaml", text);
}

/* Send what the spool holds until the receiver acknowledged it all. */
static int
s_send_all(const char *dir, sn_spool_t *sp)
{
    char endpoint[600];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/alerts.ipc", dir);
    sn_transport_opts_t o;
    sn_transport_opts_init(&o);
    o.endpoint = endpoint;
    o.sender_id = "analyzer-test";
    o.curve = false;
    o.timeout_ms = 500;
    sn_sender_t *tx = NULL;
    sn_err_t err;
    ck_assert_msg(sn_sender_new(&o, sp, NULL, NULL, &tx, &err) == SN_OK, "%s",
                  err.msg);
    for (int i = 0; i < 300 && !sn_sender_drained(tx); i++) {
        ck_assert_int_eq(sn_sender_poll(tx, 100, &err), SN_OK);
    }
    int drained = sn_sender_drained(tx);
    sn_sender_destroy(&tx);
    return drained;
}

START_TEST(test_alerting_transport_records_applied_then_acked)
{
    char *dir = ts_tmpdir();
    int port = ts_free_port();
    char *cfg = s_config(dir, port);
    char log[600], spool_dir[600];
    snprintf(log, sizeof log, "%s/serve.log", dir);
    snprintf(spool_dir, sizeof spool_dir, "%s/spool", dir);
    pid_t pid = s_serve(cfg, log);
    sn_spool_opts_t so;
    sn_spool_opts_init(&so);
    so.dir = spool_dir;
    sn_spool_t *sp = NULL;
    sn_err_t err;
    ck_assert_int_eq(sn_spool_open(&so, &sp, &err), SN_OK);
    s_append(sp, SN_LEVEL_YELLOW, 9);
    ck_assert_int_eq(sn_spool_append(sp, "not an alert", 12, NULL, &err),
                     SN_OK);
    s_append(sp, SN_LEVEL_ORANGE, 14);
    ck_assert_int_eq(sn_spool_flush(sp, &err), SN_OK);
    ck_assert(s_send_all(dir, sp));
    ck_assert_int_eq(sn_spool_acked_seq(sp), 3);
    sn_spool_destroy(&sp);
    char path[700];
    snprintf(path, sizeof path, "%s/alerts.jsonl", dir);
    for (int i = 0; i < 100 && !s_has_lines(path, 2); i++) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL); /* the outbox runs once per tick */
    }
    char *metrics = s_http_get(port, "/metrics");
    ck_assert_ptr_nonnull(
        strstr(metrics, "\nsentinel_alerting_alerts_taken_total 2\n"));
    ck_assert_ptr_nonnull(
        strstr(metrics, "\nsentinel_alerting_alerts_refused_total 1\n"));
    free(metrics);
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *text = ts_read_file(log, NULL);
    ck_assert_ptr_nonnull(strstr(text, "event=alert_refused"));
    ck_assert_ptr_nonnull(strstr(text, "record analyzer-test#2"));
    free(text);
    ts_run_t r =
        ts_sentinel(NULL, 30, "alerts", "-c", cfg, "show", "1", "--json", NULL);
    ck_assert_ptr_nonnull(strstr(r.out, "\"level\":\"orange\""));
    ck_assert_ptr_nonnull(strstr(r.out, "escalated from yellow to orange"));
    ts_run_free(&r);
    char *lines = ts_read_file(path, NULL); /* the log sink: Alert, Update */
    ck_assert_ptr_nonnull(lines);
    char *second = strchr(lines, '\n');
    ck_assert_ptr_nonnull(second);
    ck_assert_ptr_nonnull(strstr(lines, "\"type\":\"Alert\""));
    ck_assert_ptr_nonnull(strstr(second, "\"type\":\"Update\""));
    ck_assert_str_eq(strchr(second + 1, '\n'), "\n"); /* two lines */
    free(lines);
    free(cfg);
    ts_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *
alerting_transport_suite(void)
{
    Suite *s = suite_create("alerting_transport");
    TCase *tc = tcase_create("usage");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_alerting_transport_records_applied_then_acked);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, tcase_create("edges"));
    suite_add_tcase(s, tcase_create("errors"));
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(alerting_transport_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
