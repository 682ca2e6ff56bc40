/*  common/event_json.c - the JSON mapping of the case event
 *
 *  Sites that cannot compile the .proto send one JSON object per event (the
 *  JSON-lines feed), and dead-letter files and `sentinel query` print events
 *  the same way. The keys are the protobuf field names; dates are text
 *  ("YYYY-MM-DD", RFC 3339) and enumerations their wire names. Parsing is
 *  strict: an unknown key is refused rather than ignored, so a typo never
 *  drops a field in silence, and keys that would carry a person's identity
 *  are refused by name before anything else is read.
 */
#include "sentinel/event.h"

#include "sentinel/date.h"
#include "sentinel/mem.h"

#include <ctype.h>
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

typedef int (*s_field_fn)(const char *key, json_t *value, sn_event_t *ev,
                          sn_err_t *err);

static int
s_wrong_type(const char *key, const char *expected, sn_err_t *err)
{
    return sn_err_set(err, SN_EPARSE, "field '%s': expected %s", key, expected);
}

/* Copy a JSON string into a fixed-size field of `ev`, found by key. */
static int
s_put_string(const char *key, json_t *value, char *dst, size_t size,
             sn_err_t *err)
{
    if (!json_is_string(value)) {
        return s_wrong_type(key, "a string", err);
    }
    size_t len = json_string_length(value);
    if (len >= size) {
        return sn_err_set(err, SN_EPARSE, "field '%s': longer than %zu bytes",
                          key, size - 1);
    }
    memcpy(dst, json_string_value(value), len + 1);
    return SN_OK;
}

static int
s_set_text(const char *key, json_t *value, sn_event_t *ev, sn_err_t *err)
{
    if (strcmp(key, "event_id") == 0) {
        return s_put_string(key, value, ev->event_id, sizeof ev->event_id, err);
    }
    if (strcmp(key, "site_id") == 0) {
        return s_put_string(key, value, ev->site_id, sizeof ev->site_id, err);
    }
    if (strcmp(key, "region") == 0) {
        return s_put_string(key, value, ev->region, sizeof ev->region, err);
    }
    return s_put_string(key, value, ev->condition, sizeof ev->condition, err);
}

/* Read an integer within [lo, hi]. */
static int
s_get_int(const char *key, json_t *value, json_int_t lo, json_int_t hi,
          json_int_t *out, sn_err_t *err)
{
    if (!json_is_integer(value)) {
        return s_wrong_type(key, "an integer", err);
    }
    json_int_t v = json_integer_value(value);
    if (v < lo || v > hi) {
        return sn_err_set(
            err, SN_EPARSE,
            "field '%s': %" JSON_INTEGER_FORMAT " is out of range", key, v);
    }
    *out = v;
    return SN_OK;
}

static int
s_set_uint(const char *key, json_t *value, sn_event_t *ev, sn_err_t *err)
{
    json_int_t v = 0;
    int rc = s_get_int(key, value, 0, UINT32_MAX, &v, err);
    if (rc == SN_OK && strcmp(key, "revision") == 0) {
        ev->revision = (uint32_t)v;
    } else if (rc == SN_OK) {
        ev->count = (uint32_t)v;
    }
    return rc;
}

static int
s_set_age(const char *key, json_t *value, sn_event_t *ev, sn_err_t *err)
{
    if (json_is_null(value)) {
        ev->age_years = SN_AGE_NONE;
        return SN_OK;
    }
    json_int_t v = 0;
    int rc = s_get_int(key, value, 0, INT32_MAX, &v, err);
    if (rc == SN_OK) {
        ev->age_years = (int32_t)v;
    }
    return rc;
}

static int
s_set_source(const char *key, json_t *value, sn_event_t *ev, sn_err_t *err)
{
    if (json_is_null(value)) {
        ev->source = SN_SOURCE_UNKNOWN;
        return SN_OK;
    }
    if (!json_is_string(value)) {
        return s_wrong_type(key, "a string", err);
    }
    if (sn_source_parse(json_string_value(value), &ev->source) != SN_OK) {
        char list[256] = "";
        for (int i = SN_SOURCE_UNKNOWN + 1; i < SN_SOURCE_COUNT; i++) {
            strcat(list, i > 1 ? ", " : "");
            strcat(list, sn_source_name((sn_source_t)i));
        }
        return sn_err_set(err, SN_EPARSE,
                          "field 'source': unknown source '%.64s' "
                          "(expected one of: %s)",
                          json_string_value(value), list);
    }
    return SN_OK;
}

static int
s_set_onset(const char *key, json_t *value, sn_event_t *ev, sn_err_t *err)
{
    if (json_is_null(value)) {
        ev->onset_date = SN_DAY_NONE;
        return SN_OK;
    }
    if (!json_is_string(value)) {
        return s_wrong_type(key, "a date \"YYYY-MM-DD\"", err);
    }
    if (sn_day_parse(json_string_value(value), &ev->onset_date) != SN_OK) {
        return sn_err_set(err, SN_EPARSE,
                          "field 'onset_date': '%.32s' is not a date "
                          "\"YYYY-MM-DD\"",
                          json_string_value(value));
    }
    return SN_OK;
}

static int
s_set_report(const char *key, json_t *value, sn_event_t *ev, sn_err_t *err)
{
    if (!json_is_string(value)) {
        return s_wrong_type(key, "an RFC 3339 time", err);
    }
    if (sn_time_parse(json_string_value(value), &ev->report_time) != SN_OK) {
        return sn_err_set(err, SN_EPARSE,
                          "field 'report_time': '%.40s' is not an RFC 3339 "
                          "time",
                          json_string_value(value));
    }
    return SN_OK;
}

static int
s_set_sex(const char *key, json_t *value, sn_event_t *ev, sn_err_t *err)
{
    if (json_is_null(value)) {
        ev->sex = SN_SEX_UNKNOWN;
        return SN_OK;
    }
    if (!json_is_string(value)) {
        return s_wrong_type(key, "a string", err);
    }
    for (int i = SN_SEX_UNKNOWN; i <= SN_SEX_OTHER; i++) {
        if (strcmp(json_string_value(value), s_sex_names[i]) == 0) {
            ev->sex = (sn_sex_t)i;
            return SN_OK;
        }
    }
    return sn_err_set(err, SN_EPARSE,
                      "field 'sex': unknown value '%.32s' (expected one of: "
                      "male, female, other, unknown)",
                      json_string_value(value));
}

static int
s_set_lab(const char *key, json_t *value, sn_event_t *ev, sn_err_t *err)
{
    if (json_is_null(value)) {
        ev->lab_confirmed = SN_LAB_UNKNOWN;
    } else if (json_is_boolean(value)) {
        ev->lab_confirmed =
            json_is_true(value) ? SN_LAB_CONFIRMED : SN_LAB_NEGATIVE;
    } else {
        return s_wrong_type(key, "true, false or null", err);
    }
    return SN_OK;
}

/* The accepted keys, in the order of the .proto. */
static const struct {
    const char *key; /* JSON key = protobuf field name */
    s_field_fn set;  /* stores the value into the event */
} s_fields[] = {
    {"event_id", s_set_text},    {"revision", s_set_uint},
    {"site_id", s_set_text},     {"source", s_set_source},
    {"region", s_set_text},      {"condition", s_set_text},
    {"onset_date", s_set_onset}, {"report_time", s_set_report},
    {"count", s_set_uint},       {"age_years", s_set_age},
    {"sex", s_set_sex},          {"lab_confirmed", s_set_lab},
};

#define FIELD_COUNT (sizeof s_fields / sizeof s_fields[0])

/* ----------------------------------------------------------------- parse */

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

/* @return the index of `key` in s_fields, or FIELD_COUNT. */
static size_t
s_field_index(const char *key)
{
    size_t i = 0;
    while (i < FIELD_COUNT && strcmp(key, s_fields[i].key) != 0) {
        i++;
    }
    return i;
}

/* Identity keys are checked over the whole object first, so the message
 * about them wins over any other problem in the same record. Known fields
 * are skipped first: the list is long and clean records are the rule. */
static int
s_check_keys(json_t *obj, sn_err_t *err)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        if (s_field_index(key) == FIELD_COUNT && s_is_personal(key)) {
            return sn_err_set(err, SN_EVALIDATE,
                              "field '%.64s': personal identifiers are not "
                              "accepted",
                              key);
        }
    }
    return SN_OK;
}

static int
s_apply(json_t *obj, sn_event_t *ev, sn_err_t *err)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        size_t i = s_field_index(key);
        if (i == FIELD_COUNT) {
            return sn_err_set(err, SN_EVALIDATE,
                              "field '%.64s': unknown key (expected one of: "
                              "event_id, revision, site_id, source, region, "
                              "condition, onset_date, report_time, count, "
                              "age_years, sex, lab_confirmed)",
                              key);
        }
        int rc = s_fields[i].set(key, value, ev, err);
        if (rc != SN_OK) {
            return rc;
        }
    }
    return SN_OK;
}

int
sn_event_from_json(const char *text, size_t len, sn_event_t *ev, sn_err_t *err)
{
    json_error_t jerr;
    json_t *root =
        json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (root == NULL) {
        return sn_err_set(err, SN_EPARSE, "not valid JSON: %s (column %d)",
                          jerr.text, jerr.column);
    }
    int rc = SN_OK;
    if (!json_is_object(root)) {
        rc = sn_err_set(err, SN_EPARSE, "expected a JSON object per event");
    }
    if (rc == SN_OK) {
        rc = s_check_keys(root, err);
    }
    sn_event_t tmp;
    sn_event_init(&tmp);
    if (rc == SN_OK) {
        rc = s_apply(root, &tmp, err);
    }
    json_decref(root);
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
