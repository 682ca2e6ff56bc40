/*  bench/bench_analyzer.c - analyzer figures: ingest, day close, memory,
 *  alert latency
 *
 *  Prints, each next to what it is measured against in the same run:
 *  1. the hot path in one thread: decode + validate + dedup + aggregation
 *     of encoded events, events/s (target: 1,000,000 on one core), one
 *     call per record and in batches of 1000 as the daemon gets them;
 *  2. sustained ingest over ZeroMQ into the real `sentinel analyze` daemon
 *     (dedup, aggregation, HDF5 archive, checkpoints before acks), events/s,
 *     next to raw ZeroMQ moving the same bytes in the same message sizes,
 *     with the daemon's CPU time (main thread: us per event) and page
 *     faults, which say more than the wall clock on a shared machine, both
 *     from the daemon's start and in the steady state after the first
 *     quarter of the events, and the CPU per event of every thread on
 *     both sides next to raw ZeroMQ's;
 *  3. closing one day for 100,000 series with EARS C2 and with
 *     farringtonFlexible (weekly, on a Sunday), seconds;
 *  4. resident memory per series with three years of daily history;
 *  5. event-to-alert latency of the fixed-threshold rule through the daemon
 *     and both transports, p50 and p99.
 *  Sizes can be cut with BENCH_ANALYZER_SCALE (0.01 .. 1, default 1), and
 *  BENCH_ANALYZER_ONLY=hot|daemon|close|latency runs one part
 *  (hot-batch: the hot path in batches only, for profiles).
 */
#include "ana_config.h"
#include "engine.h"
#include "ingest.h"
#include "series.h"

#include "sentinel/alert.h"
#include "sentinel/mem.h"
#include "sentinel/spool.h"
#include "sentinel/transport.h"

#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define BATCH                                                                  \
    1000 /* records per transport batch, as the transport's default            \
          */

static double
s_secs(int64_t ns)
{
    return (double)ns / 1e9;
}

/* CPU time of this thread: the machine may be shared while it runs. */
static int64_t
s_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double
s_scale(void)
{
    const char *s = getenv("BENCH_ANALYZER_SCALE");
    double v = s ? atof(s) : 1.0;
    return v > 0.001 && v <= 1 ? v : 1.0;
}

static long
s_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = atol(line + 6);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return kb;
}

/* A pipeline from YAML text; exits on error (a benchmark, not a test). */
static ana_ingest_t *
s_pipeline(const char *yaml, sn_config_t **cfg_out)
{
    sn_err_t err;
    ana_config_t c;
    ana_ingest_t *in = NULL;
    if (sn_config_parse(yaml, strlen(yaml), "bench.yaml", ana_config_schema,
                        cfg_out, &err) != SN_OK ||
        ana_config_read(*cfg_out, &c, &err) != SN_OK ||
        ana_ingest_new(&c, NULL, &in, &err) != SN_OK) {
        fprintf(stderr, "bench_analyzer: %s\n", err.msg);
        exit(1);
    }
    ana_config_fini(&c);
    return in;
}

/* Event i of a stream: 200 sites in 50 counties, 5 sources, 100 days. */
static void
s_event(sn_event_t *ev, uint64_t i, sn_day_t d0, uint64_t per_day)
{
    sn_event_init(ev);
    unsigned site = (unsigned)(i % 200);
    snprintf(ev->site_id, sizeof ev->site_id, "site-%u", site);
    snprintf(ev->event_id, sizeof ev->event_id, "ev-%llu",
             (unsigned long long)i);
    snprintf(ev->region, sizeof ev->region, "3301%02u", site % 50 + 1);
    snprintf(ev->condition, sizeof ev->condition, "ili");
    ev->source = (sn_source_t)(site % 5 + 1);
    ev->report_time = (sn_time_t)(d0 + (sn_day_t)(i / per_day)) * 86400000 +
                      (sn_time_t)(i % 86400) * 1000;
}

static const char s_hot_yaml[] =
    "analyzer: {state_dir: x, wall_clock: false, lateness_days: 0,\n"
    "           dedup_capacity: 3000000, window_days: 400}\n"
    "series:\n"
    "  - {condition: ili, levels: [site, county, prefecture]}\n";

/* Ingest the `n` encoded records of `buf` (128 bytes apart) into a fresh
 * pipeline, one call per record or BATCH records a call (as the daemon
 * gets them from the transport), and print the rate. */
static void
s_hot_run(const uint8_t *buf, const uint16_t *len, uint64_t n, bool batched)
{
    sn_config_t *cfg = NULL;
    ana_ingest_t *in = s_pipeline(s_hot_yaml, &cfg);
    sn_record_t *recs = sn_calloc(BATCH, sizeof *recs);
    sn_time_t now = sn_time_now();
    int64_t t0 = sn_clock_ns(), c0 = s_cpu_ns();
    for (uint64_t i = 0; i < n && !batched; i++) {
        ana_ingest_record(in, buf + i * 128, len[i], "b", i, now, NULL);
    }
    for (uint64_t i = 0; i < n && batched; i += BATCH) {
        size_t k = n - i < BATCH ? (size_t)(n - i) : BATCH;
        for (size_t j = 0; j < k; j++) {
            recs[j] =
                (sn_record_t){"b", i + j, buf + (i + j) * 128, len[i + j]};
        }
        ana_ingest_records(in, recs, k, now);
    }
    int64_t t1 = sn_clock_ns(), c1 = s_cpu_ns();
    const ana_ingest_stats_t *st = ana_ingest_stats(in);
    printf("hot path (decode+validate+dedup+aggregate, 1 thread, %s): %.0f "
           "events/s per CPU-second, %.3f us CPU per event (%.0f by the "
           "wall clock) over %llu events (%llu counted, %zu series; target "
           ">= 1000000)\n",
           batched ? "batches of 1000 as the daemon" : "one call per record",
           (double)n / s_secs(c1 - c0), s_secs(c1 - c0) * 1e6 / (double)n,
           (double)n / s_secs(t1 - t0), (unsigned long long)n,
           (unsigned long long)st->counted,
           ana_series_size(ana_ingest_series(in)));
    ana_ingest_destroy(&in);
    sn_config_destroy(&cfg);
    free(recs);
}

/* 1. decode + validate + dedup + aggregation, one thread. */
static void
s_bench_hot(uint64_t n, bool per_record)
{
    sn_day_t d0 = sn_day_from_ymd(2025, 1, 1);
    uint8_t *buf = sn_malloc(n * 128);
    uint16_t *len = sn_malloc(n * sizeof *len);
    for (uint64_t i = 0; i < n; i++) {
        sn_event_t ev;
        s_event(&ev, i, d0, n / 100 + 1);
        len[i] = (uint16_t)sn_event_encode(&ev, buf + i * 128, 128);
    }
    if (per_record) {
        s_hot_run(buf, len, n, false);
    }
    s_hot_run(buf, len, n, true);
    free(buf);
    free(len);
}

/* ---- 2. sustained ingest over ZeroMQ -------------------------------- */

/* User + system CPU seconds of this whole process (every thread, ZeroMQ's
 * I/O thread included). */
static double
s_self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* User + system CPU seconds used so far by process `pid` (all threads),
 * from /proc/PID/stat, and its minor page faults in *faults; 0 when it
 * cannot be read. */
static double
s_proc_cpu(pid_t pid, unsigned long *faults)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f != NULL ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the name may hold spaces */
    unsigned long ut = 0, st = 0;
    *faults = 0;
    if (p == NULL || sscanf(p + 2,
                            "%*c %*d %*d %*d %*d %*d %*u %lu %*u %*u %*u "
                            "%lu %lu",
                            faults, &ut, &st) != 3) {
        return 0;
    }
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The raw figure: a ROUTER in a child process (the daemon is one too)
 * receives messages of `size` bytes from a DEALER here, each standing for
 * BATCH events. Each round the DEALER sends passes of `msgs` messages (the
 * daemon run's message set) until RAW_MIN_NS have gone by, then an empty
 * message; the child answers it with the count it received. The clock runs
 * only once the child has bound (a pipe says so) and one untimed round trip
 * has made the connection, so start-up and ZeroMQ's reconnect interval are
 * not part of it. The figure is the best of RAW_ROUNDS rounds. */
#define RAW_ROUNDS 3         /* timed rounds; the best one counts */
#define RAW_MIN_NS 500000000 /* each timed round sends for at least this */

/* The child: bind, say so on `ready`, then answer RAW_ROUNDS + 1 rounds
 * (the first is the warm-up) with the count of messages each held. */
static void
s_raw_child(const char *endpoint, int ready)
{
    void *ctx = zmq_ctx_new(), *r = zmq_socket(ctx, ZMQ_ROUTER);
    if (zmq_bind(r, endpoint) != 0) {
        _exit(1); /* the parent reads end of file */
    }
    (void)!write(ready, "r", 1);
    close(ready);
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (int round = 0; round <= RAW_ROUNDS; round++) {
        char id[256];
        int idlen;
        uint64_t got = 0;
        for (;;) {
            idlen = zmq_recv(r, id, sizeof id, 0); /* routing id */
            if (zmq_msg_recv(&m, r, 0) <= 0) {
                break; /* the empty message ends the round */
            }
            got++;
        }
        zmq_send(r, id, (size_t)idlen, ZMQ_SNDMORE);
        zmq_send(r, &got, sizeof got, 0);
    }
    zmq_msg_close(&m);
    zmq_close(r);
    zmq_ctx_term(ctx);
    _exit(0);
}

/* One round on `d`: passes of `msgs` messages of `payload` until `min_ns`
 * have gone by, then the end of the round; the messages sent are in *sent,
 * and the result is the nanoseconds from the first send to the answer (-1
 * when the child counted another number). */
static int64_t
s_raw_round(void *d, const char *payload, size_t size, size_t msgs,
            int64_t min_ns, uint64_t *sent)
{
    uint64_t n = 0, got = 0;
    int64_t t0 = sn_clock_ns();
    do {
        for (size_t i = 0; i < msgs; i++) {
            zmq_send(d, payload, size, 0);
        }
        n += msgs;
    } while (sn_clock_ns() - t0 < min_ns);
    zmq_send(d, "", 0, 0);
    int rc = zmq_recv(d, &got, sizeof got, 0);
    int64_t t1 = sn_clock_ns();
    *sent = n;
    return rc == (int)sizeof got && got == n ? t1 - t0 : -1;
}

/* The raw figure, events/s; *cpu_per_event gets the CPU both processes
 * (every thread) spent per event over the timed rounds. */
static double
s_bench_raw_zmq(const char *endpoint, size_t msgs, size_t size,
                double *cpu_per_event)
{
    int ready[2];
    if (pipe(ready) != 0) {
        return 0;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(ready[0]);
        s_raw_child(endpoint, ready[1]);
    }
    close(ready[1]);
    char ch;
    bool bound = read(ready[0], &ch, 1) == 1;
    close(ready[0]);
    void *ctx = zmq_ctx_new(), *d = zmq_socket(ctx, ZMQ_DEALER);
    zmq_connect(d, endpoint);
    char *payload = sn_calloc(1, size);
    uint64_t sent = 0, timed = 0;
    double best = 0, cpu0 = 0;
    unsigned long faults;
    msgs = msgs > 0 ? msgs : 1;
    /* Round 0, one message, untimed: the connection is up after it. */
    for (int round = 0; bound && round <= RAW_ROUNDS; round++) {
        if (round == 1) {
            cpu0 = s_self_cpu() + s_proc_cpu(pid, &faults);
        }
        int64_t ns = s_raw_round(d, payload, size, round ? msgs : 1,
                                 round ? RAW_MIN_NS : 0, &sent);
        timed += round > 0 ? sent * BATCH : 0;
        double rate = ns > 0 ? (double)(sent * BATCH) / s_secs(ns) : 0;
        if (round > 0 && ns < 0) {
            fprintf(stderr,
                    "bench_analyzer: raw ZeroMQ round %d lost "
                    "messages\n",
                    round);
        }
        best = round > 0 && rate > best ? rate : best;
    }
    double cpu1 = s_self_cpu() + s_proc_cpu(pid, &faults);
    *cpu_per_event = timed > 0 ? (cpu1 - cpu0) * 1e6 / (double)timed : 0;
    if (!bound) {
        fprintf(stderr, "bench_analyzer: raw ZeroMQ could not bind %s\n",
                endpoint);
    }
    free(payload);
    zmq_close(d);
    zmq_ctx_term(ctx);
    waitpid(pid, NULL, 0);
    return best;
}

/* The daemon's checkpoint interval: each checkpoint writes the whole state
 * (BENCH_ANALYZER_CHECKPOINT_MS, default 200). */
static int
s_checkpoint_ms(void)
{
    const char *s = getenv("BENCH_ANALYZER_CHECKPOINT_MS");
    int v = s ? atoi(s) : 200;
    return v >= 10 ? v : 200;
}

/* The main thread of `pid`: seconds on a CPU and seconds runnable but
 * waiting for one (/proc/PID/schedstat), to tell a loaded machine from a
 * slow daemon. */
static void
s_proc_sched(pid_t pid, double *run, double *wait)
{
    char path[64];
    unsigned long long r = 0, w = 0;
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL || fscanf(f, "%llu %llu", &r, &w) != 2) {
        r = w = 0;
    }
    if (f != NULL) {
        fclose(f);
    }
    *run = (double)r / 1e9;
    *wait = (double)w / 1e9;
}

static pid_t
s_daemon(const char *bin, const char *config)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl(bin, "sentinel", "analyze", "-c", config, "--log-level", "warn",
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void
s_write_config(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static sn_sender_t *
s_sender(const char *dir, const char *endpoint, sn_spool_t **spool)
{
    sn_spool_opts_t so;
    sn_spool_opts_init(&so);
    so.dir = dir;
    so.fsync = SN_SPOOL_FSYNC_NEVER;
    so.max_bytes = 8ull << 30;
    sn_err_t err;
    sn_transport_opts_t to;
    sn_transport_opts_init(&to);
    to.endpoint = endpoint;
    to.sender_id = "bench";
    to.curve = false;
    to.window = 2000000;
    to.batch_ms = 1;
    sn_sender_t *s = NULL;
    if (sn_spool_open(&so, spool, &err) != SN_OK ||
        sn_sender_new(&to, *spool, NULL, NULL, &s, &err) != SN_OK) {
        fprintf(stderr, "bench_analyzer: %s\n", err.msg);
        exit(1);
    }
    return s;
}

static void
s_bench_daemon(const char *bin, const char *tmp, uint64_t n)
{
    char cfg[512], ep[300], spool[300];
    snprintf(ep, sizeof ep, "ipc://%s/ev.ipc", tmp);
    snprintf(spool, sizeof spool, "%s/site-spool", tmp);
    char *yaml = sn_strdup_printf(
        "analyzer: {state_dir: %s/state, wall_clock: false, "
        "lateness_days: 0, checkpoint_ms: %d, dedup_capacity: %llu, "
        "window_days: 400}\n"
        "transport: {endpoint: \"%s\", curve: false}\n"
        "archive: {path: %s/bench.h5}\n"
        "series:\n  - {condition: ili, levels: [site, county, prefecture]}\n",
        tmp, s_checkpoint_ms(), (unsigned long long)(n + n / 4), ep, tmp);
    snprintf(cfg, sizeof cfg, "%s/bench.yaml", tmp);
    s_write_config(cfg, yaml);
    free(yaml);
    sn_spool_t *sp = NULL;
    sn_sender_t *s = s_sender(spool, ep, &sp);
    uint8_t buf[256];
    size_t bytes = 0;
    sn_day_t d0 = sn_day_from_ymd(2025, 1, 1);
    for (uint64_t i = 0; i < n; i++) {
        sn_event_t ev;
        s_event(&ev, i, d0, n / 100 + 1);
        int len = sn_event_encode(&ev, buf, sizeof buf);
        bytes += (size_t)len;
        sn_spool_append(sp, buf, (size_t)len, NULL, NULL);
    }
    sn_spool_flush(sp, NULL);
    pid_t pid = s_daemon(bin, cfg);
    int64_t t0 = sn_clock_ns(), c0 = s_cpu_ns();
    /* The first quarter warms up: the daemon starts, connects, and touches
     * its dedup table's pages for the first time. The steady figure is
     * taken over the rest. */
    uint64_t warm_n = 0;
    int64_t tw = 0;
    unsigned long faults_w = 0;
    double cpu_w = 0, run_w = 0, runq_w = 0, self_0 = s_self_cpu();
    while (!sn_sender_drained(s) && sn_clock_ns() - t0 < 300e9) {
        sn_sender_poll(s, warm_n ? 20 : 1, NULL);
        if (warm_n == 0 && sn_sender_acked(s) >= n / 4) {
            tw = sn_clock_ns();
            warm_n = sn_sender_acked(s);
            cpu_w = s_proc_cpu(pid, &faults_w);
            s_proc_sched(pid, &run_w, &runq_w);
        }
    }
    double self_1 = s_self_cpu();
    int64_t t1 = sn_clock_ns(), c1 = s_cpu_ns();
    /* The daemon's CPU time up to the last ack, read from /proc before the
     * stop (its last snapshot at SIGTERM is not part of the figure). */
    unsigned long faults;
    double cpu = s_proc_cpu(pid, &faults), run, runq;
    s_proc_sched(pid, &run, &runq);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    sn_sender_destroy(&s);
    sn_spool_destroy(&sp);
    size_t per_msg = bytes / n * BATCH;
    double ours = (double)n / s_secs(t1 - t0);
    snprintf(ep, sizeof ep, "ipc://%s/raw.ipc", tmp);
    double raw_cpu = 0;
    double raw = s_bench_raw_zmq(ep, n / BATCH, per_msg, &raw_cpu);
    printf("sustained ingest, ZeroMQ -> sentinel analyze (dedup + aggregation"
           " + archive + a checkpoint before acks every %d ms): %.0f events/s "
           "over %llu events, %.0f%% of raw ZeroMQ\n",
           s_checkpoint_ms(), ours, (unsigned long long)n, 100 * ours / raw);
    printf("  the daemon used %.2f CPU-s (all its threads) over %.2f s: %.0f "
           "events per daemon CPU-second; %lu minor page faults\n",
           cpu, s_secs(t1 - t0), cpu > 0 ? (double)n / cpu : 0.0, faults);
    printf("  its main thread: %.2f s on a CPU (%.0f events per main-thread "
           "CPU-second, %.3f us per event), %.2f s runnable but waiting for a "
           "CPU\n",
           run, run > 0 ? (double)n / run : 0.0, run * 1e6 / (double)n, runq);
    printf("  the collector side (spool reads, batches) used %.2f CPU-s of "
           "its sending thread\n",
           s_secs(c1 - c0));
    if (warm_n > 0 && warm_n < n) {
        uint64_t k = n - warm_n;
        double cpu_k = cpu - cpu_w, run_k = run - run_w;
        printf("  steady state (after the first %llu events: start-up, "
               "connection, first touch of the dedup table): %.0f events/s "
               "over %llu events, %.0f%% of raw ZeroMQ; main thread %.3f us "
               "per event, daemon %.0f events per CPU-second, %lu page "
               "faults, %.2f s waiting for a CPU\n",
               (unsigned long long)warm_n, (double)k / s_secs(t1 - tw),
               (unsigned long long)k, 100 * ((double)k / s_secs(t1 - tw)) / raw,
               run_k * 1e6 / (double)k, cpu_k > 0 ? (double)k / cpu_k : 0.0,
               faults - faults_w, runq - runq_w);
        double other = cpu_k - run_k > 0 ? cpu_k - run_k : 0;
        printf("  CPU per event, every thread: the daemon %.3f us in the "
               "steady state (main thread %.3f, its other threads %.3f), "
               "the collector side %.3f us over the whole run (spool reads, "
               "batches, ZeroMQ's I/O thread; it sends ahead of the acks); "
               "raw ZeroMQ, both ends: %.3f us; this machine has %ld CPUs\n",
               cpu_k * 1e6 / (double)k, run_k * 1e6 / (double)k,
               other * 1e6 / (double)k, (self_1 - self_0) * 1e6 / (double)n,
               raw_cpu, sysconf(_SC_NPROCESSORS_ONLN));
    }
    printf("raw ZeroMQ, same bytes in the same message sizes (%zu B per "
           "%d-event message): %.0f events/s\n",
           per_msg, BATCH, raw);
}

/* ---- 3 and 4. closing a day for 100,000 series; memory per series -------- */

/* Fill `n` county series of 10 conditions with `days` days of counts. */
static ana_series_t *
s_history(size_t n, sn_day_t last, size_t days, uint32_t **leaves)
{
    static const char *const conds[] = {
        "ili",       "fever",   "diarrhoea", "rash",      "hfmd",
        "influenza", "measles", "mumps",     "dysentery", "unexplained"};
    ana_condition_t cat[10];
    ana_series_spec_t spec[10];
    memset(spec, 0, sizeof spec);
    for (int c = 0; c < 10; c++) {
        snprintf(cat[c].code, sizeof cat[c].code, "%s", conds[c]);
        cat[c].klass = 'S';
        snprintf(spec[c].condition, sizeof spec[c].condition, "%s", conds[c]);
        spec[c].levels = 1u << ANA_LEVEL_COUNTY;
    }
    ana_series_t *s =
        ana_series_new(cat, 10, spec, 10, days + 10, last - (sn_day_t)days);
    *leaves = sn_calloc(n, sizeof **leaves);
    for (size_t i = 0; i < n; i++) {
        char region[8];
        size_t r = i / 100; /* 100 series per county: 10 conditions x 10 */
        snprintf(region, sizeof region, "%02zu%02zu%02zu", 11 + r / 2500 % 55,
                 r / 50 % 50 + 1, r % 50 + 1);
        ana_series_leaf(s, conds[i % 10], region,
                        (sn_source_t)(i / 10 % 10 + 1), "", &(*leaves)[i],
                        NULL);
    }
    uint64_t x = 88172645463325252ull;
    for (sn_day_t d = last - (sn_day_t)days + 1; d <= last; d++) {
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            ana_series_add(s, (*leaves)[i], d, (uint32_t)(x % 11), 1);
        }
    }
    return s;
}

/* Counts the rows of the closed day whose detector gave a bound. */
typedef struct s_evaluated {
    sn_day_t day; /* the day closed */
    size_t rows;  /* rows of that day */
    size_t bound; /* of which with a finite upper bound */
} s_evaluated_t;

static void
s_count_evaluated(sn_day_t day, const ana_engine_row_t *rows, size_t n,
                  bool correction, void *arg)
{
    s_evaluated_t *ev = arg;
    if (day != ev->day || correction) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        ev->rows++;
        ev->bound += isfinite(rows[i].det[0].upperbound);
    }
}

/* The detector of the day-close figure: EARS C2 with its defaults, or
 * farringtonFlexible with the Noufaily settings of bench_detect. */
static void
s_close_spec(const char *method, bool weekly, ana_detector_spec_t *spec)
{
    static const char *const noufaily[][2] = {{"noPeriods", "10"},
                                              {"b", "5"},
                                              {"w", "3"},
                                              {"weightsThreshold", "2.58"},
                                              {"pastWeeksNotIncluded", "26"},
                                              {"pThresholdTrend", "0.05"},
                                              {"thresholdMethod", "nbPlugin"},
                                              {"alpha", "0.01"}};
    memset(spec, 0, sizeof *spec);
    snprintf(spec->name, sizeof spec->name, "%s", method);
    snprintf(spec->method, sizeof spec->method, "%s", method);
    spec->weekly = weekly;
    if (strcmp(method, "farrington-flexible") != 0) {
        return;
    }
    for (size_t k = 0; k < sizeof noufaily / sizeof noufaily[0]; k++) {
        snprintf(spec->params[k].key, sizeof spec->params[k].key, "%s",
                 noufaily[k][0]);
        snprintf(spec->params[k].value, sizeof spec->params[k].value, "%s",
                 noufaily[k][1]);
    }
    spec->n_params = sizeof noufaily / sizeof noufaily[0];
}

/* Close one day for n series with `years` of daily history before it (a
 * weekly detector's reference periods must lie inside it: farringtonFlexible
 * with b = 5 needs more than five years). */
static void
s_bench_close(size_t n, const char *method, bool weekly, int years)
{
    sn_day_t sunday = sn_day_from_ymd(2025, 11, 23); /* a Sunday */
    long rss0 = s_rss_kb();
    uint32_t *leaves;
    size_t days = (size_t)(years * 365.25 + 0.5);
    ana_series_t *s = s_history(n, sunday - 7, days, &leaves);
    ana_detector_spec_t spec;
    s_close_spec(method, weekly, &spec);
    s_evaluated_t ev = {sunday, 0, 0};
    ana_engine_t *e = NULL;
    sn_err_t err;
    if (ana_engine_new(s, &spec, 1, NULL, s_count_evaluated, &ev, &e, &err) !=
        SN_OK) {
        printf("close one day, %s: not available (%s)\n", method, err.msg);
        ana_series_destroy(&s);
        free(leaves);
        return;
    }
    int64_t t0 = sn_clock_ns();
    for (sn_day_t d = sunday - 6; d < sunday; d++) {
        ana_engine_close(e, d); /* the first one rebuilds the streams */
    }
    int64_t t1 = sn_clock_ns();
    for (size_t i = 0; i < n; i++) {
        ana_series_add(s, leaves[i], sunday, 5, 1);
    }
    int64_t t2 = sn_clock_ns();
    ana_engine_close(e, sunday);
    int64_t t3 = sn_clock_ns();
    long rss1 = s_rss_kb();
    printf("close one day, %zu series, %s%s: %.2f s, %zu of %zu rows with "
           "a bound (rebuilding the streams from %d years of history after a "
           "restart, then 5 days: %.1f s)\n",
           n, method, weekly ? " (Noufaily settings, weekly, on a Sunday)" : "",
           s_secs(t3 - t2), ev.bound, ev.rows, years, s_secs(t1 - t0));
    printf("resident memory per series, %d years of daily bins + %s stream: "
           "%.1f KiB\n",
           years, method, (double)(rss1 - rss0) / (double)n);
    ana_engine_destroy(&e);
    ana_series_destroy(&s);
    free(leaves);
}

/* ---- 5. event-to-alert latency of the fixed-threshold rule --------------- */

/* Receives alerts; records when the one awaited came. */
typedef struct s_wait {
    int got; /* alerts received */
} s_wait_t;

static int
s_on_alert_rec(const sn_record_t *rec, void *arg)
{
    (void)rec;
    ((s_wait_t *)arg)->got++;
    return SN_OK;
}

static int
s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void
s_bench_latency(const char *bin, const char *tmp, int k)
{
    char cfg[512], ev_ep[300], al_ep[300], spool[300];
    snprintf(ev_ep, sizeof ev_ep, "ipc://%s/lat-ev.ipc", tmp);
    snprintf(al_ep, sizeof al_ep, "ipc://%s/lat-al.ipc", tmp);
    snprintf(spool, sizeof spool, "%s/lat-spool", tmp);
    char *yaml = sn_strdup_printf(
        "analyzer: {state_dir: %s/lat-state, checkpoint_ms: 100}\n"
        "transport: {endpoint: \"%s\", curve: false, batch_ms: 1}\n"
        "alerts:\n"
        "  transport: {endpoint: \"%s\", curve: false, batch_ms: 1}\n"
        "  spool: {dir: %s/lat-outbox, fsync: always}\n"
        "series:\n  - {condition: cholera}\n"
        "rules:\n  - {name: class-a, kind: threshold, level: red, "
        "classes: A}\n",
        tmp, ev_ep, al_ep, tmp);
    snprintf(cfg, sizeof cfg, "%s/lat.yaml", tmp);
    s_write_config(cfg, yaml);
    free(yaml);
    sn_transport_opts_t ro;
    sn_transport_opts_init(&ro);
    ro.endpoint = al_ep;
    ro.curve = false;
    sn_receiver_t *alerts = NULL;
    sn_receiver_new(&ro, &alerts, NULL);
    pid_t pid = s_daemon(bin, cfg);
    sn_spool_t *sp = NULL;
    sn_sender_t *s = s_sender(spool, ev_ep, &sp);
    double *lat = sn_calloc((size_t)k, sizeof *lat);
    s_wait_t w = {0};
    int n = 0;
    for (int i = 0; i <= k; i++) { /* event 0 warms the daemon up */
        sn_event_t ev;
        sn_event_init(&ev);
        snprintf(ev.event_id, sizeof ev.event_id, "c-%d", i);
        snprintf(ev.site_id, sizeof ev.site_id, "lab-1");
        snprintf(ev.region, sizeof ev.region, "33%02d%02d", i / 50 + 1,
                 i % 50 + 1);
        snprintf(ev.condition, sizeof ev.condition, "cholera");
        ev.source = SN_SOURCE_LAB;
        ev.report_time = sn_time_now();
        uint8_t buf[256];
        int len = sn_event_encode(&ev, buf, sizeof buf);
        int64_t t0 = sn_clock_ns();
        sn_spool_append(sp, buf, (size_t)len, NULL, NULL);
        sn_spool_flush(sp, NULL);
        int want = w.got + 1;
        while (w.got < want && sn_clock_ns() - t0 < 10e9) {
            sn_sender_poll(s, 0, NULL);
            sn_receiver_poll(alerts, 1, s_on_alert_rec, &w, NULL);
        }
        sn_receiver_commit(alerts, NULL);
        if (w.got >= want && i > 0) {
            lat[n++] = (double)(sn_clock_ns() - t0) / 1e6;
        }
    }
    qsort(lat, (size_t)n, sizeof *lat, s_cmp_double);
    if (n > 0) {
        printf("event-to-alert latency, fixed-threshold rule (collector spool "
               "-> ZeroMQ -> analyzer -> outbox -> ZeroMQ): p50 %.2f ms, p99 "
               "%.2f ms over %d alerts\n",
               lat[n / 2], lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], n);
    } else {
        printf("event-to-alert latency: no alert arrived\n");
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    free(lat);
    sn_sender_destroy(&s);
    sn_spool_destroy(&sp);
    sn_receiver_destroy(&alerts);
}

int
main(int argc, char **argv)
{
    (void)argc;
    double scale = s_scale();
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    self[len > 0 ? len : 0] = '\0';
    char *bin = sn_strdup_printf("%s/sentinel", dirname(self));
    char tmpl[] = "/tmp/bench-analyzer-XXXXXX";
    const char *tmp = mkdtemp(tmpl);
    (void)argv;
    const char *only = getenv("BENCH_ANALYZER_ONLY"); /* one part by name */
    if (only == NULL || strncmp(only, "hot", 3) == 0) {
        s_bench_hot((uint64_t)(2000000 * scale),
                    only == NULL || strcmp(only, "hot") == 0);
    }
    if (only == NULL || strcmp(only, "daemon") == 0) {
        s_bench_daemon(bin, tmp, (uint64_t)(2000000 * scale));
    }
    if (only == NULL || strcmp(only, "close") == 0) {
        s_bench_close((size_t)(100000 * scale), "ears-c2", false, 3);
        s_bench_close((size_t)(100000 * scale), "farrington-flexible", true, 6);
    }
    if (only == NULL || strcmp(only, "latency") == 0) {
        s_bench_latency(bin, tmp, 200);
    }
    char *rm = sn_strdup_printf("rm -rf '%s'", tmp);
    if (system(rm) != 0) {
        fprintf(stderr, "bench_analyzer: could not remove %s\n", tmp);
    }
    free(rm);
    free(bin);
    return 0;
}
