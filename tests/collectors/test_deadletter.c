/*  tests/collectors/test_deadletter.c - the dead-letter file
 *
 *  Rejections from a real feed go to the file as JSON lines that jansson
 *  reads back: source, position, code, reason and the raw bytes, escaped
 *  even when they are not UTF-8 and cut to the configured bound.
 */
#include "deadletter.h"
#include "feed_json.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define T_NOW ((sn_time_t)sn_day_from_ymd(2026, 11, 25) * 86400000LL)

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

/* Parse line `i` (0-based) of the file at `path`. */
static json_t *
s_line(const char *path, int i)
{
    char *text = ts_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    char *p = text;
    for (; i > 0; i--) {
        p = strchr(p, '\n') + 1;
    }
    json_error_t jerr;
    json_t *j = json_loadb(p, strcspn(p, "\n"), 0, &jerr);
    ck_assert_msg(j != NULL, "line is not JSON: %s", jerr.text);
    free(text);
    return j;
}

START_TEST(test_deadletter_usage)
{
    char *path = sn_strdup_printf("%s/dead.jsonl", s_dir);
    sn_err_t err;
    col_deadletter_t *dl =
        col_deadletter_new(path, COL_DL_FSYNC_ALWAYS, 0, &err);
    ck_assert_ptr_nonnull(dl);
    col_feed_t *feed = col_feed_json_new("cases.jsonl", NULL, 0);
    const char *in = "{\"event_id\":\"e1\"}\n{\"name\":\"Zhang San\"}\n";
    col_feed_push(feed, in, strlen(in));
    col_record_t rec;
    while (col_feed_next(feed, &rec) > 0) {
        if (rec.err.code != SN_OK) {
            ck_assert_int_eq(col_deadletter_write(dl, &rec, T_NOW, &err),
                             SN_OK);
        }
    }
    ck_assert_uint_eq(col_deadletter_count(dl), 1);
    col_deadletter_destroy(&dl);
    col_feed_destroy(&feed);
    json_t *j = s_line(path, 0);
    ck_assert_str_eq(json_string_value(json_object_get(j, "time")),
                     "2026-11-25T00:00:00.000Z");
    ck_assert_str_eq(json_string_value(json_object_get(j, "source")),
                     "cases.jsonl");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "position")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")),
                     "SN_EVALIDATE");
    ck_assert_str_eq(json_string_value(json_object_get(j, "reason")),
                     "field 'name': personal identifiers are not accepted");
    /* Refused for a name: the name is not kept, only its field. */
    ck_assert_str_eq(json_string_value(json_object_get(j, "raw")), "");
    ck_assert(json_is_true(json_object_get(j, "redacted")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "raw_len")), 20);
    ck_assert(json_is_false(json_object_get(j, "truncated")));
    json_decref(j);
    /* The raw bytes may hold personal data: only the owner reads them. */
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    free(path);
}
END_TEST

START_TEST(test_deadletter_raw_bytes)
{
    char *path = sn_strdup_printf("%s/dead.jsonl", s_dir);
    sn_err_t err;
    col_deadletter_t *dl =
        col_deadletter_new(path, COL_DL_FSYNC_BATCH, 8, &err);
    const uint8_t raw[] = {'M', 'S',  'H',  '\r', 0xff,
                           '"', 0xc3, 0xa9, 'x',  'y'};
    col_record_t rec = {
        .source = "mllp", .position = 7, .raw = raw, .raw_len = sizeof raw};
    sn_err_set(&rec.err, SN_EPROTO, "no MSH segment at the start");
    ck_assert_int_eq(col_deadletter_write(dl, &rec, T_NOW, &err), SN_OK);
    ck_assert_int_eq(col_deadletter_sync(dl, &err), SN_OK);
    col_deadletter_destroy(&dl);
    /* Reopening appends. */
    dl = col_deadletter_new(path, COL_DL_FSYNC_NEVER, 0, &err);
    rec.raw_len = 3;
    ck_assert_int_eq(col_deadletter_write(dl, &rec, T_NOW, &err), SN_OK);
    col_deadletter_destroy(&dl);
    char *text = ts_read_file(path, NULL);
    ck_assert_ptr_nonnull(strstr(text, "\"raw\":\"MSH\\u000d\\u00ff\\\""
                                       "\xc3\xa9\",\"raw_len\":10,"
                                       "\"truncated\":true}\n"));
    free(text);
    json_t *j = s_line(path, 1);
    ck_assert_str_eq(json_string_value(json_object_get(j, "raw")), "MSH");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "position")), 7);
    json_decref(j);
    col_dl_fsync_t p;
    ck_assert_int_eq(col_dl_fsync_parse("batch", &p), SN_OK);
    ck_assert_int_eq(p, COL_DL_FSYNC_BATCH);
    ck_assert_int_eq(col_dl_fsync_parse("sometimes", &p), SN_ENOTFOUND);
    free(path);
}
END_TEST

START_TEST(test_deadletter_unwritable)
{
    char *path = sn_strdup_printf("%s/no/such/dir/dead.jsonl", s_dir);
    sn_err_t err;
    ck_assert_ptr_null(col_deadletter_new(path, COL_DL_FSYNC_ALWAYS, 0, &err));
    ck_assert_int_eq(err.code, SN_EIO);
    char *want = sn_strdup_printf("dead letter file '%s': No such file or "
                                  "directory",
                                  path);
    ck_assert_str_eq(err.msg, want);
    free(want);
    free(path);
}
END_TEST

static Suite *
deadletter_suite(void)
{
    Suite *s = suite_create("deadletter");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 10);
    tcase_add_test(usage, test_deadletter_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 10);
    tcase_add_test(edges, test_deadletter_raw_bytes);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 10);
    tcase_add_test(errors, test_deadletter_unwritable);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(deadletter_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
