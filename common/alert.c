/*  common/alert.c - the graded alert: build, validate, protobuf and JSON
 *
 *  The analyzer builds one alert per rule that fires and sends it, encoded as
 *  sentinel.v1.Alert, to the alerting daemon, which decodes it, validates it
 *  and runs the lifecycle. Alerts are rare (a handful a day), so clarity wins
 *  over speed here: encoding builds the generated message on the heap and
 *  JSON goes through jansson.
 */
#include "sentinel/alert.h"

#include "sentinel/date.h"
#include "sentinel/mem.h"

#include "sentinel/v1/event.pb-c.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const s_level_names[] = {"none", "blue", "yellow", "orange",
                                            "red"};

/* ---------------------------------------------------------------- levels */

const char *
sn_level_name(sn_level_t level)
{
    if ((int)level < SN_LEVEL_NONE || level > SN_LEVEL_RED) {
        return "none";
    }
    return s_level_names[level];
}

int
sn_level_parse(const char *name, sn_level_t *out)
{
    for (int i = SN_LEVEL_BLUE; name != NULL && i <= SN_LEVEL_RED; i++) {
        if (strcasecmp(name, s_level_names[i]) == 0) {
            *out = (sn_level_t)i;
            return SN_OK;
        }
    }
    return SN_ENOTFOUND;
}

void
sn_evidence_init(sn_evidence_t *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->source = SN_SOURCE_UNKNOWN;
    ev->day = SN_DAY_NONE;
    ev->observed = 0;
    ev->expected = NAN;
    ev->upperbound = NAN;
    ev->score = NAN;
}

/* ------------------------------------------------------------- lifecycle */

/* Copy `src` into the fixed field `dst` of `size` bytes (NUL included).
 * Refuses an empty or a too-long string, naming the field. */
static int
s_copy_field(char *dst, size_t size, const char *src, const char *field,
             sn_err_t *err)
{
    if (src == NULL || src[0] == '\0') {
        return sn_err_set(err, SN_EINVAL, "field '%s': empty", field);
    }
    size_t len = strlen(src);
    if (len >= size) {
        return sn_err_set(err, SN_EINVAL,
                          "field '%s': %zu bytes, at most %zu allowed", field,
                          len, size - 1);
    }
    memcpy(dst, src, len + 1);
    return SN_OK;
}

sn_alert_t *
sn_alert_new(sn_level_t level, const char *rule, const char *condition,
             const char *region, sn_day_t day, sn_time_t raised,
             const char *summary, sn_err_t *err)
{
    if (level < SN_LEVEL_BLUE || level > SN_LEVEL_RED) {
        sn_err_set(err, SN_EINVAL, "field 'level': %d is not blue..red",
                   (int)level);
        return NULL;
    }
    sn_alert_t *self = sn_calloc(1, sizeof *self);
    if (s_copy_field(self->rule, sizeof self->rule, rule, "rule", err) ||
        s_copy_field(self->condition, sizeof self->condition, condition,
                     "condition", err) ||
        s_copy_field(self->region, sizeof self->region, region, "region",
                     err)) {
        free(self);
        return NULL;
    }
    self->level = level;
    self->day = day;
    self->raised = raised;
    sn_alert_set_summary(self, summary);
    return self;
}

void
sn_alert_destroy(sn_alert_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    free((*self_p)->evidence);
    free(*self_p);
    *self_p = NULL;
}

sn_alert_t *
sn_alert_dup(const sn_alert_t *self)
{
    sn_alert_t *copy = sn_malloc(sizeof *copy);
    *copy = *self;
    copy->evidence = NULL;
    copy->cap_evidence = self->n_evidence;
    if (self->n_evidence > 0) {
        copy->evidence =
            sn_reallocarray(NULL, self->n_evidence, sizeof *copy->evidence);
        memcpy(copy->evidence, self->evidence,
               self->n_evidence * sizeof *copy->evidence);
    }
    return copy;
}

void
sn_alert_set_summary(sn_alert_t *self, const char *summary)
{
    size_t len = summary == NULL ? 0 : strlen(summary);
    if (len > SN_SUMMARY_MAX) {
        len = SN_SUMMARY_MAX;
        /* Step back over UTF-8 continuation bytes (10xxxxxx). */
        while (len > 0 && ((unsigned char)summary[len] & 0xC0) == 0x80) {
            len--;
        }
    }
    if (len > 0) {
        memcpy(self->summary, summary, len);
    }
    self->summary[len] = '\0';
}

int
sn_alert_add_evidence(sn_alert_t *self, const sn_evidence_t *ev, sn_err_t *err)
{
    if (ev->series_key[0] == '\0') {
        return sn_err_set(err, SN_EINVAL,
                          "evidence: field 'series_key': empty");
    }
    if (ev->detector[0] == '\0') {
        return sn_err_set(err, SN_EINVAL, "evidence: field 'detector': empty");
    }
    if (self->n_evidence >= SN_ALERT_MAX_EVIDENCE) {
        return sn_err_set(err, SN_EFULL, "evidence: more than %d rows",
                          SN_ALERT_MAX_EVIDENCE);
    }
    if (self->n_evidence == self->cap_evidence) {
        self->cap_evidence = self->cap_evidence ? self->cap_evidence * 2 : 4;
        self->evidence = sn_reallocarray(self->evidence, self->cap_evidence,
                                         sizeof *self->evidence);
    }
    self->evidence[self->n_evidence++] = *ev;
    return SN_OK;
}

char *
sn_alert_key(const sn_alert_t *self, char *buf)
{
    snprintf(buf, SN_ALERT_KEY_MAX, "%s|%s|%s", self->rule, self->condition,
             self->region);
    return buf;
}

/* ------------------------------------------------------------ validation */

static int
s_validate_evidence(const sn_evidence_t *ev, size_t i, sn_err_t *err)
{
    const char *what = NULL;
    if (ev->series_key[0] == '\0') {
        what = "field 'series_key': empty";
    } else if (ev->detector[0] == '\0') {
        what = "field 'detector': empty";
    } else if (sn_source_name(ev->source) == NULL) {
        what = "field 'source': unknown source";
    } else if (ev->day == SN_DAY_NONE) {
        what = "field 'day': missing";
    } else if (isnan(ev->observed) || ev->observed < 0) {
        what = "field 'observed': not a count";
    }
    if (what != NULL) {
        return sn_err_set(err, SN_EVALIDATE, "evidence[%zu]: %s", i, what);
    }
    return SN_OK;
}

int
sn_alert_validate(const sn_alert_t *self, sn_err_t *err)
{
    if (self->level < SN_LEVEL_BLUE || self->level > SN_LEVEL_RED) {
        return sn_err_set(err, SN_EVALIDATE,
                          "field 'level': %d is not blue..red",
                          (int)self->level);
    }
    const char *empty = self->rule[0] == '\0'        ? "rule"
                        : self->condition[0] == '\0' ? "condition"
                        : self->region[0] == '\0'    ? "region"
                                                     : NULL;
    if (empty != NULL) {
        return sn_err_set(err, SN_EVALIDATE, "field '%s': empty", empty);
    }
    if (self->day == SN_DAY_NONE || self->day < 0) {
        return sn_err_set(err, SN_EVALIDATE, "field 'day': missing");
    }
    for (size_t i = 0; i < self->n_evidence; i++) {
        int rc = s_validate_evidence(&self->evidence[i], i, err);
        if (rc != SN_OK) {
            return rc;
        }
    }
    return SN_OK;
}

/* -------------------------------------------------------------- protobuf */

/* The generated message's strings point into the alert (protobuf-c takes
 * char *, but only reads them while packing). */
static void
s_pb_fill(const sn_alert_t *self, Sentinel__V1__Alert *msg,
          Sentinel__V1__Evidence *rows, Sentinel__V1__Evidence **ptrs,
          char *key)
{
    sentinel__v1__alert__init(msg);
    msg->alert_key = sn_alert_key(self, key);
    msg->rule = (char *)self->rule;
    msg->level = (Sentinel__V1__Level)self->level;
    msg->condition = (char *)self->condition;
    msg->region = (char *)self->region;
    msg->day = self->day;
    msg->raised_ms = self->raised;
    msg->summary = (char *)self->summary;
    msg->n_evidence = self->n_evidence;
    msg->evidence = ptrs;
    for (size_t i = 0; i < self->n_evidence; i++) {
        const sn_evidence_t *ev = &self->evidence[i];
        Sentinel__V1__Evidence *r = &rows[i];
        sentinel__v1__evidence__init(r);
        r->series_key = (char *)ev->series_key;
        r->condition = (char *)ev->condition;
        r->region = (char *)ev->region;
        r->source = (Sentinel__V1__Source)ev->source;
        r->site_id = (char *)ev->site_id;
        r->detector = (char *)ev->detector;
        r->day = ev->day;
        r->observed = ev->observed;
        r->expected = ev->expected;
        r->upperbound = ev->upperbound;
        r->score = ev->score;
        ptrs[i] = r;
    }
}

/* Pack into `buf` when not NULL; @return the packed size. */
static size_t
s_pb_pack(const sn_alert_t *self, uint8_t *buf)
{
    size_t n = self->n_evidence ? self->n_evidence : 1;
    Sentinel__V1__Evidence *rows = sn_calloc(n, sizeof *rows);
    Sentinel__V1__Evidence **ptrs = sn_calloc(n, sizeof *ptrs);
    char key[SN_ALERT_KEY_MAX];
    Sentinel__V1__Alert msg;
    s_pb_fill(self, &msg, rows, ptrs, key);
    size_t size = buf ? sentinel__v1__alert__pack(&msg, buf)
                      : sentinel__v1__alert__get_packed_size(&msg);
    free(rows);
    free(ptrs);
    return size;
}

size_t
sn_alert_encoded_size(const sn_alert_t *self)
{
    return s_pb_pack(self, NULL);
}

int
sn_alert_encode(const sn_alert_t *self, uint8_t *buf, size_t size)
{
    size_t need = sn_alert_encoded_size(self);
    if (need > size || need > INT32_MAX) {
        return SN_EOVERFLOW;
    }
    return (int)s_pb_pack(self, buf);
}

/* @return whether `s` is valid UTF-8, by jansson's own check: a string that
 * fails it could not be rendered as JSON later. */
static bool
s_utf8_ok(const char *s)
{
    json_t *j = json_string(s ? s : "");
    json_decref(j);
    return j != NULL;
}

/* Copy a decoded string into a fixed field; an empty string is allowed
 * here (validation decides), a too-long or non-UTF-8 one is refused. */
static int
s_decode_str(char *dst, size_t size, const char *src, const char *field,
             sn_err_t *err)
{
    size_t len = src ? strlen(src) : 0;
    if (len >= size) {
        return sn_err_set(err, SN_EPARSE,
                          "alert: field '%s': %zu bytes, at most %zu allowed",
                          field, len, size - 1);
    }
    if (!s_utf8_ok(src)) {
        return sn_err_set(err, SN_EPARSE, "alert: field '%s': not UTF-8",
                          field);
    }
    memcpy(dst, src ? src : "", len + 1);
    return SN_OK;
}

static int
s_decode_evidence(const Sentinel__V1__Evidence *r, sn_evidence_t *ev, size_t i,
                  sn_err_t *err)
{
    sn_evidence_init(ev);
    int rc = s_decode_str(ev->series_key, sizeof ev->series_key, r->series_key,
                          "series_key", err);
    rc = rc ? rc
            : s_decode_str(ev->condition, sizeof ev->condition, r->condition,
                           "condition", err);
    rc = rc ? rc
            : s_decode_str(ev->region, sizeof ev->region, r->region, "region",
                           err);
    rc = rc ? rc
            : s_decode_str(ev->site_id, sizeof ev->site_id, r->site_id,
                           "site_id", err);
    rc = rc ? rc
            : s_decode_str(ev->detector, sizeof ev->detector, r->detector,
                           "detector", err);
    if (rc == SN_OK && sn_source_name((sn_source_t)r->source) == NULL) {
        rc = sn_err_set(err, SN_EPARSE, "alert: field 'source': unknown %d",
                        (int)r->source);
    }
    if (rc != SN_OK) {
        return sn_err_prefix(err, "evidence[%zu]", i);
    }
    ev->source = (sn_source_t)r->source;
    ev->day = r->day;
    ev->observed = r->observed;
    ev->expected = r->expected;
    ev->upperbound = r->upperbound;
    ev->score = r->score;
    return SN_OK;
}

static int
s_decode_msg(const Sentinel__V1__Alert *m, sn_alert_t *a, sn_err_t *err)
{
    if ((int)m->level < SN_LEVEL_NONE || (int)m->level > SN_LEVEL_RED) {
        return sn_err_set(err, SN_EPARSE, "alert: field 'level': unknown %d",
                          (int)m->level);
    }
    if (m->n_evidence > SN_ALERT_MAX_EVIDENCE) {
        return sn_err_set(err, SN_EPARSE,
                          "alert: field 'evidence': %zu rows, at most %d",
                          m->n_evidence, SN_ALERT_MAX_EVIDENCE);
    }
    int rc = s_decode_str(a->rule, sizeof a->rule, m->rule, "rule", err);
    rc = rc ? rc
            : s_decode_str(a->condition, sizeof a->condition, m->condition,
                           "condition", err);
    rc = rc ? rc
            : s_decode_str(a->region, sizeof a->region, m->region, "region",
                           err);
    if (rc == SN_OK && !s_utf8_ok(m->summary)) {
        rc = sn_err_set(err, SN_EPARSE, "alert: field 'summary': not UTF-8");
    }
    if (rc != SN_OK) {
        return rc;
    }
    a->level = (sn_level_t)m->level;
    a->day = m->day;
    a->raised = m->raised_ms;
    sn_alert_set_summary(a, m->summary);
    a->cap_evidence = m->n_evidence;
    a->evidence =
        sn_calloc(m->n_evidence ? m->n_evidence : 1, sizeof *a->evidence);
    for (size_t i = 0; i < m->n_evidence; i++) {
        rc = s_decode_evidence(m->evidence[i], &a->evidence[i], i, err);
        if (rc != SN_OK) {
            return rc;
        }
        a->n_evidence++;
    }
    return SN_OK;
}

int
sn_alert_decode(const uint8_t *buf, size_t len, sn_alert_t **out, sn_err_t *err)
{
    Sentinel__V1__Alert *m = sentinel__v1__alert__unpack(NULL, len, buf);
    if (m == NULL) {
        return sn_err_set(err, SN_EPARSE,
                          "alert: %zu bytes are not a sentinel.v1.Alert", len);
    }
    sn_alert_t *a = sn_calloc(1, sizeof *a);
    int rc = s_decode_msg(m, a, err);
    sentinel__v1__alert__free_unpacked(m, NULL);
    if (rc != SN_OK) {
        sn_alert_destroy(&a);
        return rc;
    }
    *out = a;
    return SN_OK;
}

/* ------------------------------------------------------------------ JSON */

static json_t *
s_json_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
s_json_day(sn_day_t d)
{
    char buf[SN_DAY_STR_MAX];
    if (d == SN_DAY_NONE) {
        return json_null();
    }
    return json_string(sn_day_format(d, buf));
}

/* A JSON string of `s`. An alert built in memory may carry bytes that are
 * not UTF-8 (copied from an event that was never checked for it); jansson
 * refuses those, so they are written as '?' rather than failing. */
static json_t *
s_json_text(const char *s)
{
    json_t *j = json_string(s);
    if (j != NULL) {
        return j;
    }
    char *clean = sn_strdup(s);
    for (char *p = clean; *p != '\0'; p++) {
        if ((unsigned char)*p >= 0x80) {
            *p = '?';
        }
    }
    j = json_string(clean);
    free(clean);
    return j;
}

static json_t *
s_evidence_json(const sn_evidence_t *ev)
{
    const char *src = sn_source_name(ev->source);
    return json_pack(
        "{s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, "
        "s:o}",
        "series_key", s_json_text(ev->series_key), "condition",
        s_json_text(ev->condition), "region", s_json_text(ev->region), "source",
        src ? src : "unknown", "site_id", s_json_text(ev->site_id), "detector",
        s_json_text(ev->detector), "day", s_json_day(ev->day), "observed",
        s_json_num(ev->observed), "expected", s_json_num(ev->expected),
        "upperbound", s_json_num(ev->upperbound), "score",
        s_json_num(ev->score));
}

char *
sn_alert_to_json(const sn_alert_t *self)
{
    char key[SN_ALERT_KEY_MAX], raised[SN_TIME_STR_MAX];
    json_t *rows = json_array();
    for (size_t i = 0; i < self->n_evidence; i++) {
        json_array_append_new(rows, s_evidence_json(&self->evidence[i]));
    }
    json_t *obj =
        json_pack("{s:o, s:s, s:o, s:o, s:o, s:o, s:s, s:o, s:o}", "alert_key",
                  s_json_text(sn_alert_key(self, key)), "level",
                  sn_level_name(self->level), "rule", s_json_text(self->rule),
                  "condition", s_json_text(self->condition), "region",
                  s_json_text(self->region), "day", s_json_day(self->day),
                  "raised", sn_time_format(self->raised, raised), "summary",
                  s_json_text(self->summary), "evidence", rows);
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                     JSON_REAL_PRECISION(10));
    json_decref(obj);
    if (text == NULL) {
        abort(); /* only on out of memory: mem.h's policy */
    }
    return text;
}

/* Read string key `k` of `obj` into a fixed field. `need` refuses a missing
 * or empty value. */
static int
s_json_str(const json_t *obj, const char *k, char *dst, size_t size, int need,
           sn_err_t *err)
{
    const json_t *v = json_object_get(obj, k);
    if (v == NULL || json_is_null(v)) {
        dst[0] = '\0';
        return need ? sn_err_set(err, SN_EPARSE, "key '%s': missing", k)
                    : SN_OK;
    }
    if (!json_is_string(v)) {
        return sn_err_set(err, SN_EPARSE, "key '%s': not a string", k);
    }
    if (json_string_length(v) >= size) {
        return sn_err_set(err, SN_EINVAL,
                          "key '%s': %zu bytes, at most %zu allowed", k,
                          json_string_length(v), size - 1);
    }
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return SN_OK;
}

static int
s_json_double(const json_t *obj, const char *k, double *out, sn_err_t *err)
{
    const json_t *v = json_object_get(obj, k);
    if (v == NULL || json_is_null(v)) {
        *out = NAN;
        return SN_OK;
    }
    if (!json_is_number(v)) {
        return sn_err_set(err, SN_EPARSE, "key '%s': not a number", k);
    }
    *out = json_number_value(v);
    return SN_OK;
}

static int
s_json_dayval(const json_t *obj, const char *k, sn_day_t *out, sn_err_t *err)
{
    const json_t *v = json_object_get(obj, k);
    if (!json_is_string(v) || sn_day_parse(json_string_value(v), out)) {
        return sn_err_set(err, SN_EPARSE, "key '%s': not a YYYY-MM-DD date", k);
    }
    return SN_OK;
}

/* Refuse any key of `obj` that is not in the NULL-terminated `known`. */
static int
s_json_known(const json_t *obj, const char *const *known, sn_err_t *err)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        size_t i = 0;
        while (known[i] != NULL && strcmp(known[i], k) != 0) {
            i++;
        }
        if (known[i] == NULL) {
            return sn_err_set(err, SN_EPARSE, "key '%s': unknown", k);
        }
    }
    return SN_OK;
}

static const char *const s_evidence_keys[] = {
    "series_key", "condition", "region",   "source",     "site_id", "detector",
    "day",        "observed",  "expected", "upperbound", "score",   NULL};

static int
s_evidence_from_json(const json_t *o, sn_evidence_t *ev, sn_err_t *err)
{
    char src[32];
    sn_evidence_init(ev);
    if (!json_is_object(o)) {
        return sn_err_set(err, SN_EPARSE, "not an object");
    }
    int rc = s_json_known(o, s_evidence_keys, err);
    rc = rc ? rc
            : s_json_str(o, "series_key", ev->series_key, sizeof ev->series_key,
                         1, err);
    rc = rc ? rc
            : s_json_str(o, "condition", ev->condition, sizeof ev->condition, 0,
                         err);
    rc = rc ? rc
            : s_json_str(o, "region", ev->region, sizeof ev->region, 0, err);
    rc = rc ? rc : s_json_str(o, "source", src, sizeof src, 1, err);
    rc = rc ? rc
            : s_json_str(o, "site_id", ev->site_id, sizeof ev->site_id, 0, err);
    rc = rc ? rc
            : s_json_str(o, "detector", ev->detector, sizeof ev->detector, 1,
                         err);
    rc = rc ? rc : s_json_dayval(o, "day", &ev->day, err);
    rc = rc ? rc : s_json_double(o, "observed", &ev->observed, err);
    rc = rc ? rc : s_json_double(o, "expected", &ev->expected, err);
    rc = rc ? rc : s_json_double(o, "upperbound", &ev->upperbound, err);
    rc = rc ? rc : s_json_double(o, "score", &ev->score, err);
    if (rc == SN_OK && sn_source_parse(src, &ev->source) != SN_OK) {
        rc = sn_err_set(err, SN_EPARSE, "key 'source': unknown '%s'", src);
    }
    return rc;
}

static const char *const s_alert_keys[] = {
    "alert_key", "level",  "rule",    "condition", "region",
    "day",       "raised", "summary", "evidence",  NULL};

static int
s_alert_head(const json_t *o, sn_alert_t *a, sn_err_t *err)
{
    char level[16], raised[SN_TIME_STR_MAX + 16];
    int rc = s_json_known(o, s_alert_keys, err);
    rc = rc ? rc : s_json_str(o, "level", level, sizeof level, 1, err);
    rc = rc ? rc : s_json_str(o, "rule", a->rule, sizeof a->rule, 1, err);
    rc = rc ? rc
            : s_json_str(o, "condition", a->condition, sizeof a->condition, 1,
                         err);
    rc = rc ? rc : s_json_str(o, "region", a->region, sizeof a->region, 1, err);
    rc = rc ? rc : s_json_dayval(o, "day", &a->day, err);
    rc = rc ? rc : s_json_str(o, "raised", raised, sizeof raised, 0, err);
    if (rc != SN_OK) {
        return rc;
    }
    if (sn_level_parse(level, &a->level) != SN_OK) {
        return sn_err_set(err, SN_EPARSE, "key 'level': unknown '%s'", level);
    }
    if (raised[0] != '\0' && sn_time_parse(raised, &a->raised) != SN_OK) {
        return sn_err_set(err, SN_EPARSE, "key 'raised': not RFC 3339");
    }
    const json_t *s = json_object_get(o, "summary");
    if (s != NULL && !json_is_string(s)) {
        return sn_err_set(err, SN_EPARSE, "key 'summary': not a string");
    }
    sn_alert_set_summary(a, s ? json_string_value(s) : NULL);
    return SN_OK;
}

static int
s_alert_from_obj(const json_t *o, sn_alert_t *a, sn_err_t *err)
{
    if (!json_is_object(o)) {
        return sn_err_set(err, SN_EPARSE, "alert: not a JSON object");
    }
    int rc = s_alert_head(o, a, err);
    if (rc != SN_OK) {
        return rc;
    }
    const json_t *rows = json_object_get(o, "evidence");
    if (rows != NULL && !json_is_array(rows)) {
        return sn_err_set(err, SN_EPARSE, "key 'evidence': not an array");
    }
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        sn_evidence_t ev;
        rc = s_evidence_from_json(row, &ev, err);
        rc = rc ? rc : sn_alert_add_evidence(a, &ev, err);
        if (rc != SN_OK) {
            return sn_err_prefix(err, "evidence[%zu]", i);
        }
    }
    return SN_OK;
}

int
sn_alert_from_json(const char *text, size_t len, sn_alert_t **out,
                   sn_err_t *err)
{
    json_error_t jerr;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL) {
        return sn_err_set(err, SN_EPARSE, "alert: not JSON: %s (column %d)",
                          jerr.text, jerr.column);
    }
    sn_alert_t *a = sn_calloc(1, sizeof *a);
    int rc = s_alert_from_obj(o, a, err);
    json_decref(o);
    if (rc != SN_OK) {
        sn_alert_destroy(&a);
        return rc;
    }
    *out = a;
    return SN_OK;
}
