/*  common/event_json.c - the JSON mapping of the case event
 *
 *  Sites that cannot compile the .proto send one JSON object per event (the
 *  JSON-lines feed), and dead-letter files and `sentinel query` print events
 *  the same way. The keys are the protobuf field names; dates are text
 *  ("YYYY-MM-DD", RFC 3339) and enumerations their wire names. Parsing is
 *  strict: an unknown key is refused rather than ignored, so a typo never
 *  drops a field in silence, and keys that would carry a person's identity
 *  are refused by name before anything else is read.
 *
 *  Parsing is on the collector's hot path, so it builds no tree: a plain
 *  line is read in one pass by event_jfast.c; anything else goes to the
 *  strict path, where jscan.c checks the text in place (jsmn underneath)
 *  and lists the members, and the keys are dispatched by length and first
 *  letter. jansson still
 *  renders events and words the message for a malformed document.
 */
#include "sentinel/event.h"

#include "event_jfast.h"
#include "jscan.h"

#include "sentinel/date.h"
#include "sentinel/mem.h"

#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define JSON_KEY_MAX 64 /* longest key compared against the lists */

/* Keys that identify a person. They are refused with their own message, so
 * a site learns that the field must go rather than that it is misspelt.
 * Compared after lower-casing and turning '-' and ' ' into '_'. */
static const char *const s_personal[] = {"name",
                                         "patient_name",
                                         "full_name",
                                         "first_name",
                                         "last_name",
                                         "given_name",
                                         "family_name",
                                         "surname",
                                         "xingming",
                                         "id_number",
                                         "id_no",
                                         "id_card",
                                         "national_id",
                                         "identity_card",
                                         "shenfenzheng",
                                         "sfzh",
                                         "passport",
                                         "passport_number",
                                         "ssn",
                                         "social_security_number",
                                         "insurance_number",
                                         "patient_id",
                                         "mrn",
                                         "medical_record_number",
                                         "address",
                                         "home_address",
                                         "street",
                                         "street_address",
                                         "postal_address",
                                         "postcode",
                                         "zip",
                                         "phone",
                                         "phone_number",
                                         "telephone",
                                         "tel",
                                         "mobile",
                                         "mobile_phone",
                                         "email",
                                         "e_mail",
                                         "birth_date",
                                         "date_of_birth",
                                         "dob",
                                         "guardian_name",
                                         "parent_name",
                                         "contact_name",
                                         "contact_phone",
                                         "ip_address",
                                         NULL};

static const char *const s_sex_names[] = {"unknown", "male", "female", "other"};

/* ---------------------------------------------------------------- fields */

/* The accepted keys, in the order of the .proto. */
typedef enum {
    F_EVENT_ID,
    F_REVISION,
    F_SITE_ID,
    F_SOURCE,
    F_REGION,
    F_CONDITION,
    F_ONSET_DATE,
    F_REPORT_TIME,
    F_COUNT,
    F_AGE_YEARS,
    F_SEX,
    F_LAB_CONFIRMED,
    F_COUNT_OF_FIELDS
} s_field_t;

static const char *const s_field_names[] = {
    "event_id", "revision",  "site_id",    "source",
    "region",   "condition", "onset_date", "report_time",
    "count",    "age_years", "sex",        "lab_confirmed"};

/* A string value decoded for comparison or parsing as a C string. Long
 * values, which only a hostile or broken record sends, go to the heap. */
typedef struct s_text {
    char local[256]; /* most values */
    char *s;         /* local, or a heap copy */
} s_text_t;

static const char *
s_text_get(s_text_t *t, const char *text, const sn_jscan_member_t *m)
{
    size_t n = sn_jscan_string(text, &m->val, t->local, sizeof t->local);
    t->s = t->local;
    if (n >= sizeof t->local) {
        t->s = sn_malloc(n + 1);
        sn_jscan_string(text, &m->val, t->s, n + 1);
    }
    return t->s;
}

static void
s_text_free(s_text_t *t)
{
    if (t->s != t->local) {
        free(t->s);
    }
}

static int
s_wrong_type(const char *key, const char *expected, sn_err_t *err)
{
    return sn_err_set(err, SN_EPARSE, "field '%s': expected %s", key, expected);
}

/* Copy a JSON string into a fixed-size field of `ev`. */
static int
s_put_string(const char *key, const char *text, const sn_jscan_member_t *m,
             char *dst, size_t size, sn_err_t *err)
{
    if (m->kind != SN_JSCAN_STRING) {
        return s_wrong_type(key, "a string", err);
    }
    if (sn_jscan_string(text, &m->val, dst, size) >= size) {
        return sn_err_set(err, SN_EPARSE, "field '%s': longer than %zu bytes",
                          key, size - 1);
    }
    return SN_OK;
}

/* Read an integer within [lo, hi]. */
static int
s_get_int(const char *key, const sn_jscan_member_t *m, int64_t lo, int64_t hi,
          sn_err_t *err)
{
    if (m->kind != SN_JSCAN_INTEGER) {
        return s_wrong_type(key, "an integer", err);
    }
    if (m->ival < lo || m->ival > hi) {
        return sn_err_set(err, SN_EPARSE,
                          "field '%s': %" PRId64 " is out of range", key,
                          m->ival);
    }
    return SN_OK;
}

static int
s_set_source(const char *text, const sn_jscan_member_t *m, sn_event_t *ev,
             sn_err_t *err)
{
    if (m->kind == SN_JSCAN_NULL) {
        ev->source = SN_SOURCE_UNKNOWN;
        return SN_OK;
    }
    if (m->kind != SN_JSCAN_STRING) {
        return s_wrong_type("source", "a string", err);
    }
    s_text_t t;
    const char *s = s_text_get(&t, text, m);
    int rc = SN_OK;
    if (sn_source_parse(s, &ev->source) != SN_OK) {
        char list[256] = "";
        for (int i = SN_SOURCE_UNKNOWN + 1; i < SN_SOURCE_COUNT; i++) {
            strcat(list, i > 1 ? ", " : "");
            strcat(list, sn_source_name((sn_source_t)i));
        }
        rc = sn_err_set(err, SN_EPARSE,
                        "field 'source': unknown source '%.64s' "
                        "(expected one of: %s)",
                        s, list);
    }
    s_text_free(&t);
    return rc;
}

static int
s_set_onset(const char *text, const sn_jscan_member_t *m, sn_event_t *ev,
            sn_err_t *err)
{
    if (m->kind == SN_JSCAN_NULL) {
        ev->onset_date = SN_DAY_NONE;
        return SN_OK;
    }
    if (m->kind != SN_JSCAN_STRING) {
        return s_wrong_type("onset_date", "a date \"YYYY-MM-DD\"", err);
    }
    s_text_t t;
    const char *s = s_text_get(&t, text, m);
    int rc = SN_OK;
    if (sn_day_parse(s, &ev->onset_date) != SN_OK) {
        rc = sn_err_set(err, SN_EPARSE,
                        "field 'onset_date': '%.32s' is not a date "
                        "\"YYYY-MM-DD\"",
                        s);
    }
    s_text_free(&t);
    return rc;
}

static int
s_set_report(const char *text, const sn_jscan_member_t *m, sn_event_t *ev,
             sn_err_t *err)
{
    if (m->kind != SN_JSCAN_STRING) {
        return s_wrong_type("report_time", "an RFC 3339 time", err);
    }
    s_text_t t;
    const char *s = s_text_get(&t, text, m);
    int rc = SN_OK;
    if (sn_time_parse(s, &ev->report_time) != SN_OK) {
        rc = sn_err_set(err, SN_EPARSE,
                        "field 'report_time': '%.40s' is not an RFC 3339 "
                        "time",
                        s);
    }
    s_text_free(&t);
    return rc;
}

static int
s_set_sex(const char *text, const sn_jscan_member_t *m, sn_event_t *ev,
          sn_err_t *err)
{
    if (m->kind == SN_JSCAN_NULL) {
        ev->sex = SN_SEX_UNKNOWN;
        return SN_OK;
    }
    if (m->kind != SN_JSCAN_STRING) {
        return s_wrong_type("sex", "a string", err);
    }
    s_text_t t;
    const char *s = s_text_get(&t, text, m);
    int rc = SN_EPARSE;
    for (int i = SN_SEX_UNKNOWN; i <= SN_SEX_OTHER && rc != SN_OK; i++) {
        if (strcmp(s, s_sex_names[i]) == 0) {
            ev->sex = (sn_sex_t)i;
            rc = SN_OK;
        }
    }
    if (rc != SN_OK) {
        rc = sn_err_set(err, SN_EPARSE,
                        "field 'sex': unknown value '%.32s' (expected one "
                        "of: male, female, other, unknown)",
                        s);
    }
    s_text_free(&t);
    return rc;
}

static int
s_set_lab(const sn_jscan_member_t *m, sn_event_t *ev, sn_err_t *err)
{
    if (m->kind == SN_JSCAN_NULL) {
        ev->lab_confirmed = SN_LAB_UNKNOWN;
    } else if (m->kind == SN_JSCAN_TRUE || m->kind == SN_JSCAN_FALSE) {
        ev->lab_confirmed =
            m->kind == SN_JSCAN_TRUE ? SN_LAB_CONFIRMED : SN_LAB_NEGATIVE;
    } else {
        return s_wrong_type("lab_confirmed", "true, false or null", err);
    }
    return SN_OK;
}

static int
s_set_number(s_field_t f, const sn_jscan_member_t *m, sn_event_t *ev,
             sn_err_t *err)
{
    const char *key = s_field_names[f];
    if (f == F_AGE_YEARS && m->kind == SN_JSCAN_NULL) {
        ev->age_years = SN_AGE_NONE;
        return SN_OK;
    }
    int64_t hi = f == F_AGE_YEARS ? INT32_MAX : UINT32_MAX;
    int rc = s_get_int(key, m, 0, hi, err);
    if (rc == SN_OK && f == F_AGE_YEARS) {
        ev->age_years = (int32_t)m->ival;
    } else if (rc == SN_OK) {
        *(f == F_REVISION ? &ev->revision : &ev->count) = (uint32_t)m->ival;
    }
    return rc;
}

/* Store member `m`, known to be field `f`, into `ev`. */
static int
s_set(s_field_t f, const char *text, const sn_jscan_member_t *m, sn_event_t *ev,
      sn_err_t *err)
{
    const char *key = s_field_names[f];
    switch (f) {
    case F_EVENT_ID:
        return s_put_string(key, text, m, ev->event_id, sizeof ev->event_id,
                            err);
    case F_SITE_ID:
        return s_put_string(key, text, m, ev->site_id, sizeof ev->site_id, err);
    case F_REGION:
        return s_put_string(key, text, m, ev->region, sizeof ev->region, err);
    case F_CONDITION:
        return s_put_string(key, text, m, ev->condition, sizeof ev->condition,
                            err);
    case F_SOURCE:
        return s_set_source(text, m, ev, err);
    case F_ONSET_DATE:
        return s_set_onset(text, m, ev, err);
    case F_REPORT_TIME:
        return s_set_report(text, m, ev, err);
    case F_SEX:
        return s_set_sex(text, m, ev, err);
    case F_LAB_CONFIRMED:
        return s_set_lab(m, ev, err);
    default:
        return s_set_number(f, m, ev, err);
    }
}

/* ----------------------------------------------------------------- parse */

/* @return the field named by the `len` bytes at k, or F_COUNT_OF_FIELDS.
 * A switch on length and first letter leaves one candidate to compare. */
static s_field_t
s_field_lookup(const char *k, size_t len)
{
    s_field_t f = F_COUNT_OF_FIELDS;
    switch (len) {
    case 3:
        f = F_SEX;
        break;
    case 5:
        f = F_COUNT;
        break;
    case 6:
        f = k[0] == 's' ? F_SOURCE : F_REGION;
        break;
    case 7:
        f = F_SITE_ID;
        break;
    case 8:
        f = k[0] == 'e' ? F_EVENT_ID : F_REVISION;
        break;
    case 9:
        f = k[0] == 'c' ? F_CONDITION : F_AGE_YEARS;
        break;
    case 10:
        f = F_ONSET_DATE;
        break;
    case 11:
        f = F_REPORT_TIME;
        break;
    case 13:
        f = F_LAB_CONFIRMED;
        break;
    default:
        return F_COUNT_OF_FIELDS;
    }
    return memcmp(k, s_field_names[f], len) == 0 ? f : F_COUNT_OF_FIELDS;
}

/* Decode the key of `m` into key[JSON_KEY_MAX + 1] (a prefix when longer,
 * enough for the messages and the identifier list) and look it up. */
static s_field_t
s_key(const char *text, const sn_jscan_member_t *m, char *key)
{
    size_t len = sn_jscan_string(text, &m->key, key, JSON_KEY_MAX + 1);
    return len > JSON_KEY_MAX ? F_COUNT_OF_FIELDS : s_field_lookup(key, len);
}

/* @return true when `key`, normalised, names a personal identifier. */
static bool
s_is_personal(const char *key)
{
    char norm[JSON_KEY_MAX + 1];
    size_t n = 0;
    for (; key[n] != '\0' && n < JSON_KEY_MAX; n++) {
        char c = (char)tolower((unsigned char)key[n]);
        norm[n] = (c == '-' || c == ' ') ? '_' : c;
    }
    norm[n] = '\0';
    for (size_t i = 0; s_personal[i] != NULL; i++) {
        if (strcmp(norm, s_personal[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Identity keys are checked over the whole object first, so the message
 * about them wins over any other problem in the same record. Known fields
 * are skipped first: the list is long and clean records are the rule. */
static int
s_check_keys(const sn_jscan_t *scan, const char *text, sn_err_t *err)
{
    char key[JSON_KEY_MAX + 1];
    for (size_t i = 0; i < scan->n; i++) {
        if (s_key(text, &scan->m[i], key) == F_COUNT_OF_FIELDS &&
            s_is_personal(key)) {
            return sn_err_set(err, SN_EVALIDATE,
                              "field '%.64s': " SN_EVENT_PERSONAL_REASON, key);
        }
    }
    return SN_OK;
}

static int
s_apply(const sn_jscan_t *scan, const char *text, sn_event_t *ev, sn_err_t *err)
{
    char key[JSON_KEY_MAX + 1];
    for (size_t i = 0; i < scan->n; i++) {
        s_field_t f = s_key(text, &scan->m[i], key);
        if (f == F_COUNT_OF_FIELDS) {
            return sn_err_set(err, SN_EVALIDATE,
                              "field '%.64s': unknown key (expected one of: "
                              "event_id, revision, site_id, source, region, "
                              "condition, onset_date, report_time, count, "
                              "age_years, sex, lab_confirmed)",
                              key);
        }
        int rc = s_set(f, text, &scan->m[i], ev, err);
        if (rc != SN_OK) {
            return rc;
        }
    }
    return SN_OK;
}

/* The scanner refused the text. Malformed records are the exception, so
 * jansson is asked for its wording of the problem: sites see the same
 * message (and column) as before the scanner existed. */
static int
s_syntax_error(const char *text, size_t len, sn_err_t *err)
{
    json_error_t jerr;
    json_t *root =
        json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (root == NULL) {
        return sn_err_set(err, SN_EPARSE, "not valid JSON: %s (column %d)",
                          jerr.text, jerr.column);
    }
    bool is_object = json_is_object(root);
    json_decref(root);
    if (!is_object) {
        return sn_err_set(err, SN_EPARSE, "expected a JSON object per event");
    }
    /* Not reached while the scanner agrees with jansson, which the
     * differential test checks; refuse rather than guess. */
    return sn_err_set(err, SN_EPARSE,
                      "not valid JSON: refused by the "
                      "strict scanner");
}

int
sn_event_from_json(const char *text, size_t len, sn_event_t *ev, sn_err_t *err)
{
    sn_event_t fast;
    if (sn_event_json_fast(text, len, &fast) == SN_OK) {
        *ev = fast;
        return SN_OK;
    }
    sn_jscan_t scan;
    int rc = sn_jscan_parse(&scan, text, len);
    if (rc != SN_OK) {
        rc = s_syntax_error(text, len, err);
    }
    if (rc == SN_OK) {
        rc = s_check_keys(&scan, text, err);
    }
    sn_event_t tmp;
    sn_event_init(&tmp);
    if (rc == SN_OK) {
        rc = s_apply(&scan, text, &tmp, err);
    }
    sn_jscan_fini(&scan);
    if (rc == SN_OK) {
        *ev = tmp;
    }
    return rc;
}

/* ---------------------------------------------------------------- render */

/* A JSON string of `s`; bytes that are not valid UTF-8 (an event refused by
 * validation may still be rendered for the dead-letter file) become '?'. */
static json_t *
s_string(const char *s, size_t size)
{
    size_t len = strnlen(s, size);
    json_t *j = json_stringn(s, len);
    if (j != NULL) {
        return j;
    }
    char clean[SN_EVENT_ID_MAX + 1];
    for (size_t i = 0; i < len && i < sizeof clean; i++) {
        unsigned char c = (unsigned char)s[i];
        clean[i] = c < 0x80 ? (char)c : '?';
    }
    return json_stringn(clean, len < sizeof clean ? len : sizeof clean);
}

/* Add the dates and numbers; null stands for "not given". */
static void
s_add_rest(json_t *o, const sn_event_t *ev)
{
    char day[SN_DAY_STR_MAX];
    char ts[SN_TIME_STR_MAX];
    json_object_set_new(o, "onset_date",
                        ev->onset_date == SN_DAY_NONE
                            ? json_null()
                            : json_string(sn_day_format(ev->onset_date, day)));
    json_object_set_new(o, "report_time",
                        json_string(sn_time_format(ev->report_time, ts)));
    json_object_set_new(o, "count", json_integer(ev->count));
    json_object_set_new(o, "age_years",
                        ev->age_years == SN_AGE_NONE
                            ? json_null()
                            : json_integer(ev->age_years));
    bool sex_ok = (int)ev->sex >= SN_SEX_UNKNOWN && ev->sex <= SN_SEX_OTHER;
    json_object_set_new(o, "sex",
                        json_string(s_sex_names[sex_ok ? ev->sex : 0]));
    json_object_set_new(
        o, "lab_confirmed",
        ev->lab_confirmed == SN_LAB_UNKNOWN
            ? json_null()
            : json_boolean(ev->lab_confirmed == SN_LAB_CONFIRMED));
}

char *
sn_event_to_json(const sn_event_t *ev)
{
    const char *source = sn_source_name(ev->source);
    json_t *o = json_object();
    json_object_set_new(o, "event_id",
                        s_string(ev->event_id, sizeof ev->event_id));
    json_object_set_new(o, "revision", json_integer(ev->revision));
    json_object_set_new(o, "site_id",
                        s_string(ev->site_id, sizeof ev->site_id));
    json_object_set_new(o, "source",
                        source != NULL ? json_string(source) : json_null());
    json_object_set_new(o, "region", s_string(ev->region, sizeof ev->region));
    json_object_set_new(o, "condition",
                        s_string(ev->condition, sizeof ev->condition));
    s_add_rest(o, ev);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (text == NULL) {
        abort(); /* jansson only fails here when out of memory */
    }
    return text;
}
