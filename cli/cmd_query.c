/*  cli/cmd_query.c - `sentinel query`: read the archive
 *
 *  `sentinel query -a ARCHIVE list|series KEY|alerts` prints what the
 *  analyzer archived, as CSV (default), JSON lines or an aligned table,
 *  through the archive reader (analyzer/archive_read.h). It opens the file
 *  in SWMR read mode, so it works while the analyzer writes.
 */
#include "archive_read.h"
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_usage[] =
    "usage: sentinel query -a ARCHIVE [--format csv|json|table] COMMAND\n"
    "  list [--condition C] [--region PREFIX] [--source S] [--site S]\n"
    "  series KEY [--from DATE] [--to DATE]\n"
    "  alerts [--open] [--since DATE] [--level COLOUR]\n";

typedef struct s_opts {
    const char *archive, *format, *cmd, *key;
    const char *condition, *region, *source, *site, *level;
    sn_day_t from, to, since;
    int open_only;
} s_opts_t;

static int
s_parse(int argc, char **argv, s_opts_t *o)
{
    *o = (s_opts_t){.format = "csv",
                    .from = INT32_MIN,
                    .to = INT32_MAX,
                    .since = INT32_MIN};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        sn_day_t *day = NULL;
        if (strcmp(a, "--open") == 0) {
            o->open_only = 1;
            continue;
        }
        if (!strcmp(a, "-a") || !strcmp(a, "--archive")) {
            dst = &o->archive;
        } else if (!strcmp(a, "--format")) {
            dst = &o->format;
        } else if (!strcmp(a, "--condition")) {
            dst = &o->condition;
        } else if (!strcmp(a, "--region")) {
            dst = &o->region;
        } else if (!strcmp(a, "--source")) {
            dst = &o->source;
        } else if (!strcmp(a, "--site")) {
            dst = &o->site;
        } else if (!strcmp(a, "--level")) {
            dst = &o->level;
        } else if (!strcmp(a, "--from")) {
            day = &o->from;
        } else if (!strcmp(a, "--to")) {
            day = &o->to;
        } else if (!strcmp(a, "--since")) {
            day = &o->since;
        } else if (a[0] == '-') {
            return cli_usage("query", "unknown flag '%s'", a);
        } else if (o->cmd == NULL) {
            o->cmd = a;
            continue;
        } else if (o->key == NULL) {
            o->key = a;
            continue;
        } else {
            return cli_usage("query", "unexpected argument '%s'", a);
        }
        if (i + 1 >= argc) {
            return cli_usage("query", "%s needs a value", a);
        }
        if (dst != NULL) {
            *dst = argv[++i];
        } else if (sn_day_parse(argv[++i], day) != SN_OK) {
            return cli_usage("query", "%s: '%s' is not a date YYYY-MM-DD", a,
                             argv[i]);
        }
    }
    if (o->archive == NULL) {
        return cli_usage("query", "no archive: give -a ARCHIVE");
    }
    if (strcmp(o->format, "csv") && strcmp(o->format, "json") &&
        strcmp(o->format, "table")) {
        return cli_usage("query", "--format: '%s' is not csv, json or table",
                         o->format);
    }
    if (o->cmd == NULL || (strcmp(o->cmd, "list") && strcmp(o->cmd, "series") &&
                           strcmp(o->cmd, "alerts"))) {
        return cli_usage("query", "give a command: list, series or alerts");
    }
    if (!strcmp(o->cmd, "series") && o->key == NULL) {
        return cli_usage("query", "series: give a KEY (see 'list')");
    }
    return CLI_EXIT_OK;
}

/* Print one row of `n` cells in the chosen format. */
static void
s_row(const s_opts_t *o, const char *const *names, const char *const *cells,
      size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(o->format, "json")) {
            printf("%s\"%s\":\"%s\"", i ? "," : "{", names[i], cells[i]);
        } else if (!strcmp(o->format, "table")) {
            printf("%-*s", i == 0 ? 28 : 12, cells[i]);
        } else {
            printf("%s%s", i ? "," : "", cells[i]);
        }
    }
    printf(!strcmp(o->format, "json") ? "}\n" : "\n");
}

static void
s_header(const s_opts_t *o, const char *const *names, size_t n)
{
    if (strcmp(o->format, "json") != 0) {
        s_row(o, names, names, n);
    }
}

static int
s_list(ana_archive_read_t *r, const s_opts_t *o)
{
    static const char *const names[] = {"key", "condition", "region", "source",
                                        "site"};
    s_header(o, names, 5);
    for (size_t i = 0; i < ana_archive_read_series_count(r); i++) {
        const char *c[5];
        for (int p = 0; p < 5; p++) {
            c[p] = ana_archive_read_key(r, i, p);
        }
        if ((o->condition && strcmp(c[1], o->condition)) ||
            (o->region && strncmp(c[2], o->region, strlen(o->region))) ||
            (o->source && strcmp(c[3], o->source)) ||
            (o->site && strcmp(c[4], o->site))) {
            continue;
        }
        s_row(o, names, c, 5);
    }
    return CLI_EXIT_OK;
}

static void
s_num(char *buf, double v)
{
    if (isnan(v)) {
        snprintf(buf, 32, "NA");
    } else {
        snprintf(buf, 32, "%.6g", v);
    }
}

static int
s_series(ana_archive_read_t *r, const s_opts_t *o)
{
    size_t row = 0;
    sn_err_t err;
    if (ana_archive_read_find(r, o->key, &row, &err) != SN_OK) {
        fprintf(stderr, "sentinel query: %s\n", err.msg);
        return CLI_EXIT_FAILURE;
    }
    sn_day_t d0 = ana_archive_read_first_day(r);
    long n = (long)ana_archive_read_days(r);
    long c0 = o->from == INT32_MIN ? 0 : (long)o->from - d0;
    long c1 = o->to == INT32_MAX ? n - 1 : (long)o->to - d0;
    c0 = c0 < 0 ? 0 : c0;
    c1 = c1 >= n ? n - 1 : c1;
    if (n == 0 || c1 < c0) {
        fprintf(stderr,
                "sentinel query: %s: no days in the range asked "
                "(the archive holds %ld days)\n",
                o->key, n);
        return CLI_EXIT_FAILURE;
    }
    size_t nf = 1 + 4 * ana_archive_read_detector_count(r),
           k = (size_t)(c1 - c0 + 1);
    double *v = calloc(nf * k, sizeof(double));
    char **names = calloc(nf + 1, sizeof(char *));
    names[0] = strdup("date");
    names[1] = strdup("observed");
    static const char *const fn[] = {"expected", "upperbound", "score",
                                     "alarm"};
    for (size_t f = 0; f < nf; f++) {
        if (f > 0) {
            names[f + 1] = malloc(96);
            snprintf(names[f + 1], 96, "%s.%s",
                     ana_archive_read_detector(r, (f - 1) / 4),
                     fn[(f - 1) % 4]);
        }
        ana_archive_read_values(r, row, f, (size_t)c0, k, v + f * k, NULL);
    }
    s_header(o, (const char *const *)names, nf + 1);
    char cells[64][32];
    const char *cp[64];
    for (size_t i = 0; i < k; i++) {
        sn_day_format(d0 + (sn_day_t)(c0 + (long)i), cells[0]);
        for (size_t f = 0; f < nf && f < 63; f++) {
            s_num(cells[f + 1], v[f * k + i]);
        }
        for (size_t f = 0; f <= nf && f < 64; f++) {
            cp[f] = cells[f];
        }
        s_row(o, (const char *const *)names, cp, nf + 1 < 64 ? nf + 1 : 64);
    }
    for (size_t f = 0; f <= nf; f++) {
        free(names[f]);
    }
    free(names);
    free(v);
    return CLI_EXIT_OK;
}

static int
s_alerts(ana_archive_read_t *r, const s_opts_t *o)
{
    static const char *const names[] = {
        "time",      "day",    "id",     "rule",     "level",     "state",
        "condition", "region", "series", "observed", "upperbound"};
    size_t n = ana_archive_read_alert_count(r);
    ana_archive_alert_rec_t *a = calloc(n + 1, sizeof *a);
    ana_archive_read_alerts(r, 0, n, a, NULL);
    s_header(o, names, 11);
    for (size_t i = 0; i < n; i++) {
        if ((o->level && strcmp(a[i].level, o->level)) || a[i].day < o->since) {
            continue;
        }
        int superseded = 0;
        for (size_t j = i + 1; o->open_only && j < n; j++) {
            superseded |= !strcmp(a[j].id, a[i].id);
        }
        if (o->open_only && (superseded || !strcmp(a[i].state, "closed"))) {
            continue;
        }
        char t[SN_TIME_STR_MAX], d[SN_DAY_STR_MAX], ob[32], ub[32];
        sn_time_format(a[i].time, t);
        sn_day_format(a[i].day, d);
        s_num(ob, a[i].observed);
        s_num(ub, a[i].upperbound);
        const char *c[] = {t,
                           d,
                           a[i].id,
                           a[i].rule,
                           a[i].level,
                           a[i].state,
                           a[i].condition,
                           a[i].region,
                           a[i].series,
                           ob,
                           ub};
        s_row(o, names, c, 11);
    }
    free(a);
    return CLI_EXIT_OK;
}

int
cli_query(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(s_usage, stdout);
        return CLI_EXIT_OK;
    }
    s_opts_t o;
    int rc = s_parse(argc, argv, &o);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    ana_archive_read_t *r = NULL;
    sn_err_t err;
    if (ana_archive_read_open(o.archive, &r, &err) != SN_OK) {
        fprintf(stderr, "sentinel query: %s\n", err.msg);
        return CLI_EXIT_FAILURE;
    }
    if (!strcmp(o.cmd, "list")) {
        rc = s_list(r, &o);
    } else if (!strcmp(o.cmd, "series")) {
        rc = s_series(r, &o);
    } else {
        rc = s_alerts(r, &o);
    }
    ana_archive_read_destroy(&r);
    return rc;
}
