/*  tests/alerting/test_api.c - the HTTP API with bearer-token auth
 *
 *  Starts the API on a free loopback port over a real store, raises an
 *  alert through the lifecycle and talks to the API with libcurl:
 *  listing, showing, acknowledging and verifying, and every refusal
 *  (401 without or with a wrong token, and then nothing changed).
 */
#include "fixture.h"

#include "api.h"

#include <curl/curl.h>

#define TOKEN "duty-token-123"

static char *s_dir;
static alr_store_t *s_store;
static alr_api_t *s_api;
static alr_lifecycle_opts_t s_opts;

typedef struct resp {
    long status;     /* HTTP status */
    char body[8192]; /* response body, truncated */
    size_t len;      /* bytes in body */
} resp_t;

static size_t
s_collect(char *ptr, size_t size, size_t n, void *arg)
{
    resp_t *r = arg;
    size_t k = size * n;
    size_t room = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, ptr, k < room ? k : room);
    r->len += k < room ? k : room;
    r->body[r->len] = '\0';
    return k;
}

/* One request; `token` NULL sends no Authorization header. */
static resp_t
s_http(const char *method, const char *path, const char *token,
       const char *body)
{
    resp_t r = {0};
    char url[256], auth[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", alr_api_port(s_api),
             path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    if (token != NULL) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    s_store = fx_store(s_dir);
    s_opts = fx_opts();
    alr_lifecycle_t *life = alr_lifecycle_new(s_store, &s_opts);
    const fx_row_t rows[] = {{"lab", "2026-11-20", 4}};
    sn_alert_t *a = fx_alert(SN_LEVEL_ORANGE, "2026-11-20", rows, 1);
    ck_assert_int_eq(alr_lifecycle_intake(life, a, 1000, NULL, NULL), SN_OK);
    sn_alert_destroy(&a);
    alr_lifecycle_destroy(&life);
    char path[512];
    snprintf(path, sizeof path, "%s/alerts.db", s_dir);
    sn_err_t err;
    ck_assert_msg(alr_api_start(path, &s_opts, "127.0.0.1:0", TOKEN, &s_api,
                                &err) == SN_OK,
                  "%s", err.msg);
}

static void
s_teardown(void)
{
    fx_check_store_caps(s_dir, s_store);
    alr_api_destroy(&s_api);
    alr_store_destroy(&s_store);
    ts_rmtree(s_dir);
    free(s_dir);
}

START_TEST(test_api_list_show_ack)
{
    resp_t r = s_http("GET", "/alerts", TOKEN, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "[{\"id\":1,"));
    ck_assert_ptr_nonnull(strstr(r.body, "\"level\":\"orange\""));
    r = s_http("POST", "/alerts/1/ack", TOKEN,
               "{\"by\":\"li.wei\",\"note\":\"on it\"}");
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"ack_by\":\"li.wei\""));
    r = s_http("GET", "/alerts/1", TOKEN, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"kind\":\"acknowledged\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"series_key\":\"ILI/110105/lab\""));
}
END_TEST

START_TEST(test_api_verify_and_conflicts)
{
    resp_t r = s_http("POST", "/alerts/1/verify", TOKEN,
                      "{\"by\":\"li.wei\",\"outcome\":\"confirmed\","
                      "\"grade\":\"III\"}");
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"outcome\":\"confirmed\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"grade\":3"));
    r = s_http("POST", "/alerts/1/ack", TOKEN, "{\"by\":\"a\"}");
    ck_assert_int_eq(r.status, 200);
    r = s_http("POST", "/alerts/1/ack", TOKEN, "{\"by\":\"b\"}");
    ck_assert_int_eq(r.status, 409);
    ck_assert_str_eq(r.body,
                     "{\"error\":\"alert 1: already acknowledged by a\"}");
    r = s_http("GET", "/alerts/9", TOKEN, NULL);
    ck_assert_int_eq(r.status, 404);
    r = s_http("GET", "/nothing", TOKEN, NULL);
    ck_assert_int_eq(r.status, 404);
    r = s_http("DELETE", "/alerts/1", TOKEN, NULL);
    ck_assert_int_eq(r.status, 405);
}
END_TEST

START_TEST(test_api_refusals_change_nothing)
{
    resp_t r = s_http("POST", "/alerts/1/ack", NULL, "{\"by\":\"x\"}");
    ck_assert_int_eq(r.status, 401);
    r = s_http("POST", "/alerts/1/ack", "wrong-token", "{\"by\":\"x\"}");
    ck_assert_int_eq(r.status, 401);
    r = s_http("GET", "/alerts", TOKEN "x", NULL);
    ck_assert_int_eq(r.status, 401);
    alr_record_t *rec = NULL;
    ck_assert_int_eq(alr_store_get(s_store, 1, &rec, NULL), SN_OK);
    ck_assert_str_eq(rec->ack_by, "");
    ck_assert_int_eq(rec->ack_time, 0);
    alr_record_destroy(&rec);
    r = s_http("POST", "/alerts/1/ack", TOKEN, "not json");
    ck_assert_int_eq(r.status, 400);
    r = s_http("POST", "/alerts/1/verify", TOKEN,
               "{\"by\":\"x\",\"outcome\":\"perhaps\"}");
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(r.body, "{\"error\":\"field 'outcome': expected "
                             "discarded, monitoring or confirmed\"}");
    alr_api_t *bad = NULL;
    sn_err_t err;
    ck_assert_int_eq(
        alr_api_start("x.db", &s_opts, "localhost", TOKEN, &bad, &err),
        SN_EINVAL);
    ck_assert_str_eq(err.msg, "api listen 'localhost': expected "
                              "ADDRESS:PORT");
}
END_TEST

static Suite *
api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("usage");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_api_list_show_ack);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_api_verify_and_conflicts);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_api_refusals_change_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(api_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
