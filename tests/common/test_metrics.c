/*  tests/common/test_metrics.c - counters, the Prometheus text and /healthz
 *
 *  The server test talks plain HTTP/1.0 to 127.0.0.1 over a real socket.
 */
#include "sentinel/metrics.h"

#include "support.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* GET `path` from 127.0.0.1:port; the whole response, caller frees. */
static char *
s_get(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
    ck_assert(write(fd, req, (size_t)n) == n);
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    ssize_t got;
    while ((got = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)got;
    }
    buf[len] = '\0';
    close(fd);
    return buf;
}

START_TEST(test_metrics_usage)
{
    sn_metrics_t *m = sn_metrics_new("sentinel");
    int in = sn_metrics_register(m, "events_in", SN_METRIC_COUNTER,
                                 "Events accepted.");
    int depth = sn_metrics_register(m, "spool_depth", SN_METRIC_GAUGE,
                                    "Records not yet acknowledged.");
    sn_metrics_add(m, in, 3);
    sn_metrics_add(m, in, 2);
    sn_metrics_set(m, depth, 7);
    ck_assert_int_eq(sn_metrics_get(m, in), 5);
    char *text = sn_metrics_render(m);
    ck_assert_str_eq(text, "# HELP sentinel_events_in_total Events accepted.\n"
                           "# TYPE sentinel_events_in_total counter\n"
                           "sentinel_events_in_total 5\n"
                           "# HELP sentinel_spool_depth Records not yet "
                           "acknowledged.\n"
                           "# TYPE sentinel_spool_depth gauge\n"
                           "sentinel_spool_depth 7\n");
    free(text);
    sn_metrics_destroy(&m);
    ck_assert_ptr_null(m);
    sn_metrics_destroy(&m);
}
END_TEST

START_TEST(test_metrics_serves_http)
{
    sn_metrics_t *m = sn_metrics_new("sentinel");
    int in = sn_metrics_register(m, "events_in", SN_METRIC_COUNTER, "In.");
    sn_metrics_add(m, in, 42);
    int port = ts_free_port();
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    sn_err_t err;
    ck_assert_int_eq(sn_metrics_serve(m, addr, 60000, &err), SN_OK);
    char *r = s_get(port, "/metrics");
    ck_assert_ptr_nonnull(strstr(r, "200 OK"));
    ck_assert_ptr_nonnull(strstr(r, "sentinel_events_in_total 42\n"));
    free(r);
    r = s_get(port, "/healthz");
    ck_assert_ptr_nonnull(strstr(r, "200 OK"));
    ck_assert_ptr_nonnull(strstr(r, "\r\n\r\nok "));
    free(r);
    r = s_get(port, "/nope");
    ck_assert_ptr_nonnull(strstr(r, "404"));
    free(r);
    sn_metrics_destroy(&m);
}
END_TEST

START_TEST(test_metrics_health_goes_stale)
{
    sn_metrics_t *m = sn_metrics_new("sentinel");
    int port = ts_free_port();
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    ck_assert_int_eq(sn_metrics_serve(m, addr, 0, NULL), SN_OK);
    usleep(20000);
    char *r = s_get(port, "/healthz");
    ck_assert_ptr_nonnull(strstr(r, "503"));
    ck_assert_ptr_nonnull(strstr(r, "\r\n\r\nstale "));
    free(r);
    sn_metrics_destroy(&m);
}
END_TEST

START_TEST(test_metrics_rejects_bad_address)
{
    sn_metrics_t *m = sn_metrics_new("sentinel");
    sn_err_t err;
    ck_assert_int_eq(sn_metrics_serve(m, "localhost", 1000, &err), SN_EINVAL);
    ck_assert_str_eq(err.msg, "metrics address 'localhost': expected HOST:PORT");
    ck_assert_int_eq(sn_metrics_serve(m, "nohost:80", 1000, &err), SN_EINVAL);
    ck_assert_str_eq(err.msg, "metrics address 'nohost:80': 'nohost' is not "
                              "an IPv4 address");
    sn_metrics_destroy(&m);
}
END_TEST

static Suite *
metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_metrics_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 20);
    tcase_add_test(edges, test_metrics_serves_http);
    tcase_add_test(edges, test_metrics_health_goes_stale);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_metrics_rejects_bad_address);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(metrics_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
