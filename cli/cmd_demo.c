/*  cli/cmd_demo.c - `sentinel demo`: the whole pipeline on embedded defaults
 *
 *  The demo writes its configuration into a demo folder, starts the
 *  alerting daemon, the analyzer and nine site collectors as child
 *  processes of this executable, replays years of simulated baseline and an
 *  outbreak through them (HL7 over MLLP, JSON-lines and CSV inbox files),
 *  prints the signals and graded warnings as the alerting daemon publishes
 *  them, keeps the CAP 1.2 messages its webhook receives, stops every
 *  process, and ends with `sentinel query` on the archive, a plot of the
 *  affected series and the h5py line an analyst would type. The replay is
 *  paced by the analyzer's own /metrics (events in), so the collectors move
 *  through the years together and the whole run takes about a minute.
 */
#include "cli.h"

#include "demo_conf.h"
#include "demo_feed.h"
#include "demo_proc.h"
#include "demo_watch.h"
#include "sentinel/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEMO_CHUNK_DAYS 7     /* days per delivery in the baseline */
#define DEMO_LIVE_BEFORE 14   /* days before the outbreak sent live */
#define DEMO_WAIT_S 60        /* longest wait for one delivery's events */
#define DEMO_START_S 20       /* longest wait for the daemons to answer */
#define DEMO_GRACE_MS 5000    /* SIGTERM to SIGKILL */
#define DEMO_SEED 20261125ULL /* the scenario's seed */
#define DEMO_END_Y 2026       /* the replay ends on 1 November 2026 (or */
#define DEMO_END_M 11         /* yesterday, when run before it), so one */
#define DEMO_END_D 1          /* seed gives the same warnings every day */

static const char s_usage[] =
    "usage: sentinel demo [--dir DIR] [--years N] [--seed N]\n"
    "\n"
    "Run the whole pipeline on this machine: the alerting daemon, the\n"
    "analyzer and nine site collectors of prefecture 3301 (sentinel\n"
    "hospitals over HL7/MLLP, fever clinics as JSON lines, pharmacies as\n"
    "CSV) as child processes, replaying N years (default 3) of simulated\n"
    "baseline and then an outbreak that the fever clinics and pharmacies\n"
    "see first and the hospitals four days later. Signals and warnings are\n"
    "printed as they are raised; the configuration, logs, archive, alert\n"
    "store, CAP messages and plots stay in DIR (default ./demo-out).\n"
    "A DIR that exists must be empty or an earlier demo folder.\n"
    "\n"
    "  --dir DIR   the demo folder (default demo-out)\n"
    "  --years N   baseline years, 2..6 (default 3; farrington-flexible\n"
    "              with b=2 needs two years and three weeks of history)\n"
    "  --seed N    the simulator's seed (default 20261125)\n";

/* The flags. */
typedef struct s_args {
    const char *dir; /* demo folder */
    int years;       /* baseline years */
    uint64_t seed;   /* simulator seed */
} s_args_t;

/* Everything one demo run holds. */
typedef struct s_demo {
    cli_demo_conf_t conf;    /* folder, ports, sites */
    cli_demo_procs_t *procs; /* the daemons */
    cli_demo_feed_t *feed;   /* the sites' data */
    cli_demo_watch_t *watch; /* the alert subscriber */
    cli_demo_cap_t *cap;     /* the CAP webhook */
    struct timespec t0;      /* start, for the elapsed time */
} s_demo_t;

static int
s_parse(int argc, char **argv, s_args_t *a)
{
    a->dir = "demo-out";
    a->years = 3;
    a->seed = DEMO_SEED;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(argv[i], "--dir") == 0 && v != NULL) {
            a->dir = v;
        } else if (strcmp(argv[i], "--years") == 0 && v != NULL) {
            a->years = (int)strtol(v, &end, 10);
            if (*end != '\0' || a->years < 2 || a->years > 6) {
                return cli_usage("demo", "--years '%s': expected 2..6", v);
            }
        } else if (strcmp(argv[i], "--seed") == 0 && v != NULL) {
            a->seed = strtoull(v, &end, 10);
            if (*end != '\0') {
                return cli_usage("demo", "--seed '%s': expected a number", v);
            }
        } else {
            return cli_usage("demo", "unknown option or missing value '%s'",
                             argv[i]);
        }
        i++;
    }
    return 0;
}

static double
s_elapsed(const s_demo_t *d)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - d->t0.tv_sec) +
           (double)(now.tv_nsec - d->t0.tv_nsec) / 1e9;
}

/* -- starting the daemons ------------------------------------------------- */

static int
s_start(s_demo_t *d, const char *name, char *const argv[])
{
    char log[64];
    snprintf(log, sizeof log, "logs/%s.log", name);
    if (cli_demo_procs_start(d->procs, name, cli_demo_path(&d->conf, log).s,
                             argv) < 0) {
        fprintf(stderr, "demo: cannot start %s\n", name);
        return -1;
    }
    return 0;
}

/* Wait until the daemon behind /metrics on `port` answers. */
static int
s_wait_up(s_demo_t *d, const char *name, int port, const char *metric)
{
    for (int i = 0; i < DEMO_START_S * 20 && !cli_demo_stopping(); i++) {
        if (cli_demo_metric(port, metric) >= 0) {
            return 0;
        }
        int st;
        const char *dead = cli_demo_procs_dead(d->procs, &st);
        if (dead != NULL) {
            fprintf(stderr, "demo: %s exited with status %d (see %s)\n", dead,
                    st, cli_demo_path(&d->conf, "logs/").s);
            return -1;
        }
        cli_demo_nap(50);
    }
    fprintf(stderr, "demo: %s did not answer on 127.0.0.1:%d\n", name, port);
    return -1;
}

static int
s_start_daemons(s_demo_t *d)
{
    cli_demo_conf_t *c = &d->conf;
    cli_demo_path_t alr = cli_demo_path(c, "etc/alerting.yaml");
    cli_demo_path_t ana = cli_demo_path(c, "etc/analyzer.yaml");
    char *alerting[] = {"alerts", "-c", alr.s, "serve", NULL};
    char *analyzer[] = {"analyze", "-c", ana.s, NULL};
    if (s_start(d, "alerting", alerting) != 0 ||
        s_wait_up(d, "alerting", c->alerting_metrics,
                  "sentinel_alerting_outbox_pending") != 0 ||
        s_start(d, "analyzer", analyzer) != 0 ||
        s_wait_up(d, "analyzer", c->analyzer_metrics,
                  "sentinel_analyzer_events_in_total") != 0) {
        return -1;
    }
    for (int i = 0; i < CLI_DEMO_SITES; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "etc/%s.yaml", c->sites[i].id);
        cli_demo_path_t conf = cli_demo_path(c, rel);
        char *argv[] = {"collect", "-c", conf.s, NULL};
        if (s_start(d, c->sites[i].id, argv) != 0) {
            return -1;
        }
    }
    return 0;
}

static void
s_print_intro(const s_demo_t *d)
{
    const cli_demo_conf_t *c = &d->conf;
    const cli_demo_plan_t *p = cli_demo_feed_plan(d->feed);
    char a[SN_DAY_STR_MAX], b[SN_DAY_STR_MAX], o[SN_DAY_STR_MAX],
        h[SN_DAY_STR_MAX];
    printf("Sentinel demo in %s\n", c->dir);
    printf("  configuration  %s/etc/ (CURVE is OFF: a demo on one machine; "
           "see docs/operators.md)\n",
           c->dir);
    printf("  sites          9 in prefecture %s: hospitals h-* (HL7 over "
           "MLLP), fever clinics f-* (JSON lines), pharmacies p-* (CSV)\n",
           CLI_DEMO_PREFECTURE);
    printf("  replay         %s .. %s; outbreak from %s (fever clinics, "
           "pharmacies), %s (hospitals)\n",
           sn_day_format(p->start, a), sn_day_format(p->end, b),
           sn_day_format(p->outbreak, o), sn_day_format(p->hospital, h));
    printf("  /metrics       analyzer http://127.0.0.1:%d/metrics, alerting "
           "http://127.0.0.1:%d/metrics (and /healthz)\n",
           c->analyzer_metrics, c->alerting_metrics);
    printf("  collectors     /metrics on 127.0.0.1:%d (%s) .. %d (%s)\n",
           c->sites[0].metrics_port, c->sites[0].id,
           c->sites[CLI_DEMO_SITES - 1].metrics_port,
           c->sites[CLI_DEMO_SITES - 1].id);
    printf("  CAP webhook    http://127.0.0.1:%d/cap -> %s/cap/\n\n",
           c->cap_port, c->dir);
    fflush(stdout);
}

/* -- the replay ------------------------------------------------------------ */

/* Fail when a daemon has died. */
static int
s_check_alive(s_demo_t *d)
{
    int st;
    const char *dead = cli_demo_procs_dead(d->procs, &st);
    if (dead != NULL) {
        fprintf(stderr, "demo: %s exited with status %d (see %s/logs/%s.log)\n",
                dead, st, d->conf.dir, dead);
        return -1;
    }
    return cli_demo_stopping() ? -1 : 0;
}

/* Wait until the analyzer has taken every record delivered so far. */
static int
s_wait_taken(s_demo_t *d)
{
    uint64_t want = cli_demo_feed_sent(d->feed);
    for (int i = 0; i < DEMO_WAIT_S * 100; i++) {
        int64_t got = cli_demo_metric(d->conf.analyzer_metrics,
                                      "sentinel_analyzer_events_in_total");
        if (got >= 0 && (uint64_t)got >= want) {
            return 0;
        }
        cli_demo_watch_poll(d->watch, 10);
        if (s_check_alive(d) != 0) {
            return -1;
        }
    }
    fprintf(stderr, "demo: the analyzer took fewer than %llu records in %d s\n",
            (unsigned long long)want, DEMO_WAIT_S);
    return -1;
}

static unsigned
s_warnings(const cli_demo_seen_t *s)
{
    unsigned n = 0;
    for (int l = SN_LEVEL_YELLOW; l <= SN_LEVEL_RED; l++) {
        n += s->before[l] + s->after[l];
    }
    return n;
}

static int
s_replay(s_demo_t *d)
{
    const cli_demo_plan_t *p = cli_demo_feed_plan(d->feed);
    sn_day_t live = p->outbreak - DEMO_LIVE_BEFORE, shown = p->start;
    for (sn_day_t day = p->start; day <= p->end;) {
        sn_day_t to = day < live ? day + DEMO_CHUNK_DAYS - 1 : day;
        to = to >= live && day < live ? live - 1 : to;
        sn_err_t err;
        if (cli_demo_feed_days(d->feed, to, day >= live, &err) != SN_OK) {
            fprintf(stderr, "demo: %s\n", err.msg);
            return -1;
        }
        if (s_wait_taken(d) != 0) {
            return -1;
        }
        cli_demo_watch_poll(d->watch, 0);
        if (to - shown >= 182 || to == live - 1) {
            char ymd[SN_DAY_STR_MAX];
            const cli_demo_seen_t *s = cli_demo_watch_seen(d->watch);
            printf("  .. replayed through %s: %llu records, %u signals "
                   "(blue), %u warnings (yellow+), %.1f s\n",
                   sn_day_format(to, ymd),
                   (unsigned long long)cli_demo_feed_sent(d->feed),
                   s->before[SN_LEVEL_BLUE] + s->after[SN_LEVEL_BLUE],
                   s_warnings(s), s_elapsed(d));
            shown = to;
        }
        if (to == live - 1) {
            printf("  .. from here the hospitals' interface engines send "
                   "each visit over MLLP, day by day\n");
        }
        day = to + 1;
    }
    return 0;
}

/* Let the last alerts travel: analyzer outbox -> alerting -> sinks. */
static void
s_settle(s_demo_t *d)
{
    for (int i = 0; i < 100 && !cli_demo_stopping(); i++) {
        int64_t raised = cli_demo_metric(d->conf.analyzer_metrics,
                                         "sentinel_analyzer_alerts_total");
        int64_t taken = cli_demo_metric(d->conf.alerting_metrics,
                                        "sentinel_alerting_alerts_taken_total");
        int64_t pending = cli_demo_metric(d->conf.alerting_metrics,
                                          "sentinel_alerting_outbox_pending");
        cli_demo_watch_poll(d->watch, 100);
        if (raised >= 0 && taken >= raised && pending == 0 && i >= 5) {
            break;
        }
    }
    cli_demo_watch_poll(d->watch, 200);
}

/* -- the end ------------------------------------------------------------- */

static void
s_summary(const s_demo_t *d)
{
    const cli_demo_seen_t *s = cli_demo_watch_seen(d->watch);
    printf("\nWarnings raised (first messages), before / from the outbreak "
           "start:\n");
    const cli_demo_plan_t *p = cli_demo_feed_plan(d->feed);
    for (int l = SN_LEVEL_BLUE; l <= SN_LEVEL_RED; l++) {
        char ymd[SN_DAY_STR_MAX] = "";
        if (s->first[l] != SN_DAY_NONE) {
            sn_day_format(s->first[l], ymd);
        }
        printf("  %-7s %4u / %-3u %s%s", sn_level_name((sn_level_t)l),
               s->before[l], s->after[l], ymd[0] ? "first about " : "", ymd);
        if (ymd[0]) {
            printf(" (outbreak day %d)", s->first[l] - p->outbreak + 1);
        }
        printf("\n");
    }
    printf("  The fever clinics and pharmacies were hit from outbreak day 1, "
           "the hospitals from day %d.\n",
           p->hospital - p->outbreak + 1);
    printf("  %u notifications received on the PUB socket; %u CAP 1.2 "
           "messages in %s/cap/;\n  %llu HL7 messages sent over MLLP, each "
           "acknowledged AA.\n",
           s->messages, cli_demo_cap_count(d->cap), d->conf.dir,
           (unsigned long long)cli_demo_feed_hl7(d->feed));
}

/* Print a few counters of each daemon, read from its /metrics. */
static void
s_metrics(const s_demo_t *d)
{
    static const char *const ana[] = {
        "events_in_total",       "events_deduplicated_total",
        "events_rejected_total", "series",
        "signals_total",         "alerts_total"};
    static const char *const alr[] = {"alerts_taken_total", "deliveries_total",
                                      "delivery_failures_total",
                                      "outbox_pending"};
    static const char *const col[] = {"records_in_total",
                                      "records_rejected_total", "spool_depth",
                                      "lag_seconds"};
    char name[128];
    printf("\nFrom /metrics:\n  analyzer ");
    for (size_t i = 0; i < sizeof ana / sizeof ana[0]; i++) {
        snprintf(name, sizeof name, "sentinel_analyzer_%s", ana[i]);
        printf(" %s=%lld", ana[i],
               (long long)cli_demo_metric(d->conf.analyzer_metrics, name));
    }
    printf("\n  alerting ");
    for (size_t i = 0; i < sizeof alr / sizeof alr[0]; i++) {
        snprintf(name, sizeof name, "sentinel_alerting_%s", alr[i]);
        printf(" %s=%lld", alr[i],
               (long long)cli_demo_metric(d->conf.alerting_metrics, name));
    }
    for (int s = 0; s < CLI_DEMO_SITES; s++) {
        printf("\n  %-9s", d->conf.sites[s].id);
        for (size_t i = 0; i < sizeof col / sizeof col[0]; i++) {
            snprintf(name, sizeof name, "sentinel_collector_%s", col[i]);
            printf(" %s=%lld", col[i],
                   (long long)cli_demo_metric(d->conf.sites[s].metrics_port,
                                              name));
        }
    }
    printf("\n");
}

/* Plot the prefecture series of each source around the outbreak. */
static void
s_plots(const s_demo_t *d, char *h5, char *from, char *log)
{
    static const char *const sources[] = {"fever_clinic", "pharmacy",
                                          "hospital"};
    printf("\nPlots of the outbreak series with their bounds and alarms "
           "(sentinel query … --plot):\n");
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        char key[64], rel[96];
        snprintf(key, sizeof key, "ili/3301/%s/*", sources[i]);
        snprintf(rel, sizeof rel, "plots/ili-3301-%s.png", sources[i]);
        cli_demo_path_t png = cli_demo_path(&d->conf, rel);
        char *plot[] = {"query",  "-a", h5,       "series", key,
                        "--from", from, "--plot", png.s,    NULL};
        int st = cli_demo_run(log, plot, 60);
        printf("  %s%s\n", png.s,
               st == 0 ? "" : " (failed: see logs/query.log)");
    }
}

static void
s_query(const s_demo_t *d)
{
    const cli_demo_conf_t *c = &d->conf;
    cli_demo_path_t h5p = cli_demo_path(c, "archive.h5");
    cli_demo_path_t logp = cli_demo_path(c, "logs/query.log");
    char *h5 = h5p.s, *log = logp.s, *key = "ili/3301/fever_clinic/*";
    char from[SN_DAY_STR_MAX];
    sn_day_format(cli_demo_feed_plan(d->feed)->outbreak - 120, from);
    printf("\n$ sentinel query -a %s list --region 3301 --format table\n", h5);
    char *list[] = {"query", "-a",       h5,     "--format", "table",
                    "list",  "--region", "3301", NULL};
    cli_demo_run(log, list, 60);
    printf("\n$ sentinel query -a %s series '%s' --from %s --weekly "
           "--format table\n",
           h5, key, from);
    char *series[] = {"query", "-a",     h5,   "--format", "table", "series",
                      key,     "--from", from, "--weekly", NULL};
    cli_demo_run(log, series, 60);
    s_plots(d, h5, from, log);
    char exe[1024] = "sentinel";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 8] = '\0';
    printf("\nThe duty epidemiologist's view of the warnings (list, show, "
           "ack, verify, report):\n  %s alerts -c %s/etc/alerting.yaml "
           "list\n",
           exe, c->dir);
    printf("\nAn analyst opens the archive with h5py (Debian: python3-h5py), "
           "even while the analyzer writes:\n"
           "  python3 -c \"import h5py; f = h5py.File('%s', 'r', "
           "libver='latest', swmr=True); print(f['series/key'].asstr()[:])\"\n",
           h5);
}

static int
s_run(s_demo_t *d, const s_args_t *a)
{
    sn_err_t err;
    sn_day_t today = sn_time_day(sn_time_now());
    sn_day_t end = sn_day_from_ymd(DEMO_END_Y, DEMO_END_M, DEMO_END_D);
    d->feed = cli_demo_feed_new(&d->conf, a->years, a->seed,
                                today <= end ? today : end + 1, &err);
    if (d->feed == NULL) {
        fprintf(stderr, "demo: scenario: %s\n", err.msg);
        return CLI_EXIT_FAILURE;
    }
    s_print_intro(d);
    d->cap =
        cli_demo_cap_new(d->conf.cap_port, cli_demo_path(&d->conf, "cap").s);
    char pub[600];
    snprintf(pub, sizeof pub, "ipc://%s/run/alerts-pub.ipc", d->conf.dir);
    d->watch =
        cli_demo_watch_new(pub, cli_demo_feed_plan(d->feed)->outbreak, stdout);
    if (d->cap == NULL || d->watch == NULL || s_start_daemons(d) != 0 ||
        s_replay(d) != 0) {
        return CLI_EXIT_FAILURE;
    }
    s_settle(d);
    s_summary(d);
    s_metrics(d);
    return CLI_EXIT_OK;
}

int
cli_demo(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(s_usage, stdout);
        return CLI_EXIT_OK;
    }
    s_args_t a;
    int rc = s_parse(argc, argv, &a);
    if (rc != 0) {
        return rc;
    }
    s_demo_t *d = sn_calloc(1, sizeof *d);
    clock_gettime(CLOCK_MONOTONIC, &d->t0);
    const char *why = cli_demo_conf_folder(&d->conf, a.dir);
    if (why != NULL || cli_demo_conf_ports(&d->conf) != 0 ||
        cli_demo_conf_write(&d->conf) != 0) {
        fprintf(stderr, "sentinel demo: %s: %s\n", a.dir,
                why ? why : "cannot write the configuration");
        free(d);
        return why ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    cli_demo_signals();
    d->procs = cli_demo_procs_new();
    rc = s_run(d, &a);
    printf("\nStopping the daemons (SIGTERM, SIGKILL after %d s) ...\n",
           DEMO_GRACE_MS / 1000);
    int killed = cli_demo_procs_stop(d->procs, DEMO_GRACE_MS);
    printf("  all stopped%s; logs in %s/logs/\n",
           killed ? " (some needed SIGKILL)" : " cleanly", d->conf.dir);
    if (rc == CLI_EXIT_OK && !cli_demo_stopping()) {
        s_query(d);
        printf("\nDone in %.1f s.\n", s_elapsed(d));
    }
    cli_demo_watch_destroy(&d->watch);
    cli_demo_cap_destroy(&d->cap);
    cli_demo_feed_destroy(&d->feed);
    cli_demo_procs_destroy(&d->procs);
    free(d);
    return cli_demo_stopping() ? 128 + 2 : rc;
}
