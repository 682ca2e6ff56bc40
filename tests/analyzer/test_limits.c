/*  tests/analyzer/test_limits.c - a hostile site cannot grow the analyzer
 *
 *  The new-series limit (analyzer.max_new_series_per_site_day): every new
 *  (condition, region, source, site) allocates a leaf and windows, so each
 *  sender may open only so many per day. Events past the limit are
 *  dead-lettered with the reason; known series keep counting, other senders
 *  keep their own quota, and the next day the quota is fresh.
 */
#include "ana_config.h"
#include "ingest.h"
#include "series.h"

#include "sentinel/event.h"
#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

/* One pipeline from a YAML text, with its dead letter in a temp folder. */
typedef struct s_env {
    char *dir;        /* temporary folder */
    sn_config_t *cfg; /* loaded file */
    ana_config_t c;   /* read configuration */
    ana_ingest_t *in; /* the pipeline */
    sn_time_t now;    /* wall clock given to ingest */
    uint64_t seq;     /* next transport sequence */
} s_env_t;

static void
s_open(s_env_t *e, const char *analyzer_extra)
{
    memset(e, 0, sizeof *e);
    e->dir = ts_tmpdir();
    char *yaml = sn_strdup_printf("analyzer:\n  state_dir: %s/state\n"
                                  "  wall_clock: false\n%s"
                                  "series:\n  - {condition: ili}\n",
                                  e->dir, analyzer_extra);
    char *path = ts_write_file(e->dir, "sentinel.yaml", yaml);
    sn_err_t err;
    ck_assert_msg(sn_config_load(path, ana_config_schema, &e->cfg, &err) ==
                      SN_OK,
                  "%s", err.msg);
    ck_assert_int_eq(ana_config_read(e->cfg, &e->c, &err), SN_OK);
    ck_assert_int_eq(ana_ingest_new(&e->c, NULL, &e->in, &err), SN_OK);
    char *dl = sn_strdup_printf("%s/dead.jsonl", e->dir);
    ck_assert_int_eq(ana_ingest_dead_letter(e->in, dl, &err), SN_OK);
    e->now = (sn_time_t)sn_day_from_ymd(2026, 3, 2) * DAY_MS + 12 * 3600000;
    free(dl);
    free(path);
    free(yaml);
}

static void
s_close(s_env_t *e)
{
    ana_ingest_destroy(&e->in);
    ana_config_fini(&e->c);
    sn_config_destroy(&e->cfg);
    ts_rmtree(e->dir);
    free(e->dir);
}

/* Send one ILI event of `site` in `region` as sender `sender`.
 * @return what ana_ingest_record() returned. */
static int
s_send(s_env_t *e, const char *sender, const char *site, const char *region)
{
    sn_event_t ev;
    sn_event_init(&ev);
    snprintf(ev.event_id, sizeof ev.event_id, "e%" PRIu64, e->seq);
    snprintf(ev.site_id, sizeof ev.site_id, "%s", site);
    snprintf(ev.region, sizeof ev.region, "%s", region);
    strcpy(ev.condition, "ili");
    ev.source = SN_SOURCE_HOSPITAL;
    ev.report_time = e->now - 3600000;
    uint8_t buf[512];
    int n = sn_event_encode(&ev, buf, sizeof buf);
    ck_assert_int_gt(n, 0);
    sn_err_t err;
    return ana_ingest_record(e->in, buf, (size_t)n, sender, ++e->seq, e->now,
                             &err);
}

static char *
s_dead_letter(const s_env_t *e)
{
    char *dl = sn_strdup_printf("%s/dead.jsonl", e->dir);
    char *text = ts_read_file(dl, NULL);
    free(dl);
    return text;
}

START_TEST(test_limits_new_series_per_sender_day)
{
    s_env_t e;
    s_open(&e, "  max_new_series_per_site_day: 3\n");
    const char *regions[] = {"330101", "330102", "330103", "330104", "330105"};
    for (int i = 0; i < 5; i++) {
        int rc = s_send(&e, "site-x", "site-x", regions[i]);
        ck_assert_int_eq(rc < 0, i >= 3);
    }
    /* Known series still count; the refused ones opened nothing. */
    ck_assert_int_ge(s_send(&e, "site-x", "site-x", "330101"), 0);
    ck_assert_uint_eq(ana_series_leaves(ana_ingest_series(e.in)), 3);
    ck_assert_uint_eq(ana_ingest_stats(e.in)->rejected, 2);
    char *text = s_dead_letter(&e);
    ck_assert_ptr_nonnull(strstr(text, "\"sender\":\"site-x\""));
    ck_assert_ptr_nonnull(strstr(text, "reached its limit of 3 new series "
                                       "today "
                                       "(analyzer.max_new_series_per_site_"
                                       "day)"));
    free(text);
    s_close(&e);
}
END_TEST

START_TEST(test_limits_quota_is_per_sender_and_day)
{
    s_env_t e;
    s_open(&e, "  max_new_series_per_site_day: 2\n");
    ck_assert_int_ge(s_send(&e, "a", "a", "330101"), 0);
    ck_assert_int_ge(s_send(&e, "a", "a", "330102"), 0);
    ck_assert_int_lt(s_send(&e, "a", "a", "330103"), 0);
    /* A site code made up per event does not escape the sender's quota. */
    ck_assert_int_lt(s_send(&e, "a", "forged-1", "330101"), 0);
    ck_assert_int_ge(s_send(&e, "b", "b", "330103"), 0);
    e.now += DAY_MS;
    ck_assert_int_ge(s_send(&e, "a", "a", "330103"), 0);
    ck_assert_uint_eq(ana_series_leaves(ana_ingest_series(e.in)), 4);
    s_close(&e);
}
END_TEST

START_TEST(test_limits_default_and_range)
{
    s_env_t e;
    s_open(&e, "");
    ck_assert_uint_eq(e.c.max_new_series, ANA_MAX_NEW_SERIES_DEFAULT);
    s_close(&e);
    char *dir = ts_tmpdir();
    char *path = ts_write_file(dir, "bad.yaml",
                               "analyzer:\n  state_dir: x\n"
                               "  max_new_series_per_site_day: 0\n");
    sn_config_t *cfg = NULL;
    sn_err_t err;
    ck_assert_int_eq(sn_config_load(path, ana_config_schema, &cfg, &err),
                     SN_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "bad.yaml:3:"));
    ck_assert_ptr_nonnull(strstr(err.msg, "max_new_series_per_site_day"));
    ts_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

static Suite *
limits_suite(void)
{
    Suite *s = suite_create("limits");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 30);
    tcase_add_test(usage, test_limits_new_series_per_sender_day);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 30);
    tcase_add_test(edges, test_limits_quota_is_per_sender_and_day);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 30);
    tcase_add_test(errors, test_limits_default_and_range);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(limits_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
