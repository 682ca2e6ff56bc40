/*  tests/alerting/test_store.c - the alert database on SQLite
 *
 *  Insert, load and update alerts with evidence; the one-open-alert-per-key
 *  constraint; notifications with their outbox rows in one transaction,
 *  rollback, due deliveries and retries; schema version and WAL mode.
 */
#include "fixture.h"

#include <sqlite3.h>

static char *s_dir;
static alr_store_t *s_store;

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    s_store = fx_store(s_dir);
}

static void
s_teardown(void)
{
    alr_store_destroy(&s_store);
    ts_rmtree(s_dir);
    free(s_dir);
}

static alr_record_t *
s_record(void)
{
    const fx_row_t rows[] = {{"lab", "2026-11-20", 4},
                             {"school", "2026-11-21", 7}};
    alr_record_t *r = calloc(1, sizeof *r);
    r->alert = fx_alert(SN_LEVEL_YELLOW, "2026-11-21", rows, 2);
    r->opened = r->updated = 1000;
    r->last_day = fx_day("2026-11-21");
    return r;
}

static void
s_notice(int64_t alert_id, int seq, sn_time_t at)
{
    alr_notice_t n = {0};
    n.alert_id = alert_id;
    n.seq = seq;
    n.type = seq > 1 ? ALR_MSG_UPDATE : ALR_MSG_ALERT;
    n.level = SN_LEVEL_YELLOW;
    n.created = at;
    snprintf(n.identifier, sizeof n.identifier, "t.alert.%lld.%d",
             (long long)alert_id, seq);
    n.reason = "r";
    n.json = "{}";
    n.cap = "<alert/>";
    ck_assert_int_eq(alr_store_add_notice(s_store, &n, fx_sinks, 2, NULL),
                     SN_OK);
}

START_TEST(test_store_roundtrip_and_outbox)
{
    alr_record_t *r = s_record(), *back = NULL;
    ck_assert_int_eq(alr_store_begin(s_store, NULL), SN_OK);
    ck_assert_int_eq(alr_store_insert(s_store, r, NULL), SN_OK);
    s_notice(r->id, 1, 1000);
    ck_assert_int_eq(alr_store_commit(s_store, NULL), SN_OK);
    ck_assert_int_eq(
        alr_store_find_open(s_store, "multi-source|ILI|110105", &back, NULL),
        SN_OK);
    ck_assert_int_eq(back->id, r->id);
    ck_assert_uint_eq(back->alert->n_evidence, 2);
    ck_assert_str_eq(back->alert->evidence[1].series_key, "ILI/110105/school");
    ck_assert(back->alert->evidence[1].observed == 7);
    alr_delivery_t *d = NULL;
    size_t n = 0;
    ck_assert_int_eq(alr_store_due(s_store, 1000, 10, &d, &n, NULL), SN_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(d[0].sink, "hook");
    ck_assert_str_eq(d[0].notice.identifier, "t.alert.1.1");
    ck_assert_int_eq(alr_store_delivered(s_store, d[0].id, 1001, NULL), SN_OK);
    ck_assert_int_eq(alr_store_retry(s_store, d[1].id, 1, 5000, "down", NULL),
                     SN_OK);
    alr_deliveries_free(&d, n);
    ck_assert_int_eq(alr_store_due(s_store, 4999, 10, &d, &n, NULL), SN_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(alr_store_due(s_store, 5000, 10, &d, &n, NULL), SN_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(d[0].attempts, 1);
    alr_deliveries_free(&d, n);
    ck_assert_int_eq(alr_store_pending(s_store), 1);
    sn_day_t newest = 0;
    ck_assert_int_eq(alr_store_newest_day(s_store, &newest, NULL), SN_OK);
    ck_assert_int_eq(newest, fx_day("2026-11-21"));
    alr_record_destroy(&back);
    alr_record_destroy(&r);
}
END_TEST

START_TEST(test_store_rollback_and_reopen)
{
    alr_record_t *r = s_record();
    ck_assert_int_eq(alr_store_begin(s_store, NULL), SN_OK);
    ck_assert_int_eq(alr_store_insert(s_store, r, NULL), SN_OK);
    s_notice(r->id, 1, 1000);
    alr_store_rollback(s_store);
    ck_assert_int_eq(alr_store_pending(s_store), 0);
    sn_day_t newest = 0;
    ck_assert_int_eq(alr_store_newest_day(s_store, &newest, NULL),
                     SN_ENOTFOUND);
    alr_store_destroy(&s_store);
    s_store = fx_store(s_dir); /* reopen: schema already there */
    char *json = NULL;
    ck_assert_int_eq(alr_store_list_json(s_store, 10, &json, NULL), SN_OK);
    ck_assert_str_eq(json, "[]");
    free(json);
    char path[512];
    snprintf(path, sizeof path, "%s/alerts.db", s_dir);
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
    alr_record_destroy(&r);
}
END_TEST

START_TEST(test_store_refusals)
{
    sn_err_t err;
    alr_record_t *r = s_record(), *r2 = s_record(), *x = NULL;
    ck_assert_int_eq(alr_store_insert(s_store, r, NULL), SN_OK);
    ck_assert_int_eq(alr_store_insert(s_store, r2, &err), SN_EEXIST);
    ck_assert_int_eq(alr_store_get(s_store, 77, &x, &err), SN_ENOTFOUND);
    ck_assert_str_eq(err.msg, "alert 77: not found");
    alr_store_destroy(&s_store);
    char path[512];
    snprintf(path, sizeof path, "%s/alerts.db", s_dir);
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA user_version=9", NULL, NULL, NULL);
    sqlite3_close(db);
    ck_assert_int_eq(alr_store_open(path, &s_store, &err), SN_EDB);
    ck_assert_ptr_nonnull(strstr(err.msg, "schema version 9, this build "
                                          "knows 1"));
    char *junk = ts_write_file(s_dir, "junk.db",
                               "this is not a database....."
                               "..........................");
    ck_assert_int_eq(alr_store_open(junk, &s_store, &err), SN_EDB);
    ck_assert_ptr_null(s_store);
    free(junk);
    alr_record_destroy(&r);
    alr_record_destroy(&r2);
}
END_TEST

static Suite *
store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("usage");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_store_roundtrip_and_outbox);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_store_rollback_and_reopen);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_store_refusals);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(store_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
