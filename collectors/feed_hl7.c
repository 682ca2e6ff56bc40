/*  collectors/feed_hl7.c - HL7 v2.5.1 ADT feed (syndromic surveillance)
 *
 *  Maps one ADT^A01/A03/A04/A08 message to one case event, as the PHIN
 *  syndromic surveillance messaging guide lays the fields out (see the
 *  table in docs/feeds.md). Only the fields listed there are read: the
 *  patient's name, identifiers, address and phone numbers (PID-3, PID-5,
 *  PID-11, PID-13, PID-14 and their NK1 equivalents) are never looked at,
 *  so they cannot leak into an event, and a refused message's bytes are
 *  handed out with them emptied (hl7_redact.h). The event id is a keyed hash of
 *  (facility, visit number), or the pair itself when configured; the
 *  revision is the message time, so the newest message of a visit wins
 *  wherever and whenever it arrives (feed_hl7.h says why).
 */
#include "feed_hl7.h"
#include "feed_int.h"
#include "hl7_charset.h"
#include "hl7_redact.h"
#include "hl7msg.h"

#include "sentinel/mem.h"

#include <assert.h>
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_FIELD_MAX 256          /* one field value */
#define S_TEXT_MAX 1024          /* the complaint texts together */
#define S_MAX_DX 32              /* diagnoses read per message */
#define S_EPOCH_2000 946684800LL /* 2000-01-01T00:00:00Z in Unix seconds */
#define S_ID_BYTES 16            /* hash bytes in an event id (32 hex digits) */

#define S_LOINC_COMPLAINT "8661-1" /* chief complaint, reported */
#define S_LOINC_AGE "21612-7"      /* age, patient reported */
#define S_LOINC_ONSET "11368-8"    /* illness onset date */

typedef struct s_hl7 {
    col_hl7msg_t *msg;                        /* the message reader */
    col_cmap_t *cmap;                         /* condition rules, owned */
    col_hl7_id_t id_mode;                     /* hash or plain ids */
    uint8_t key[crypto_generichash_KEYBYTES]; /* hash key */
    bool reject_unmatched;                    /* refuse when no rule matches */
    char *classes;                            /* accepted PV1-2, or NULL */
    int tz_minutes;                           /* zone of times without one */
    col_hl7_charset_t *charset;               /* MSH-18 to UTF-8 */
} s_hl7_t;

/* What one message says about its visit, before it becomes an event. */
typedef struct s_visit {
    char facility[S_FIELD_MAX]; /* EVN-7 or MSH-4 */
    char number[S_FIELD_MAX];   /* PV1-19 */
    sn_time_t msg_time;         /* MSH-7 */
    sn_day_t visit_day;         /* PV1-44 */
    bool update;                /* A08 or A03: a later message of the visit */
} s_visit_t;

/* ------------------------------------------------------------- splitting */

static bool
s_starts_message(const uint8_t *p)
{
    return memcmp(p, "MSH", 3) == 0 || memcmp(p, "FHS", 3) == 0 ||
           memcmp(p, "BHS", 3) == 0 || memcmp(p, "BTS", 3) == 0 ||
           memcmp(p, "FTS", 3) == 0;
}

/* A message runs up to the next segment that starts a message or a batch
 * segment; at the end of input, up to the end. */
static size_t
s_split(void *impl, const uint8_t *p, size_t n, bool end, size_t *rec_len,
        uint64_t *lines)
{
    (void)impl;
    *lines = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\r' && p[i] != '\n') {
            continue;
        }
        if (i + 4 > n) {
            break;
        }
        if (s_starts_message(p + i + 1)) {
            *rec_len = i + 1;
            return i + 1;
        }
    }
    if (!end) {
        return 0;
    }
    *rec_len = n;
    return n;
}

/* ----------------------------------------------------------------- times */

static bool
s_num(const char **s, int digits, int *out)
{
    int v = 0;
    for (int i = 0; i < digits; i++) {
        if (!isdigit((unsigned char)(*s)[i])) {
            return false;
        }
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += digits;
    *out = v;
    return true;
}

/* Parse an HL7 DTM, YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]; a time with no
 * zone is in `tz` minutes east of UTC. */
static int
s_dtm(const char *s, int tz, sn_time_t *out)
{
    int v[6] = {0, 1, 1, 0, 0, 0};
    static const int width[6] = {4, 2, 2, 2, 2, 2};
    int k = 0;
    while (k < 6 && s_num(&s, width[k], &v[k])) {
        k++;
    }
    if (k == 0) {
        return SN_EPARSE;
    }
    if (*s == '.') {
        for (s++; isdigit((unsigned char)*s); s++) {
        }
    }
    if (*s == '+' || *s == '-') {
        int hh, mm;
        int sign = *s++ == '-' ? -1 : 1;
        if (!s_num(&s, 2, &hh) || !s_num(&s, 2, &mm)) {
            return SN_EPARSE;
        }
        tz = sign * (hh * 60 + mm);
    }
    char day[32];
    sn_day_t d;
    snprintf(day, sizeof day, "%04d-%02d-%02d", v[0], v[1], v[2]);
    if (*s || sn_day_parse(day, &d) != SN_OK || v[3] > 23 || v[4] > 59 ||
        v[5] > 60) {
        return SN_EPARSE;
    }
    sn_time_t secs = (sn_time_t)d * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
    *out = (secs - (sn_time_t)tz * 60) * 1000;
    return SN_OK;
}

/* The calendar day of a DTM as written (no zone shift): visit and birth
 * dates are local days. */
static int
s_local_day(const char *s, sn_day_t *out)
{
    sn_time_t t;
    char date[9];
    snprintf(date, sizeof date, "%.8s", s);
    int rc = s_dtm(date, 0, &t);
    if (rc == SN_OK) {
        *out = sn_time_day(t);
    }
    return rc;
}

/* ---------------------------------------------------------------- header */

static int
s_header(s_hl7_t *self, col_record_t *out, s_visit_t *v)
{
    char type[S_FIELD_MAX], trig[S_FIELD_MAX], f[S_FIELD_MAX];
    col_hl7msg_get(self->msg, 0, 9, 0, 1, type, sizeof type);
    col_hl7msg_get(self->msg, 0, 9, 0, 2, trig, sizeof trig);
    if (strcmp(type, "ADT") != 0 ||
        (strcmp(trig, "A01") && strcmp(trig, "A03") && strcmp(trig, "A04") &&
         strcmp(trig, "A08"))) {
        return sn_err_set(&out->err, SN_EUNSUPPORTED,
                          "MSH-9: message type '%.16s^%.16s' is not "
                          "supported (ADT^A01, A03, A04, A08)",
                          type, trig);
    }
    v->update = strcmp(trig, "A08") == 0 || strcmp(trig, "A03") == 0;
    col_hl7msg_get(self->msg, 0, 12, 0, 1, f, sizeof f);
    if (strncmp(f, "2.", 2) != 0) {
        return sn_err_set(&out->err, SN_EUNSUPPORTED,
                          "MSH-12: version '%.16s' is not supported (2.x, "
                          "2.5.1 expected)",
                          f);
    }
    if (col_hl7msg_get(self->msg, 0, 10, 0, 0, f, sizeof f) == 0) {
        return sn_err_set(&out->err, SN_EPARSE,
                          "MSH-10: missing message control id");
    }
    col_hl7msg_get(self->msg, 0, 7, 0, 1, f, sizeof f);
    if (s_dtm(f, self->tz_minutes, &v->msg_time) != SN_OK) {
        return sn_err_set(&out->err, SN_EPARSE,
                          "MSH-7: '%.32s' is not a message time", f);
    }
    if (v->msg_time / 1000 < S_EPOCH_2000) {
        return sn_err_set(&out->err, SN_EPARSE,
                          "MSH-7: message time '%.32s' is before 2000", f);
    }
    return SN_OK;
}

/* ----------------------------------------------------------------- visit */

/* An HD field names a facility by its universal id (component 2, an OID)
 * or, failing that, its namespace id (component 1). */
static size_t
s_facility(const s_hl7_t *self, int seg, int field, char *out, size_t size)
{
    size_t n = col_hl7msg_get(self->msg, seg, field, 0, 2, out, size);
    return n ? n : col_hl7msg_get(self->msg, seg, field, 0, 1, out, size);
}

static int
s_visit(s_hl7_t *self, col_record_t *out, s_visit_t *v)
{
    int evn = col_hl7msg_find(self->msg, "EVN", 0);
    int pv1 = col_hl7msg_find(self->msg, "PV1", 0);
    if (!s_facility(self, evn, 7, v->facility, sizeof v->facility) &&
        !s_facility(self, 0, 4, v->facility, sizeof v->facility)) {
        return sn_err_set(&out->err, SN_EPARSE,
                          "EVN-7, MSH-4: no facility identifier");
    }
    if (pv1 < 0) {
        return sn_err_set(&out->err, SN_EPARSE, "no PV1 segment");
    }
    if (!col_hl7msg_get(self->msg, pv1, 19, 0, 1, v->number,
                        sizeof v->number)) {
        return sn_err_set(&out->err, SN_EPARSE, "PV1-19: missing visit number");
    }
    char f[S_FIELD_MAX];
    col_hl7msg_get(self->msg, pv1, 44, 0, 1, f, sizeof f);
    if (!f[0] || s_local_day(f, &v->visit_day) != SN_OK) {
        return sn_err_set(&out->err, SN_EPARSE,
                          "PV1-44: '%.32s' is not an admit date", f);
    }
    col_hl7msg_get(self->msg, pv1, 2, 0, 1, f, sizeof f);
    if (self->classes && (!f[0] || !strstr(self->classes, f))) {
        return sn_err_set(&out->err, SN_EVALIDATE,
                          "PV1-2: patient class '%.8s' is not collected "
                          "(accepted: %s)",
                          f, self->classes);
    }
    return SN_OK;
}

static int
s_event_id(const s_hl7_t *self, const s_visit_t *v, col_record_t *out)
{
    char *ev_id = out->event.event_id;
    if (self->id_mode == COL_HL7_ID_PLAIN) {
        int n = snprintf(ev_id, sizeof out->event.event_id, "%s/%s",
                         v->facility, v->number);
        if (n < 0 || (size_t)n >= sizeof out->event.event_id) {
            return sn_err_set(&out->err, SN_EOVERFLOW,
                              "event_id: facility and PV1-19 together are "
                              "longer than %d bytes",
                              SN_EVENT_ID_MAX);
        }
        return SN_OK;
    }
    crypto_generichash_state st;
    uint8_t h[S_ID_BYTES];
    crypto_generichash_init(&st, self->key, sizeof self->key, sizeof h);
    crypto_generichash_update(&st, (const uint8_t *)v->facility,
                              strlen(v->facility) + 1);
    crypto_generichash_update(&st, (const uint8_t *)v->number,
                              strlen(v->number));
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(ev_id, sizeof out->event.event_id, h, sizeof h);
    return SN_OK;
}

/* --------------------------------------------------------------- patient */

/* Years from birth day `b` to day `d`, by the calendar. */
static int
s_years(sn_day_t b, sn_day_t d)
{
    int by, bm, bd, y, m, dd;
    sn_day_to_ymd(b, &by, &bm, &bd);
    sn_day_to_ymd(d, &y, &m, &dd);
    return y - by - ((m < bm || (m == bm && dd < bd)) ? 1 : 0);
}

/* Age from an OBX age observation: value OBX-5, unit OBX-6 (UCUM a, mo,
 * wk, d). */
static int
s_obx_age(const s_hl7_t *self, int obx, int32_t *age)
{
    char val[S_FIELD_MAX], unit[S_FIELD_MAX];
    col_hl7msg_get(self->msg, obx, 5, 0, 1, val, sizeof val);
    col_hl7msg_get(self->msg, obx, 6, 0, 1, unit, sizeof unit);
    char *end;
    double x = strtod(val, &end);
    double per_year = !strcmp(unit, "a")    ? 1
                      : !strcmp(unit, "mo") ? 12
                      : !strcmp(unit, "wk") ? 52.1775
                      : !strcmp(unit, "d")  ? 365.25
                                            : 0;
    if (!val[0] || *end || x < 0 || per_year == 0 || x / per_year > 150) {
        return SN_EPARSE;
    }
    *age = (int32_t)(x / per_year);
    return SN_OK;
}

static int
s_patient(s_hl7_t *self, const s_visit_t *v, col_record_t *out)
{
    int pid = col_hl7msg_find(self->msg, "PID", 0);
    if (pid < 0) {
        return sn_err_set(&out->err, SN_EPARSE, "no PID segment");
    }
    char f[S_FIELD_MAX];
    col_hl7msg_get(self->msg, pid, 8, 0, 1, f, sizeof f);
    out->event.sex = !strcmp(f, "M")   ? SN_SEX_MALE
                     : !strcmp(f, "F") ? SN_SEX_FEMALE
                     : (!strcmp(f, "O") || !strcmp(f, "A") || !strcmp(f, "N"))
                         ? SN_SEX_OTHER
                         : SN_SEX_UNKNOWN;
    col_hl7msg_get(self->msg, pid, 7, 0, 1, f, sizeof f);
    if (f[0]) {
        sn_day_t birth;
        if (s_local_day(f, &birth) != SN_OK || birth > v->visit_day) {
            return sn_err_set(&out->err, SN_EPARSE,
                              "PID-7: '%.32s' is not a birth date before the "
                              "visit",
                              f);
        }
        out->event.age_years = s_years(birth, v->visit_day);
    }
    return SN_OK;
}

/* -------------------------------------------------------------- clinical */

/* Append `s` to the complaint text, separated by "; ". */
static void
s_append(char *text, const char *s)
{
    size_t n = strlen(text);
    if (s[0] && n + 3 < S_TEXT_MAX) {
        snprintf(text + n, S_TEXT_MAX - n, "%s%s", n ? "; " : "", s);
    }
}

/* The coded element's text (component 2), else its code (component 1). */
static void
s_ce_text(const s_hl7_t *self, int seg, int field, char *out, size_t size)
{
    if (!col_hl7msg_get(self->msg, seg, field, 0, 2, out, size)) {
        col_hl7msg_get(self->msg, seg, field, 0, 1, out, size);
    }
}

/* Walk the OBX segments for the complaint, the age and the onset date. */
static int
s_observations(s_hl7_t *self, char *text, col_record_t *out)
{
    char code[S_FIELD_MAX], f[S_FIELD_MAX];
    int obx;
    for (size_t i = 0; (obx = col_hl7msg_find(self->msg, "OBX", i)) >= 0; i++) {
        col_hl7msg_get(self->msg, obx, 3, 0, 1, code, sizeof code);
        if (!strcmp(code, S_LOINC_COMPLAINT)) {
            s_ce_text(self, obx, 5, f, sizeof f);
            s_append(text, f);
        } else if (!strcmp(code, S_LOINC_AGE) &&
                   out->event.age_years == SN_AGE_NONE &&
                   s_obx_age(self, obx, &out->event.age_years) != SN_OK) {
            return sn_err_set(&out->err, SN_EPARSE,
                              "OBX %zu (%s): not an age in a, mo, wk or d",
                              i + 1, S_LOINC_AGE);
        } else if (!strcmp(code, S_LOINC_ONSET)) {
            col_hl7msg_get(self->msg, obx, 5, 0, 1, f, sizeof f);
            if (s_local_day(f, &out->event.onset_date) != SN_OK) {
                return sn_err_set(&out->err, SN_EPARSE,
                                  "OBX %zu (%s): '%.32s' is not an onset date",
                                  i + 1, S_LOINC_ONSET, f);
            }
        }
    }
    return SN_OK;
}

static int
s_condition(s_hl7_t *self, col_record_t *out)
{
    char dx[S_MAX_DX][S_FIELD_MAX / 4];
    const char *dxp[S_MAX_DX];
    size_t n = 0;
    int seg;
    for (size_t i = 0;
         n < S_MAX_DX && (seg = col_hl7msg_find(self->msg, "DG1", i)) >= 0;
         i++) {
        if (col_hl7msg_get(self->msg, seg, 3, 0, 1, dx[n], sizeof dx[n])) {
            dxp[n] = dx[n];
            n++;
        }
    }
    char text[S_TEXT_MAX] = "";
    char f[S_FIELD_MAX];
    s_ce_text(self, col_hl7msg_find(self->msg, "PV2", 0), 3, f, sizeof f);
    s_append(text, f);
    out->event.onset_date = SN_DAY_NONE;
    int rc = s_observations(self, text, out);
    if (rc != SN_OK) {
        return rc;
    }
    const char *code = col_cmap_match(self->cmap, dxp, n, text);
    if (!code && self->reject_unmatched) {
        return sn_err_set(&out->err, SN_ENOTFOUND,
                          "no condition rule matches diagnoses (DG1-3) '%s' "
                          "or complaint '%.200s'",
                          n ? dx[0] : "", text);
    }
    code = code ? code : COL_CMAP_UNEXPLAINED;
    return col_feed_copy(out->event.condition, sizeof out->event.condition,
                         code, strlen(code));
}

/* ----------------------------------------------------------------- parse */

static bool
s_skippable(const uint8_t *rec, size_t len)
{
    size_t i = 0;
    while (i < len && isspace(rec[i])) {
        i++;
    }
    return i == len || (len - i >= 3 && s_starts_message(rec + i) &&
                        memcmp(rec + i, "MSH", 3) != 0);
}

static int
s_map(s_hl7_t *self, const col_site_t *site, col_record_t *out)
{
    s_visit_t v;
    int rc = s_header(self, out, &v);
    rc = rc ? rc : s_visit(self, out, &v);
    rc = rc ? rc : s_patient(self, &v, out);
    rc = rc ? rc : s_condition(self, out);
    rc = rc ? rc : s_event_id(self, &v, out);
    if (rc != SN_OK) {
        return rc;
    }
    sn_event_t *ev = &out->event;
    /* Twice the seconds since 2000, plus one for an update (A08, A03): an
     * update stamped in the same second as the visit's A01/A04 still
     * replaces it. (Fits 32 bits until 2068.) */
    ev->revision =
        (uint32_t)(2 * (v.msg_time / 1000 - S_EPOCH_2000) + (v.update ? 1 : 0));
    ev->report_time = v.msg_time;
    if (ev->onset_date == SN_DAY_NONE) {
        ev->onset_date = v.visit_day;
    }
    ev->count = 1;
    col_feed_apply_site(site, ev);
    return SN_OK;
}

static int
s_parse(void *impl, const col_site_t *site, const uint8_t *rec, size_t len,
        col_record_t *out)
{
    s_hl7_t *self = impl;
    if (s_skippable(rec, len)) {
        return COL_FEED_AGAIN;
    }
    const uint8_t *utf8;
    size_t n;
    if (col_hl7_charset_utf8(self->charset, rec, len, &utf8, &n, &out->err) !=
            SN_OK ||
        col_hl7msg_read(self->msg, (const char *)utf8, n, &out->err) != SN_OK) {
        return COL_FEED_REJECT;
    }
    int rc = s_map(self, site, out);
    if (rc != SN_OK) {
        sn_event_init(&out->event);
        return COL_FEED_REJECT;
    }
    return COL_FEED_EVENT;
}

static void
s_destroy(void *impl)
{
    s_hl7_t *self = impl;
    col_hl7msg_destroy(&self->msg);
    col_hl7_charset_destroy(&self->charset);
    col_cmap_destroy(&self->cmap);
    free(self->classes);
    sodium_memzero(self->key, sizeof self->key);
    free(self);
}

static const col_feed_ops_t s_ops = {
    .kind = COL_FEED_HL7,
    .by_line = false,
    .split = s_split,
    .parse = s_parse,
    .destroy = s_destroy,
    .redact = col_hl7_redact,
};

col_feed_t *
col_feed_hl7_new(const char *name, const col_site_t *site,
                 const col_hl7_opts_t *opts, col_cmap_t **cmap_p,
                 size_t max_record)
{
    assert(cmap_p && *cmap_p);
    s_hl7_t *self = sn_calloc(1, sizeof *self);
    if (sodium_init() < 0) {
        abort();
    }
    self->msg = col_hl7msg_new();
    self->charset = col_hl7_charset_new();
    self->cmap = *cmap_p;
    *cmap_p = NULL;
    self->id_mode = opts ? opts->event_id : COL_HL7_ID_HASH;
    self->reject_unmatched = opts && opts->reject_unmatched;
    self->classes = sn_strdup(opts ? opts->classes : NULL);
    self->tz_minutes = opts ? opts->tz_offset_minutes : 0;
    const char *key = (opts && opts->id_key)    ? opts->id_key
                      : (site && site->site_id) ? site->site_id
                                                : "";
    /* The configured key may be any length; its hash is the BLAKE2b key. */
    crypto_generichash(self->key, sizeof self->key, (const uint8_t *)key,
                       strlen(key), NULL, 0);
    return col_feed_new_kind(&s_ops, self, name, site, max_record);
}
