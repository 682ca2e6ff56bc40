/*  analyzer/query_out.c - the row printer of the queries (CSV, JSON, table)
 *
 *  `sentinel query` prints every answer through one printer, so the three
 *  formats stay alike for list, series and alerts: the same column names,
 *  the same "NA" for a missing number (null in JSON).
 */
#include "query_int.h"

#include "sentinel/mem.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_TABLE_GAP 2 /* spaces between table columns */

struct ana_query_out {
    ana_query_format_t fmt; /* how to print */
    FILE *out;              /* where; borrowed */
    size_t ncol;            /* columns */
    char **names;           /* ncol column names, owned */
    bool *numeric;          /* ncol flags: number column */
    char **kept;            /* table only: nrows * ncol cells, owned */
    size_t nrows, cap;      /* kept rows and capacity */
};

/* Print one CSV cell, quoted (RFC 4180) when it needs it. */
static void
s_csv_cell(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s != '\0'; s++) {
        if (*s == '"') {
            fputc('"', out);
        }
        fputc(*s, out);
    }
    fputc('"', out);
}

static void
s_csv_row(ana_query_out_t *self, const char *const *cells)
{
    for (size_t i = 0; i < self->ncol; i++) {
        if (i > 0) {
            fputc(',', self->out);
        }
        s_csv_cell(self->out, cells[i]);
    }
    fputc('\n', self->out);
}

/* @return the JSON value of one cell: a number column's text as a number
 * (null for NA or text that is not a number), anything else a string. */
static json_t *
s_json_value(const ana_query_out_t *self, size_t i, const char *cell)
{
    if (!self->numeric[i]) {
        return json_string(cell);
    }
    char *end = NULL;
    double v = strtod(cell, &end);
    if (end == cell || *end != '\0' || !isfinite(v)) {
        return json_null();
    }
    if (v == floor(v) && fabs(v) < 9e15) {
        return json_integer((json_int_t)v);
    }
    return json_real(v);
}

static void
s_json_row(ana_query_out_t *self, const char *const *cells)
{
    json_t *o = json_object();
    for (size_t i = 0; i < self->ncol; i++) {
        json_object_set_new(o, self->names[i], s_json_value(self, i, cells[i]));
    }
    json_dumpf(o, self->out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputc('\n', self->out);
    json_decref(o);
}

ana_query_out_t *
ana_query_out_new(ana_query_format_t fmt, FILE *out, const char *const *names,
                  const bool *numeric, size_t ncol)
{
    ana_query_out_t *self = sn_calloc(1, sizeof *self);
    self->fmt = fmt;
    self->out = out;
    self->ncol = ncol;
    self->names = sn_calloc(ncol + 1, sizeof(char *));
    self->numeric = sn_calloc(ncol + 1, sizeof(bool));
    for (size_t i = 0; i < ncol; i++) {
        self->names[i] = sn_strdup(names[i]);
        self->numeric[i] = numeric != NULL && numeric[i];
    }
    if (fmt == ANA_QUERY_CSV) {
        s_csv_row(self, names);
    } else if (fmt == ANA_QUERY_TABLE) {
        ana_query_out_row(self, names);
    }
    return self;
}

void
ana_query_out_row(ana_query_out_t *self, const char *const *cells)
{
    if (self->fmt == ANA_QUERY_CSV) {
        s_csv_row(self, cells);
        return;
    }
    if (self->fmt == ANA_QUERY_JSON) {
        s_json_row(self, cells);
        return;
    }
    if (self->nrows == self->cap) {
        self->cap = self->cap ? 2 * self->cap : 64;
        self->kept =
            sn_reallocarray(self->kept, self->cap * self->ncol, sizeof(char *));
    }
    for (size_t i = 0; i < self->ncol; i++) {
        self->kept[self->nrows * self->ncol + i] = sn_strdup(cells[i]);
    }
    self->nrows++;
}

/* Print the kept rows: text columns left-aligned, numbers right-aligned
 * (their header too), each as wide as its widest cell. */
static void
s_table_flush(ana_query_out_t *self)
{
    size_t *w = sn_calloc(self->ncol + 1, sizeof(size_t));
    for (size_t r = 0; r < self->nrows; r++) {
        for (size_t i = 0; i < self->ncol; i++) {
            size_t len = strlen(self->kept[r * self->ncol + i]);
            w[i] = len > w[i] ? len : w[i];
        }
    }
    for (size_t r = 0; r < self->nrows; r++) {
        for (size_t i = 0; i < self->ncol; i++) {
            const char *c = self->kept[r * self->ncol + i];
            int width = (int)w[i] * (self->numeric[i] ? 1 : -1);
            bool last = i + 1 == self->ncol;
            fprintf(self->out, "%*s", last && width < 0 ? 0 : width, c);
            fprintf(self->out, "%*s", last ? 0 : S_TABLE_GAP, "");
        }
        fputc('\n', self->out);
    }
    free(w);
}

int
ana_query_out_end(ana_query_out_t **self_p, sn_err_t *err)
{
    ana_query_out_t *self = *self_p;
    if (self->fmt == ANA_QUERY_TABLE) {
        s_table_flush(self);
    }
    for (size_t i = 0; i < self->nrows * self->ncol; i++) {
        free(self->kept[i]);
    }
    for (size_t i = 0; i < self->ncol; i++) {
        free(self->names[i]);
    }
    free(self->kept);
    free(self->names);
    free(self->numeric);
    int bad = fflush(self->out) != 0 || ferror(self->out);
    free(self);
    *self_p = NULL;
    return bad ? sn_err_set(err, SN_EIO, "cannot write the output") : SN_OK;
}

char *
ana_query_out_num(double v, char *buf)
{
    if (isnan(v)) {
        snprintf(buf, 32, "NA");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, 32, "%.0f", v);
    } else {
        snprintf(buf, 32, "%.6g", v);
    }
    return buf;
}
