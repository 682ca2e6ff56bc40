/*  analyzer/detect/detector.c - the registry of detectors and their streams
 *
 *  Every algorithm file exports det_method_t tables (detect_int.h). This file
 *  lists them, parses and checks parameters by each table's definitions,
 *  checks the range before handing a series to the algorithm, and runs the
 *  streaming form: a ring of the newest values, twice as long as needed so
 *  the window is always contiguous, plus the method's own bounded state.
 */
#include "sentinel/detector.h"

#include "detect_int.h"
#include "sentinel/mem.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- types */

struct sn_detector {
    const det_method_t *m;        /* the method's table */
    double p[2 * DET_MAX_PARAMS]; /* parameter values (detect_int.h) */
};

struct sn_det_stream {
    const sn_detector_t *det; /* borrowed; outlives the stream */
    int frequency;            /* periods per year */
    size_t from;              /* first evaluated push (0-based) */
    size_t cap;               /* ring capacity: the method's history */
    size_t count;             /* values pushed so far */
    double *vals;             /* 2 * cap values: each stored twice */
    sn_day_t *days;           /* 2 * cap days, likewise */
    void *state;              /* the method's own state, or NULL */
};

static const det_method_t *const s_methods[] = {
    &det_ears_c1,    &det_ears_c2,
    &det_ears_c3,    &det_cusum,
    &det_bayes,      &det_rki,
    &det_mpm,        &det_ewma,
    &det_farrington, &det_farrington_flexible,
    &det_glrnb,      NULL};

static const char *const s_names[] = {
    "ears-c1", "ears-c2", "ears-c3", "cusum",      "bayes",
    "rki",     "mpm",     "ewma",    "farrington", "farrington-flexible",
    "glrnb",   NULL};

/* -------------------------------------------------------------- helpers */

void
det_point_init(sn_det_point_t *pt)
{
    pt->observed = NAN;
    pt->expected = NAN;
    pt->upperbound = NAN;
    pt->score = NAN;
    pt->alarm = SN_DET_NA;
    pt->label = NULL;
}

void
det_point_na(sn_det_point_t *pt)
{
    det_point_init(pt);
    for (size_t i = 0; i < SN_DET_MAX_EXTRA; i++) {
        pt->extra[i] = NAN;
    }
}

static int
s_find_param(const det_method_t *m, const char *name)
{
    for (int i = 0; m->params[i].name != NULL; i++) {
        if (strcmp(m->params[i].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

/* Parse a whole number, or "a/b" when fractions are allowed. */
static int
s_parse_number(const char *text, bool fraction, double *out)
{
    char *end;
    if (*text == '\0') {
        return -1;
    }
    double v = strtod(text, &end);
    if (fraction && *end == '/' && end != text) {
        const char *den = end + 1;
        double d = strtod(den, &end);
        if (end == den || d == 0) {
            return -1;
        }
        v /= d;
    }
    if (*end != '\0' || end == text || isnan(v)) {
        return -1;
    }
    *out = v;
    return 0;
}

static int
s_parse_bool(const char *text, double *out)
{
    static const char *const yes[] = {"TRUE", "true", "T", "1", NULL};
    static const char *const no[] = {"FALSE", "false", "F", "0", NULL};
    for (int i = 0; yes[i] != NULL; i++) {
        if (strcmp(text, yes[i]) == 0 || strcmp(text, no[i]) == 0) {
            *out = strcmp(text, yes[i]) == 0;
            return 0;
        }
    }
    return -1;
}

static int
s_parse_enum(const det_param_def_t *d, const char *text, double *out,
             sn_err_t *err)
{
    char list[256] = "";
    for (int i = 0; d->choices[i] != NULL; i++) {
        if (strcmp(text, d->choices[i]) == 0) {
            *out = i;
            return SN_OK;
        }
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                 d->choices[i]);
    }
    return sn_err_set(err, SN_EINVAL,
                      "parameter '%s': expected one of %s, got '%s'", d->name,
                      list, text);
}

static int
s_check_range(const det_param_def_t *d, double v, sn_err_t *err)
{
    if (v < d->min || v > d->max) {
        return sn_err_set(err, SN_ERANGE,
                          "parameter '%s': %g is out of range [%g, %g]",
                          d->name, v, d->min, d->max);
    }
    return SN_OK;
}

static int
s_parse_pair(const det_param_def_t *d, const char *text, double *a, double *b,
             sn_err_t *err)
{
    const char *comma = strchr(text, ',');
    char first[64];
    size_t len = comma ? (size_t)(comma - text) : 0;
    if (comma == NULL || len >= sizeof first) {
        goto bad;
    }
    memcpy(first, text, len);
    first[len] = '\0';
    if (s_parse_number(first, false, a) < 0 ||
        s_parse_number(comma + 1, false, b) < 0) {
        goto bad;
    }
    int rc = s_check_range(d, *a, err);
    return rc < 0 ? rc : s_check_range(d, *b, err);
bad:
    return sn_err_set(err, SN_EINVAL,
                      "parameter '%s': expected two numbers 'a,b', got '%s'",
                      d->name, text);
}

/* Parse a number-valued parameter (DOUBLE or INT) and check its range. */
static int
s_parse_numeric(const det_param_def_t *d, const char *value, double *out,
                sn_err_t *err)
{
    double v;
    if (s_parse_number(value, d->type == DET_PARAM_DOUBLE, &v) < 0) {
        return sn_err_set(err, SN_EINVAL,
                          "parameter '%s': expected a number, got '%s'",
                          d->name, value);
    }
    if (d->type == DET_PARAM_INT && v != floor(v)) {
        return sn_err_set(err, SN_EINVAL,
                          "parameter '%s': expected an integer, got '%s'",
                          d->name, value);
    }
    int rc = s_check_range(d, v, err);
    if (rc == SN_OK) {
        *out = v;
    }
    return rc;
}

/* ------------------------------------------------------------ lifecycle */

const char *const *
sn_detector_methods(void)
{
    return s_names;
}

sn_detector_t *
sn_detector_new(const char *method, sn_err_t *err)
{
    assert(method);
    for (size_t i = 0; s_methods[i] != NULL; i++) {
        const det_method_t *m = s_methods[i];
        if (strcmp(m->name, method) != 0) {
            continue;
        }
        sn_detector_t *self = sn_calloc(1, sizeof *self);
        self->m = m;
        for (int j = 0; m->params[j].name != NULL; j++) {
            assert(j < DET_MAX_PARAMS);
            self->p[j] = m->params[j].dflt;
            self->p[DET_MAX_PARAMS + j] = m->params[j].dflt2;
        }
        return self;
    }
    sn_err_set(err, SN_ENOTFOUND, "unknown method '%s'", method);
    return NULL;
}

void
sn_detector_destroy(sn_detector_t **self_p)
{
    if (self_p && *self_p) {
        free(*self_p);
        *self_p = NULL;
    }
}

/* ------------------------------------------------------------------ API */

const char *
sn_detector_method(const sn_detector_t *self)
{
    return self->m->name;
}

int
sn_detector_set(sn_detector_t *self, const char *name, const char *value,
                sn_err_t *err)
{
    int i = s_find_param(self->m, name);
    if (i < 0) {
        return sn_err_set(err, SN_ENOTFOUND,
                          "method '%s' has no parameter '%s'", self->m->name,
                          name);
    }
    const det_param_def_t *d = &self->m->params[i];
    double v = NAN, v2 = NAN;
    int rc = SN_OK;
    if (d->nullable &&
        (strcmp(value, "NULL") == 0 || strcmp(value, "NA") == 0)) {
        v = NAN;
    } else if (d->type == DET_PARAM_BOOL) {
        if (s_parse_bool(value, &v) < 0) {
            rc = sn_err_set(err, SN_EINVAL,
                            "parameter '%s': expected TRUE or FALSE, got '%s'",
                            name, value);
        }
    } else if (d->type == DET_PARAM_ENUM) {
        rc = s_parse_enum(d, value, &v, err);
    } else if (d->type == DET_PARAM_PAIR) {
        rc = s_parse_pair(d, value, &v, &v2, err);
    } else {
        rc = s_parse_numeric(d, value, &v, err);
    }
    if (rc == SN_OK) {
        self->p[i] = v;
        self->p[DET_MAX_PARAMS + i] = v2;
    }
    return rc;
}

double
sn_detector_get(const sn_detector_t *self, const char *name)
{
    int i = s_find_param(self->m, name);
    return i < 0 ? NAN : self->p[i];
}

int64_t
sn_detector_first(const sn_detector_t *self, const sn_det_input_t *in)
{
    return self->m->first(self->p, in);
}

size_t
sn_detector_extra_count(const sn_detector_t *self)
{
    size_t n = 0;
    while (self->m->extra && self->m->extra[n] != NULL) {
        n++;
    }
    return n;
}

const char *
sn_detector_extra_name(const sn_detector_t *self, size_t i)
{
    assert(i < sn_detector_extra_count(self));
    return self->m->extra[i];
}

const char *
sn_detector_label_name(const sn_detector_t *self)
{
    return self->m->label;
}

/* Check the range from..to (0-based) against the series and the method. */
static int
s_check_eval(const sn_detector_t *self, const sn_det_input_t *in, size_t from,
             size_t to, sn_err_t *err)
{
    if (from > to) {
        return sn_err_set(err, SN_ERANGE, "range %zu:%zu is empty", from + 1,
                          to + 1);
    }
    if (to >= in->n) {
        return sn_err_set(err, SN_ERANGE,
                          "range %zu:%zu goes past the end of the series "
                          "(%zu points)",
                          from + 1, to + 1, in->n);
    }
    int64_t first = self->m->first(self->p, in);
    if (first < 0) {
        return sn_err_set(err, SN_ENODATA,
                          "the series (%zu points) is too short for method "
                          "'%s' with these parameters",
                          in->n, self->m->name);
    }
    if ((int64_t)from < first) {
        return sn_err_set(err, SN_ENODATA,
                          "time point %zu has too little history: method "
                          "'%s' with these parameters starts at %lld",
                          from + 1, self->m->name, (long long)first + 1);
    }
    return SN_OK;
}

int
sn_detector_eval(const sn_detector_t *self, const sn_det_input_t *in,
                 size_t from, size_t to, sn_det_point_t *out, sn_err_t *err)
{
    if (self->m->validate) {
        int rc = self->m->validate(self->p, err);
        if (rc < 0) {
            return rc;
        }
    }
    if (in->frequency <= 0) {
        return sn_err_set(err, SN_EINVAL, "frequency %d is not positive",
                          in->frequency);
    }
    int rc = s_check_eval(self, in, from, to, err);
    if (rc < 0) {
        return rc;
    }
    return self->m->eval(self->p, in, from, to, out, err);
}

/* --------------------------------------------------------------- stream */

sn_det_stream_t *
sn_det_stream_new(const sn_detector_t *det, int frequency, size_t from)
{
    assert(det && frequency > 0);
    sn_det_stream_t *self = sn_calloc(1, sizeof *self);
    self->det = det;
    self->frequency = frequency;
    self->from = from;
    self->cap = det->m->history(det->p, frequency);
    assert(self->cap > 0);
    self->vals = sn_calloc(2 * self->cap, sizeof *self->vals);
    self->days = sn_calloc(2 * self->cap, sizeof *self->days);
    if (det->m->state_size > 0) {
        self->state = sn_calloc(1, det->m->state_size);
        if (det->m->state_init) {
            det->m->state_init(det->p, frequency, self->state);
        }
    }
    return self;
}

void
sn_det_stream_destroy(sn_det_stream_t **self_p)
{
    if (self_p && *self_p) {
        sn_det_stream_t *self = *self_p;
        free(self->vals);
        free(self->days);
        free(self->state);
        free(self);
        *self_p = NULL;
    }
}

/* Does `day` follow the newest day of the ring? */
static bool
s_follows(const sn_det_stream_t *self, sn_day_t day)
{
    if (self->count == 0) {
        return true;
    }
    sn_day_t last = self->days[(self->count - 1) % self->cap + self->cap];
    if (self->frequency == 52) {
        return day == last + 7;
    }
    if (self->frequency == 365) {
        return day == last + 1;
    }
    return day > last;
}

int
sn_det_stream_push(sn_det_stream_t *self, sn_day_t day, double count,
                   sn_det_point_t *out)
{
    if (!s_follows(self, day)) {
        return SN_EINVAL;
    }
    size_t pos = self->count % self->cap;
    self->vals[pos] = self->vals[pos + self->cap] = count;
    self->days[pos] = self->days[pos + self->cap] = day;
    size_t t = self->count++;
    size_t len = self->count < self->cap ? self->count : self->cap;
    size_t start = pos + self->cap + 1 - len;
    sn_det_input_t ring = {self->vals + start, self->days + start, len,
                           self->frequency, false};
    const det_method_t *m = self->det->m;
    det_point_na(out);
    out->observed = count;
    if (m->step) {
        m->step(self->det->p, self->state, &ring, t, self->from, out);
        return SN_OK;
    }
    int64_t first = m->first(self->det->p, &ring);
    if (t < self->from || first < 0 || (size_t)first > len - 1) {
        return SN_OK;
    }
    sn_err_t err;
    if (m->eval(self->det->p, &ring, len - 1, len - 1, out, &err) < 0) {
        det_point_na(out);
        out->observed = count;
    }
    return SN_OK;
}

size_t
sn_det_stream_size(const sn_det_stream_t *self)
{
    return self->count;
}
