/*  bench/bench_event.c - the event codec, one figure per operation
 *
 *  The collector's throughput aim (1,000,000 events/s from a JSON lines file
 *  to the receiver) is bounded by what one event costs on each step: parse
 *  the JSON line, validate, encode to protobuf, and on the analyzer's side
 *  decode. This bench times each of them over the same set of varied
 *  events, and prints jansson's own json_loadb() over the same lines beside
 *  them as the library baseline: sn_event_from_json() cannot be slower than
 *  "just tokenize" without that being visible here.
 *  usage: bench_event [EVENTS]   (default 200000)
 *  Each figure is the best of three rounds (the machine is shared). It
 *  prints figures; it never passes or fails on them.
 */
#include "sentinel/date.h"
#include "sentinel/event.h"
#include "sentinel/mem.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 3
#define WIRE_MAX 512

/* The inputs of every operation, built once. */
typedef struct bench {
    size_t n;          /* events */
    sn_event_t *evs;   /* the events */
    char **lines;      /* their JSON lines */
    size_t *line_len;  /* strlen of each line */
    uint8_t *wire;     /* protobuf encodings, WIRE_MAX bytes apart */
    size_t *wire_len;  /* length of each encoding */
    sn_time_t now;     /* the clock validation compares against */
    volatile int sink; /* defeats dead-code elimination */
} bench_t;

static const char *const s_conditions[] = {"ILI",  "A00",   "B05",
                                           "HFMD", "fever", "diarrhoea"};

/* A varied, valid event: every source, optional fields sometimes given. */
static void
s_make_event(size_t i, sn_time_t now, sn_event_t *ev)
{
    sn_event_init(ev);
    snprintf(ev->event_id, sizeof ev->event_id, "EV-2026-%08zu", i);
    ev->revision = (uint32_t)(i % 3);
    snprintf(ev->site_id, sizeof ev->site_id, "site-%03zu", i % 200);
    ev->source = (sn_source_t)(1 + i % (SN_SOURCE_COUNT - 1));
    snprintf(ev->region, sizeof ev->region, "%06zu", 110101 + i % 5000);
    strcpy(ev->condition, s_conditions[i % 6]);
    ev->report_time = now - (sn_time_t)(i % 86400) * 1000;
    ev->count = 1 + (uint32_t)(i % 7);
    if (i % 2 == 0) {
        ev->onset_date = sn_time_day(now) - (sn_day_t)(i % 9);
        ev->age_years = (int32_t)(i % 90);
        ev->sex = (sn_sex_t)(1 + i % 3);
        ev->lab_confirmed = (sn_lab_t)(i % 3);
    }
}

static void
s_setup(bench_t *b, size_t n)
{
    b->n = n;
    b->now = sn_time_now();
    b->evs = sn_calloc(n, sizeof *b->evs);
    b->lines = sn_calloc(n, sizeof *b->lines);
    b->line_len = sn_calloc(n, sizeof *b->line_len);
    b->wire = sn_calloc(n, WIRE_MAX);
    b->wire_len = sn_calloc(n, sizeof *b->wire_len);
    for (size_t i = 0; i < n; i++) {
        s_make_event(i, b->now, &b->evs[i]);
        b->lines[i] = sn_event_to_json(&b->evs[i]);
        b->line_len[i] = strlen(b->lines[i]);
        int len = sn_event_encode(&b->evs[i], b->wire + i * WIRE_MAX, WIRE_MAX);
        if (len < 0) {
            fprintf(stderr, "bench_event: encode failed\n");
            exit(1);
        }
        b->wire_len[i] = (size_t)len;
    }
}

static void
s_teardown(bench_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->lines[i]);
    }
    free(b->evs);
    free(b->lines);
    free(b->line_len);
    free(b->wire);
    free(b->wire_len);
}

/* ------------------------------------------------------------ operations */

typedef int (*s_op_fn)(bench_t *b);

static int
s_op_encode(bench_t *b)
{
    uint8_t buf[WIRE_MAX];
    int bad = 0;
    for (size_t i = 0; i < b->n; i++) {
        bad += sn_event_encode(&b->evs[i], buf, sizeof buf) < 0;
    }
    b->sink = buf[0];
    return bad;
}

static int
s_op_decode(bench_t *b)
{
    sn_event_t ev;
    int bad = 0;
    for (size_t i = 0; i < b->n; i++) {
        bad += sn_event_decode(b->wire + i * WIRE_MAX, b->wire_len[i], &ev,
                               NULL) != SN_OK;
    }
    b->sink = (int)ev.count;
    return bad;
}

static int
s_op_validate(bench_t *b)
{
    int bad = 0;
    for (size_t i = 0; i < b->n; i++) {
        bad += sn_event_validate(&b->evs[i], b->now, NULL) != SN_OK;
    }
    return bad;
}

static int
s_op_from_json(bench_t *b)
{
    sn_event_t ev;
    int bad = 0;
    for (size_t i = 0; i < b->n; i++) {
        bad +=
            sn_event_from_json(b->lines[i], b->line_len[i], &ev, NULL) != SN_OK;
    }
    b->sink = (int)ev.count;
    return bad;
}

static int
s_op_to_json(bench_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        char *text = sn_event_to_json(&b->evs[i]);
        b->sink = text[0];
        free(text);
    }
    return 0;
}

/* The library baseline: jansson tokenizes and builds its tree, no more. */
static int
s_op_jansson(bench_t *b)
{
    int bad = 0;
    for (size_t i = 0; i < b->n; i++) {
        json_t *root =
            json_loadb(b->lines[i], b->line_len[i],
                       JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
        bad += root == NULL;
        json_decref(root);
    }
    return bad;
}

/* CPU seconds of this process: on a shared machine the wall clock also
 * counts the time other processes held the cores. */
static double
s_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run `op` ROUNDS times and print the best rates, by wall and CPU time. */
static void
s_run(bench_t *b, const char *name, s_op_fn op)
{
    double best = 0;
    double best_cpu = 0;
    for (int r = 0; r < ROUNDS; r++) {
        int64_t t0 = sn_clock_ns();
        double c0 = s_cpu();
        int bad = op(b);
        double c = s_cpu() - c0;
        double s = (double)(sn_clock_ns() - t0) / 1e9;
        if (bad != 0) {
            printf("%-20s %d of %zu failed\n", name, bad, b->n);
            return;
        }
        best = (double)b->n / s > best ? (double)b->n / s : best;
        best_cpu = (double)b->n / c > best_cpu ? (double)b->n / c : best_cpu;
    }
    printf("%-20s %11.0f %11.0f %9.3f\n", name, best, best_cpu, 1e6 / best_cpu);
}

int
main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
    if (n == 0) {
        fprintf(stderr, "usage: bench_event [EVENTS]\n");
        return 2;
    }
    bench_t b;
    s_setup(&b, n);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += b.line_len[i];
    }
    printf("bench_event: %zu events, %.1f bytes per JSON line, best of %d\n", n,
           (double)bytes / (double)n, ROUNDS);
    printf("%-20s %11s %11s %9s\n", "operation", "events/s", "events/s",
           "us/event");
    printf("%-20s %11s %11s %9s\n", "", "(wall)", "(cpu)", "(cpu)");
    s_run(&b, "encode", s_op_encode);
    s_run(&b, "decode", s_op_decode);
    s_run(&b, "validate", s_op_validate);
    s_run(&b, "from_json", s_op_from_json);
    s_run(&b, "to_json", s_op_to_json);
    s_run(&b, "jansson json_loadb", s_op_jansson);
    s_teardown(&b);
    return 0;
}
