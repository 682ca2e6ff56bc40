/*  alerting/lifecycle.c - open, update, escalate, close, acknowledge, verify
 *
 *  The rules are in lifecycle.h. Each entry point runs one SQLite
 *  transaction: load the alert, change the record, write the history row,
 *  render the notification (JSON and CAP) and queue one delivery per sink,
 *  then commit. A crash before the commit leaves nothing; after it, the
 *  outbox delivers, however often the process is killed in between.
 */
#include "lifecycle.h"

#include "sentinel/mem.h"
#include "store_intake.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct alr_lifecycle {
    alr_store_t *store;        /* borrowed */
    alr_lifecycle_opts_t opts; /* copy; strings borrowed */
};

static const char *const s_grades[] = {"", "I", "II", "III", "IV"};

alr_lifecycle_t *
alr_lifecycle_new(alr_store_t *store, const alr_lifecycle_opts_t *opts)
{
    alr_lifecycle_t *self = sn_calloc(1, sizeof *self);
    self->store = store;
    self->opts = *opts;
    if (self->opts.quiet_days < 1) {
        self->opts.quiet_days = ALR_QUIET_DAYS_DEFAULT;
    }
    return self;
}

void
alr_lifecycle_destroy(alr_lifecycle_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    free(*self_p);
    *self_p = NULL;
}

/* --------------------------------------------------------------- helpers */

/* Append the printf-style text to *s, separated by "; ". */
static void s_append(char **s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
s_append(char **s, const char *fmt, ...)
{
    char part[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(part, sizeof part, fmt, ap);
    va_end(ap);
    char *joined = *s ? sn_strdup_printf("%s; %s", *s, part) : sn_strdup(part);
    free(*s);
    *s = joined;
}

/* The JSON body every JSON sink sends: the message header and the alert. */
static char *
s_notice_json(const alr_notice_t *n, const alr_record_t *rec,
              const alr_notice_t *earlier, size_t n_earlier)
{
    char sent[SN_TIME_STR_MAX];
    json_t *refs = json_array();
    for (size_t i = 0; i < n_earlier; i++) {
        json_array_append_new(refs, json_string(earlier[i].identifier));
    }
    char *alert = sn_alert_to_json(rec->alert);
    json_t *aj = json_loads(alert, 0, NULL);
    free(alert);
    json_t *o = json_pack(
        "{s:I, s:{s:s, s:i, s:s, s:s, s:s, s:o}, s:s, s:o}", "id",
        (json_int_t)rec->id, "message", "identifier", n->identifier, "seq",
        n->seq, "type", alr_msg_type_name(n->type), "reason", n->reason, "sent",
        sn_time_format(n->created, sent), "references", refs, "state",
        rec->state == ALR_STATE_OPEN ? "open" : "closed", "alert", aj);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (text == NULL) {
        abort(); /* out of memory, mem.h's policy */
    }
    return text;
}

/* Make notification number rec->msg_count + 1 and queue it for every sink.
 * The caller writes the record afterwards (msg_count changed). */
static int
s_notify(alr_lifecycle_t *self, alr_record_t *rec, alr_msg_type_t type,
         const char *reason, sn_time_t now, sn_err_t *err)
{
    alr_notice_t *earlier = NULL;
    size_t n_earlier = 0;
    int rc = alr_store_notices(self->store, rec->id, &earlier, &n_earlier, err);
    if (rc != SN_OK) {
        return rc;
    }
    alr_notice_t n = {0};
    n.alert_id = rec->id;
    n.seq = ++rec->msg_count;
    n.type = type;
    n.level = rec->alert->level;
    n.created = now;
    alr_cap_identifier(self->opts.cap.sender, rec->id, n.seq, n.identifier);
    n.reason = sn_strdup(reason);
    n.json = s_notice_json(&n, rec, earlier, n_earlier);
    n.cap = alr_cap_render(&self->opts.cap, &n, rec, earlier, n_earlier);
    rc = alr_store_add_notice(self->store, &n, self->opts.sinks,
                              self->opts.n_sinks, err);
    alr_notice_fini(&n);
    alr_notices_free(&earlier, n_earlier);
    return rc;
}

static sn_day_t
s_newest_day(const sn_alert_t *a)
{
    sn_day_t d = a->day;
    for (size_t i = 0; i < a->n_evidence; i++) {
        d = a->evidence[i].day > d ? a->evidence[i].day : d;
    }
    return d;
}

/* ---------------------------------------------------------------- close */

static int
s_close(alr_lifecycle_t *self, alr_record_t *rec, sn_time_t now, sn_err_t *err)
{
    char day[SN_DAY_STR_MAX];
    char *reason = sn_strdup_printf(
        "closed: no new evidence since %s (quiet period of %d days)",
        sn_day_format(rec->last_day, day), self->opts.quiet_days);
    rec->state = ALR_STATE_CLOSED;
    rec->closed = now;
    rec->updated = now;
    int rc = s_notify(self, rec, ALR_MSG_CANCEL, reason, now, err);
    rc = rc ? rc : alr_store_update(self->store, rec, err);
    rc = rc ? rc
            : alr_store_add_event(self->store, rec->id, now, "closed", NULL,
                                  reason, err);
    free(reason);
    return rc;
}

static int
s_is_quiet(const alr_lifecycle_t *self, const alr_record_t *rec, sn_day_t today)
{
    return today - rec->last_day >= self->opts.quiet_days;
}

/* ----------------------------------------------------------------- open */

static int
s_open(alr_lifecycle_t *self, const sn_alert_t *alert, sn_time_t now,
       int64_t *alert_id, sn_err_t *err)
{
    alr_record_t *rec = sn_calloc(1, sizeof *rec);
    rec->alert = sn_alert_dup(alert);
    rec->state = ALR_STATE_OPEN;
    rec->opened = rec->updated = now;
    rec->last_day = s_newest_day(alert);
    char day[SN_DAY_STR_MAX];
    char *reason = sn_strdup_printf(
        "new %s warning: rule %s, %s in %s on %s, %zu evidence rows",
        sn_level_name(alert->level), alert->rule, alert->condition,
        alert->region, sn_day_format(alert->day, day), alert->n_evidence);
    int rc = alr_store_insert(self->store, rec, err);
    rc = rc ? rc : s_notify(self, rec, ALR_MSG_ALERT, reason, now, err);
    rc = rc ? rc : alr_store_update(self->store, rec, err);
    rc = rc ? rc
            : alr_store_add_event(self->store, rec->id, now, "raised", NULL,
                                  reason, err);
    if (rc == SN_OK && alert_id != NULL) {
        *alert_id = rec->id;
    }
    free(reason);
    alr_record_destroy(&rec);
    return rc;
}

/* ---------------------------------------------------------------- merge */

static int
s_same_num(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* Merge one evidence row into the record. `matters` collects changes worth
 * a notification, `quiet` notes refreshed figures that are not. */
static void
s_merge_row(sn_alert_t *have, const sn_evidence_t *ev, char **matters,
            int *quiet)
{
    char day[SN_DAY_STR_MAX];
    for (size_t i = 0; i < have->n_evidence; i++) {
        sn_evidence_t *old = &have->evidence[i];
        if (strcmp(old->series_key, ev->series_key) != 0 ||
            strcmp(old->detector, ev->detector) != 0 || old->day != ev->day) {
            continue;
        }
        if (!s_same_num(old->observed, ev->observed)) {
            s_append(matters, "observed for %s on %s: %g -> %g", ev->series_key,
                     sn_day_format(ev->day, day), old->observed, ev->observed);
        } else if (!s_same_num(old->expected, ev->expected) ||
                   !s_same_num(old->upperbound, ev->upperbound) ||
                   !s_same_num(old->score, ev->score)) {
            *quiet = 1;
        }
        *old = *ev;
        return;
    }
    if (sn_alert_add_evidence(have, ev, NULL) == SN_OK) {
        s_append(matters, "new evidence: %s on %s (%s, observed %g)",
                 ev->series_key, sn_day_format(ev->day, day), ev->detector,
                 ev->observed);
    }
}

/* Apply `alert` to the open record: escalation, evidence, summary, day. */
static int
s_update(alr_lifecycle_t *self, alr_record_t *rec, const sn_alert_t *alert,
         sn_time_t now, sn_err_t *err)
{
    char *matters = NULL, *escalated = NULL;
    int quiet = 0;
    sn_alert_t *have = rec->alert;
    if (alert->level > have->level) {
        escalated = sn_strdup_printf("escalated from %s to %s",
                                     sn_level_name(have->level),
                                     sn_level_name(alert->level));
        have->level = alert->level;
    }
    for (size_t i = 0; i < alert->n_evidence; i++) {
        s_merge_row(have, &alert->evidence[i], &matters, &quiet);
    }
    quiet |=
        strcmp(have->summary, alert->summary) != 0 || alert->day > have->day;
    sn_alert_set_summary(have, alert->summary);
    have->day = alert->day > have->day ? alert->day : have->day;
    sn_day_t newest = s_newest_day(have);
    rec->last_day = newest > rec->last_day ? newest : rec->last_day;
    int rc = SN_OK;
    if (escalated != NULL || matters != NULL) {
        char *reason = escalated ? sn_strdup(escalated) : NULL;
        if (matters != NULL) {
            s_append(&reason, "%s", matters);
        }
        rec->updated = now;
        rc = s_notify(self, rec, ALR_MSG_UPDATE, reason, now, err);
        rc = rc ? rc : alr_store_update(self->store, rec, err);
        rc = rc ? rc
                : alr_store_add_event(self->store, rec->id, now,
                                      escalated ? "escalated" : "updated", NULL,
                                      reason, err);
        free(reason);
    } else if (quiet) {
        rec->updated = now;
        rc = alr_store_update(self->store, rec, err);
        rc = rc ? rc
                : alr_store_add_event(self->store, rec->id, now, "refreshed",
                                      NULL,
                                      "figures refreshed; nothing that "
                                      "needs a notification",
                                      err);
    }
    free(matters);
    free(escalated);
    return rc;
}

/* ------------------------------------------------------------------ API */

/* The body of one intake transaction. */
static int
s_intake(alr_lifecycle_t *self, const sn_alert_t *alert, sn_time_t now,
         int64_t *alert_id, sn_err_t *err)
{
    char key[SN_ALERT_KEY_MAX];
    alr_record_t *rec = NULL;
    int rc =
        alr_store_find_open(self->store, sn_alert_key(alert, key), &rec, err);
    if (rc == SN_OK && s_is_quiet(self, rec, s_newest_day(alert))) {
        rc = s_close(self, rec, now, err);
        alr_record_destroy(&rec);
        rc = rc ? rc : SN_ENOTFOUND;
    }
    if (rc == SN_ENOTFOUND) {
        return s_open(self, alert, now, alert_id, err);
    }
    if (rc == SN_OK) {
        rc = s_update(self, rec, alert, now, err);
        if (alert_id != NULL) {
            *alert_id = rec->id;
        }
    }
    alr_record_destroy(&rec);
    return rc;
}

int
alr_lifecycle_intake(alr_lifecycle_t *self, const sn_alert_t *alert,
                     sn_time_t now, int64_t *alert_id, sn_err_t *err)
{
    int rc = sn_alert_validate(alert, err);
    rc = rc ? rc : alr_store_begin(self->store, err);
    if (rc != SN_OK) {
        return rc;
    }
    int64_t id = 0;
    rc = s_intake(self, alert, now, &id, err);
    rc = rc ? rc : alr_store_commit(self->store, err);
    if (rc != SN_OK) {
        alr_store_rollback(self->store);
        return rc;
    }
    if (alert_id != NULL) {
        *alert_id = id;
    }
    return SN_OK;
}

int
alr_lifecycle_intake_record(alr_lifecycle_t *self, const uint8_t *data,
                            size_t len, const char *sender, uint64_t seq,
                            sn_time_t now, int64_t *alert_id, sn_err_t *err)
{
    sn_alert_t *alert = NULL;
    sn_err_t why = {0};
    int bad = sn_alert_decode(data, len, &alert, &why);
    bad = bad ? bad : sn_alert_validate(alert, &why);
    int rc = alr_store_begin(self->store, err);
    if (rc != SN_OK) {
        sn_alert_destroy(&alert);
        return rc;
    }
    int64_t id = 0;
    if (bad == SN_OK) {
        rc = s_intake(self, alert, now, &id, err);
    } else {
        rc = alr_store_add_reject(self->store, now, sender, seq,
                                  sn_err_text(&why), err);
    }
    rc = rc ? rc : alr_store_set_position(self->store, sender, seq, err);
    rc = rc ? rc : alr_store_commit(self->store, err);
    sn_alert_destroy(&alert);
    if (rc != SN_OK) {
        alr_store_rollback(self->store);
        return rc;
    }
    if (bad != SN_OK) {
        return sn_err_set(err, bad, "record %s#%llu: %s", sender,
                          (unsigned long long)seq, sn_err_text(&why));
    }
    if (alert_id != NULL) {
        *alert_id = id;
    }
    return SN_OK;
}

/* Close alert `id` when it is quiet, in its own transaction. @return 1 when
 * closed, 0 when not, or a negative code. */
static int
s_tick_one(alr_lifecycle_t *self, int64_t id, sn_day_t today, sn_time_t now,
           sn_err_t *err)
{
    alr_record_t *rec = NULL;
    int rc = alr_store_begin(self->store, err);
    rc = rc ? rc : alr_store_get(self->store, id, &rec, err);
    int closed = 0;
    if (rc == SN_OK && rec->state == ALR_STATE_OPEN &&
        s_is_quiet(self, rec, today)) {
        rc = s_close(self, rec, now, err);
        closed = 1;
    }
    rc = rc ? rc : alr_store_commit(self->store, err);
    alr_record_destroy(&rec);
    if (rc != SN_OK) {
        alr_store_rollback(self->store);
        return rc;
    }
    return closed;
}

int
alr_lifecycle_tick(alr_lifecycle_t *self, sn_day_t today, sn_time_t now,
                   sn_err_t *err)
{
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = alr_store_open_ids(self->store, &ids, &n, err);
    int closed = 0;
    for (size_t i = 0; rc == SN_OK && i < n; i++) {
        int one = s_tick_one(self, ids[i], today, now, err);
        rc = one < 0 ? one : SN_OK;
        closed += one > 0;
    }
    free(ids);
    return rc != SN_OK ? rc : closed;
}

/* Load alert `id` in a new transaction, for ack and verify. */
static int
s_begin_get(alr_lifecycle_t *self, int64_t id, alr_record_t **rec,
            sn_err_t *err)
{
    int rc = alr_store_begin(self->store, err);
    rc = rc ? rc : alr_store_get(self->store, id, rec, err);
    if (rc != SN_OK) {
        alr_store_rollback(self->store);
    }
    return rc;
}

/* Write the record and its history row and commit. */
static int
s_finish(alr_lifecycle_t *self, alr_record_t **rec, const char *kind,
         const char *by, const char *detail, sn_time_t now, sn_err_t *err)
{
    int rc = alr_store_update(self->store, *rec, err);
    rc = rc ? rc
            : alr_store_add_event(self->store, (*rec)->id, now, kind, by,
                                  detail, err);
    rc = rc ? rc : alr_store_commit(self->store, err);
    if (rc != SN_OK) {
        alr_store_rollback(self->store);
    }
    alr_record_destroy(rec);
    return rc;
}

/* @return whether `s` (may be NULL) is UTF-8: names and notes end up in
 * JSON, which jansson only writes for valid UTF-8. */
static int
s_utf8(const char *s)
{
    json_t *j = json_string(s ? s : "");
    json_decref(j);
    return j != NULL;
}

static int
s_check_name(const char *by, const char *note, sn_err_t *err)
{
    if (!s_utf8(by) || !s_utf8(note)) {
        return sn_err_set(err, SN_EINVAL, "fields 'by' and 'note': not UTF-8");
    }
    if (by == NULL || by[0] == '\0' || strlen(by) > ALR_NAME_MAX) {
        return sn_err_set(err, SN_EINVAL,
                          "field 'by': give a name of 1 to %d bytes",
                          ALR_NAME_MAX);
    }
    if (note != NULL && strlen(note) > ALR_NOTE_MAX) {
        return sn_err_set(err, SN_EINVAL, "field 'note': more than %d bytes",
                          ALR_NOTE_MAX);
    }
    return SN_OK;
}

int
alr_lifecycle_ack(alr_lifecycle_t *self, int64_t id, const char *by,
                  const char *note, sn_time_t now, sn_err_t *err)
{
    alr_record_t *rec = NULL;
    int rc = s_check_name(by, note, err);
    rc = rc ? rc : s_begin_get(self, id, &rec, err);
    if (rc != SN_OK) {
        return rc;
    }
    if (rec->ack_time != 0) {
        rc =
            sn_err_set(err, SN_ESTATE, "alert %lld: already acknowledged by %s",
                       (long long)id, rec->ack_by);
        alr_store_rollback(self->store);
        alr_record_destroy(&rec);
        return rc;
    }
    snprintf(rec->ack_by, sizeof rec->ack_by, "%s", by);
    snprintf(rec->ack_note, sizeof rec->ack_note, "%s", note ? note : "");
    rec->ack_time = now;
    return s_finish(self, &rec, "acknowledged", by, note, now, err);
}

int
alr_lifecycle_verify(alr_lifecycle_t *self, int64_t id, alr_outcome_t outcome,
                     int grade, const char *by, const char *note, sn_time_t now,
                     sn_err_t *err)
{
    if (outcome < ALR_OUTCOME_DISCARDED || outcome > ALR_OUTCOME_CONFIRMED) {
        return sn_err_set(err, SN_EINVAL, "field 'outcome': not given");
    }
    if (grade < 0 || grade > 4 ||
        (grade != 0 && outcome != ALR_OUTCOME_CONFIRMED)) {
        return sn_err_set(err, SN_EINVAL,
                          "field 'grade': I..IV, and only for a confirmed "
                          "event");
    }
    alr_record_t *rec = NULL;
    int rc = s_check_name(by, note, err);
    rc = rc ? rc : s_begin_get(self, id, &rec, err);
    if (rc != SN_OK) {
        return rc;
    }
    const char *kind = rec->outcome ? "reverified" : "verified";
    rec->outcome = outcome;
    rec->grade = grade;
    snprintf(rec->verify_by, sizeof rec->verify_by, "%s", by);
    snprintf(rec->verify_note, sizeof rec->verify_note, "%s", note ? note : "");
    rec->verify_time = rec->verify_time ? rec->verify_time : now;
    char detail[ALR_NOTE_MAX + 64];
    snprintf(detail, sizeof detail, "%s%s%s%s%s", alr_outcome_name(outcome),
             grade ? ", grade " : "", s_grades[grade], note ? ": " : "",
             note ? note : "");
    return s_finish(self, &rec, kind, by, detail, now, err);
}

int
alr_outcome_parse(const char *name, alr_outcome_t *out)
{
    for (int o = ALR_OUTCOME_DISCARDED; name && o <= ALR_OUTCOME_CONFIRMED;
         o++) {
        if (strcmp(name, alr_outcome_name((alr_outcome_t)o)) == 0) {
            *out = (alr_outcome_t)o;
            return SN_OK;
        }
    }
    return SN_EINVAL;
}

int
alr_grade_parse(const char *name, int *out)
{
    for (int g = 1; name != NULL && g <= 4; g++) {
        if (strcmp(name, s_grades[g]) == 0) {
            *out = g;
            return SN_OK;
        }
    }
    return SN_EINVAL;
}

const char *
alr_grade_name(int grade)
{
    return grade >= 1 && grade <= 4 ? s_grades[grade] : "";
}
