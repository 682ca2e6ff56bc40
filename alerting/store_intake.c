/*  alerting/store_intake.c - transport positions and refused records
 *
 *  The alerting daemon stores each analyzer's transport position in the
 *  same transaction as the alert it delivered (exactly once across
 *  crashes), and keeps every refused record with the reason, so a bad
 *  record neither blocks the stream nor disappears without trace.
 */
#include "store_intake.h"

#include "store.h"
#include "store_int.h"

int
alr_store_set_position(alr_store_t *self, const char *sender, uint64_t seq,
                       sn_err_t *err)
{
    sqlite3_stmt *st = alr_store__prepare(self,
                                          "INSERT INTO positions VALUES (?, ?)"
                                          " ON CONFLICT(sender) DO UPDATE"
                                          " SET seq = excluded.seq",
                                          err);
    if (st == NULL) {
        return SN_EDB;
    }
    sqlite3_bind_text(st, 1, sender, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    return alr_store__run(self, st, err);
}

int
alr_store_positions(alr_store_t *self, alr_position_fn fn, void *arg,
                    sn_err_t *err)
{
    sqlite3_stmt *st =
        alr_store__prepare(self, "SELECT sender, seq FROM positions", err);
    if (st == NULL) {
        return SN_EDB;
    }
    int rc = SN_OK;
    while (rc == SN_OK && sqlite3_step(st) == SQLITE_ROW) {
        rc = fn((const char *)sqlite3_column_text(st, 0),
                (uint64_t)sqlite3_column_int64(st, 1), arg);
    }
    sqlite3_finalize(st);
    return rc;
}

int
alr_store_add_reject(alr_store_t *self, sn_time_t at, const char *sender,
                     uint64_t seq, const char *reason, sn_err_t *err)
{
    sqlite3_stmt *st =
        alr_store__prepare(self,
                           "INSERT INTO rejected (at_ms, sender, seq,"
                           " reason) VALUES (?, ?, ?, ?)",
                           err);
    if (st == NULL) {
        return SN_EDB;
    }
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_text(st, 2, sender, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)seq);
    sqlite3_bind_text(st, 4, reason, -1, SQLITE_TRANSIENT);
    return alr_store__run(self, st, err);
}

int
alr_store_newest_day(alr_store_t *self, sn_day_t *out, sn_err_t *err)
{
    sqlite3_stmt *st =
        alr_store__prepare(self, "SELECT max(last_day) FROM alerts", err);
    if (st == NULL) {
        return SN_EDB;
    }
    int rc = sqlite3_step(st) == SQLITE_ROW &&
                     sqlite3_column_type(st, 0) != SQLITE_NULL
                 ? SN_OK
                 : SN_ENOTFOUND;
    if (rc == SN_OK) {
        *out = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return rc;
}
