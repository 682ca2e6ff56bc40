/*  tests/e2e/test_alerting_kill.c - kill -9 between state change and delivery
 *
 *  Real processes: `sentinel alerts ingest` commits an alert (state change
 *  and outbox row in one transaction); `sentinel alerts serve` tries to
 *  deliver it to a webhook that is down, and is killed with SIGKILL while
 *  the delivery is pending. The receiver (libmicrohttpd in this test
 *  process) then comes up, the daemon restarts, and the notification
 *  arrives, once per idempotency key, with a valid signature.
 */
#include "support.h"

#include <check.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_KEYS 8

typedef struct rx {
    int requests;             /* requests seen */
    int n_keys;               /* distinct idempotency keys */
    char keys[MAX_KEYS][200]; /* the keys */
    int count[MAX_KEYS];      /* arrivals per key */
    int signed_ok;            /* requests with a signature header */
} rx_t;

static enum MHD_Result
s_handler(void *cls, struct MHD_Connection *c, const char *url,
          const char *method, const char *version, const char *upload,
          size_t *upload_size, void **con_cls)
{
    (void)url, (void)method, (void)version, (void)upload;
    rx_t *rx = cls;
    if (*con_cls == NULL) {
        *con_cls = rx;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        *upload_size = 0;
        return MHD_YES;
    }
    const char *key =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
    rx->requests++;
    rx->signed_ok += MHD_lookup_connection_value(
                         c, MHD_HEADER_KIND, "X-Sentinel-Signature") != NULL;
    int i = 0;
    while (i < rx->n_keys && strcmp(rx->keys[i], key ? key : "") != 0) {
        i++;
    }
    if (i == rx->n_keys && i < MAX_KEYS) {
        snprintf(rx->keys[i], sizeof rx->keys[i], "%s", key ? key : "");
        rx->n_keys++;
    }
    rx->count[i]++;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(2, "ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* Start `sentinel alerts -c cfg serve` with stderr into `log`. */
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

/* Wait (bounded) until `log` contains `what`. */
static int
s_wait_log(const char *log, const char *what)
{
    for (int i = 0; i < 300; i++) {
        char *text = ts_read_file(log, NULL);
        int found = text != NULL && strstr(text, what) != NULL;
        free(text);
        if (found) {
            return 1;
        }
        ts_sleep_ms(100);
    }
    return 0;
}

static char *
s_config(const char *dir, int port)
{
    char text[2048];
    snprintf(text, sizeof text,
             "alerting:\n"
             "  store: %s/alerts.db\n"
             "  tick_ms: 50\n"
             /* quiet days on the data, so the fixed evidence day below
              * does not close the alert as the calendar moves on */
             "  clock: data\n"
             "  cap:\n    sender: cdc.e2e\n"
             "  outbox:\n    base_ms: 100\n    max_ms: 400\n"
             "  sinks:\n"
             "    - name: hook\n      kind: webhook\n"
             "      url: http://127.0.0.1:%d/hook\n"
             "      secret_file: %s/secret\n      timeout_ms: 2000\n",
             dir, port, dir);
    return ts_write_file(dir, "alerting.yaml", text);
}

START_TEST(test_alerting_kill_then_delivered)
{
    char *dir = ts_tmpdir();
    int port = ts_free_port();
    free(ts_write_file(dir, "secret", "k3y\n"));
    char *cfg = s_config(dir, port);
    char *in = ts_write_file(
        dir, "alerts.jsonl",
        "{\"level\":\"orange\",\"rule\":\"multi-site\",\"condition\":\"HFMD\","
        "\"region\":\"440305\",\"day\":\"2026-11-24\",\"evidence\":[{"
        "\"series_key\":\"HFMD/440305/school\",\"source\":\"school\","
        "\"detector\":\"ears-c3\",\"day\":\"2026-11-24\",\"observed\":14,"
        "\"expected\":3.5,\"upperbound\":8.1,\"score\":5.2}]}\n");
    ts_run_t r = ts_sentinel(NULL, 30, "alerts", "-c", cfg, "ingest", in, NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    ts_run_free(&r);
    char log[1024];
    snprintf(log, sizeof log, "%s/serve.log", dir);
    pid_t pid = s_serve(cfg, log);
    ck_assert(s_wait_log(log, "event=delivery_failed"));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    r = ts_sentinel(NULL, 30, "alerts", "-c", cfg, "show", "1", "--json", NULL);
    ck_assert_ptr_nonnull(strstr(r.out, "\"state\":\"pending\""));
    ts_run_free(&r);
    rx_t rx = {0};
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL,
                         NULL, s_handler, &rx, MHD_OPTION_END);
    ck_assert_ptr_nonnull(d);
    pid = s_serve(cfg, log);
    for (int i = 0; i < 300 && rx.requests == 0; i++) {
        ts_sleep_ms(100);
    }
    ts_sleep_ms(500); /* let a duplicate show itself, if there were one */
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    MHD_stop_daemon(d);
    ck_assert_int_eq(rx.n_keys, 1);
    ck_assert_str_eq(rx.keys[0], "cdc.e2e.alert.1.1");
    ck_assert_int_eq(rx.count[0], 1);
    ck_assert_int_eq(rx.signed_ok, rx.requests);
    r = ts_sentinel(NULL, 30, "alerts", "-c", cfg, "show", "1", "--json", NULL);
    ck_assert_ptr_nonnull(strstr(r.out, "\"state\":\"done\""));
    ts_run_free(&r);
    free(in);
    free(cfg);
    ts_rmtree(dir);
    free(dir);
}
END_TEST

/* The duty epidemiologist's commands and their exit codes. */
START_TEST(test_alerting_kill_cli_workflow)
{
    char *dir = ts_tmpdir();
    free(ts_write_file(dir, "secret", "k3y\n"));
    char *cfg = s_config(dir, ts_free_port());
    char *in = ts_write_file(
        dir, "alerts.jsonl",
        "{\"level\":\"blue\",\"rule\":\"single\",\"condition\":\"ILI\","
        "\"region\":\"110105\",\"day\":\"2026-11-24\",\"evidence\":[]}\n"
        "{\"level\":\"blue\"}\n");
    ts_run_t r = ts_sentinel(NULL, 30, "alerts", "-c", cfg, "ingest", in, NULL);
    ck_assert_int_eq(r.status, 3); /* the second line is refused */
    ck_assert_ptr_nonnull(strstr(r.err, "alerts.jsonl:2: key 'rule': "
                                        "missing"));
    ts_run_free(&r);
    r = ts_sentinel(NULL, 30, "alerts", "-c", cfg, "ack", "1", "--by", "li.wei",
                    NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "alert 1 acknowledged by li.wei\n");
    ts_run_free(&r);
    r = ts_sentinel(NULL, 30, "alerts", "-c", cfg, "ack", "1", "--by", "x",
                    NULL);
    ck_assert_int_eq(r.status, 2);
    ts_run_free(&r);
    r = ts_sentinel(NULL, 30, "alerts", "-c", cfg, "verify", "1", "--outcome",
                    "maybe", NULL);
    ck_assert_int_eq(r.status, 2);
    ts_run_free(&r);
    r = ts_sentinel(NULL, 30, "alerts", "-c", cfg, "verify", "1", "--outcome",
                    "confirmed", "--grade", "IV", "--by", "li", NULL);
    ck_assert_int_eq(r.status, 0);
    ts_run_free(&r);
    r = ts_sentinel(NULL, 30, "alerts", "-c", cfg, "list", NULL);
    ck_assert_ptr_nonnull(strstr(r.out, "li.wei       confirmed"));
    ts_run_free(&r);
    r = ts_sentinel(NULL, 30, "alerts", "-c", cfg, "report", "--since",
                    "2000-01-01", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "blue    single                    1"));
    ts_run_free(&r);
    r = ts_sentinel(NULL, 30, "alerts", "-c", cfg, "show", "7", NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.err, "sentinel alerts: alert 7: not found\n");
    ts_run_free(&r);
    free(in);
    free(cfg);
    ts_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_alerting_kill_bad_config)
{
    char *dir = ts_tmpdir();
    char *cfg = ts_write_file(dir, "bad.yaml",
                              "alerting:\n  store: x.db\n  quiet_dayz: 3\n");
    ts_run_t r = ts_sentinel(NULL, 30, "alerts", "-c", cfg, "serve", NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(
        strstr(r.err, "bad.yaml:3: unknown key 'quiet_dayz'"));
    ts_run_free(&r);
    free(cfg);
    ts_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *
alerting_kill_suite(void)
{
    Suite *s = suite_create("alerting_kill");
    TCase *tc = tcase_create("usage");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_alerting_kill_then_delivered);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_alerting_kill_cli_workflow);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_alerting_kill_bad_config);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(alerting_kill_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
