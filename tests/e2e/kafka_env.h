/*  tests/e2e/kafka_env.h - the cluster, site and daemons of e2e/kafka_group
 *
 *  The machinery the consumer-group suite's cases share: a librdkafka mock
 *  cluster with a four-partition topic "events", a site that spools events
 *  and produces them keyed by prefecture, analyzer configurations, the
 *  `sentinel analyze` daemons (started, stopped and reaped, each recorded
 *  until it is reaped so the fixture's teardown finds what a failed
 *  assertion left running), queries of their logs, of the group's offsets
 *  and of /metrics, readers of the durable states and archives as a grid of
 *  cases per county series and day, and bounded waits. Every function
 *  fails the current Check test on an unexpected error.
 *
 *  Ownership: an kg_env_t is the caller's (usually on the stack); kg_env_open()
 *  fills it and kg_env_close() frees what it holds. A returned `char *` is
 *  the caller's, who frees it with free(). Daemons are recorded in a table
 *  of this module until kg_reap(), kg_stop() or kg_teardown() reaps them.
 *
 *  Threading: single-threaded test code; the test process's main thread
 *  only (the daemon table is a file-scope variable).
 */
#ifndef SENTINEL_TESTS_E2E_KAFKA_ENV_H
#define SENTINEL_TESTS_E2E_KAFKA_ENV_H

#include "sentinel/date.h"
#include "sentinel/spool.h"
#include "sentinel/transport.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define N_PART 4
#define N_PREFECTURES 8
#define N_COUNTIES (N_PREFECTURES * 3) /* the series: 3 counties each */
#define N_DAYS 80                      /* 40 days per batch */

/* Cases per county series (row (prefecture - 1) * 3 + county - 1) and day
 * (since kg_env_t.d0), so a lost case and a double count elsewhere cannot
 * cancel out. */
typedef struct kg_grid {
    uint64_t n[N_COUNTIES][N_DAYS]; /* cases */
    uint64_t stray;                 /* cases of any other series or day */
} kg_grid_t;

/* The test's cluster, folder and daemons. */
typedef struct kg_env {
    rd_kafka_t *owner;                /* holds the mock cluster */
    rd_kafka_mock_cluster_t *cluster; /* three mock brokers */
    const char *brokers;              /* their bootstrap list */
    rd_kafka_t *watch;                /* reads the group's offsets */
    char *dir;                        /* temporary folder */
    sn_spool_t *spool;                /* the site's outbox */
    sn_sender_t *tx;                  /* producing it */
    uint64_t events;                  /* events spooled */
    sn_day_t d0;                      /* the first batch's first day */
    kg_grid_t sent;                   /* the cases spooled */
} kg_env_t;

/** Kill (SIGKILL) and reap every daemon still recorded; the TCase's
 *  checked-fixture teardown. */
void kg_teardown(void);

/** Wait at most `seconds` for `pid` to end, then SIGKILL and reap it, and
 *  forget it. *status gets its wait status.
 *  @return whether it ended by itself. */
bool kg_reap(pid_t pid, int seconds, int *status);

/** @return the cases in g, in every series and day and stray. */
uint64_t kg_grid_total(const kg_grid_t *g);

/** Assert that `got` holds `want`'s cases in every series and day; `what`
 *  names the comparison in the failure message. */
void kg_grid_eq(const kg_grid_t *got, const kg_grid_t *want, const char *what);

/** Fill *e (zeroed by the caller): a temporary folder, the mock cluster
 *  with its topic, a consumer that reads the group's offsets, and the
 *  site's spool and Kafka sender. Free with kg_env_close(). */
void kg_env_open(kg_env_t *e);

/** Free what kg_env_open() made, the temporary folder included. */
void kg_env_close(kg_env_t *e);

/** Spool and produce cases [from, to) of a batch of `n` cases over the 40
 *  days from `d0`, and wait until the cluster has taken them all. */
void kg_produce(kg_env_t *e, uint64_t n, sn_day_t d0, uint64_t from,
                uint64_t to);

/** Write analyzer `name`'s configuration into e->dir (NAME.yaml, or
 *  NAME-offline.yaml without `kafka`). @return its path; caller frees. */
char *kg_config(const kg_env_t *e, const char *name, bool kafka,
                int metrics_port);

/** Start `sentinel analyze -c config`, its log in e->dir/NAME.log, with
 *  SENTINEL_TEST_EXIT_BEFORE_COMMIT set to `exit_flag` when not NULL, and
 *  record it. Returns once the child has exec'd. @return its pid. */
pid_t kg_start_hook(const kg_env_t *e, const char *name, const char *config,
                    const char *exit_flag);

/** kg_start_hook() without the test hook. @return the daemon's pid. */
pid_t kg_start(const kg_env_t *e, const char *name, const char *config);

/** Send `sig` to `pid` and reap it within 60 s (else kill it and fail the
 *  test). @return its wait status. */
int kg_stop(pid_t pid, int sig);

/** Read the partitions of the last assignment `name` logged into parts.
 *  @return how many (0 when it has none, or revoked them since). */
int kg_partitions(const kg_env_t *e, const char *name, int parts[N_PART]);

/** @return the offsets the group has committed on the `n` partitions
 *  `parts`, summed, or -1 when the group does not answer. */
int64_t kg_committed(const kg_env_t *e, const int *parts, int n);

/** @return whether the group has committed every message of the topic. */
bool kg_all_committed(const kg_env_t *e);

/** Poll kg_all_committed() for at most `seconds`.
 *  @return whether it became true. */
bool kg_wait_all_committed(const kg_env_t *e, int seconds);

/** @return counter `name` of the /metrics page at 127.0.0.1:`port`, or -1
 *  when the page or the counter is missing. */
int64_t kg_metric(int port, const char *name);

/** Add the cases in `name`'s state file to g (which may be NULL), only
 *  those of its closed days with `closed`. Reads NAME-offline.yaml.
 *  @return the state's last closed day. */
sn_day_t kg_state_grid(const kg_env_t *e, const char *name, bool closed,
                       kg_grid_t *g);

/** Add the observed counts in `name`'s archive on days after `after` to g.
 */
void kg_archive_grid(const kg_env_t *e, const char *name, sn_day_t after,
                     kg_grid_t *g);

/** Wait (30 s at most) until `name`'s log holds `what`; else fail. */
void kg_wait_log(const kg_env_t *e, const char *name, const char *what);

/** Wait (60 s at most) until daemons "a" and "b" both hold partitions and
 *  together all of them; else fail. */
void kg_wait_split(const kg_env_t *e);

/** Wait (60 s at most) until daemon "b" holds every partition; else fail. */
void kg_wait_takeover(const kg_env_t *e);

/** Wait (60 s at most) until daemon `name` holds every partition; else
 *  fail. */
void kg_wait_assigned_all(const kg_env_t *e, const char *name);

/** Assert that the states of "a" and "b" both hold cases and together
 *  exactly e->sent, per series and day; `what` names the case. */
void kg_states_hold_sent(const kg_env_t *e, const char *what);

#endif
