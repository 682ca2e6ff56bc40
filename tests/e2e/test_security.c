/*  tests/e2e/test_security.c - who gets in, what is kept, with what mode
 *
 *  Real processes: every daemon (`sentinel collect`, `sentinel analyze`,
 *  `sentinel alerts serve`) refuses to start when CURVE is on (the default)
 *  and its keys are not set or not readable, unless the configuration says
 *  `curve: false` (the demo); the alerting HTTP API refuses a missing or
 *  wrong bearer token; key files, spools and dead letters are created
 *  0600/0700; and a record carrying a person's name, sent through the whole
 *  pipeline, leaves the name nowhere: not in the spool, the analyzer's
 *  state, archive or dead letter, the alert store or log, nor the
 *  collector's dead letter (which keeps the field name and no raw bytes).
 */
#define _GNU_SOURCE /* memmem */
#include "sentinel/mem.h"
#include "support.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NAME "Zhang Sanfeng"

static char *s_dir;

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
}

static void
s_teardown(void)
{
    ts_rmtree(s_dir);
    free(s_dir);
}

static pid_t
s_spawn(const char *log, char *const argv[])
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int
s_stop(pid_t pid)
{
    int status = 0;
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static mode_t
s_mode(const char *dir, const char *name)
{
    char *p = sn_strdup_printf("%s/%s", dir, name);
    struct stat st;
    ck_assert_msg(stat(p, &st) == 0, "%s missing", p);
    free(p);
    return st.st_mode & 0777;
}

/* -- CURVE -------------------------------------------------------------- */

/* Run `sentinel CMD -c FILE` on a config of `yaml`: it must not start
 * (exit 2 for a configuration refused, or 1 when the daemon stops on a key
 * file it cannot read) and must say `needle`. */
static void
s_refuses(const char *cmd, const char *yaml, const char *needle)
{
    char *cfg = ts_write_file(s_dir, "curve.yaml", yaml);
    char *in = ts_write_file(s_dir, "one.jsonl",
                             "{\"event_id\":\"x1\",\"condition\":\"ILI\","
                             "\"report_time\":\"2026-11-20T08:00:00Z\"}\n");
    ts_run_t r =
        strcmp(cmd, "alerts") == 0
            ? ts_sentinel(NULL, 30, "alerts", "-c", cfg, "serve", NULL)
            : ts_sentinel(NULL, 30, cmd, "-c", cfg, "--timeout", "2", in, NULL);
    if (strcmp(cmd, "analyze") == 0) {
        ts_run_free(&r);
        r = ts_sentinel(NULL, 30, cmd, "-c", cfg, NULL);
    }
    ck_assert_msg(
        (r.status == 2 || (r.status == 1 && strstr(needle, ".key"))) &&
            strstr(r.err, needle) != NULL,
        "%s: status %d, stderr: %s", cmd, r.status, r.err);
    ts_run_free(&r);
    free(in);
    free(cfg);
}

START_TEST(test_security_curve_required)
{
    char *col = sn_strdup_printf(
        "site: {id: S1, source: lab, region: \"110105\"}\n"
        "dead_letter: {path: %s/dl.jsonl}\nspool: {dir: %s/spool}\n"
        "transport: {endpoint: \"ipc://%s/x.ipc\"%s}\n",
        s_dir, s_dir, s_dir, "");
    s_refuses("collect", col, "curve is on but secret_key is not set");
    free(col);
    col = sn_strdup_printf(
        "site: {id: S1, source: lab, region: \"110105\"}\n"
        "dead_letter: {path: %s/dl.jsonl}\nspool: {dir: %s/spool}\n"
        "transport: {endpoint: \"ipc://%s/x.ipc\", secret_key: %s/no.key,\n"
        "            server_key: %s/no.pub}\n",
        s_dir, s_dir, s_dir, s_dir, s_dir);
    s_refuses("collect", col, "no.key");
    free(col);
    char *ana = sn_strdup_printf("analyzer: {state_dir: %s/state}\n"
                                 "transport: {endpoint: \"ipc://%s/e.ipc\"}\n",
                                 s_dir, s_dir);
    s_refuses("analyze", ana, "curve is on but secret_key is not set");
    free(ana);
    ana = sn_strdup_printf(
        "analyzer: {state_dir: %s/state}\n"
        "transport: {endpoint: \"ipc://%s/e.ipc\", curve: false}\n"
        "alerts:\n  transport: {endpoint: \"ipc://%s/a.ipc\"}\n"
        "  spool: {dir: %s/outbox}\n",
        s_dir, s_dir, s_dir, s_dir);
    s_refuses("analyze", ana, "curve is on but secret_key is not set");
    free(ana);
    char *alr = sn_strdup_printf(
        "alerting:\n  store: %s/alerts.db\n"
        "transport: {kind: zmq, endpoint: \"ipc://%s/a.ipc\"}\n",
        s_dir, s_dir);
    s_refuses("alerts", alr, "curve is on but secret_key is not set");
    free(alr);
}
END_TEST

/* A CURVE key file that cannot be read is a configuration error: `sentinel
 * collect` exits 2 (usage and configuration), not 1, and names the file. */
START_TEST(test_security_collect_unreadable_key_exits_2)
{
    char *col = sn_strdup_printf(
        "site: {id: S1, source: lab, region: \"110105\"}\n"
        "dead_letter: {path: %s/dl.jsonl}\nspool: {dir: %s/spool}\n"
        "transport: {endpoint: \"ipc://%s/x.ipc\", secret_key: %s/gone.key,\n"
        "            server_key: %s/gone.pub}\n",
        s_dir, s_dir, s_dir, s_dir, s_dir);
    char *cfg = ts_write_file(s_dir, "collector.yaml", col);
    char *in = ts_write_file(s_dir, "one.jsonl",
                             "{\"event_id\":\"x1\",\"condition\":\"ILI\","
                             "\"report_time\":\"2026-11-20T08:00:00Z\"}\n");
    ts_run_t r =
        ts_sentinel(NULL, 30, "collect", "-c", cfg, "--timeout", "2", in, NULL);
    ck_assert_msg(r.status == 2 && strstr(r.err, "gone.key") != NULL,
                  "status %d, stderr: %s", r.status, r.err);
    ts_run_free(&r);
    free(in);
    free(cfg);
    free(col);
}
END_TEST

/* -- HTTP API tokens ---------------------------------------------------- */

/* Send `req` to 127.0.0.1:port. @return the status line's code, or -1. */
static int
s_http(int port, const char *req)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    char buf[256] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    int code = -1;
    if (n > 12) {
        sscanf(buf, "HTTP/%*s %d", &code);
    }
    return code;
}

static int
s_get_alerts(int port, const char *auth)
{
    char req[512];
    snprintf(req, sizeof req,
             "GET /alerts HTTP/1.0\r\nHost: 127.0.0.1\r\n%s\r\n", auth);
    return s_http(port, req);
}

START_TEST(test_security_api_tokens)
{
    int port = ts_free_port();
    free(ts_write_file(s_dir, "token", "s3cret-token-0123456789\n"));
    char *yaml = sn_strdup_printf(
        "alerting:\n  store: %s/alerts.db\n"
        "  api: {listen: \"127.0.0.1:%d\", token_file: %s/token}\n"
        "transport: {kind: zmq, endpoint: \"ipc://%s/a.ipc\", curve: false}\n",
        s_dir, port, s_dir, s_dir);
    char *cfg = ts_write_file(s_dir, "alerting.yaml", yaml);
    char *log = sn_strdup_printf("%s/serve.log", s_dir);
    char *argv[] = {
        (char *)ts_sentinel_bin(), "alerts", "-c", cfg, "serve", NULL};
    pid_t pid = s_spawn(log, argv);
    const char *good = "Authorization: Bearer s3cret-token-0123456789\r\n";
    int code = -1;
    for (int i = 0; i < 100 && code < 0; i++) {
        ts_sleep_ms(100);
        code = s_get_alerts(port, good);
    }
    ck_assert_int_eq(code, 200);
    ck_assert_int_eq(s_get_alerts(port, ""), 401);
    ck_assert_int_eq(s_get_alerts(port, "Authorization: Bearer wrong\r\n"),
                     401);
    ck_assert_int_eq(
        s_get_alerts(port, "Authorization: Bearer s3cret-token-01234567\r\n"),
        401);
    ck_assert_int_eq(
        s_get_alerts(port, "Authorization: Basic czNjcmV0LXRva2Vu\r\n"), 401);
    ck_assert_int_eq(s_stop(pid), 0);
    free(log);
    free(cfg);
    free(yaml);
}
END_TEST

/* -- modes and personal identifiers ------------------------------------- */

/* @return true when `name` (a file under dir, or dir itself when NULL)
 * holds NAME anywhere; folders are searched recursively. */
static bool
s_holds_name(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        bool found = false;
        struct dirent *e;
        while (!found && (e = readdir(d)) != NULL) {
            if (e->d_name[0] != '.') {
                char *p = sn_strdup_printf("%s/%s", path, e->d_name);
                found = s_holds_name(p);
                free(p);
            }
        }
        closedir(d);
        return found;
    }
    size_t len = 0;
    char *text = ts_read_file(path, &len);
    bool found = text != NULL && memmem(text, len, "Sanfeng", 7) != NULL;
    free(text);
    return found;
}

static void
s_write_pipeline_configs(void)
{
    char *ana = sn_strdup_printf(
        "analyzer:\n  state_dir: %s/state\n  dead_letter: %s/ana-dl.jsonl\n"
        "  checkpoint_ms: 50\n  lateness_days: 0\n  wall_clock: false\n"
        "transport: {endpoint: \"ipc://%s/e.ipc\", curve: false}\n"
        "alerts:\n  transport: {endpoint: \"ipc://%s/a.ipc\", curve: false,\n"
        "              sender_id: ana}\n  spool: {dir: %s/outbox}\n"
        "archive: {path: %s/archive.h5, flush_interval: 0.2}\n"
        "series:\n  - {condition: cholera}\n"
        "rules:\n  - {name: class-a, kind: threshold, level: red, "
        "classes: A}\n",
        s_dir, s_dir, s_dir, s_dir, s_dir, s_dir);
    free(ts_write_file(s_dir, "sentinel.yaml", ana));
    free(ana);
    char *alr = sn_strdup_printf(
        "alerting:\n  store: %s/alerts.db\n  tick_ms: 50\n  sinks:\n"
        "    - {name: log, kind: log, path: %s/alerts.jsonl}\n"
        "transport: {kind: zmq, endpoint: \"ipc://%s/a.ipc\", curve: false}\n",
        s_dir, s_dir, s_dir);
    free(ts_write_file(s_dir, "alerting.yaml", alr));
    free(alr);
    char *col = sn_strdup_printf(
        "site: {id: S1, source: lab, region: \"110105\"}\n"
        "dead_letter: {path: %s/col-dl.jsonl}\nspool: {dir: %s/spool}\n"
        "transport: {endpoint: \"ipc://%s/e.ipc\", curve: false}\n",
        s_dir, s_dir, s_dir);
    free(ts_write_file(s_dir, "collector.yaml", col));
    free(col);
}

/* One good cholera case (so an alert is made and stored), one record that
 * carries a name, one with the name in an unknown-but-harmless place. */
static const char s_feed[] =
    "{\"event_id\":\"c1\",\"condition\":\"cholera\","
    "\"report_time\":\"2026-11-20T08:00:00Z\"}\n"
    "{\"event_id\":\"c2\",\"condition\":\"cholera\",\"name\":\"" NAME "\","
    "\"report_time\":\"2026-11-20T09:00:00Z\"}\n"
    "{\"event_id\":\"c3\",\"condition\":\"cholera\",\"Patient-Name\":"
    "\"" NAME "\",\"report_time\":\"2026-11-20T09:30:00Z\"}\n";

static void
s_run_pipeline(void)
{
    char *ana_cfg = sn_strdup_printf("%s/sentinel.yaml", s_dir);
    char *alr_cfg = sn_strdup_printf("%s/alerting.yaml", s_dir);
    char *log = sn_strdup_printf("%s/daemons.log", s_dir);
    char *a1[] = {(char *)ts_sentinel_bin(), "analyze", "-c", ana_cfg, NULL};
    char *a2[] = {
        (char *)ts_sentinel_bin(), "alerts", "-c", alr_cfg, "serve", NULL};
    pid_t ana = s_spawn(log, a1), alr = s_spawn(log, a2);
    char *feed = ts_write_file(s_dir, "feed.jsonl", s_feed);
    char *col = sn_strdup_printf("%s/collector.yaml", s_dir);
    ts_run_t r = ts_sentinel(NULL, 60, "collect", "-c", col, feed, NULL);
    ck_assert_msg(r.status == 3, "collect: %d %s", r.status, r.err);
    ts_run_free(&r);
    char *alerts = sn_strdup_printf("%s/alerts.jsonl", s_dir);
    char *text = NULL;
    for (int i = 0; i < 200 && (text == NULL || text[0] == '\0'); i++) {
        free(text);
        ts_sleep_ms(100);
        text = ts_read_file(alerts, NULL);
    }
    ck_assert_msg(text != NULL && strstr(text, "cholera") != NULL,
                  "no alert delivered");
    free(text);
    ts_sleep_ms(500);
    ck_assert_int_eq(s_stop(ana), 0);
    ck_assert_int_eq(s_stop(alr), 0);
    free(alerts);
    free(col);
    free(feed);
    free(log);
    free(alr_cfg);
    free(ana_cfg);
}

START_TEST(test_security_no_personal_identifiers_stored)
{
    s_write_pipeline_configs();
    s_run_pipeline();
    const char *kept[] = {"spool",        "state",        "outbox",
                          "archive.h5",   "ana-dl.jsonl", "alerts.db",
                          "alerts.jsonl", "col-dl.jsonl", "daemons.log"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        char *p = sn_strdup_printf("%s/%s", s_dir, kept[i]);
        ck_assert_msg(!s_holds_name(p), "%s holds the name", kept[i]);
        free(p);
    }
    char *dl = sn_strdup_printf("%s/col-dl.jsonl", s_dir);
    char *text = ts_read_file(dl, NULL);
    ck_assert_ptr_nonnull(strstr(text, "field 'name': personal identifiers"));
    ck_assert_ptr_nonnull(strstr(text, "\"redacted\":true"));
    free(text);
    free(dl);
}
END_TEST

START_TEST(test_security_modes)
{
    s_write_pipeline_configs();
    s_run_pipeline();
    char *k = sn_strdup_printf("%s/site", s_dir);
    ts_run_t r = ts_sentinel(NULL, 30, "keygen", "-o", k, NULL);
    ck_assert_int_eq(r.status, 0);
    ts_run_free(&r);
    free(k);
    ck_assert_uint_eq(s_mode(s_dir, "site.key"), 0600);
    ck_assert_uint_eq(s_mode(s_dir, "spool"), 0700);
    ck_assert_uint_eq(s_mode(s_dir, "outbox"), 0700);
    ck_assert_uint_eq(s_mode(s_dir, "spool/seg-00000000000000000001.log"),
                      0600);
    ck_assert_uint_eq(s_mode(s_dir, "col-dl.jsonl"), 0600);
    ck_assert_uint_eq(s_mode(s_dir, "ana-dl.jsonl"), 0600);
    ck_assert_uint_eq(s_mode(s_dir, "state") & 0077, 0);
    ck_assert_uint_eq(s_mode(s_dir, "alerts.db"), 0600);
    ck_assert_uint_eq(s_mode(s_dir, "alerts.jsonl"), 0600);
}
END_TEST

static Suite *
security_suite(void)
{
    Suite *s = suite_create("security");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 120);
    tcase_add_test(usage, test_security_no_personal_identifiers_stored);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 120);
    tcase_add_test(edges, test_security_modes);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 120);
    tcase_add_test(errors, test_security_curve_required);
    tcase_add_test(errors, test_security_collect_unreadable_key_exits_2);
    tcase_add_test(errors, test_security_api_tokens);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(security_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
