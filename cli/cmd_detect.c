/*  cli/cmd_detect.c - `sentinel detect`: run one detector over a CSV series
 *
 *  The contract other tools and the reference tests rely on: a CSV with a
 *  header naming `date` and `count` (and optionally `series`, which makes
 *  every series of the file be evaluated on its own), one detector with
 *  parameters named as the reference's control list, an optional 1-based
 *  inclusive range, and CSV out: t,date,observed,upperbound,alarm and the
 *  method's extra columns, with NA where the reference gives NA. Usage
 *  errors, bad parameters and malformed rows exit 2 with the line or
 *  parameter named.
 */
#include "cli.h"

#include "sentinel/date.h"
#include "sentinel/detector.h"
#include "sentinel/error.h"
#include "sentinel/mem.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char s_usage[] =
    "usage: sentinel detect --method METHOD [--param NAME=VALUE]… "
    "[--range FROM:TO] [--frequency N] FILE.csv|-\n"
    "\n"
    "Run one outbreak detector over a series and print, for each evaluated\n"
    "time point, t,date,observed,upperbound,alarm and the method's extra\n"
    "columns (NA where the reference implementation gives NA).\n"
    "\n"
    "  --method M          the detector (see the list below)\n"
    "  --param NAME=VALUE  a parameter, named as R's control list names it\n"
    "  --range FROM:TO     1-based inclusive time points to evaluate\n"
    "                      (default: from the first evaluable one to the end)\n"
    "  --frequency N       periods per year (default: inferred from the "
    "dates:\n"
    "                      52 weekly, 365 daily, 12 monthly)\n"
    "\n"
    "The CSV has a header with `date` (YYYY-MM-DD) and `count` (NA when\n"
    "missing); with a `series` column each series is evaluated on its own\n"
    "and every output row starts with its name.\n";

#define DET_CLI_MAX_PARAMS 64

/* The command line, parsed. */
typedef struct s_opts {
    const char *method;                     /* --method */
    const char *params[DET_CLI_MAX_PARAMS]; /* NAME=VALUE texts */
    int nparams;                            /* how many */
    long from, to;                          /* --range, 0 when absent */
    int frequency;                          /* --frequency, 0 to infer */
    const char *file;                       /* FILE or "-" */
} s_opts_t;

/* One series of the input file. */
typedef struct s_series {
    char *name;    /* the `series` value, or NULL */
    double *count; /* counts, NAN when missing */
    sn_day_t *day; /* period start days */
    size_t n, cap; /* used and allocated */
} s_series_t;

/* ------------------------------------------------------ command line */

static int
s_parse_range(const char *text, s_opts_t *o)
{
    char *end;
    o->from = strtol(text, &end, 10);
    if (*end != ':' || end == text) {
        return -1;
    }
    const char *b = end + 1;
    o->to = strtol(b, &end, 10);
    if (*end != '\0' || end == b || o->from < 1 || o->to < o->from) {
        return -1;
    }
    return 0;
}

static int
s_parse_flag(int argc, char **argv, int *i, s_opts_t *o)
{
    const char *flag = argv[*i];
    if (*i + 1 >= argc) {
        return cli_usage("detect", "%s needs a value", flag);
    }
    const char *v = argv[++*i];
    if (strcmp(flag, "--method") == 0) {
        o->method = v;
    } else if (strcmp(flag, "--param") == 0) {
        if (strchr(v, '=') == NULL || o->nparams >= DET_CLI_MAX_PARAMS) {
            return cli_usage("detect", "--param '%s': expected NAME=VALUE", v);
        }
        o->params[o->nparams++] = v;
    } else if (strcmp(flag, "--range") == 0) {
        if (s_parse_range(v, o) < 0) {
            return cli_usage(
                "detect", "--range '%s': expected FROM:TO, 1 <= FROM <= TO", v);
        }
    } else {
        char *end;
        long f = strtol(v, &end, 10);
        if (*end != '\0' || end == v || f < 1 || f > 366) {
            return cli_usage("detect",
                             "--frequency '%s': expected 1 to 366 periods "
                             "per year",
                             v);
        }
        o->frequency = (int)f;
    }
    return CLI_EXIT_OK;
}

static int
s_parse_args(int argc, char **argv, s_opts_t *o)
{
    static const char *const flags[] = {"--method", "--param", "--range",
                                        "--frequency", NULL};
    for (int i = 1; i < argc; i++) {
        bool known = false;
        for (int f = 0; flags[f] != NULL; f++) {
            known = known || strcmp(argv[i], flags[f]) == 0;
        }
        if (known) {
            int rc = s_parse_flag(argc, argv, &i, o);
            if (rc != CLI_EXIT_OK) {
                return rc;
            }
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage("detect", "unknown flag '%s'", argv[i]);
        } else if (o->file != NULL) {
            return cli_usage("detect", "one input file only, got '%s'",
                             argv[i]);
        } else {
            o->file = argv[i];
        }
    }
    if (o->method == NULL) {
        return cli_usage("detect", "--method is required");
    }
    if (o->file == NULL) {
        return cli_usage("detect", "an input file (or -) is required");
    }
    return CLI_EXIT_OK;
}

/* ----------------------------------------------------------- reading */

/* Split `line` at commas in place; @return the number of fields. */
static int
s_split(char *line, char **fields, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line;; p++) {
        if (n < max) {
            fields[n] = p;
        }
        n++;
        p = strchr(p, ',');
        if (p == NULL) {
            break;
        }
        *p = '\0';
    }
    return n;
}

static void
s_series_push(s_series_t *s, sn_day_t day, double count)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->count = sn_reallocarray(s->count, s->cap, sizeof *s->count);
        s->day = sn_reallocarray(s->day, s->cap, sizeof *s->day);
    }
    s->count[s->n] = count;
    s->day[s->n] = day;
    s->n++;
}

static int
s_parse_count(const char *text, double *out)
{
    if (strcmp(text, "NA") == 0 || *text == '\0') {
        *out = NAN;
        return 0;
    }
    char *end;
    double v = strtod(text, &end);
    if (*end != '\0' || !isfinite(v) || v < 0) {
        return -1;
    }
    *out = v;
    return 0;
}

/* Column positions of the header. */
typedef struct s_cols {
    int date, count, series, n; /* -1 when absent; n: fields */
} s_cols_t;

static int
s_header(char *line, const char *file, s_cols_t *c)
{
    char *f[256];
    int n = s_split(line, f, 256);
    c->date = c->count = c->series = -1;
    c->n = n;
    for (int i = 0; i < n && i < 256; i++) {
        c->date = strcmp(f[i], "date") == 0 ? i : c->date;
        c->count = strcmp(f[i], "count") == 0 ? i : c->count;
        c->series = strcmp(f[i], "series") == 0 ? i : c->series;
    }
    if (c->date < 0 || c->count < 0) {
        fprintf(stderr,
                "sentinel detect: %s:1: the header needs 'date' and "
                "'count' columns\n",
                file);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Add one data row to the last series (or a new one). */
static int
s_row(char *line, const s_cols_t *c, const char *file, long lineno,
      s_series_t **all, size_t *nall)
{
    char *f[256];
    int n = s_split(line, f, 256);
    sn_day_t day;
    double count;
    const char *why = NULL;
    if (n != c->n) {
        why = "wrong number of fields";
    } else if (sn_day_parse(f[c->date], &day) < 0) {
        why = "field 'date': expected YYYY-MM-DD";
    } else if (s_parse_count(f[c->count], &count) < 0) {
        why = "field 'count': expected a number >= 0 or NA";
    }
    if (why != NULL) {
        fprintf(stderr, "sentinel detect: %s:%ld: %s\n", file, lineno, why);
        return CLI_EXIT_USAGE;
    }
    const char *name = c->series >= 0 ? f[c->series] : NULL;
    s_series_t *last = *nall ? &(*all)[*nall - 1] : NULL;
    if (last == NULL || (name && strcmp(last->name, name) != 0)) {
        for (size_t i = 0; name && i < *nall; i++) {
            if (strcmp((*all)[i].name, name) == 0) {
                fprintf(stderr,
                        "sentinel detect: %s:%ld: series '%s' appears again "
                        "after another series; group its rows together\n",
                        file, lineno, name);
                return CLI_EXIT_USAGE;
            }
        }
        *all = sn_reallocarray(*all, *nall + 1, sizeof **all);
        last = &(*all)[(*nall)++];
        memset(last, 0, sizeof *last);
        last->name = name ? sn_strdup(name) : NULL;
    }
    if (last->n > 0 && day <= last->day[last->n - 1]) {
        fprintf(stderr,
                "sentinel detect: %s:%ld: field 'date': not after the "
                "previous row's date\n",
                file, lineno);
        return CLI_EXIT_USAGE;
    }
    s_series_push(last, day, count);
    return CLI_EXIT_OK;
}

static int
s_read(const char *file, s_series_t **all, size_t *nall)
{
    FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    if (in == NULL) {
        fprintf(stderr, "sentinel detect: %s: cannot open\n", file);
        return CLI_EXIT_USAGE;
    }
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    s_cols_t cols = {-1, -1, -1, 0};
    int rc = CLI_EXIT_OK;
    while (rc == CLI_EXIT_OK && getline(&line, &cap, in) >= 0) {
        lineno++;
        if (lineno == 1) {
            rc = s_header(line, file, &cols);
        } else if (line[strspn(line, " \r\n")] != '\0') {
            rc = s_row(line, &cols, file, lineno, all, nall);
        }
    }
    if (rc == CLI_EXIT_OK && lineno == 0) {
        fprintf(stderr, "sentinel detect: %s: empty file\n", file);
        rc = CLI_EXIT_USAGE;
    }
    free(line);
    if (in != stdin) {
        fclose(in);
    }
    return rc;
}

/* ---------------------------------------------------------- writing */

static void
s_num(FILE *out, double v)
{
    if (isnan(v)) {
        fputs(",NA", out);
    } else {
        fprintf(out, ",%.15g", v);
    }
}

static void
s_write_header(FILE *out, const sn_detector_t *det, bool named)
{
    fputs(named ? "series,t,date,observed,upperbound,alarm"
                : "t,date,observed,upperbound,alarm",
          out);
    for (size_t i = 0; i < sn_detector_extra_count(det); i++) {
        fprintf(out, ",%s", sn_detector_extra_name(det, i));
    }
    if (sn_detector_label_name(det) != NULL) {
        fprintf(out, ",%s", sn_detector_label_name(det));
    }
    fputc('\n', out);
}

static void
s_write_row(FILE *out, const sn_detector_t *det, const s_series_t *s, size_t t,
            const sn_det_point_t *pt)
{
    char date[SN_DAY_STR_MAX];
    if (s->name) {
        fprintf(out, "%s,", s->name);
    }
    fprintf(out, "%zu,%s", t + 1, sn_day_format(s->day[t], date));
    s_num(out, pt->observed);
    s_num(out, pt->upperbound);
    fputs(pt->alarm == SN_DET_NA ? ",NA" : (pt->alarm ? ",1" : ",0"), out);
    for (size_t i = 0; i < sn_detector_extra_count(det); i++) {
        s_num(out, pt->extra[i]);
    }
    if (sn_detector_label_name(det) != NULL) {
        fprintf(out, ",%s", pt->label ? pt->label : "NA");
    }
    fputc('\n', out);
}

/* ------------------------------------------------------------- run */

static int
s_frequency(const s_opts_t *o, const s_series_t *s)
{
    if (o->frequency > 0) {
        return o->frequency;
    }
    if (s->n < 2) {
        return 52;
    }
    int d = s->day[1] - s->day[0];
    if (d == 7) {
        return 52;
    }
    if (d == 1) {
        return 365;
    }
    return (d >= 28 && d <= 31) ? 12 : -1;
}

static int
s_run_series(const s_opts_t *o, const sn_detector_t *det, const s_series_t *s)
{
    const char *who = s->name ? s->name : o->file;
    sn_det_input_t in = {s->count, s->day, s->n, s_frequency(o, s), true};
    if (in.frequency < 0) {
        fprintf(stderr,
                "sentinel detect: %s: cannot infer the frequency from the "
                "dates; give --frequency\n",
                who);
        return CLI_EXIT_USAGE;
    }
    int64_t first = sn_detector_first(det, &in);
    size_t from =
        o->from ? (size_t)o->from - 1 : (first >= 0 ? (size_t)first : 0);
    size_t to = o->to ? (size_t)o->to - 1 : (s->n ? s->n - 1 : 0);
    sn_det_point_t *pts =
        sn_calloc(to >= from ? to - from + 1 : 1, sizeof *pts);
    sn_err_t err;
    sn_err_clear(&err);
    int rc = sn_detector_eval(det, &in, from, to, pts, &err);
    if (rc < 0) {
        fprintf(stderr, "sentinel detect: %s: %s\n", who, sn_err_text(&err));
        free(pts);
        return CLI_EXIT_USAGE;
    }
    for (size_t t = from; t <= to; t++) {
        s_write_row(stdout, det, s, t, &pts[t - from]);
    }
    free(pts);
    return CLI_EXIT_OK;
}

static sn_detector_t *
s_make_detector(const s_opts_t *o)
{
    sn_err_t err;
    sn_err_clear(&err);
    sn_detector_t *det = sn_detector_new(o->method, &err);
    if (det == NULL) {
        cli_usage("detect", "%s", sn_err_text(&err));
        return NULL;
    }
    for (int i = 0; i < o->nparams; i++) {
        char *name = sn_strdup(o->params[i]);
        char *eq = strchr(name, '=');
        *eq = '\0';
        int rc = sn_detector_set(det, name, eq + 1, &err);
        free(name);
        if (rc < 0) {
            cli_usage("detect", "--param %s: %s", o->params[i],
                      sn_err_text(&err));
            sn_detector_destroy(&det);
            return NULL;
        }
    }
    return det;
}

static void
s_free_all(s_series_t *all, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(all[i].name);
        free(all[i].count);
        free(all[i].day);
    }
    free(all);
}

int
cli_detect(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(s_usage, stdout);
        fputs("\nmethods:", stdout);
        for (const char *const *m = sn_detector_methods(); *m; m++) {
            printf(" %s", *m);
        }
        fputc('\n', stdout);
        return CLI_EXIT_OK;
    }
    s_opts_t o;
    memset(&o, 0, sizeof o);
    int rc = s_parse_args(argc, argv, &o);
    sn_detector_t *det = rc == CLI_EXIT_OK ? s_make_detector(&o) : NULL;
    if (det == NULL) {
        return CLI_EXIT_USAGE;
    }
    s_series_t *all = NULL;
    size_t nall = 0;
    rc = s_read(o.file, &all, &nall);
    if (rc == CLI_EXIT_OK && nall == 0) {
        fprintf(stderr, "sentinel detect: %s: no data rows\n", o.file);
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_EXIT_OK) {
        s_write_header(stdout, det, all[0].name != NULL);
    }
    for (size_t i = 0; rc == CLI_EXIT_OK && i < nall; i++) {
        rc = s_run_series(&o, det, &all[i]);
    }
    s_free_all(all, nall);
    sn_detector_destroy(&det);
    return rc;
}
