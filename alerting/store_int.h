/*  alerting/store_int.h - what store.c shares with store_*.c
 *
 *  The store's connection and its helpers, for the files that implement
 *  store.h. Nothing outside store*.c includes this header, so SQLite's
 *  types stay inside the store.
 *
 *  Threading: as store.h.
 */
#ifndef SENTINEL_ALERTING_STORE_INT_H
#define SENTINEL_ALERTING_STORE_INT_H

#include <sqlite3.h>

#include "sentinel/error.h"
#include "store.h"

struct alr_store {
    sqlite3 *db; /* the connection */
    char *path;  /* for messages */
};

/* The columns of an alert row, in the order
 * alr_store__record_from_row() reads them. */
#define STORE_ALERT_COLS                                                       \
    "id, rule, condition, region, level, state, day, raised_ms, summary,"      \
    " opened_ms, updated_ms, closed_ms, last_day, msg_count, ack_by,"          \
    " ack_note, ack_ms, outcome, grade, verify_by, verify_note, verify_ms"

/** Prepare `sql`. @return the statement, or NULL with SN_EDB in err. */
sqlite3_stmt *alr_store__prepare(alr_store_t *self, const char *sql,
                                 sn_err_t *err);

/** Step a statement that returns no rows and finalize it. @return SN_OK,
 *  SN_EEXIST (a constraint) or SN_EDB. */
int alr_store__run(alr_store_t *self, sqlite3_stmt *st, sn_err_t *err);

/** @return a record (without evidence) from a row of STORE_ALERT_COLS.
 *  Caller owns it (alr_record_destroy()). */
alr_record_t *alr_store__record_from_row(sqlite3_stmt *st);

#endif
