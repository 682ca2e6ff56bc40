/*  tests/analyzer/test_analyzer.c - the daemon: real processes, real sockets
 *
 *  Runs `sentinel analyze` as a child process on ipc:// endpoints in a
 *  temporary folder, sends it simulated case events through a real transport
 *  sender and spool, receives its alerts through a real receiver, kills it
 *  with SIGKILL in the middle of the stream, starts it again and checks from
 *  its state file that every case was counted exactly once; sends a case 40
 *  days late, into a sealed block of the archive, and reads the corrected
 *  count and the correction back with `sentinel query`.
 */
#include "ana_config.h"
#include "ingest.h"
#include "simulate.h"

#include "sentinel/alert.h"
#include "sentinel/mem.h"
#include "sentinel/spool.h"
#include "sentinel/transport.h"
#include "support.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* One test's folder, files and endpoints. */
typedef struct env {
    char *dir;    /* temporary folder */
    char *config; /* sentinel.yaml */
    char *events; /* ipc endpoint of the analyzer's receiver */
    char *alerts; /* ipc endpoint of the test's alert receiver */
} env_t;

static void s_env_with(env_t *e, const char *analyzer_extra);

static void
s_env(env_t *e)
{
    s_env_with(e, "");
}

/* The test's configuration, with `analyzer_extra` lines added to the
 * analyzer section. */
static void
s_env_with(env_t *e, const char *analyzer_extra)
{
    e->dir = ts_tmpdir();
    e->events = sn_strdup_printf("ipc://%s/events.ipc", e->dir);
    e->alerts = sn_strdup_printf("ipc://%s/alerts.ipc", e->dir);
    char *yaml = sn_strdup_printf(
        "analyzer:\n"
        "  state_dir: %s/state\n"
        "  checkpoint_ms: 50\n"
        "  lateness_days: 0\n"
        "  wall_clock: false\n"
        "  window_days: 200\n"
        "  dedup_capacity: 100000\n"
        "%s"
        "transport: {endpoint: \"%s\", curve: false}\n"
        "alerts:\n"
        "  transport: {endpoint: \"%s\", curve: false, sender_id: ana}\n"
        "  spool: {dir: %s/outbox, fsync: always}\n"
        "archive: {path: %s/archive.h5, flush_interval: 0.2}\n"
        "series:\n"
        "  - {condition: ili, levels: [county]}\n"
        "  - {condition: cholera}\n"
        "detectors:\n"
        "  - {name: ears-c2}\n"
        "rules:\n"
        "  - {name: class-a, kind: threshold, level: red, classes: A}\n",
        e->dir, analyzer_extra, e->events, e->alerts, e->dir, e->dir);
    e->config = ts_write_file(e->dir, "sentinel.yaml", yaml);
    free(yaml);
}

static void
s_env_free(env_t *e)
{
    ts_rmtree(e->dir);
    free(e->dir);
    free(e->config);
    free(e->events);
    free(e->alerts);
}

static pid_t
s_start_config(const char *config)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execl(ts_sentinel_bin(), "sentinel", "analyze", "-c", config,
              "--log-level", "warn", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static pid_t
s_start(const env_t *e)
{
    return s_start_config(e->config);
}

static int
s_stop(pid_t pid, int sig)
{
    int status = 0;
    kill(pid, sig);
    waitpid(pid, &status, 0);
    return status;
}

/* The collector side: a spool and a sender of encoded events. */
typedef struct site {
    sn_spool_t *spool;   /* its outbox */
    sn_sender_t *sender; /* publishing it */
} site_t;

static void
s_site(site_t *s, const env_t *e)
{
    sn_spool_opts_t so;
    sn_spool_opts_init(&so);
    char *dir = sn_strdup_printf("%s/site-spool", e->dir);
    so.dir = dir;
    sn_err_t err;
    ck_assert_msg(sn_spool_open(&so, &s->spool, &err) == SN_OK, "%s", err.msg);
    sn_transport_opts_t to;
    sn_transport_opts_init(&to);
    to.endpoint = e->events;
    to.sender_id = "site-a";
    to.curve = false;
    to.timeout_ms = 300;
    ck_assert_msg(sn_sender_new(&to, s->spool, NULL, NULL, &s->sender, &err) ==
                      SN_OK,
                  "%s", err.msg);
    free(dir);
}

static int
s_spool_event(const sn_event_t *ev, void *arg)
{
    site_t *s = arg;
    uint8_t buf[512];
    int n = sn_event_encode(ev, buf, sizeof buf);
    ck_assert_int_gt(n, 0);
    return sn_spool_append(s->spool, buf, (size_t)n, NULL, NULL);
}

/* Poll the sender until everything is acknowledged or `ms` pass. */
static bool
s_drain(site_t *s, int ms)
{
    sn_spool_flush(s->spool, NULL);
    for (int t = 0; t < ms; t += 50) {
        sn_sender_poll(s->sender, 50, NULL);
        if (sn_sender_drained(s->sender)) {
            return true;
        }
    }
    return false;
}

static int
s_count_alert(const sn_record_t *rec, void *arg)
{
    sn_alert_t *a = NULL;
    if (sn_alert_decode(rec->data, rec->len, &a, NULL) == SN_OK) {
        if (a->level == SN_LEVEL_RED) {
            (*(int *)arg)++;
        }
        sn_alert_destroy(&a);
    }
    return SN_OK;
}

/* Sum of the county series' bins, read back from the state file. */
static uint64_t
s_counted(const env_t *e)
{
    sn_config_t *cfg = NULL;
    sn_err_t err;
    ck_assert_int_eq(sn_config_load(e->config, ana_config_schema, &cfg, &err),
                     SN_OK);
    ana_config_t c;
    ck_assert_int_eq(ana_config_read(cfg, &c, &err), SN_OK);
    ana_ingest_t *in = NULL;
    ck_assert_int_eq(ana_ingest_new(&c, NULL, &in, &err), SN_OK);
    char *path = sn_strdup_printf("%s/state/analyzer.state", e->dir);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(ana_ingest_load(in, f, &err) == SN_OK, "%s", err.msg);
    fclose(f);
    ana_series_t *s = ana_ingest_series(in);
    uint64_t total = 0;
    for (uint32_t id = 0; id < ana_series_size(s); id++) {
        const ana_series_key_t *k = ana_series_key(s, id);
        if (strcmp(k->condition, "ili") != 0) {
            continue;
        }
        ana_window_t *w = ana_series_window(s, id);
        for (size_t i = 0; i < ana_window_span(w); i++) {
            total += ana_window_counts(w)[i];
        }
    }
    ana_ingest_destroy(&in);
    ana_config_fini(&c);
    sn_config_destroy(&cfg);
    free(path);
    return total;
}

/* Spool a simulated feed of one site (one case per event).
 * @return the spool's last sequence: every event spooled so far. */
/* Spool `days` days of a fever clinic averaging `mean` cases a day.
 * @return the last sequence number spooled. */
static uint64_t
s_simulate_mean(site_t *s, sn_day_t start, int days, uint64_t seed, int mean)
{
    ana_sim_site_t site;
    char spec[64];
    snprintf(spec, sizeof spec, "site-a:330106:fever_clinic:%d", mean);
    ck_assert_int_eq(ana_sim_site_parse(spec, &site, NULL), SN_OK);
    ana_sim_opts_t o;
    ana_sim_opts_default(&o);
    o.seed = seed;
    o.start = start;
    o.days = days;
    o.sites = &site;
    o.n_sites = 1;
    ck_assert_int_eq(ana_sim_run(&o, s_spool_event, s, NULL), SN_OK);
    return sn_spool_last_seq(s->spool);
}

static uint64_t
s_simulate(site_t *s, sn_day_t start, int days, uint64_t seed)
{
    return s_simulate_mean(s, start, days, seed, 20);
}

START_TEST(test_analyzer_usage)
{
    env_t e;
    s_env(&e);
    sn_transport_opts_t ro;
    sn_transport_opts_init(&ro);
    ro.endpoint = e.alerts;
    ro.curve = false;
    sn_receiver_t *alerts = NULL;
    ck_assert_int_eq(sn_receiver_new(&ro, &alerts, NULL), SN_OK);
    pid_t pid = s_start(&e);
    site_t s;
    s_site(&s, &e);
    sn_day_t d0 = sn_day_from_ymd(2025, 1, 6);
    uint64_t events = s_simulate(&s, d0, 30, 4);
    sn_event_t ch;
    sn_event_init(&ch);
    strcpy(ch.event_id, "cholera-1");
    strcpy(ch.site_id, "site-a");
    strcpy(ch.region, "330106");
    strcpy(ch.condition, "cholera");
    ch.source = SN_SOURCE_LAB;
    ch.report_time = (sn_time_t)(d0 + 29) * 86400000 + 3600000;
    s_spool_event(&ch, &s);
    ck_assert(s_drain(&s, 20000));
    int red = 0;
    for (int t = 0; t < 200 && red == 0; t++) {
        sn_receiver_poll(alerts, 50, s_count_alert, &red, NULL);
        sn_receiver_commit(alerts, NULL);
    }
    ck_assert_int_eq(red, 1);
    ck_assert_int_eq(s_stop(pid, SIGTERM), 0);
    ck_assert_uint_eq(s_counted(&e), events); /* one case per event */
    sn_sender_destroy(&s.sender);
    sn_spool_destroy(&s.spool);
    sn_receiver_destroy(&alerts);
    s_env_free(&e);
}
END_TEST

START_TEST(test_analyzer_kill9_loses_and_doubles_nothing)
{
    env_t e;
    s_env(&e);
    /* First run: a checkpoint only every 32768 records (the interval is
     * ten minutes). */
    char *yaml = ts_read_file(e.config, NULL);
    char *at = strstr(yaml, "checkpoint_ms: 50\n");
    ck_assert_ptr_nonnull(at);
    *at = '\0';
    char *slow_text = sn_strdup_printf("%scheckpoint_ms: 600000\n%s", yaml,
                                       at + strlen("checkpoint_ms: 50\n"));
    char *slow = ts_write_file(e.dir, "slow.yaml", slow_text);
    free(slow_text);
    free(yaml);
    pid_t pid = s_start_config(slow);
    site_t s;
    s_site(&s, &e);
    sn_day_t d0 = sn_day_from_ymd(2025, 1, 6);
    uint64_t first = s_simulate_mean(&s, d0, 45, 8, 1000);
    sn_spool_flush(s.spool, NULL);
    ck_assert_uint_gt(first, 40000);
    for (int t = 0; t < 600 && sn_spool_acked_seq(s.spool) < first; t++) {
        sn_sender_poll(s.sender, 50, NULL);
    }
    ck_assert_uint_eq(sn_spool_acked_seq(s.spool), first);
    /* Then fewer events than the next checkpoint needs: the analyzer
     * takes them in and holds them unacknowledged; kill it without
     * warning. What it took in after its checkpoint is gone with it and
     * must come again from the collector's spool, once. */
    uint64_t held = s_simulate_mean(&s, d0 + 45, 20, 10, 1000);
    sn_spool_flush(s.spool, NULL);
    ck_assert_uint_lt(held - first, 32768);
    for (int t = 0; t < 15; t++) {
        sn_sender_poll(s.sender, 20, NULL);
    }
    s_stop(pid, SIGKILL);
    ck_assert_uint_eq(sn_spool_acked_seq(s.spool), first);
    pid = s_start(&e);
    uint64_t all = s_simulate(&s, d0 + 65, 45, 9);
    ck_assert_uint_gt(all, first);
    ck_assert(s_drain(&s, 30000));
    ck_assert_int_eq(s_stop(pid, SIGTERM), 0);
    ck_assert_uint_eq(s_counted(&e), all);
    sn_sender_destroy(&s.sender);
    sn_spool_destroy(&s.spool);
    free(slow);
    s_env_free(&e);
}
END_TEST

static void s_ili_in(site_t *s, const char *id, sn_day_t day,
                     const char *region);

/* Spool one ILI case of site-a in 330106 reported on `day`. */
static void
s_ili(site_t *s, const char *id, sn_day_t day)
{
    s_ili_in(s, id, day, "330106");
}

static void
s_ili_in(site_t *s, const char *id, sn_day_t day, const char *region)
{
    sn_event_t ev;
    sn_event_init(&ev);
    snprintf(ev.event_id, sizeof ev.event_id, "%s", id);
    strcpy(ev.site_id, "site-a");
    snprintf(ev.region, sizeof ev.region, "%s", region);
    strcpy(ev.condition, "ili");
    ev.source = SN_SOURCE_FEVER_CLINIC;
    ev.report_time = (sn_time_t)day * 86400000 + 3600000;
    ck_assert_int_eq(s_spool_event(&ev, s), SN_OK);
}

/* `sentinel query -a ARCHIVE ARGS…`: @return its output (caller frees). */
static char *
s_query(const env_t *e, const char *cmd, const char *key, const char *from,
        const char *to)
{
    char *archive = sn_strdup_printf("%s/archive.h5", e->dir);
    ts_run_t r = ts_sentinel(NULL, 20, "query", "-a", archive, cmd, key,
                             "--from", from, "--to", to, NULL);
    if (strcmp(cmd, "corrections") == 0) {
        ts_run_free(&r);
        r = ts_sentinel(NULL, 20, "query", "-a", archive, cmd, key, "--since",
                        from, NULL);
    }
    ck_assert_msg(r.status == 0, "query %s: %s", cmd, r.err);
    char *out = sn_strdup(r.out);
    ts_run_free(&r);
    free(archive);
    return out;
}

/* A case reported 40 days late, when its day lies in a block the archive
 * has sealed (16 days by default): the count of that day is corrected in
 * the archive and the correction is listed. */
START_TEST(test_analyzer_late_event_corrects_sealed_day)
{
    env_t e;
    s_env(&e);
    pid_t pid = s_start(&e);
    site_t s;
    s_site(&s, &e);
    sn_day_t d0 = sn_day_from_ymd(2025, 1, 6);
    for (int i = 0; i < 60; i++) {
        char id[32];
        snprintf(id, sizeof id, "day-%d", i);
        s_ili(&s, id, d0 + i); /* one case a day; day 59 closes day 58 */
    }
    ck_assert(s_drain(&s, 20000));
    s_ili(&s, "late-1", d0 + 19);
    ck_assert(s_drain(&s, 20000));
    ck_assert_int_eq(s_stop(pid, SIGTERM), 0);
    char day[SN_DAY_STR_MAX], next[SN_DAY_STR_MAX];
    sn_day_format(d0 + 19, day);
    sn_day_format(d0 + 20, next);
    const char *key = "ili/330106/fever_clinic/*";
    char *series = s_query(&e, "series", key, day, next);
    char *want = sn_strdup_printf("\n%s,2,", day); /* 1 + the late case */
    ck_assert_msg(strstr(series, want) != NULL, "series:\n%s", series);
    free(want);
    want = sn_strdup_printf("\n%s,1,", next);
    ck_assert_msg(strstr(series, want) != NULL, "series:\n%s", series);
    char *fixes = s_query(&e, "corrections", key, day, next);
    ck_assert_msg(
        strncmp(fixes, "time,day,series,previous,observed,where\n", 40) == 0,
        "corrections:\n%s", fixes);
    char *rec = sn_strdup_printf(",%s,%s,1,2,sealed\n", day, key);
    ck_assert_msg(strstr(fixes, rec) != NULL, "corrections:\n%s", fixes);
    ck_assert_msg(strstr(strstr(fixes, rec) + strlen(rec), ",sealed") == NULL,
                  "corrections:\n%s", fixes); /* once */
    free(rec);
    free(want);
    free(series);
    free(fixes);
    sn_sender_destroy(&s.sender);
    sn_spool_destroy(&s.spool);
    s_env_free(&e);
}
END_TEST

/* The new-series quota survives a kill -9: a sender that used it up
 * before the kill cannot open more series after the restart that day. */
START_TEST(test_analyzer_quota_survives_kill9)
{
    env_t e;
    s_env_with(&e, "  max_new_series_per_site_day: 3\n");
    pid_t pid = s_start(&e);
    site_t s;
    s_site(&s, &e);
    sn_day_t d0 = sn_day_from_ymd(2025, 1, 6);
    s_ili_in(&s, "q-1", d0, "330101");
    s_ili_in(&s, "q-2", d0, "330102");
    s_ili_in(&s, "q-3", d0, "330103");
    ck_assert(s_drain(&s, 20000)); /* acknowledged: checkpointed */
    s_stop(pid, SIGKILL);
    pid = s_start(&e);
    s_ili_in(&s, "q-4", d0, "330104"); /* a fourth new series: refused */
    s_ili_in(&s, "q-5", d0 + 1, "330105");
    s_ili_in(&s, "q-6", d0 + 1, "330101"); /* a known one still counts */
    ck_assert(s_drain(&s, 20000));
    ck_assert_int_eq(s_stop(pid, SIGTERM), 0);
    ck_assert_uint_eq(s_counted(&e), 4);
    char *path = sn_strdup_printf("%s/state/dead-letter.jsonl", e.dir);
    char *dead = ts_read_file(path, NULL);
    ck_assert_ptr_nonnull(dead);
    size_t n = 0;
    for (const char *p = dead; (p = strstr(p, "max_new_series")) != NULL; p++) {
        n++;
    }
    ck_assert_msg(n == 2, "dead letter:\n%s", dead);
    ck_assert_ptr_nonnull(strstr(dead, "q-4"));
    free(dead);
    free(path);
    sn_sender_destroy(&s.sender);
    sn_spool_destroy(&s.spool);
    s_env_free(&e);
}
END_TEST

START_TEST(test_analyzer_bad_config_exits_2)
{
    char *dir = ts_tmpdir();
    char *cfg = ts_write_file(dir, "bad.yaml",
                              "analyzer: {state_dir: x}\n"
                              "rules:\n"
                              "  - {name: r, kind: quorum, level: blue}\n");
    ts_run_t r = ts_sentinel(NULL, 20, "analyze", "-c", cfg, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "bad.yaml:3:"));
    ck_assert_ptr_nonnull(strstr(r.err, "quorum"));
    ts_run_free(&r);
    ts_run_t u = ts_sentinel(NULL, 20, "analyze", NULL);
    ck_assert_int_eq(u.status, 2);
    ck_assert_ptr_nonnull(strstr(u.err, "-c FILE is required"));
    ts_run_free(&u);
    ts_rmtree(dir);
    free(cfg);
    free(dir);
}
END_TEST

static Suite *
analyzer_suite(void)
{
    Suite *s = suite_create("analyzer");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 90);
    tcase_add_test(usage, test_analyzer_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 120);
    tcase_add_test(edges, test_analyzer_kill9_loses_and_doubles_nothing);
    tcase_add_test(edges, test_analyzer_late_event_corrects_sealed_day);
    tcase_add_test(edges, test_analyzer_quota_survives_kill9);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 30);
    tcase_add_test(errors, test_analyzer_bad_config_exits_2);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(analyzer_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
