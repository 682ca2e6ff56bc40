/*  cli/demo_watch.h - what the demo shows: alerts as they come, CAP files
 *
 *  Three small listeners of the demo process:
 *  - the alert watcher subscribes to the alerting daemon's ZeroMQ PUB sink
 *    and prints each notification as it arrives: blue signals as one line
 *    (from two weeks before the outbreak; earlier ones are counted), graded
 *    warnings (yellow and above) with their rule, condition, region,
 *    summary and evidence rows;
 *  - the CAP receiver is the webhook the alerting daemon posts CAP 1.2 XML
 *    to (libmicrohttpd on 127.0.0.1); it writes each message to
 *    DIR/cap/<identifier>.xml, once per identifier;
 *  - cli_demo_metric() reads one value from a daemon's /metrics.
 *
 *  Threading: the watcher and cli_demo_metric() run on the main thread;
 *  the CAP receiver answers from libmicrohttpd's own thread and shares
 *  nothing mutable with the main thread (it only writes files).
 */
#ifndef SENTINEL_CLI_DEMO_WATCH_H
#define SENTINEL_CLI_DEMO_WATCH_H

/* Blue signals are printed from this many days before the outbreak on;
 * earlier ones (the baseline's false alarms) are only counted. */
#define CLI_DEMO_SHOW_DAYS 14

#include <stdint.h>
#include <stdio.h>

#include "sentinel/alert.h"
#include "sentinel/date.h"

typedef struct cli_demo_watch cli_demo_watch_t; /* opaque */
typedef struct cli_demo_cap cli_demo_cap_t;     /* opaque */

/* What the watcher has seen, per level (index sn_level_t). */
typedef struct cli_demo_seen {
    unsigned before[SN_LEVEL_RED + 1]; /* alerts about days before `from` */
    unsigned after[SN_LEVEL_RED + 1];  /* alerts about `from` and later */
    sn_day_t first[SN_LEVEL_RED + 1];  /* day of the first of `after`, or
                                          SN_DAY_NONE */
    unsigned messages;                 /* notifications received */
} cli_demo_seen_t;

/** Subscribe to the PUB socket at `endpoint`; alerts about days before
 *  `outbreak` are counted as baseline (`from` above is `outbreak`). Output goes
 * to `out`.
 *  @return the watcher, or NULL when ZeroMQ refuses. Caller owns it. */
cli_demo_watch_t *cli_demo_watch_new(const char *endpoint, sn_day_t outbreak,
                                     FILE *out);

/** Close the socket and free; sets *self_p to NULL. Safe on NULL. */
void cli_demo_watch_destroy(cli_demo_watch_t **self_p);

/** Print every notification waiting, waiting at most `timeout_ms` for the
 *  first. @return the number printed. */
int cli_demo_watch_poll(cli_demo_watch_t *self, int timeout_ms);

/** @return the counts so far. */
const cli_demo_seen_t *cli_demo_watch_seen(const cli_demo_watch_t *self);

/** Serve the CAP webhook on 127.0.0.1:`port`, writing to `dir`.
 *  @return the receiver, or NULL when it cannot listen. Caller owns it. */
cli_demo_cap_t *cli_demo_cap_new(int port, const char *dir);

/** Stop serving and free; sets *self_p to NULL. Safe on NULL. */
void cli_demo_cap_destroy(cli_demo_cap_t **self_p);

/** @return the CAP messages stored so far (files in the folder; a message
 *  delivered twice is one file). */
unsigned cli_demo_cap_count(const cli_demo_cap_t *self);

/** Read metric `name` (its full name, e.g.
 *  "sentinel_analyzer_events_in_total") from 127.0.0.1:`port`/metrics.
 *  @return its value, or -1 when the daemon does not answer. */
int64_t cli_demo_metric(int port, const char *name);

#endif
