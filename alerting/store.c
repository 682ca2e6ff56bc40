/*  alerting/store.c - the alert database on SQLite (WAL)
 *
 *  Every alerting module reaches SQLite through here. The schema is created
 *  on first open and stamped with PRAGMA user_version; statements are
 *  prepared per call (alerts are rare: a handful a day, deliveries a few
 *  per alert), which keeps every function self-contained. SQLite result
 *  codes become SN_EDB with the store path and SQLite's message.
 */
#include "store.h"
#include "store_int.h"

#include "sentinel/mem.h"

#include <math.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_BUSY_MS 5000 /* writers wait this long for the lock */

static const char s_schema[] =
    "CREATE TABLE alerts ("
    " id INTEGER PRIMARY KEY, alert_key TEXT NOT NULL, rule TEXT NOT NULL,"
    " condition TEXT NOT NULL, region TEXT NOT NULL, level INTEGER NOT NULL,"
    " state INTEGER NOT NULL, day INTEGER NOT NULL, raised_ms INTEGER,"
    " summary TEXT, opened_ms INTEGER, updated_ms INTEGER, closed_ms INTEGER,"
    " last_day INTEGER, msg_count INTEGER, ack_by TEXT, ack_note TEXT,"
    " ack_ms INTEGER, outcome INTEGER, grade INTEGER, verify_by TEXT,"
    " verify_note TEXT, verify_ms INTEGER);"
    "CREATE UNIQUE INDEX alerts_one_open ON alerts(alert_key)"
    " WHERE state = 0;"
    "CREATE TABLE alert_events ("
    " id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL REFERENCES alerts,"
    " at_ms INTEGER NOT NULL, kind TEXT NOT NULL, by TEXT, detail TEXT);"
    "CREATE TABLE evidence ("
    " alert_id INTEGER NOT NULL REFERENCES alerts, row INTEGER NOT NULL,"
    " series_key TEXT, condition TEXT, region TEXT, source INTEGER,"
    " site_id TEXT, detector TEXT, day INTEGER, observed REAL,"
    " expected REAL, upperbound REAL, score REAL,"
    " PRIMARY KEY (alert_id, row));"
    "CREATE TABLE notifications ("
    " id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL REFERENCES alerts,"
    " seq INTEGER NOT NULL, type INTEGER NOT NULL, level INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL, identifier TEXT NOT NULL UNIQUE,"
    " reason TEXT, json TEXT, cap TEXT);"
    "CREATE TABLE deliveries ("
    " id INTEGER PRIMARY KEY,"
    " notification_id INTEGER NOT NULL REFERENCES notifications,"
    " sink TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,"
    " next_ms INTEGER NOT NULL, last_error TEXT, delivered_ms INTEGER,"
    " UNIQUE (notification_id, sink));"
    "CREATE INDEX deliveries_due ON deliveries(state, next_ms);"
    "CREATE TABLE positions ("
    " sender TEXT PRIMARY KEY, seq INTEGER NOT NULL);"
    "CREATE TABLE rejected ("
    " id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, sender TEXT,"
    " seq INTEGER, reason TEXT NOT NULL);";

/* --------------------------------------------------------------- helpers */

static int
s_db_error(alr_store_t *self, sn_err_t *err, const char *what)
{
    return sn_err_set(err, SN_EDB, "store %s: %s: %s", self->path, what,
                      sqlite3_errmsg(self->db));
}

static int
s_exec(alr_store_t *self, const char *sql, sn_err_t *err)
{
    if (sqlite3_exec(self->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        return s_db_error(self, err, "exec");
    }
    return SN_OK;
}

sqlite3_stmt *
alr_store__prepare(alr_store_t *self, const char *sql, sn_err_t *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK) {
        s_db_error(self, err, "prepare");
        return NULL;
    }
    return st;
}

int
alr_store__run(alr_store_t *self, sqlite3_stmt *st, sn_err_t *err)
{
    int rc = sqlite3_step(st);
    int out = SN_OK;
    if (rc != SQLITE_DONE) {
        out = rc == SQLITE_CONSTRAINT
                  ? sn_err_set(err, SN_EEXIST, "store %s: %s", self->path,
                               sqlite3_errmsg(self->db))
                  : s_db_error(self, err, "write");
    }
    sqlite3_finalize(st);
    return out;
}

static void
s_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* Bind a double; NAN is stored as NULL. */
static void
s_bind_num(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v)) {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_double(st, i, v);
    }
}

static double
s_col_num(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL) {
        return NAN;
    }
    return sqlite3_column_double(st, i);
}

static void
s_col_copy(sqlite3_stmt *st, int i, char *dst, size_t size)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    snprintf(dst, size, "%s", s ? s : "");
}

static char *
s_col_dup(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return sn_strdup(s ? s : "");
}

/* ------------------------------------------------------------- lifecycle */

static int
s_schema_check(alr_store_t *self, sn_err_t *err)
{
    sqlite3_stmt *st = alr_store__prepare(self, "PRAGMA user_version", err);
    if (st == NULL) {
        return SN_EDB;
    }
    int version =
        sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (version == ALR_STORE_SCHEMA) {
        return SN_OK;
    }
    if (version != 0) {
        return sn_err_set(err, SN_EDB,
                          "store %s: schema version %d, this build knows %d",
                          self->path, version, ALR_STORE_SCHEMA);
    }
    char sql[sizeof s_schema + 64];
    snprintf(sql, sizeof sql,
             "BEGIN IMMEDIATE;%sPRAGMA user_version=%d;COMMIT;", s_schema,
             ALR_STORE_SCHEMA);
    int rc = s_exec(self, sql, err);
    if (rc != SN_OK) {
        s_exec(self, "ROLLBACK", NULL);
    }
    return rc;
}

/* Create the database file 0600 before SQLite does (it would use 0644 less
 * the umask): alerts name places and conditions and are for the CDC only.
 * SQLite gives its -wal and -shm files the database file's mode. */
static void
s_create_private(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
    }
}

int
alr_store_open(const char *path, alr_store_t **out, sn_err_t *err)
{
    alr_store_t *self = sn_calloc(1, sizeof *self);
    self->path = sn_strdup(path);
    int rc = SN_OK;
    s_create_private(path);
    if (sqlite3_open_v2(path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = sn_err_set(err, SN_EIO, "store %s: cannot open: %s", path,
                        self->db ? sqlite3_errmsg(self->db) : "out of memory");
    }
    if (rc == SN_OK) {
        sqlite3_busy_timeout(self->db, STORE_BUSY_MS);
        rc = s_exec(self,
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                    " PRAGMA foreign_keys=ON;",
                    err);
    }
    rc = rc ? rc : s_schema_check(self, err);
    if (rc != SN_OK) {
        alr_store_destroy(&self);
        return rc;
    }
    *out = self;
    return SN_OK;
}

void
alr_store_destroy(alr_store_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    sqlite3_close((*self_p)->db);
    free((*self_p)->path);
    free(*self_p);
    *self_p = NULL;
}

int
alr_store_begin(alr_store_t *self, sn_err_t *err)
{
    return s_exec(self, "BEGIN IMMEDIATE", err);
}

int
alr_store_commit(alr_store_t *self, sn_err_t *err)
{
    int rc = s_exec(self, "COMMIT", err);
    if (rc != SN_OK) {
        alr_store_rollback(self);
    }
    return rc;
}

void
alr_store_rollback(alr_store_t *self)
{
    if (!sqlite3_get_autocommit(self->db)) {
        sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
    }
}

/* --------------------------------------------------------------- records */

void
alr_record_destroy(alr_record_t **rec_p)
{
    if (rec_p == NULL || *rec_p == NULL) {
        return;
    }
    sn_alert_destroy(&(*rec_p)->alert);
    free(*rec_p);
    *rec_p = NULL;
}

alr_record_t *
alr_store__record_from_row(sqlite3_stmt *st)
{
    alr_record_t *r = sn_calloc(1, sizeof *r);
    sn_alert_t *a = sn_calloc(1, sizeof *a);
    r->id = sqlite3_column_int64(st, 0);
    s_col_copy(st, 1, a->rule, sizeof a->rule);
    s_col_copy(st, 2, a->condition, sizeof a->condition);
    s_col_copy(st, 3, a->region, sizeof a->region);
    a->level = (sn_level_t)sqlite3_column_int(st, 4);
    r->state = (alr_state_t)sqlite3_column_int(st, 5);
    a->day = sqlite3_column_int(st, 6);
    a->raised = sqlite3_column_int64(st, 7);
    sn_alert_set_summary(a, (const char *)sqlite3_column_text(st, 8));
    r->opened = sqlite3_column_int64(st, 9);
    r->updated = sqlite3_column_int64(st, 10);
    r->closed = sqlite3_column_int64(st, 11);
    r->last_day = sqlite3_column_int(st, 12);
    r->msg_count = sqlite3_column_int(st, 13);
    s_col_copy(st, 14, r->ack_by, sizeof r->ack_by);
    s_col_copy(st, 15, r->ack_note, sizeof r->ack_note);
    r->ack_time = sqlite3_column_int64(st, 16);
    r->outcome = (alr_outcome_t)sqlite3_column_int(st, 17);
    r->grade = sqlite3_column_int(st, 18);
    s_col_copy(st, 19, r->verify_by, sizeof r->verify_by);
    s_col_copy(st, 20, r->verify_note, sizeof r->verify_note);
    r->verify_time = sqlite3_column_int64(st, 21);
    r->alert = a;
    return r;
}

static int
s_load_evidence(alr_store_t *self, alr_record_t *r, sn_err_t *err)
{
    sqlite3_stmt *st = alr_store__prepare(
        self,
        "SELECT series_key, condition, region, source, site_id, detector,"
        " day, observed, expected, upperbound, score FROM evidence"
        " WHERE alert_id = ? ORDER BY row",
        err);
    if (st == NULL) {
        return SN_EDB;
    }
    sqlite3_bind_int64(st, 1, r->id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        sn_evidence_t ev;
        sn_evidence_init(&ev);
        s_col_copy(st, 0, ev.series_key, sizeof ev.series_key);
        s_col_copy(st, 1, ev.condition, sizeof ev.condition);
        s_col_copy(st, 2, ev.region, sizeof ev.region);
        ev.source = (sn_source_t)sqlite3_column_int(st, 3);
        s_col_copy(st, 4, ev.site_id, sizeof ev.site_id);
        s_col_copy(st, 5, ev.detector, sizeof ev.detector);
        ev.day = sqlite3_column_int(st, 6);
        ev.observed = s_col_num(st, 7);
        ev.expected = s_col_num(st, 8);
        ev.upperbound = s_col_num(st, 9);
        ev.score = s_col_num(st, 10);
        sn_alert_add_evidence(r->alert, &ev, NULL);
    }
    sqlite3_finalize(st);
    return SN_OK;
}

/* Load the one record `st` selects (already bound), with its evidence. */
static int
s_load_one(alr_store_t *self, sqlite3_stmt *st, alr_record_t **out,
           sn_err_t *err, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE
                   ? sn_err_set(err, SN_ENOTFOUND, "%s: not found", what)
                   : s_db_error(self, err, "read");
    }
    alr_record_t *r = alr_store__record_from_row(st);
    sqlite3_finalize(st);
    rc = s_load_evidence(self, r, err);
    if (rc != SN_OK) {
        alr_record_destroy(&r);
        return rc;
    }
    *out = r;
    return SN_OK;
}

int
alr_store_find_open(alr_store_t *self, const char *key, alr_record_t **out,
                    sn_err_t *err)
{
    sqlite3_stmt *st =
        alr_store__prepare(self,
                           "SELECT " STORE_ALERT_COLS " FROM alerts"
                           " WHERE alert_key = ? AND state = 0",
                           err);
    if (st == NULL) {
        return SN_EDB;
    }
    s_bind_text(st, 1, key);
    char what[SN_ALERT_KEY_MAX + 32];
    snprintf(what, sizeof what, "open alert '%s'", key);
    return s_load_one(self, st, out, err, what);
}

int
alr_store_get(alr_store_t *self, int64_t id, alr_record_t **out, sn_err_t *err)
{
    sqlite3_stmt *st = alr_store__prepare(
        self, "SELECT " STORE_ALERT_COLS " FROM alerts WHERE id = ?", err);
    if (st == NULL) {
        return SN_EDB;
    }
    sqlite3_bind_int64(st, 1, id);
    char what[48];
    snprintf(what, sizeof what, "alert %lld", (long long)id);
    return s_load_one(self, st, out, err, what);
}

static int
s_write_evidence(alr_store_t *self, const alr_record_t *r, sn_err_t *err)
{
    sqlite3_stmt *st = alr_store__prepare(
        self, "DELETE FROM evidence WHERE alert_id = ?", err);
    if (st == NULL) {
        return SN_EDB;
    }
    sqlite3_bind_int64(st, 1, r->id);
    int rc = alr_store__run(self, st, err);
    for (size_t i = 0; rc == SN_OK && i < r->alert->n_evidence; i++) {
        const sn_evidence_t *ev = &r->alert->evidence[i];
        st = alr_store__prepare(self,
                                "INSERT INTO evidence VALUES"
                                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                err);
        if (st == NULL) {
            return SN_EDB;
        }
        sqlite3_bind_int64(st, 1, r->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        s_bind_text(st, 3, ev->series_key);
        s_bind_text(st, 4, ev->condition);
        s_bind_text(st, 5, ev->region);
        sqlite3_bind_int(st, 6, ev->source);
        s_bind_text(st, 7, ev->site_id);
        s_bind_text(st, 8, ev->detector);
        sqlite3_bind_int(st, 9, ev->day);
        s_bind_num(st, 10, ev->observed);
        s_bind_num(st, 11, ev->expected);
        s_bind_num(st, 12, ev->upperbound);
        s_bind_num(st, 13, ev->score);
        rc = alr_store__run(self, st, err);
    }
    return rc;
}

/* Bind the 21 columns after id, in STORE_ALERT_COLS order, from 1. */
static void
s_bind_record(sqlite3_stmt *st, const alr_record_t *r)
{
    const sn_alert_t *a = r->alert;
    s_bind_text(st, 1, a->rule);
    s_bind_text(st, 2, a->condition);
    s_bind_text(st, 3, a->region);
    sqlite3_bind_int(st, 4, a->level);
    sqlite3_bind_int(st, 5, r->state);
    sqlite3_bind_int(st, 6, a->day);
    sqlite3_bind_int64(st, 7, a->raised);
    s_bind_text(st, 8, a->summary);
    sqlite3_bind_int64(st, 9, r->opened);
    sqlite3_bind_int64(st, 10, r->updated);
    sqlite3_bind_int64(st, 11, r->closed);
    sqlite3_bind_int(st, 12, r->last_day);
    sqlite3_bind_int(st, 13, r->msg_count);
    s_bind_text(st, 14, r->ack_by);
    s_bind_text(st, 15, r->ack_note);
    sqlite3_bind_int64(st, 16, r->ack_time);
    sqlite3_bind_int(st, 17, r->outcome);
    sqlite3_bind_int(st, 18, r->grade);
    s_bind_text(st, 19, r->verify_by);
    s_bind_text(st, 20, r->verify_note);
    sqlite3_bind_int64(st, 21, r->verify_time);
}

int
alr_store_insert(alr_store_t *self, alr_record_t *rec, sn_err_t *err)
{
    sqlite3_stmt *st = alr_store__prepare(
        self,
        "INSERT INTO alerts (rule, condition, region, level, state, day,"
        " raised_ms, summary, opened_ms, updated_ms, closed_ms, last_day,"
        " msg_count, ack_by, ack_note, ack_ms, outcome, grade, verify_by,"
        " verify_note, verify_ms, alert_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
        " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        err);
    if (st == NULL) {
        return SN_EDB;
    }
    char key[SN_ALERT_KEY_MAX];
    s_bind_record(st, rec);
    s_bind_text(st, 22, sn_alert_key(rec->alert, key));
    int rc = alr_store__run(self, st, err);
    if (rc != SN_OK) {
        return rc;
    }
    rec->id = sqlite3_last_insert_rowid(self->db);
    return s_write_evidence(self, rec, err);
}

int
alr_store_update(alr_store_t *self, const alr_record_t *rec, sn_err_t *err)
{
    sqlite3_stmt *st = alr_store__prepare(
        self,
        "UPDATE alerts SET rule = ?, condition = ?, region = ?, level = ?,"
        " state = ?, day = ?, raised_ms = ?, summary = ?, opened_ms = ?,"
        " updated_ms = ?, closed_ms = ?, last_day = ?, msg_count = ?,"
        " ack_by = ?, ack_note = ?, ack_ms = ?, outcome = ?, grade = ?,"
        " verify_by = ?, verify_note = ?, verify_ms = ? WHERE id = ?",
        err);
    if (st == NULL) {
        return SN_EDB;
    }
    s_bind_record(st, rec);
    sqlite3_bind_int64(st, 22, rec->id);
    int rc = alr_store__run(self, st, err);
    if (rc == SN_OK && sqlite3_changes(self->db) != 1) {
        return sn_err_set(err, SN_ENOTFOUND, "alert %lld: not found",
                          (long long)rec->id);
    }
    return rc ? rc : s_write_evidence(self, rec, err);
}

int
alr_store_add_event(alr_store_t *self, int64_t id, sn_time_t at,
                    const char *kind, const char *by, const char *detail,
                    sn_err_t *err)
{
    sqlite3_stmt *st =
        alr_store__prepare(self,
                           "INSERT INTO alert_events (alert_id, at_ms,"
                           " kind, by, detail) VALUES (?, ?, ?, ?, ?)",
                           err);
    if (st == NULL) {
        return SN_EDB;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    s_bind_text(st, 3, kind);
    s_bind_text(st, 4, by);
    s_bind_text(st, 5, detail);
    return alr_store__run(self, st, err);
}

/* --------------------------------------------------------- notifications */

int
alr_store_add_notice(alr_store_t *self, alr_notice_t *n,
                     const char *const *sinks, size_t n_sinks, sn_err_t *err)
{
    sqlite3_stmt *st = alr_store__prepare(
        self,
        "INSERT INTO notifications (alert_id, seq, type, level, created_ms,"
        " identifier, reason, json, cap) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        err);
    if (st == NULL) {
        return SN_EDB;
    }
    sqlite3_bind_int64(st, 1, n->alert_id);
    sqlite3_bind_int(st, 2, n->seq);
    sqlite3_bind_int(st, 3, n->type);
    sqlite3_bind_int(st, 4, n->level);
    sqlite3_bind_int64(st, 5, n->created);
    s_bind_text(st, 6, n->identifier);
    s_bind_text(st, 7, n->reason);
    s_bind_text(st, 8, n->json);
    s_bind_text(st, 9, n->cap);
    int rc = alr_store__run(self, st, err);
    if (rc != SN_OK) {
        return rc;
    }
    n->id = sqlite3_last_insert_rowid(self->db);
    for (size_t i = 0; rc == SN_OK && i < n_sinks; i++) {
        st = alr_store__prepare(
            self,
            "INSERT INTO deliveries (notification_id, sink, state,"
            " attempts, next_ms) VALUES (?, ?, 'pending', 0, ?)",
            err);
        if (st == NULL) {
            return SN_EDB;
        }
        sqlite3_bind_int64(st, 1, n->id);
        s_bind_text(st, 2, sinks[i]);
        sqlite3_bind_int64(st, 3, n->created);
        rc = alr_store__run(self, st, err);
    }
    return rc;
}

void
alr_notice_fini(alr_notice_t *n)
{
    free(n->reason);
    free(n->json);
    free(n->cap);
    n->reason = n->json = n->cap = NULL;
}

#define STORE_NOTICE_COLS                                                      \
    "n.id, n.alert_id, n.seq, n.type, n.level, n.created_ms, n.identifier,"    \
    " n.reason, n.json, n.cap"

/* Fill `n` from STORE_NOTICE_COLS starting at column `c`. */
static void
s_notice_from_row(sqlite3_stmt *st, int c, alr_notice_t *n)
{
    n->id = sqlite3_column_int64(st, c);
    n->alert_id = sqlite3_column_int64(st, c + 1);
    n->seq = sqlite3_column_int(st, c + 2);
    n->type = (alr_msg_type_t)sqlite3_column_int(st, c + 3);
    n->level = (sn_level_t)sqlite3_column_int(st, c + 4);
    n->created = sqlite3_column_int64(st, c + 5);
    s_col_copy(st, c + 6, n->identifier, sizeof n->identifier);
    n->reason = s_col_dup(st, c + 7);
    n->json = s_col_dup(st, c + 8);
    n->cap = s_col_dup(st, c + 9);
}

int
alr_store_notices(alr_store_t *self, int64_t id, alr_notice_t **out, size_t *n,
                  sn_err_t *err)
{
    sqlite3_stmt *st = alr_store__prepare(self,
                                          "SELECT " STORE_NOTICE_COLS
                                          " FROM notifications n WHERE ? = 0"
                                          " OR n.alert_id = ? ORDER BY n.id",
                                          err);
    if (st == NULL) {
        return SN_EDB;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, id);
    alr_notice_t *arr = NULL;
    size_t count = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        arr = sn_reallocarray(arr, count + 1, sizeof *arr);
        s_notice_from_row(st, 0, &arr[count++]);
    }
    sqlite3_finalize(st);
    *out = arr;
    *n = count;
    return SN_OK;
}

void
alr_notices_free(alr_notice_t **arr_p, size_t n)
{
    if (arr_p == NULL || *arr_p == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        alr_notice_fini(&(*arr_p)[i]);
    }
    free(*arr_p);
    *arr_p = NULL;
}

int
alr_store_open_ids(alr_store_t *self, int64_t **ids, size_t *n, sn_err_t *err)
{
    sqlite3_stmt *st = alr_store__prepare(
        self, "SELECT id FROM alerts WHERE state = 0 ORDER BY id", err);
    if (st == NULL) {
        return SN_EDB;
    }
    int64_t *arr = NULL;
    size_t count = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        arr = sn_reallocarray(arr, count + 1, sizeof *arr);
        arr[count++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    *ids = arr;
    *n = count;
    return SN_OK;
}

/* ------------------------------------------------------------ deliveries */

int
alr_store_due(alr_store_t *self, sn_time_t now, size_t limit,
              alr_delivery_t **out, size_t *n, sn_err_t *err)
{
    sqlite3_stmt *st = alr_store__prepare(
        self,
        "SELECT d.id, d.sink, d.attempts, " STORE_NOTICE_COLS
        " FROM deliveries d JOIN notifications n ON n.id = d.notification_id"
        " WHERE d.state = 'pending' AND d.next_ms <= ?"
        " AND NOT EXISTS (SELECT 1 FROM deliveries d2 JOIN notifications n2"
        " ON n2.id = d2.notification_id WHERE d2.sink = d.sink"
        " AND d2.state = 'pending' AND n2.alert_id = n.alert_id"
        " AND n2.seq < n.seq)"
        " ORDER BY d.next_ms, d.id LIMIT ?",
        err);
    if (st == NULL) {
        return SN_EDB;
    }
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    alr_delivery_t *arr = NULL;
    size_t count = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        arr = sn_reallocarray(arr, count + 1, sizeof *arr);
        alr_delivery_t *d = &arr[count++];
        d->id = sqlite3_column_int64(st, 0);
        s_col_copy(st, 1, d->sink, sizeof d->sink);
        d->attempts = sqlite3_column_int(st, 2);
        s_notice_from_row(st, 3, &d->notice);
    }
    sqlite3_finalize(st);
    *out = arr;
    *n = count;
    return SN_OK;
}

void
alr_deliveries_free(alr_delivery_t **arr_p, size_t n)
{
    if (arr_p == NULL || *arr_p == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        alr_notice_fini(&(*arr_p)[i].notice);
    }
    free(*arr_p);
    *arr_p = NULL;
}

int
alr_store_delivered(alr_store_t *self, int64_t id, sn_time_t now, sn_err_t *err)
{
    sqlite3_stmt *st =
        alr_store__prepare(self,
                           "UPDATE deliveries SET state = 'done',"
                           " delivered_ms = ? WHERE id = ?",
                           err);
    if (st == NULL) {
        return SN_EDB;
    }
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, id);
    return alr_store__run(self, st, err);
}

int
alr_store_retry(alr_store_t *self, int64_t id, int attempts, sn_time_t next,
                const char *error, sn_err_t *err)
{
    sqlite3_stmt *st =
        alr_store__prepare(self,
                           "UPDATE deliveries SET attempts = ?,"
                           " next_ms = ?, last_error = ? WHERE id = ?",
                           err);
    if (st == NULL) {
        return SN_EDB;
    }
    sqlite3_bind_int(st, 1, attempts);
    sqlite3_bind_int64(st, 2, next);
    s_bind_text(st, 3, error);
    sqlite3_bind_int64(st, 4, id);
    return alr_store__run(self, st, err);
}

int64_t
alr_store_pending(alr_store_t *self)
{
    sqlite3_stmt *st = alr_store__prepare(
        self, "SELECT count(*) FROM deliveries WHERE state = 'pending'", NULL);
    if (st == NULL) {
        return 0;
    }
    int64_t n =
        sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return n;
}

int
alr_store_records(alr_store_t *self, sn_time_t since, alr_record_t ***out,
                  size_t *n, sn_err_t *err)
{
    sqlite3_stmt *st =
        alr_store__prepare(self,
                           "SELECT " STORE_ALERT_COLS " FROM alerts"
                           " WHERE opened_ms >= ? ORDER BY id",
                           err);
    if (st == NULL) {
        return SN_EDB;
    }
    sqlite3_bind_int64(st, 1, since);
    alr_record_t **arr = NULL;
    size_t count = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        arr = sn_reallocarray(arr, count + 1, sizeof *arr);
        arr[count++] = alr_store__record_from_row(st);
    }
    sqlite3_finalize(st);
    *out = arr;
    *n = count;
    return SN_OK;
}

const char *
alr_outcome_name(alr_outcome_t outcome)
{
    switch (outcome) {
    case ALR_OUTCOME_DISCARDED:
        return "discarded";
    case ALR_OUTCOME_MONITORING:
        return "monitoring";
    case ALR_OUTCOME_CONFIRMED:
        return "confirmed";
    default:
        return "";
    }
}

const char *
alr_msg_type_name(alr_msg_type_t type)
{
    switch (type) {
    case ALR_MSG_UPDATE:
        return "Update";
    case ALR_MSG_CANCEL:
        return "Cancel";
    default:
        return "Alert";
    }
}
