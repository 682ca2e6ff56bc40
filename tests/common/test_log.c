/*  tests/common/test_log.c - structured log lines on stderr
 *
 *  Each test points stderr at a pipe (dup2), logs, restores stderr and reads
 *  back exactly what a daemon would have printed: logfmt and JSON lines, the
 *  level threshold, quoting, the `log` section of a configuration file, and
 *  lines from several processes sharing one stderr staying whole.
 */
#include "sentinel/config.h"
#include "sentinel/date.h"
#include "sentinel/log.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CAPTURE_MAX (1024 * 1024)

/* stderr redirected into a pipe; begin, log, then end to read it all. */
typedef struct {
    int fds[2]; /* the pipe */
    int saved;  /* the original stderr */
} s_capture_t;

static void
s_begin(s_capture_t *c)
{
    ck_assert_int_eq(pipe(c->fds), 0);
    c->saved = dup(STDERR_FILENO);
    ck_assert_int_ge(c->saved, 0);
    ck_assert_int_eq(dup2(c->fds[1], STDERR_FILENO), STDERR_FILENO);
    close(c->fds[1]);
}

/* Restore stderr and return what was written (caller frees). */
static char *
s_end(s_capture_t *c)
{
    ck_assert_int_eq(dup2(c->saved, STDERR_FILENO), STDERR_FILENO);
    close(c->saved);
    char *buf = malloc(CAPTURE_MAX + 1);
    size_t len = 0;
    ssize_t n;
    while (len < CAPTURE_MAX &&
           (n = read(c->fds[0], buf + len, CAPTURE_MAX - len)) > 0) {
        len += (size_t)n;
    }
    close(c->fds[0]);
    buf[len] = '\0';
    return buf;
}

/* Check the "ts=<RFC 3339> " prefix and return what follows it. */
static const char *
s_after_ts(const char *line)
{
    ck_assert_msg(strncmp(line, "ts=", 3) == 0, "line: %s", line);
    char ts[SN_TIME_STR_MAX];
    const char *sp = strchr(line, ' ');
    ck_assert_ptr_nonnull(sp);
    ck_assert_int_eq(sp - line - 3, 24);
    memcpy(ts, line + 3, 24);
    ts[24] = '\0';
    sn_time_t t;
    ck_assert_int_eq(sn_time_parse(ts, &t), SN_OK);
    return sp + 1;
}

START_TEST(test_log_usage)
{
    sn_log_setup(SN_LOG_INFO, SN_LOG_LOGFMT);
    s_capture_t c;
    s_begin(&c);
    char q[64];
    sn_log(SN_LOG_WARN, "collector", "spool_full", "depth=%d reason=%s",
           1048576, sn_log_quote(q, sizeof q, "spool full"));
    sn_log(SN_LOG_INFO, "analyzer", "started", NULL);
    char *out = s_end(&c);
    char *second = strchr(out, '\n');
    ck_assert_ptr_nonnull(second);
    *second++ = '\0';
    ck_assert_str_eq(s_after_ts(out), "level=warn comp=collector "
                                      "event=spool_full depth=1048576 "
                                      "reason=\"spool full\"");
    ck_assert_str_eq(s_after_ts(second),
                     "level=info comp=analyzer event=started\n");
    free(out);
}
END_TEST

START_TEST(test_log_json_lines)
{
    sn_log_setup(SN_LOG_DEBUG, SN_LOG_JSON);
    s_capture_t c;
    s_begin(&c);
    char q[64];
    sn_log(SN_LOG_DEBUG, "alerting", "delivered", "sink=%s tries=%d note=%s",
           "webhook", 3, sn_log_quote(q, sizeof q, "said \"ok\""));
    char *out = s_end(&c);
    size_t len = strlen(out);
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(out[len - 1], '\n');
    ck_assert_ptr_eq(strchr(out, '\n'), out + len - 1);
    json_error_t jerr;
    json_t *o = json_loads(out, 0, &jerr);
    ck_assert_msg(o != NULL, "%s: %s", out, jerr.text);
    ck_assert_str_eq(json_string_value(json_object_get(o, "level")), "debug");
    ck_assert_str_eq(json_string_value(json_object_get(o, "comp")), "alerting");
    ck_assert_str_eq(json_string_value(json_object_get(o, "event")),
                     "delivered");
    ck_assert_str_eq(json_string_value(json_object_get(o, "sink")), "webhook");
    ck_assert_str_eq(json_string_value(json_object_get(o, "tries")), "3");
    ck_assert_str_eq(json_string_value(json_object_get(o, "note")),
                     "said \"ok\"");
    sn_time_t t;
    ck_assert_int_eq(
        sn_time_parse(json_string_value(json_object_get(o, "ts")), &t), SN_OK);
    json_decref(o);
    free(out);
}
END_TEST

START_TEST(test_log_threshold)
{
    sn_log_setup(SN_LOG_WARN, SN_LOG_LOGFMT);
    ck_assert(!sn_log_enabled(SN_LOG_INFO));
    ck_assert(sn_log_enabled(SN_LOG_ERROR));
    s_capture_t c;
    s_begin(&c);
    sn_log(SN_LOG_DEBUG, "t", "hidden_debug", NULL);
    sn_log(SN_LOG_INFO, "t", "hidden_info", NULL);
    sn_log(SN_LOG_ERROR, "t", "shown", "n=1");
    sn_log_setup(SN_LOG_OFF, SN_LOG_LOGFMT);
    sn_log(SN_LOG_ERROR, "t", "hidden_off", NULL);
    char *out = s_end(&c);
    ck_assert_str_eq(s_after_ts(out), "level=error comp=t event=shown n=1\n");
    free(out);
    ck_assert(!sn_log_enabled(SN_LOG_ERROR));
    ck_assert(!sn_log_enabled(SN_LOG_OFF));
}
END_TEST

START_TEST(test_log_quote)
{
    char buf[64];
    ck_assert_str_eq(sn_log_quote(buf, sizeof buf, "a \"b\" \\c"),
                     "\"a \\\"b\\\" \\\\c\"");
    ck_assert_str_eq(sn_log_quote(buf, sizeof buf, "tab\there"),
                     "\"tab\\x09here\"");
    ck_assert_str_eq(sn_log_quote(buf, sizeof buf, NULL), "\"\"");
    char small[8];
    sn_log_quote(small, sizeof small, "abcdefghijkl");
    ck_assert_uint_le(strlen(small), 7);
    ck_assert_int_eq(small[0], '"');
    ck_assert_int_eq(small[strlen(small) - 1], '"');
    char tiny[2];
    ck_assert_str_eq(sn_log_quote(tiny, sizeof tiny, "x"), "");
}
END_TEST

START_TEST(test_log_long_line_stays_one_line)
{
    sn_log_setup(SN_LOG_INFO, SN_LOG_LOGFMT);
    char *big = malloc(10000);
    memset(big, 'z', 9999);
    big[9999] = '\0';
    s_capture_t c;
    s_begin(&c);
    sn_log(SN_LOG_INFO, "t", "big", "v=%s", big);
    char *out = s_end(&c);
    size_t len = strlen(out);
    ck_assert_uint_lt(len, 4097);
    ck_assert_int_eq(out[len - 1], '\n');
    ck_assert_ptr_eq(strchr(out, '\n'), out + len - 1);
    free(out);
    free(big);
}
END_TEST

START_TEST(test_log_processes_share_stderr)
{
    sn_log_setup(SN_LOG_INFO, SN_LOG_LOGFMT);
    s_capture_t c;
    s_begin(&c);
    enum { KIDS = 4, LINES = 50 };
    for (int k = 0; k < KIDS; k++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            char pad[600];
            memset(pad, 'a' + k, sizeof pad - 1);
            pad[sizeof pad - 1] = '\0';
            for (int i = 0; i < LINES; i++) {
                sn_log(SN_LOG_INFO, "kid", "line", "k=%d i=%d pad=%s", k, i,
                       pad);
            }
            _exit(0);
        }
    }
    /* Read while the children write: more than a pipe holds. */
    char *out = s_end(&c);
    for (int k = 0; k < KIDS; k++) {
        int status = 0;
        ck_assert_int_gt(wait(&status), 0);
        ck_assert_int_eq(status, 0);
    }
    int lines = 0;
    for (char *save = NULL, *l = strtok_r(out, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        int k = -1;
        const char *kv = strstr(l, "k=");
        ck_assert_ptr_nonnull(kv);
        ck_assert_int_eq(sscanf(kv, "k=%d", &k), 1);
        const char *pad = strstr(l, "pad=");
        ck_assert_uint_eq(strspn(pad + 4, (char[]){(char)('a' + k), 0}), 599);
        ck_assert_uint_eq(strlen(pad + 4), 599);
        lines++;
    }
    ck_assert_int_eq(lines, KIDS * LINES);
    free(out);
}
END_TEST

START_TEST(test_log_config_section)
{
    static const sn_cfg_schema_t root[] = {SN_CFG_LOG_SECTION, {.key = NULL}};
    const char *text = "log:\n  level: warn\n  format: json\n";
    sn_config_t *cfg = NULL;
    sn_err_t err = {0};
    ck_assert_int_eq(
        sn_config_parse(text, strlen(text), "t.yaml", root, &cfg, &err), SN_OK);
    sn_cfg_log_setup(cfg);
    sn_config_destroy(&cfg);
    s_capture_t c;
    s_begin(&c);
    sn_log(SN_LOG_INFO, "t", "hidden", NULL);
    sn_log(SN_LOG_WARN, "t", "shown", NULL);
    char *out = s_end(&c);
    ck_assert_ptr_nonnull(strstr(out, "\"level\":\"warn\",\"comp\":\"t\","
                                      "\"event\":\"shown\"}\n"));
    ck_assert_ptr_null(strstr(out, "hidden"));
    free(out);
    /* Without the section the defaults apply: info, logfmt. */
    const char *none = "{}";
    ck_assert_int_eq(
        sn_config_parse(none, strlen(none), "t.yaml", root, &cfg, &err), SN_OK);
    sn_cfg_log_setup(cfg);
    sn_config_destroy(&cfg);
    ck_assert(sn_log_enabled(SN_LOG_INFO));
    ck_assert(!sn_log_enabled(SN_LOG_DEBUG));
}
END_TEST

START_TEST(test_log_level_names)
{
    sn_log_level_t l = SN_LOG_ERROR;
    ck_assert_int_eq(sn_log_level_parse("debug", &l), SN_OK);
    ck_assert_int_eq(l, SN_LOG_DEBUG);
    ck_assert_int_eq(sn_log_level_parse("off", &l), SN_OK);
    ck_assert_int_eq(l, SN_LOG_OFF);
    ck_assert_int_eq(sn_log_level_parse("WARN", &l), SN_EINVAL);
    ck_assert_int_eq(sn_log_level_parse("verbose", &l), SN_EINVAL);
    ck_assert_int_eq(sn_log_level_parse(NULL, &l), SN_EINVAL);
    ck_assert_int_eq(l, SN_LOG_OFF);
}
END_TEST

static Suite *
log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 10);
    tcase_add_test(usage, test_log_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 10);
    tcase_add_test(edges, test_log_json_lines);
    tcase_add_test(edges, test_log_threshold);
    tcase_add_test(edges, test_log_quote);
    tcase_add_test(edges, test_log_long_line_stays_one_line);
    tcase_add_test(edges, test_log_processes_share_stderr);
    tcase_add_test(edges, test_log_config_section);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_log_level_names);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(log_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
