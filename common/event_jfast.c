/*  common/event_jfast.c - the JSON-lines fast path of the event parser
 *
 *  One pass over the bytes of a flat event object: whitespace, a key, a
 *  colon, a value, a comma or the closing brace, with each value stored in
 *  the event as soon as it is read. The strict path (event_json.c over
 *  jscan.c) costs a tokenizer run, a second walk that checks every byte
 *  jsmn lets through, a duplicate-key scan and a decoding copy of every
 *  string; this one touches each byte once, and gives up (SN_EAGAIN) at the
 *  first thing outside the plain shape so the strict path can decide. The
 *  shape it takes is a subset of what jansson accepts by construction:
 *  printable ASCII strings without escapes, integers without sign, fraction
 *  or exponent, the three literals, no nesting, each known key at most once.
 */
#include "event_jfast.h"

#include "sentinel/date.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define JFAST_VALUE_MAX 48 /* longest enum or date value read here */

/* The keys, as event_json.c knows them; one bit each for repeats. */
typedef enum {
    J_EVENT_ID,
    J_REVISION,
    J_SITE_ID,
    J_SOURCE,
    J_REGION,
    J_CONDITION,
    J_ONSET_DATE,
    J_REPORT_TIME,
    J_COUNT,
    J_AGE_YEARS,
    J_SEX,
    J_LAB_CONFIRMED,
    J_NONE
} s_key_t;

static const char *const s_sexes[] = {"unknown", "male", "female", "other"};

/* What a value was. */
typedef enum { V_STRING, V_INT, V_NULL, V_TRUE, V_FALSE } s_kind_t;

/* One value read from the text. */
typedef struct s_value {
    s_kind_t kind; /* what it is */
    const char *s; /* V_STRING: its bytes (no escapes) */
    size_t n;      /* their number */
    uint64_t ival; /* V_INT: the value, at most UINT32_MAX */
} s_value_t;

/* Compare with a constant length, which the compiler turns into a few
 * loads instead of a call. */
#define S_IS(k, lit) (memcmp((k), (lit), sizeof(lit) - 1) == 0)

static s_key_t
s_lookup(const char *k, size_t n)
{
    switch (n) {
    case 3:
        return S_IS(k, "sex") ? J_SEX : J_NONE;
    case 5:
        return S_IS(k, "count") ? J_COUNT : J_NONE;
    case 6:
        return S_IS(k, "source")   ? J_SOURCE
               : S_IS(k, "region") ? J_REGION
                                   : J_NONE;
    case 7:
        return S_IS(k, "site_id") ? J_SITE_ID : J_NONE;
    case 8:
        return S_IS(k, "event_id")   ? J_EVENT_ID
               : S_IS(k, "revision") ? J_REVISION
                                     : J_NONE;
    case 9:
        return S_IS(k, "condition")   ? J_CONDITION
               : S_IS(k, "age_years") ? J_AGE_YEARS
                                      : J_NONE;
    case 10:
        return S_IS(k, "onset_date") ? J_ONSET_DATE : J_NONE;
    case 11:
        return S_IS(k, "report_time") ? J_REPORT_TIME : J_NONE;
    case 13:
        return S_IS(k, "lab_confirmed") ? J_LAB_CONFIRMED : J_NONE;
    default:
        return J_NONE;
    }
}

static const char *
s_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p;
}

/* @return nonzero when one of the eight bytes of `w` ends or spoils a
 * plain string: a '"', a '\\', a control character (< 0x20) or a byte
 * above 0x7F (the classic "has a byte less than / equal to" bit tricks). */
static uint64_t
s_stop8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t high = 0x8080808080808080ULL;
    uint64_t q = w ^ (ones * '"');
    uint64_t b = w ^ (ones * '\\');
    uint64_t lt = w - ones * 0x20;
    return (((q - ones) & ~q) | ((b - ones) & ~b) | (lt & ~w) | w) & high;
}

/* A string of printable ASCII without escapes; p is at its opening quote.
 * Eight bytes at a time while they are plain, then byte by byte.
 * @return the byte after the closing quote, or NULL. */
static const char *
s_string(const char *p, const char *end, const char **s, size_t *n)
{
    const char *q = ++p;
    while (end - q >= 8) {
        uint64_t w;
        memcpy(&w, q, 8);
        uint64_t stop = s_stop8(w);
        if (stop != 0) {
            /* The lowest flag is exact (a borrow only spoils higher
             * bytes), and little-endian puts the first byte lowest;
             * elsewhere the byte loop below finds it. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            q += __builtin_ctzll(stop) / 8;
#endif
            break;
        }
        q += 8;
    }
    while (q < end) {
        unsigned char c = (unsigned char)*q;
        if (c == '"') {
            *s = p;
            *n = (size_t)(q - p);
            return q + 1;
        }
        if (c < 0x20 || c >= 0x80 || c == '\\') {
            return NULL;
        }
        q++;
    }
    return NULL;
}

/* An integer 0 .. UINT32_MAX without sign, fraction or exponent. */
static const char *
s_int(const char *p, const char *end, uint64_t *out)
{
    const char *q = p;
    uint64_t v = 0;
    while (q < end && *q >= '0' && *q <= '9' && q - p < 11) {
        v = v * 10 + (uint64_t)(*q - '0');
        q++;
    }
    if ((q - p > 1 && *p == '0') || v > UINT32_MAX ||
        (q < end &&
         (*q == '.' || *q == 'e' || *q == 'E' || (*q >= '0' && *q <= '9')))) {
        return NULL;
    }
    *out = v;
    return q;
}

static const char *
s_literal(const char *p, const char *end, const char *word, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, word, n) == 0 ? p + n : NULL;
}

/* Read one value. @return the byte after it, or NULL. */
static const char *
s_value(const char *p, const char *end, s_value_t *v)
{
    switch (*p) {
    case '"':
        v->kind = V_STRING;
        return s_string(p, end, &v->s, &v->n);
    case 'n':
        v->kind = V_NULL;
        return s_literal(p, end, "null", 4);
    case 't':
        v->kind = V_TRUE;
        return s_literal(p, end, "true", 4);
    case 'f':
        v->kind = V_FALSE;
        return s_literal(p, end, "false", 5);
    default:
        v->kind = V_INT;
        return *p >= '0' && *p <= '9' ? s_int(p, end, &v->ival) : NULL;
    }
}

/* A string field: copied when it fits, as the strict path does. */
static bool
s_put(const s_value_t *v, char *dst, size_t size)
{
    if (v->kind != V_STRING || v->n >= size) {
        return false;
    }
    memcpy(dst, v->s, v->n);
    dst[v->n] = '\0';
    return true;
}

/* The value as a C string for the enum and date parsers. */
static bool
s_cstr(const s_value_t *v, char *buf)
{
    return s_put(v, buf, JFAST_VALUE_MAX);
}

/* Two digits at p as a number, or -1. */
static int
s_d2(const char *p)
{
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') {
        return -1;
    }
    return (p[0] - '0') * 10 + (p[1] - '0');
}

bool
sn_event_json_time(const char *s, size_t n, sn_time_t *out)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    if ((n != 20 && n != 24) || s[n - 1] != 'Z' || s[4] != '-' || s[7] != '-' ||
        s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        (n == 24 && (s[19] != '.' || s[22] < '0' || s[22] > '9'))) {
        return false;
    }
    int cent = s_d2(s), yy = s_d2(s + 2), m = s_d2(s + 5), d = s_d2(s + 8);
    int hh = s_d2(s + 11), mm = s_d2(s + 14), ss = s_d2(s + 17);
    int ms = n == 24 ? s_d2(s + 20) : 0;
    if (cent < 0 || yy < 0 || m < 1 || m > 12 || d < 1 || hh < 0 || hh > 23 ||
        mm < 0 || mm > 59 || ss < 0 || ss > 60 || ms < 0) {
        return false;
    }
    int y = cent * 100 + yy;
    int last = m == 2 && sn_day_is_leap(y) ? 29 : days[m - 1];
    if (y < 1900 || d > last) {
        return false;
    }
    ms = n == 24 ? ms * 10 + (s[22] - '0') : 0;
    *out = (sn_time_t)sn_day_from_ymd(y, m, d) * 86400000 +
           (((int64_t)hh * 60 + mm) * 60 + (ss > 59 ? 59 : ss)) * 1000 + ms;
    return true;
}

/* A source or sex by its wire name, compared in place. */
static bool
s_name(s_key_t f, const s_value_t *v, sn_event_t *ev)
{
    if (v->kind != V_STRING) {
        return false;
    }
    int lo = f == J_SOURCE ? SN_SOURCE_UNKNOWN + 1 : SN_SEX_UNKNOWN;
    int hi = f == J_SOURCE ? SN_SOURCE_COUNT - 1 : SN_SEX_OTHER;
    for (int i = lo; i <= hi; i++) {
        const char *name =
            f == J_SOURCE ? sn_source_name((sn_source_t)i) : s_sexes[i];
        if (strlen(name) == v->n && memcmp(name, v->s, v->n) == 0) {
            *(f == J_SOURCE ? (int *)&ev->source : (int *)&ev->sex) = i;
            return true;
        }
    }
    return false;
}

static bool
s_set_enum(s_key_t f, const s_value_t *v, sn_event_t *ev)
{
    char b[JFAST_VALUE_MAX];
    if (v->kind == V_NULL && f != J_REPORT_TIME) {
        ev->source = f == J_SOURCE ? SN_SOURCE_UNKNOWN : ev->source;
        ev->onset_date = f == J_ONSET_DATE ? SN_DAY_NONE : ev->onset_date;
        ev->sex = f == J_SEX ? SN_SEX_UNKNOWN : ev->sex;
        return true;
    }
    if (f == J_SOURCE || f == J_SEX) {
        return s_name(f, v, ev);
    }
    if (!s_cstr(v, b)) {
        return false;
    }
    if (f == J_ONSET_DATE) {
        return sn_day_parse(b, &ev->onset_date) == SN_OK;
    }
    return sn_event_json_time(v->s, v->n, &ev->report_time) ||
           sn_time_parse(b, &ev->report_time) == SN_OK;
}

/* Store value `v` of key `f` into `ev`. @return false to give up. */
static bool
s_set(s_key_t f, const s_value_t *v, sn_event_t *ev)
{
    switch (f) {
    case J_EVENT_ID:
        return s_put(v, ev->event_id, sizeof ev->event_id);
    case J_SITE_ID:
        return s_put(v, ev->site_id, sizeof ev->site_id);
    case J_REGION:
        return s_put(v, ev->region, sizeof ev->region);
    case J_CONDITION:
        return s_put(v, ev->condition, sizeof ev->condition);
    case J_REVISION:
    case J_COUNT:
        if (v->kind != V_INT) {
            return false;
        }
        *(f == J_REVISION ? &ev->revision : &ev->count) = (uint32_t)v->ival;
        return true;
    case J_AGE_YEARS:
        if (v->kind == V_NULL || (v->kind == V_INT && v->ival <= INT32_MAX)) {
            ev->age_years = v->kind == V_NULL ? SN_AGE_NONE : (int32_t)v->ival;
            return true;
        }
        return false;
    case J_LAB_CONFIRMED:
        if (v->kind == V_STRING || v->kind == V_INT) {
            return false;
        }
        ev->lab_confirmed = v->kind == V_NULL   ? SN_LAB_UNKNOWN
                            : v->kind == V_TRUE ? SN_LAB_CONFIRMED
                                                : SN_LAB_NEGATIVE;
        return true;
    default:
        return s_set_enum(f, v, ev);
    }
}

/* Read one "key": value member at p; `seen` has a bit per key read. */
static const char *
s_member(const char *p, const char *end, uint32_t *seen, sn_event_t *ev)
{
    const char *k;
    size_t kn;
    s_value_t v;
    if (p >= end || *p != '"' || (p = s_string(p, end, &k, &kn)) == NULL) {
        return NULL;
    }
    s_key_t f = s_lookup(k, kn);
    if (f == J_NONE || (*seen & (1u << f)) != 0) {
        return NULL;
    }
    *seen |= 1u << f;
    p = s_ws(p, end);
    if (p >= end || *p != ':') {
        return NULL;
    }
    p = s_ws(p + 1, end);
    if (p >= end || (p = s_value(p, end, &v)) == NULL || !s_set(f, &v, ev)) {
        return NULL;
    }
    return s_ws(p, end);
}

int
sn_event_json_fast(const char *text, size_t len, sn_event_t *ev)
{
    const char *end = text + len;
    const char *p = s_ws(text, end);
    uint32_t seen = 0;
    sn_event_init(ev);
    if (p >= end || *p != '{') {
        return SN_EAGAIN;
    }
    p = s_ws(p + 1, end);
    if (p < end && *p == '}') {
        return s_ws(p + 1, end) == end ? SN_OK : SN_EAGAIN;
    }
    for (;;) {
        p = s_member(p, end, &seen, ev);
        if (p == NULL || p >= end) {
            return SN_EAGAIN;
        }
        if (*p == '}') {
            return s_ws(p + 1, end) == end ? SN_OK : SN_EAGAIN;
        }
        if (*p != ',') {
            return SN_EAGAIN;
        }
        p = s_ws(p + 1, end);
    }
}
