/*  alerting/store.h - the alert database: alerts, history, evidence, outbox
 *
 *  All alerting state lives in one SQLite file in WAL mode: the alerts (one
 *  open alert per key "rule|condition|region"), alert_events (every change,
 *  with who and why), the evidence rows of each alert, the notifications
 *  (each message sent about an alert, rendered once as JSON and CAP XML) and
 *  the deliveries outbox (one row per notification and sink, with attempts,
 *  the next due time and the last error). The lifecycle writes a state
 *  change and its outbox rows between alr_store_begin() and
 *  alr_store_commit(), so either both are durable or neither is; the outbox
 *  loop then delivers from the table, which survives kill -9.
 *
 *  The schema carries a version (PRAGMA user_version); a file written by a
 *  newer schema is refused. SQLite stays inside store.c: no sqlite3 type
 *  appears here.
 *
 *  Threading: a store is one SQLite connection and belongs to one thread.
 *  Several stores (threads or processes) may open the same file: WAL lets
 *  readers run beside the writer, and writers wait up to five seconds.
 */
#ifndef SENTINEL_ALERTING_STORE_H
#define SENTINEL_ALERTING_STORE_H

#include <stdint.h>

#include "sentinel/alert.h"
#include "sentinel/date.h"
#include "sentinel/error.h"

#define ALR_STORE_SCHEMA 1 /* schema version this build writes */
#define ALR_NAME_MAX 64    /* ack_by, verify_by, sink names */
#define ALR_NOTE_MAX 1024  /* ack and verification notes */
#define ALR_IDENT_MAX 160  /* CAP identifier of one message */

typedef struct alr_store alr_store_t; /* opaque; defined in store.c */

typedef enum {
    ALR_STATE_OPEN = 0,
    ALR_STATE_CLOSED = 1,
} alr_state_t;

typedef enum {
    ALR_OUTCOME_NONE = 0, /* not verified yet */
    ALR_OUTCOME_DISCARDED = 1,
    ALR_OUTCOME_MONITORING = 2,
    ALR_OUTCOME_CONFIRMED = 3,
} alr_outcome_t;

/* The CAP msgType of a notification. */
typedef enum {
    ALR_MSG_ALERT = 0,  /* first message about an alert */
    ALR_MSG_UPDATE = 1, /* new evidence or escalation */
    ALR_MSG_CANCEL = 2, /* closed after the quiet period */
} alr_msg_type_t;

/* One alert as stored. `alert` holds the level (the highest reached), the
 * rule, condition, region, the latest evidence day, the first raised time,
 * the latest summary and every evidence row kept. */
typedef struct alr_record {
    int64_t id;                    /* row id; 0 before insertion */
    sn_alert_t *alert;             /* owned */
    alr_state_t state;             /* open or closed */
    sn_time_t opened;              /* when the first notification was made */
    sn_time_t updated;             /* last change */
    sn_time_t closed;              /* 0 while open */
    sn_day_t last_day;             /* newest evidence day (quiet clock) */
    int msg_count;                 /* notifications made so far */
    char ack_by[ALR_NAME_MAX + 1]; /* "" until acknowledged */
    char ack_note[ALR_NOTE_MAX + 1];
    sn_time_t ack_time;               /* 0 until acknowledged */
    alr_outcome_t outcome;            /* ALR_OUTCOME_NONE until verified */
    int grade;                        /* response grade 1..4 (I..IV), or 0 */
    char verify_by[ALR_NAME_MAX + 1]; /* "" until verified */
    char verify_note[ALR_NOTE_MAX + 1];
    sn_time_t verify_time; /* 0 until verified */
} alr_record_t;

/* One notification: one message about one alert. */
typedef struct alr_notice {
    int64_t id;                         /* row id */
    int64_t alert_id;                   /* the alert */
    int seq;                            /* 1, 2, … within the alert */
    alr_msg_type_t type;                /* Alert, Update or Cancel */
    sn_level_t level;                   /* level at that message */
    sn_time_t created;                  /* when the state changed */
    char identifier[ALR_IDENT_MAX + 1]; /* CAP identifier, idempotency key */
    char *reason;                       /* owned; what changed, for humans */
    char *json;                         /* owned; the JSON body */
    char *cap;                          /* owned; the CAP 1.2 XML */
} alr_notice_t;

/* One due delivery of a notification to a sink. */
typedef struct alr_delivery {
    int64_t id;                  /* row id */
    char sink[ALR_NAME_MAX + 1]; /* sink name from the config */
    int attempts;                /* failed attempts so far */
    alr_notice_t notice;         /* owned strings */
} alr_delivery_t;

/** Open (creating when absent) the store at `path` in WAL mode and create
 *  or check the schema. @return SN_OK, SN_EIO (cannot open) or SN_EDB
 *  (not a store, or a newer schema) with the path in err; *out only on
 *  success, caller owns it. */
int alr_store_open(const char *path, alr_store_t **out, sn_err_t *err);

/** Close the store and set *self_p to NULL. Safe on NULL. */
void alr_store_destroy(alr_store_t **self_p);

/** Start a write transaction (BEGIN IMMEDIATE). @return SN_OK or SN_EDB. */
int alr_store_begin(alr_store_t *self, sn_err_t *err);

/** Commit it. @return SN_OK or SN_EDB (the transaction is rolled back). */
int alr_store_commit(alr_store_t *self, sn_err_t *err);

/** Roll back the open transaction, if any. */
void alr_store_rollback(alr_store_t *self);

/** Free a record and set *rec_p to NULL. Safe on NULL. */
void alr_record_destroy(alr_record_t **rec_p);

/** Load the open alert of `key`. @return SN_OK, SN_ENOTFOUND or SN_EDB;
 *  *out only on success, caller owns it. */
int alr_store_find_open(alr_store_t *self, const char *key, alr_record_t **out,
                        sn_err_t *err);

/** Load alert `id`. @return SN_OK, SN_ENOTFOUND ("alert 7: not found") or
 *  SN_EDB; *out only on success, caller owns it. */
int alr_store_get(alr_store_t *self, int64_t id, alr_record_t **out,
                  sn_err_t *err);

/** Insert `rec` (id 0) with its evidence; sets rec->id. @return SN_OK or
 *  SN_EDB (SN_EEXIST when an alert of that key is already open). */
int alr_store_insert(alr_store_t *self, alr_record_t *rec, sn_err_t *err);

/** Write every field of `rec` and replace its evidence rows.
 *  @return SN_OK, SN_ENOTFOUND or SN_EDB. */
int alr_store_update(alr_store_t *self, const alr_record_t *rec, sn_err_t *err);

/** Record one change of alert `id` in alert_events: `kind` ("raised",
 *  "updated", "escalated", "closed", "acknowledged", "verified", …), who
 *  (may be NULL) and the detail text. @return SN_OK or SN_EDB. */
int alr_store_add_event(alr_store_t *self, int64_t id, sn_time_t at,
                        const char *kind, const char *by, const char *detail,
                        sn_err_t *err);

/** Insert notification `n` (sets n->id) and one pending delivery, due at
 *  once, for each of the `n_sinks` sink names. @return SN_OK or SN_EDB. */
int alr_store_add_notice(alr_store_t *self, alr_notice_t *n,
                         const char *const *sinks, size_t n_sinks,
                         sn_err_t *err);

/** Free the strings of a notice (not the notice itself). */
void alr_notice_fini(alr_notice_t *n);

/** Load the notifications of alert `id` (every alert when id is 0) in the
 *  order they were made. Caller frees with alr_notices_free().
 *  @return SN_OK or SN_EDB. */
int alr_store_notices(alr_store_t *self, int64_t id, alr_notice_t **out,
                      size_t *n, sn_err_t *err);

/** Free an array from alr_store_notices() and set *arr_p to NULL. */
void alr_notices_free(alr_notice_t **arr_p, size_t n);

/** Load the ids of the open alerts, oldest first. Caller frees *ids.
 *  @return SN_OK or SN_EDB. */
int alr_store_open_ids(alr_store_t *self, int64_t **ids, size_t *n,
                       sn_err_t *err);

/** Load at most `limit` pending deliveries due at `now`, oldest first.
 *  A message waits while an earlier message of the same alert to the same
 *  sink is still pending, so each sink gets an alert's messages in order
 *  (an Update never arrives before its Alert).
 *  Caller frees with alr_deliveries_free(). @return SN_OK or SN_EDB. */
int alr_store_due(alr_store_t *self, sn_time_t now, size_t limit,
                  alr_delivery_t **out, size_t *n, sn_err_t *err);

/** Free an array from alr_store_due() and set *arr_p to NULL. */
void alr_deliveries_free(alr_delivery_t **arr_p, size_t n);

/** Mark delivery `id` done at `now`. @return SN_OK or SN_EDB. */
int alr_store_delivered(alr_store_t *self, int64_t id, sn_time_t now,
                        sn_err_t *err);

/** Record a failed attempt of delivery `id`: the attempt count, when to try
 *  again and why it failed. @return SN_OK or SN_EDB. */
int alr_store_retry(alr_store_t *self, int64_t id, int attempts, sn_time_t next,
                    const char *error, sn_err_t *err);

/** @return the number of pending deliveries (0 on a database error). */
int64_t alr_store_pending(alr_store_t *self);

/** Load every alert opened at or after `since` (not their evidence), oldest
 *  first. Caller frees each with alr_record_destroy() and free(*out).
 *  @return SN_OK or SN_EDB. */
int alr_store_records(alr_store_t *self, sn_time_t since, alr_record_t ***out,
                      size_t *n, sn_err_t *err);

/** @return the name of an outcome ("confirmed"), "" for none. Static. */
const char *alr_outcome_name(alr_outcome_t outcome);

/** @return the CAP name of a message type ("Update"). Static. */
const char *alr_msg_type_name(alr_msg_type_t type);

#endif
