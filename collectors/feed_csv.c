/*  collectors/feed_csv.c - CSV feed with a configured column mapping
 *
 *  The splitter follows RFC 4180 quoting, so a line break inside a quoted
 *  field stays inside its record, and counts the line breaks so a rejection
 *  names the line where its record starts. The first record is the header:
 *  each mapped column is located by name (trimmed, case-insensitive, a
 *  UTF-8 byte order mark ignored). Every later record is split into fields
 *  and only the mapped ones are read; a row whose field count differs from
 *  the header's, or whose mapped field does not parse, is rejected with the
 *  field and the reason.
 */
#include "feed_csv.h"
#include "feed_int.h"

#include "sentinel/mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_MAX_FIELDS 256 /* columns of one export */

static const char *const s_field_names[COL_CSV_FIELD_COUNT] = {
    "event_id", "revision",  "site_id",    "source",
    "region",   "condition", "onset_date", "report_time",
    "count",    "age_years", "sex",        "lab_confirmed"};

typedef struct s_csv {
    char delim;                         /* field separator */
    char *date_format;                  /* onset_date format */
    char *time_format;                  /* report_time format, or NULL */
    int tz_minutes;                     /* zone of formatted times */
    char *columns[COL_CSV_FIELD_COUNT]; /* header name per field */
    int index[COL_CSV_FIELD_COUNT];     /* column of each field, or -1 */
    col_cmap_t *cmap;                   /* condition map, or NULL */
    bool have_header;                   /* header row was read */
    size_t n_header;                    /* columns in the header */
    sn_err_t header_err;                /* why the header was refused */
    char *scratch;                      /* unquoted field bytes */
    size_t scratch_cap;                 /* its size */
    const char *fields[S_MAX_FIELDS];   /* fields of the current row */
} s_csv_t;

/* ------------------------------------------------------------- splitting */

/* A record ends at a LF outside quotes. As in the tokeniser, a quote opens
 * a quoted field only at the start of a field, and "" inside one is an
 * escaped quote; a stray quote elsewhere leaves the row to be rejected
 * rather than swallowing the lines after it. */
static size_t
s_split(void *impl, const uint8_t *p, size_t n, bool end, size_t *rec_len,
        uint64_t *lines)
{
    const s_csv_t *self = impl;
    bool quoted = false;
    uint64_t breaks = 0;
    for (size_t i = 0; i < n; i++) {
        if (quoted && p[i] == '"') {
            if (i + 1 == n && !end) {
                return 0; /* "" may straddle two pushes */
            }
            if (i + 1 < n && p[i + 1] == '"') {
                i++;
            } else {
                quoted = false;
            }
        } else if (!quoted && p[i] == '"' &&
                   (i == 0 || p[i - 1] == (uint8_t)self->delim ||
                    p[i - 1] == '\n' || (i == 3 && p[0] == 0xEF))) {
            quoted = true;
        } else if (p[i] == '\n') {
            breaks++;
            if (!quoted) {
                *rec_len = (i > 0 && p[i - 1] == '\r') ? i - 1 : i;
                *lines = breaks;
                return i + 1;
            }
        }
    }
    if (!end) {
        return 0;
    }
    *rec_len = n;
    *lines = breaks + 1;
    return n;
}

/* ------------------------------------------------------------ tokenising */

/* Split rec into NUL-terminated fields in self->scratch.
 * @return the number of fields, or an SN_EPARSE code with the reason. */
static int
s_tokenise(s_csv_t *self, const uint8_t *rec, size_t len, sn_err_t *err)
{
    if (len + 1 > self->scratch_cap) {
        self->scratch_cap = len + 1;
        self->scratch = sn_realloc(self->scratch, self->scratch_cap);
    }
    char *out = self->scratch;
    size_t i = 0;
    int nf = 0;
    for (;;) {
        if (nf == S_MAX_FIELDS) {
            return sn_err_set(err, SN_EPARSE, "more than %d fields",
                              S_MAX_FIELDS);
        }
        self->fields[nf++] = out;
        if (i < len && rec[i] == '"') {
            for (i++;; i++) {
                if (i == len) {
                    return sn_err_set(err, SN_EPARSE,
                                      "field %d: unterminated quote", nf);
                }
                if (rec[i] == '"') {
                    if (i + 1 < len && rec[i + 1] == '"') {
                        *out++ = '"';
                        i++;
                        continue;
                    }
                    i++;
                    break;
                }
                *out++ = (char)rec[i];
            }
            if (i < len && rec[i] != (uint8_t)self->delim) {
                return sn_err_set(err, SN_EPARSE,
                                  "field %d: text after the closing quote", nf);
            }
        } else {
            for (; i < len && rec[i] != (uint8_t)self->delim; i++) {
                if (rec[i] == '"') {
                    return sn_err_set(err, SN_EPARSE,
                                      "field %d: quote inside an unquoted "
                                      "field",
                                      nf);
                }
                *out++ = (char)rec[i];
            }
        }
        *out++ = '\0';
        if (i >= len) {
            return nf;
        }
        i++; /* the delimiter */
    }
}

/* --------------------------------------------------------------- header */

static const char *
s_trim(const char *s, size_t *n)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
        len--;
    }
    *n = len;
    return s;
}

static int
s_find_column(const s_csv_t *self, int nf, const char *want)
{
    for (int c = 0; c < nf; c++) {
        size_t n;
        const char *h = s_trim(self->fields[c], &n);
        if (n == strlen(want) && strncasecmp(h, want, n) == 0) {
            return c;
        }
    }
    return -1;
}

static int
s_header(s_csv_t *self, int nf, sn_err_t *err)
{
    self->have_header = true;
    self->n_header = (size_t)nf;
    for (int f = 0; f < COL_CSV_FIELD_COUNT; f++) {
        self->index[f] = -1;
        if (!self->columns[f]) {
            continue;
        }
        self->index[f] = s_find_column(self, nf, self->columns[f]);
        if (self->index[f] < 0) {
            sn_err_set(&self->header_err, SN_EPARSE,
                       "header: no column '%.64s' (mapped to %s)",
                       self->columns[f], s_field_names[f]);
            *err = self->header_err;
            return COL_FEED_REJECT;
        }
    }
    return COL_FEED_AGAIN;
}

/* ---------------------------------------------------------------- values */

/* Read `width` digits at most (at least one) from *s. */
static bool
s_digits(const char **s, int width, int *out)
{
    int v = 0;
    int k = 0;
    while (k < width && isdigit((unsigned char)**s)) {
        v = v * 10 + (**s - '0');
        (*s)++;
        k++;
    }
    *out = v;
    return k > 0;
}

/* Parse `s` with the strftime-like `fmt` (%Y %m %d %H %M %S %%) into the
 * milliseconds of that wall-clock time, taken as UTC. */
static bool
s_parse_fmt(const char *fmt, const char *s, sn_time_t *out)
{
    int v[6] = {0, 1, 1, 0, 0, 0}; /* Y m d H M S */
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            if (*s++ != *f) {
                return false;
            }
            continue;
        }
        f++;
        if (*f == '%') {
            if (*s++ != '%') {
                return false;
            }
            continue;
        }
        const char *spec = *f ? strchr("YmdHMS", *f) : NULL;
        if (!spec || !s_digits(&s, *f == 'Y' ? 4 : 2, &v[spec - "YmdHMS"])) {
            return false;
        }
    }
    char day[SN_DAY_STR_MAX + 8];
    sn_day_t d;
    snprintf(day, sizeof day, "%04d-%02d-%02d", v[0], v[1], v[2]);
    if (*s || sn_day_parse(day, &d) != SN_OK || v[3] > 23 || v[4] > 59 ||
        v[5] > 60) {
        return false;
    }
    *out = ((sn_time_t)d * 86400 + v[3] * 3600 + v[4] * 60 + v[5]) * 1000;
    return true;
}

static bool
s_uint(const char *s, uint64_t max, uint64_t *out)
{
    if (!isdigit((unsigned char)*s)) {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool
s_word_in(const char *s, const char *const *words)
{
    for (size_t i = 0; words[i]; i++) {
        if (strcasecmp(s, words[i]) == 0) {
            return true;
        }
    }
    return false;
}

static int
s_set_sex(const char *v, sn_event_t *ev)
{
    static const char *const m[] = {"m", "male", "1", "男", NULL};
    static const char *const f[] = {"f", "female", "2", "女", NULL};
    static const char *const o[] = {"o", "other", NULL};
    static const char *const u[] = {"u", "unknown", "", NULL};
    ev->sex = s_word_in(v, m)   ? SN_SEX_MALE
              : s_word_in(v, f) ? SN_SEX_FEMALE
              : s_word_in(v, o) ? SN_SEX_OTHER
                                : SN_SEX_UNKNOWN;
    return (ev->sex != SN_SEX_UNKNOWN || s_word_in(v, u)) ? SN_OK : SN_EPARSE;
}

static int
s_set_lab(const char *v, sn_event_t *ev)
{
    static const char *const yes[] = {"true",      "yes",      "1", "y",
                                      "confirmed", "positive", NULL};
    static const char *const no[] = {"false", "no", "0", "n", "negative", NULL};
    if (!*v) {
        ev->lab_confirmed = SN_LAB_UNKNOWN;
    } else if (s_word_in(v, yes)) {
        ev->lab_confirmed = SN_LAB_CONFIRMED;
    } else if (s_word_in(v, no)) {
        ev->lab_confirmed = SN_LAB_NEGATIVE;
    } else {
        return SN_EPARSE;
    }
    return SN_OK;
}

static int
s_set_condition(const s_csv_t *self, const char *v, sn_event_t *ev)
{
    const char *code = v;
    if (self->cmap && !col_cmap_find(self->cmap, v)) {
        code = col_cmap_match(self->cmap, &v, 1, v);
        if (!code) {
            return SN_ENOTFOUND;
        }
    }
    return col_feed_copy(ev->condition, sizeof ev->condition, code,
                         strlen(code));
}

static int
s_set_time(const s_csv_t *self, const char *v, sn_event_t *ev)
{
    sn_time_t t;
    if (self->time_format) {
        if (!s_parse_fmt(self->time_format, v, &t)) {
            return SN_EPARSE;
        }
    } else if (sn_time_parse(v, &t) == SN_OK) {
        ev->report_time = t;
        return SN_OK;
    } else if (!s_parse_fmt(self->date_format, v, &t)) {
        return SN_EPARSE;
    }
    ev->report_time = t - (sn_time_t)self->tz_minutes * 60000;
    return SN_OK;
}

/* Store value `v` of field `f`. @return SN_OK or a code for s_why(). */
static int
s_set(const s_csv_t *self, col_csv_field_t f, const char *v, sn_event_t *ev)
{
    uint64_t u;
    sn_time_t t;
    switch (f) {
    case COL_CSV_EVENT_ID:
        return col_feed_copy(ev->event_id, sizeof ev->event_id, v, strlen(v));
    case COL_CSV_SITE_ID:
        return col_feed_copy(ev->site_id, sizeof ev->site_id, v, strlen(v));
    case COL_CSV_REGION:
        return col_feed_copy(ev->region, sizeof ev->region, v, strlen(v));
    case COL_CSV_CONDITION:
        return s_set_condition(self, v, ev);
    case COL_CSV_SOURCE:
        return *v ? sn_source_parse(v, &ev->source) : SN_OK;
    case COL_CSV_REVISION:
    case COL_CSV_COUNT:
        if (!s_uint(v, UINT32_MAX, &u)) {
            return SN_EPARSE;
        }
        *(f == COL_CSV_COUNT ? &ev->count : &ev->revision) = (uint32_t)u;
        return SN_OK;
    case COL_CSV_AGE_YEARS:
        if (*v && !s_uint(v, 150, &u)) {
            return SN_EPARSE;
        }
        ev->age_years = *v ? (int32_t)u : SN_AGE_NONE;
        return SN_OK;
    case COL_CSV_ONSET_DATE:
        if (*v && !s_parse_fmt(self->date_format, v, &t)) {
            return SN_EPARSE;
        }
        ev->onset_date = *v ? sn_time_day(t) : SN_DAY_NONE;
        return SN_OK;
    case COL_CSV_REPORT_TIME:
        return s_set_time(self, v, ev);
    case COL_CSV_SEX:
        return s_set_sex(v, ev);
    case COL_CSV_LAB_CONFIRMED:
        return s_set_lab(v, ev);
    default:
        return SN_EINVAL;
    }
}

static const char *
s_why(const s_csv_t *self, col_csv_field_t f, int rc)
{
    if (rc == SN_EOVERFLOW) {
        return "too long";
    }
    if (rc == SN_ENOTFOUND && f == COL_CSV_CONDITION) {
        return "not a known condition, ICD-10 code or complaint";
    }
    if (rc == SN_ENOTFOUND) {
        return "unknown source";
    }
    if (f == COL_CSV_ONSET_DATE ||
        (f == COL_CSV_REPORT_TIME && !self->time_format)) {
        return f == COL_CSV_ONSET_DATE ? "not a date in the configured format"
                                       : "not a time or a date";
    }
    return f == COL_CSV_REPORT_TIME ? "not a time in the configured format"
                                    : "not a valid value";
}

/* ----------------------------------------------------------------- parse */

static int
s_row(s_csv_t *self, const col_site_t *site, int nf, col_record_t *out)
{
    if ((size_t)nf != self->n_header) {
        sn_err_set(&out->err, SN_EPARSE, "row has %d fields, the header %zu",
                   nf, self->n_header);
        return COL_FEED_REJECT;
    }
    for (int f = 0; f < COL_CSV_FIELD_COUNT; f++) {
        if (self->index[f] < 0) {
            continue;
        }
        size_t n;
        const char *v = s_trim(self->fields[self->index[f]], &n);
        ((char *)v)[n] = '\0';
        int rc = s_set(self, (col_csv_field_t)f, v, &out->event);
        if (rc != SN_OK) {
            sn_err_set(&out->err, SN_EPARSE,
                       "field '%s' (column '%.64s'): "
                       "'%.64s' is %s",
                       s_field_names[f], self->columns[f], v,
                       s_why(self, (col_csv_field_t)f, rc));
            return COL_FEED_REJECT;
        }
    }
    col_feed_apply_site(site, &out->event);
    return COL_FEED_EVENT;
}

static int
s_parse(void *impl, const col_site_t *site, const uint8_t *rec, size_t len,
        col_record_t *out)
{
    s_csv_t *self = impl;
    if (len == 0) {
        return COL_FEED_AGAIN;
    }
    if (self->have_header && self->header_err.code != SN_OK) {
        sn_err_set(&out->err, SN_EPARSE, "no usable header row (%s)",
                   self->header_err.msg);
        return COL_FEED_REJECT;
    }
    if (!self->have_header && len >= 3 && memcmp(rec, "\xEF\xBB\xBF", 3) == 0) {
        rec += 3; /* a UTF-8 byte order mark */
        len -= 3;
    }
    int nf = s_tokenise(self, rec, len, &out->err);
    if (nf < 0) {
        if (!self->have_header) {
            self->have_header = true;
            sn_err_prefix(&out->err, "header");
            self->header_err = out->err;
        }
        return COL_FEED_REJECT;
    }
    if (!self->have_header) {
        return s_header(self, nf, &out->err);
    }
    return s_row(self, site, nf, out);
}

static void
s_destroy(void *impl)
{
    s_csv_t *self = impl;
    free(self->date_format);
    free(self->time_format);
    for (int f = 0; f < COL_CSV_FIELD_COUNT; f++) {
        free(self->columns[f]);
    }
    col_cmap_destroy(&self->cmap);
    free(self->scratch);
    free(self);
}

static const col_feed_ops_t s_ops = {
    .kind = COL_FEED_CSV,
    .by_line = true,
    .split = s_split,
    .parse = s_parse,
    .destroy = s_destroy,
};

col_feed_t *
col_feed_csv_new(const char *name, const col_site_t *site,
                 const col_csv_opts_t *opts, col_cmap_t **cmap_p,
                 size_t max_record)
{
    s_csv_t *self = sn_calloc(1, sizeof *self);
    self->delim = opts->delimiter ? opts->delimiter : ',';
    self->date_format =
        sn_strdup(opts->date_format ? opts->date_format : "%Y-%m-%d");
    self->time_format = sn_strdup(opts->time_format);
    self->tz_minutes = opts->tz_offset_minutes;
    for (int f = 0; f < COL_CSV_FIELD_COUNT; f++) {
        self->columns[f] = sn_strdup(opts->columns[f]);
    }
    if (cmap_p) {
        self->cmap = *cmap_p;
        *cmap_p = NULL;
    }
    return col_feed_new_kind(&s_ops, self, name, site, max_record);
}

int
col_csv_field_parse(const char *name)
{
    for (int f = 0; name && f < COL_CSV_FIELD_COUNT; f++) {
        if (strcmp(name, s_field_names[f]) == 0) {
            return f;
        }
    }
    return -1;
}

const char *
col_csv_field_name(col_csv_field_t field)
{
    return (field >= 0 && field < COL_CSV_FIELD_COUNT) ? s_field_names[field]
                                                       : "unknown";
}
