/*  alerting/store_json.c - the alert store rendered as JSON
 *
 *  The list and detail views that `sentinel alerts list|show --json` and
 *  the HTTP API return, read straight from the tables through the store's
 *  internal header (store_int.h), the way SQLite's own modules share
 *  btreeInt.h.
 */
#include "store_json.h"

#include "store.h"
#include "store_int.h"

#include "sentinel/mem.h"

#include <jansson.h>
#include <stdlib.h>

/* ------------------------------------------------------------------ JSON */

static json_t *
s_time_json(sn_time_t t)
{
    char buf[SN_TIME_STR_MAX];
    return t ? json_string(sn_time_format(t, buf)) : json_null();
}

static json_t *
s_record_json(const alr_record_t *r)
{
    char day[SN_DAY_STR_MAX], key[SN_ALERT_KEY_MAX];
    const sn_alert_t *a = r->alert;
    return json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:i,"
        " s:s?, s:o, s:s?, s:s?, s:o}",
        "id", (json_int_t)r->id, "alert_key", sn_alert_key(a, key), "state",
        r->state == ALR_STATE_OPEN ? "open" : "closed", "level",
        sn_level_name(a->level), "rule", a->rule, "condition", a->condition,
        "region", a->region, "day", sn_day_format(a->day, day), "summary",
        a->summary, "opened", s_time_json(r->opened), "updated",
        s_time_json(r->updated), "closed", s_time_json(r->closed), "messages",
        r->msg_count, "ack_by", r->ack_by[0] ? r->ack_by : NULL, "ack_time",
        s_time_json(r->ack_time), "outcome",
        r->outcome ? alr_outcome_name(r->outcome) : NULL, "verify_by",
        r->verify_by[0] ? r->verify_by : NULL, "verify_time",
        s_time_json(r->verify_time));
}

static char *
s_dump(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (s == NULL) {
        abort(); /* out of memory, mem.h's policy */
    }
    return s;
}

int
alr_store_list_json(alr_store_t *self, size_t limit, char **out, sn_err_t *err)
{
    sqlite3_stmt *st =
        alr_store__prepare(self,
                           "SELECT " STORE_ALERT_COLS " FROM alerts"
                           " ORDER BY id DESC LIMIT ?",
                           err);
    if (st == NULL) {
        return SN_EDB;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
    json_t *arr = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        alr_record_t *r = alr_store__record_from_row(st);
        json_array_append_new(arr, s_record_json(r));
        alr_record_destroy(&r);
    }
    sqlite3_finalize(st);
    *out = s_dump(arr);
    return SN_OK;
}

/* Run `sql` bound to `id` and collect each row as an object whose keys are
 * the column names. */
static json_t *
s_rows_json(alr_store_t *self, const char *sql, int64_t id)
{
    json_t *arr = json_array();
    sqlite3_stmt *st = alr_store__prepare(self, sql, NULL);
    if (st == NULL) {
        return arr;
    }
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *name = sqlite3_column_name(st, c);
            int t = sqlite3_column_type(st, c);
            json_object_set_new(
                o, name,
                t == SQLITE_NULL ? json_null()
                : t == SQLITE_INTEGER
                    ? json_integer(sqlite3_column_int64(st, c))
                : t == SQLITE_FLOAT
                    ? json_real(sqlite3_column_double(st, c))
                    : json_string((const char *)sqlite3_column_text(st, c)));
        }
        json_array_append_new(arr, o);
    }
    sqlite3_finalize(st);
    return arr;
}

int
alr_store_show_json(alr_store_t *self, int64_t id, char **out, sn_err_t *err)
{
    alr_record_t *r = NULL;
    int rc = alr_store_get(self, id, &r, err);
    if (rc != SN_OK) {
        return rc;
    }
    json_t *o = s_record_json(r);
    char *alert = sn_alert_to_json(r->alert);
    json_t *aj = json_loads(alert, 0, NULL);
    free(alert);
    json_object_set(o, "evidence", json_object_get(aj, "evidence"));
    json_decref(aj);
    json_object_set_new(o, "ack_note", json_string(r->ack_note));
    json_object_set_new(o, "grade", json_integer(r->grade));
    json_object_set_new(o, "verify_note", json_string(r->verify_note));
    json_object_set_new(
        o, "history",
        s_rows_json(self,
                    "SELECT at_ms, kind, by, detail FROM alert_events"
                    " WHERE alert_id = ? ORDER BY id",
                    id));
    json_object_set_new(
        o, "deliveries",
        s_rows_json(self,
                    "SELECT n.seq, n.identifier, n.reason, d.sink, d.state,"
                    " d.attempts, d.last_error, d.delivered_ms FROM"
                    " deliveries d JOIN notifications n"
                    " ON n.id = d.notification_id WHERE n.alert_id = ?"
                    " ORDER BY d.id",
                    id));
    alr_record_destroy(&r);
    *out = s_dump(o);
    return SN_OK;
}
