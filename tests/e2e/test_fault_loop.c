/*  tests/e2e/test_fault_loop.c - kill -9 any daemon, twenty times: exact counts
 *
 *  Real processes over ipc://: three `sentinel collect` processes publish
 *  seeded `sentinel simulate` feeds (ILI at three sites, plus one cholera
 *  case each) to `sentinel analyze`, whose alerts go to `sentinel alerts
 *  serve` and from there to a JSON-lines alert log. Twenty times, at a
 *  random moment, a random daemon (a collector, the analyzer or alerting)
 *  is killed with SIGKILL and started again. At the end the archive, read
 *  with `sentinel query`, holds per series and per day exactly the cases
 *  of the input (no loss, no double count), and the alert log holds one
 *  Alert message identifier per cholera region (repeats of the same
 *  identifier are allowed: delivery is at least once).
 *
 *  Scale: about 300,000 events by default (a few minutes on a slow 2-core
 *  machine); SENTINEL_FAULTS_EVENTS=1000000 gives the full scale. The seed
 *  is printed and read from SENTINEL_FAULTS_SEED when set.
 */
#include "sentinel/date.h"
#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N_SITES 3
#define N_DAYS 60
#define N_KILLS 20
#define DEFAULT_EVENTS 300000
#define START_YMD "2025-01-06"

static const char *const s_site_id[N_SITES] = {"s1", "s2", "s3"};
static const char *const s_region[N_SITES] = {"330102", "330105", "330106"};
static const char *const s_source[N_SITES] = {"hospital", "fever_clinic",
                                              "pharmacy"};

/* One daemon the loop may kill. */
typedef struct s_daemon {
    const char *name; /* "collector s1", "analyzer", "alerting" */
    int site;         /* collector: its site index; else -1 */
    pid_t pid;        /* running process, or 0 */
    bool done;        /* collector: exited 0 */
    int kills;        /* SIGKILLs it took while running */
} s_daemon_t;

/* The whole run. */
typedef struct s_loop {
    char *dir;                          /* temporary folder */
    long target;                        /* events asked for */
    unsigned seed;                      /* printed, replayable */
    uint64_t expected[N_SITES][N_DAYS]; /* ILI cases per site and day */
    uint64_t events_in;                 /* ILI events in the input */
    s_daemon_t d[N_SITES + 2];          /* collectors, analyzer, alerting */
    int in_flight;                      /* kills while collectors ran */
} s_loop_t;

static s_loop_t s_l;

/* -- helpers ------------------------------------------------------------ */

static char *
s_path(const char *name)
{
    return sn_strdup_printf("%s/%s", s_l.dir, name);
}

static pid_t
s_spawn(char *const argv[], const char *log)
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

/* -- input -------------------------------------------------------------- */

/* Tally one simulated line: its day (report_time) and count. */
static void
s_tally(int site, const char *line)
{
    const char *rt = strstr(line, "\"report_time\":\"");
    const char *cn = strstr(line, "\"count\":");
    ck_assert(rt != NULL && cn != NULL);
    int y, m, d;
    ck_assert_int_eq(sscanf(rt + 15, "%4d-%2d-%2d", &y, &m, &d), 3);
    long day = sn_day_from_ymd(y, m, d) - sn_day_from_ymd(2025, 1, 6);
    ck_assert(day >= 0 && day < N_DAYS);
    s_l.expected[site][day] += strtoull(cn + 8, NULL, 10);
    s_l.events_in++;
}

/* Count the simulated ILI cases of one site, then append its cholera case
 * (one red alert per region) and a later event of a condition without a
 * series that closes the last day. */
static void
s_finish_feed(int site)
{
    char *name = sn_strdup_printf("sim/%s.jsonl", s_site_id[site]);
    char *path = s_path(name);
    FILE *f = fopen(path, "r+");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    while (fgets(line, sizeof line, f) != NULL) {
        s_tally(site, line);
    }
    const char *fmt = "{\"event_id\":\"%s-%s\",\"site_id\":\"%s\","
                      "\"source\":\"%s\",\"region\":\"%s\",\"condition\":"
                      "\"%s\",\"report_time\":\"%s\",\"count\":1}\n";
    const char *id = s_site_id[site];
    fprintf(f, fmt, id, "cholera", id, s_source[site], s_region[site],
            "cholera",
            site == 0   ? "2025-01-20T10:00:00Z"
            : site == 1 ? "2025-02-03T10:00:00Z"
                        : "2025-02-25T10:00:00Z");
    fprintf(f, fmt, id, "close", id, s_source[site], s_region[site], "fever",
            "2025-03-10T10:00:00Z");
    fclose(f);
    free(path);
    free(name);
}

static void
s_simulate(void)
{
    /* The simulator has fewer cases at weekends (about 0.91 of the mean
     * over 60 days): scale up so that the events come close to target. */
    long mean = s_l.target * 1102 / (1000L * N_SITES * N_DAYS);
    char *out = s_path("sim");
    char seed[32], meanstr[N_SITES][64];
    snprintf(seed, sizeof seed, "%u", s_l.seed);
    for (int i = 0; i < N_SITES; i++) {
        snprintf(meanstr[i], sizeof meanstr[i], "%s:%s:%s:%ld", s_site_id[i],
                 s_region[i], s_source[i], mean > 0 ? mean : 1);
    }
    ts_run_t r = ts_sentinel(NULL, 300, "simulate", "--out", out, "--seed",
                             seed, "--start", START_YMD, "--days", "60",
                             "--amplitude", "0", "--site", meanstr[0], "--site",
                             meanstr[1], "--site", meanstr[2], NULL);
    ck_assert_msg(r.status == 0, "simulate: %s", r.err);
    ts_run_free(&r);
    free(out);
    for (int i = 0; i < N_SITES; i++) {
        s_finish_feed(i);
    }
}

/* -- configuration ------------------------------------------------------ */

static void
s_write_configs(void)
{
    const char *d = s_l.dir;
    char *ana = sn_strdup_printf(
        "analyzer:\n"
        "  state_dir: %s/state\n"
        "  dead_letter: %s/analyzer-dead.jsonl\n"
        "  checkpoint_ms: 200\n"
        "  lateness_days: 1\n"
        "  horizon_days: 365\n"
        "  wall_clock: false\n"
        "  window_days: 400\n"
        "  dedup_capacity: %ld\n"
        "transport: {endpoint: \"ipc://%s/events.ipc\", curve: false}\n"
        "alerts:\n"
        "  transport: {endpoint: \"ipc://%s/alerts.ipc\", curve: false,\n"
        "              sender_id: analyzer, timeout_ms: 1000}\n"
        "  spool: {dir: %s/outbox, fsync: always}\n"
        "archive: {path: %s/archive.h5, flush_interval: 0.5}\n"
        "series:\n"
        "  - {condition: ili, levels: [county]}\n"
        "  - {condition: cholera}\n"
        "detectors:\n"
        "  - {name: ears-c2}\n"
        "rules:\n"
        "  - {name: class-a, kind: threshold, level: red, classes: A}\n",
        d, d, 2 * s_l.target + 100000, d, d, d, d);
    free(ts_write_file(d, "sentinel.yaml", ana));
    free(ana);
    char *alr = sn_strdup_printf(
        "alerting:\n  store: %s/alerts.db\n  tick_ms: 50\n  clock: data\n"
        "  outbox: {base_ms: 100, max_ms: 1000}\n"
        "  sinks:\n    - {name: log, kind: log, path: %s/alerts.jsonl}\n"
        "transport: {kind: zmq, endpoint: \"ipc://%s/alerts.ipc\", "
        "curve: false}\n",
        d, d, d);
    free(ts_write_file(d, "alerting.yaml", alr));
    free(alr);
    for (int i = 0; i < N_SITES; i++) {
        char *col = sn_strdup_printf(
            "site: {id: \"%s\", source: %s, region: \"%s\"}\n"
            "dead_letter: {path: \"%s/dead-%s.jsonl\"}\n"
            "log: {level: warn}\n"
            "spool: {dir: \"%s/spool-%s\", fsync: batch}\n"
            "transport: {endpoint: \"ipc://%s/events.ipc\", curve: false,\n"
            "            heartbeat_ms: 200, timeout_ms: 2000,\n"
            /* Two batches in flight: a collector waits for each of the
             * analyzer's checkpoints (200 ms), so it still publishes while
             * the kills come, instead of being done in a fraction of a
             * second. */
            "            batch_records: 1000, window: 2000}\n",
            s_site_id[i], s_source[i], s_region[i], d, s_site_id[i], d,
            s_site_id[i], d);
        char *name = sn_strdup_printf("collector-%s.yaml", s_site_id[i]);
        free(ts_write_file(d, name, col));
        free(name);
        free(col);
    }
}

/* -- daemons ------------------------------------------------------------ */

static void
s_start(s_daemon_t *dm)
{
    char *log = NULL, *conf = NULL, *in = NULL;
    const char *bin = ts_sentinel_bin();
    if (dm->site >= 0) {
        const char *id = s_site_id[dm->site];
        char *c = sn_strdup_printf("collector-%s.yaml", id);
        char *i = sn_strdup_printf("sim/%s.jsonl", id);
        char *g = sn_strdup_printf("collector-%s.log", id);
        conf = s_path(c), in = s_path(i), log = s_path(g);
        free(c), free(i), free(g);
        char *argv[] = {(char *)bin, "collect", "-c", conf,
                        "--timeout", "900",     in,   NULL};
        dm->pid = s_spawn(argv, log);
    } else if (strcmp(dm->name, "analyzer") == 0) {
        conf = s_path("sentinel.yaml"), log = s_path("analyzer.log");
        char *argv[] = {(char *)bin,   "analyze", "-c", conf,
                        "--log-level", "error",   NULL};
        dm->pid = s_spawn(argv, log);
    } else {
        conf = s_path("alerting.yaml"), log = s_path("alerting.log");
        char *argv[] = {(char *)bin, "alerts", "-c", conf, "serve", NULL};
        dm->pid = s_spawn(argv, log);
    }
    free(log);
    free(conf);
    free(in);
}

/* A collector that has exited must have exited 0 (everything acked). */
static void
s_reap(s_daemon_t *dm)
{
    int status;
    if (dm->pid > 0 && waitpid(dm->pid, &status, WNOHANG) == dm->pid) {
        ck_assert_msg(dm->site >= 0 && WIFEXITED(status) &&
                          WEXITSTATUS(status) == 0,
                      "%s exited with status %d", dm->name, status);
        dm->pid = 0;
        dm->done = true;
    }
}

/* Half the time a collector (if one still runs), else the analyzer or
 * alerting: a pick uniform over processes would hit the two central daemons
 * less while three collectors run, and only them once the collectors end. */
static s_daemon_t *
s_pick(s_daemon_t *live[], int n)
{
    int collectors = 0;
    while (collectors < n && live[collectors]->site >= 0) {
        collectors++;
    }
    if (collectors > 0 && (collectors == n || rand() % 2 == 0)) {
        s_l.in_flight++;
        return live[rand() % collectors];
    }
    s_l.in_flight += collectors > 0;
    return live[collectors + rand() % (n - collectors)];
}

/* Kill one running daemon chosen at random and start it again after a
 * random pause. @return false when none is running. */
static bool
s_kill_one(void)
{
    s_daemon_t *live[N_SITES + 2];
    int n = 0;
    for (int i = 0; i < N_SITES + 2; i++) {
        s_reap(&s_l.d[i]);
        if (s_l.d[i].pid > 0) {
            live[n++] = &s_l.d[i];
        }
    }
    if (n == 0) {
        return false;
    }
    s_daemon_t *dm = s_pick(live, n);
    int status;
    kill(dm->pid, SIGKILL);
    waitpid(dm->pid, &status, 0);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
        dm->kills++;
    } else {
        dm->done = dm->site >= 0; /* it had just finished */
        ck_assert_msg(!WIFEXITED(status) || WEXITSTATUS(status) == 0,
                      "%s exited with status %d", dm->name, status);
    }
    ts_sleep_ms(rand() % 300);
    s_start(dm);
    return true;
}

/* Wait for a collector to finish: exit 0 once all it read is acked. */
static void
s_wait_collector(s_daemon_t *dm, int secs)
{
    for (int t = 0; t < secs * 10 && dm->pid > 0; t++) {
        s_reap(dm);
        ts_sleep_ms(100);
    }
    ck_assert_msg(dm->pid == 0, "%s still running after %d s", dm->name, secs);
}

static void
s_stop(s_daemon_t *dm)
{
    int status = 0;
    kill(dm->pid, SIGTERM);
    waitpid(dm->pid, &status, 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "%s: SIGTERM gave status %d", dm->name, status);
    dm->pid = 0;
}

/* -- checks ------------------------------------------------------------- */

/* Compare one series of the archive with the input, day by day.
 * @return its total. */
static uint64_t
s_check_series(int site)
{
    char *archive = s_path("archive.h5");
    char *key = sn_strdup_printf("ili/%s/%s/*", s_region[site], s_source[site]);
    ts_run_t r =
        ts_sentinel(NULL, 120, "query", "-a", archive, "series", key, NULL);
    ck_assert_msg(r.status == 0, "query %s: %s", key, r.err);
    uint64_t total = 0, got[N_DAYS] = {0};
    char *save = NULL;
    for (char *ln = strtok_r(r.out, "\n", &save); ln != NULL;
         ln = strtok_r(NULL, "\n", &save)) {
        int y, m, d;
        double obs;
        if (sscanf(ln, "%4d-%2d-%2d,%lf", &y, &m, &d, &obs) != 4) {
            continue; /* header, or NA */
        }
        long day = sn_day_from_ymd(y, m, d) - sn_day_from_ymd(2025, 1, 6);
        total += (uint64_t)obs;
        if (day < 0 || day >= N_DAYS) {
            ck_assert_msg(obs == 0, "%s: cases outside the input: %s", key, ln);
            continue; /* days closed by the closing event */
        }
        got[day] = (uint64_t)obs;
    }
    for (int day = 0; day < N_DAYS; day++) {
        ck_assert_msg(got[day] == s_l.expected[site][day],
                      "%s day %d: archive %" PRIu64 ", input %" PRIu64, key,
                      day, got[day], s_l.expected[site][day]);
    }
    ts_run_free(&r);
    free(key);
    free(archive);
    return total;
}

/* @return the number of distinct Alert identifiers for `region` in the
 * alert log; *lines gets the number of its Alert lines (repeats too). */
static int
s_alert_ids(const char *region, int *lines)
{
    char *path = s_path("alerts.jsonl");
    char *text = ts_read_file(path, NULL);
    free(path);
    char key[64], ids[16][96];
    snprintf(key, sizeof key, "\"alert_key\":\"class-a|cholera|%s\"", region);
    int n = 0;
    *lines = 0;
    char *save = NULL;
    for (char *ln = text ? strtok_r(text, "\n", &save) : NULL; ln != NULL;
         ln = strtok_r(NULL, "\n", &save)) {
        const char *id = strstr(ln, "\"identifier\":\"");
        if (strstr(ln, key) == NULL ||
            strstr(ln, "\"type\":\"Alert\"") == NULL || id == NULL) {
            continue;
        }
        char one[96];
        ck_assert_int_eq(sscanf(id + 14, "%95[^\"]", one), 1);
        (*lines)++;
        bool seen = false;
        for (int i = 0; i < n; i++) {
            seen |= strcmp(ids[i], one) == 0;
        }
        if (!seen && n < 16) {
            strcpy(ids[n++], one);
        }
    }
    free(text);
    return n;
}

static bool
s_alerts_delivered(void)
{
    int lines;
    for (int i = 0; i < N_SITES; i++) {
        if (s_alert_ids(s_region[i], &lines) == 0) {
            return false;
        }
    }
    return true;
}

/* -- fixture and test --------------------------------------------------- */

static void
s_setup(void)
{
    memset(&s_l, 0, sizeof s_l);
    s_l.dir = ts_tmpdir();
    const char *ev = getenv("SENTINEL_FAULTS_EVENTS");
    const char *sd = getenv("SENTINEL_FAULTS_SEED");
    s_l.target = ev ? atol(ev) : DEFAULT_EVENTS;
    s_l.seed = sd ? (unsigned)strtoul(sd, NULL, 10) : (unsigned)time(NULL);
    ck_assert_int_ge(s_l.target, 1000);
    fprintf(stderr,
            "fault_loop: seed %u (SENTINEL_FAULTS_SEED), %ld events "
            "asked (SENTINEL_FAULTS_EVENTS)\n",
            s_l.seed, s_l.target);
    srand(s_l.seed);
    s_simulate();
    s_write_configs();
    for (int i = 0; i < N_SITES; i++) {
        s_l.d[i].name = s_site_id[i]; /* collector of site s1… */
        s_l.d[i].site = i;
    }
    s_l.d[N_SITES] = (s_daemon_t){"analyzer", -1, 0, false, 0};
    s_l.d[N_SITES + 1] = (s_daemon_t){"alerting", -1, 0, false, 0};
}

static void
s_teardown(void)
{
    for (int i = 0; i < N_SITES + 2; i++) {
        if (s_l.d[i].pid > 0) {
            kill(s_l.d[i].pid, SIGKILL);
            waitpid(s_l.d[i].pid, NULL, 0);
        }
    }
    if (getenv("SENTINEL_FAULTS_KEEP") == NULL) {
        ts_rmtree(s_l.dir);
    }
    free(s_l.dir);
}

/* Twenty kills spread over the stream: the pause before each is random,
 * up to a bound that grows with the number of events. */
static int
s_kill_loop(void)
{
    long span_ms = 200 + s_l.target / 800;
    int kills = 0;
    for (int k = 0; k < N_KILLS; k++) {
        ts_sleep_ms(100 + rand() % span_ms);
        kills += s_kill_one();
    }
    return kills;
}

START_TEST(test_fault_loop_exact_counts_and_alerts)
{
    for (int i = N_SITES + 1; i >= 0; i--) {
        s_start(&s_l.d[i]);
    }
    ck_assert_int_eq(s_kill_loop(), N_KILLS);
    for (int i = 0; i < N_SITES; i++) {
        s_wait_collector(&s_l.d[i], 900);
    }
    for (int t = 0; t < 1200 && !s_alerts_delivered(); t++) {
        ts_sleep_ms(100);
    }
    ts_sleep_ms(2000); /* a daemon restarted just now is up to take SIGTERM */
    s_stop(&s_l.d[N_SITES]);
    s_stop(&s_l.d[N_SITES + 1]);
    uint64_t out = 0;
    for (int i = 0; i < N_SITES; i++) {
        out += s_check_series(i);
    }
    fprintf(stderr,
            "fault_loop: ILI events in %" PRIu64 ", cases in the "
            "archive %" PRIu64 "\n",
            s_l.events_in, out);
    for (int i = 0; i < N_SITES + 2; i++) {
        fprintf(stderr, "fault_loop: %-9s killed %d times\n", s_l.d[i].name,
                s_l.d[i].kills);
    }
    fprintf(stderr, "fault_loop: %d of %d kills while collectors ran\n",
            s_l.in_flight, N_KILLS);
    /* Kills after everything had been sent would check nothing. */
    ck_assert_int_gt(s_l.in_flight, 0);
    ck_assert_uint_eq(out, s_l.events_in);
    for (int i = 0; i < N_SITES; i++) {
        int lines;
        int ids = s_alert_ids(s_region[i], &lines);
        fprintf(stderr,
                "fault_loop: red alert %s: %d identifier(s), %d "
                "line(s)\n",
                s_region[i], ids, lines);
        ck_assert_msg(ids == 1, "region %s: %d alert identifiers", s_region[i],
                      ids);
    }
}
END_TEST

static Suite *
fault_loop_suite(void)
{
    Suite *s = suite_create("fault_loop");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    const char *ev = getenv("SENTINEL_FAULTS_EVENTS");
    long n = ev ? atol(ev) : DEFAULT_EVENTS;
    tcase_set_timeout(usage, (double)(600 + n / 500));
    tcase_add_test(usage, test_fault_loop_exact_counts_and_alerts);
    suite_add_tcase(s, usage);
    suite_add_tcase(s, tcase_create("edges"));
    suite_add_tcase(s, tcase_create("errors"));
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(fault_loop_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
