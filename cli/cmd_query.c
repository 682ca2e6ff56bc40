/*  cli/cmd_query.c - `sentinel query`: read the archive
 *
 *  `sentinel query -a ARCHIVE list|series KEY|alerts|corrections` parses
 *  its flags and hands the work to analyzer/query.h (the queries and their formats) and
 *  analyzer/plot.h (--plot). It opens the archive in SWMR read mode, so it
 *  works while the analyzer writes. Errors exit 1 with the reason; bad
 *  flags exit 2.
 */
#include "archive_read.h"
#include "cli.h"
#include "plot.h"
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_usage[] =
    "usage: sentinel query -a ARCHIVE [--format csv|json|table] COMMAND\n"
    "  list [--condition C] [--region PREFIX] [--source S] [--site S]\n"
    "  series KEY [--from DATE] [--to DATE] [--weekly]\n"
    "         [--rollup prefecture|province]\n"
    "         [--plot FILE.png|FILE.svg|FILE.pdf [--detector NAME]]\n"
    "  alerts [--open] [--since DATE] [--level COLOUR]\n"
    "  corrections [KEY] [--since DATE]\n"
    "Weekly rows are ISO weeks; a week cut by the range shows days < 7.\n"
    "Roll-ups sum observed counts only: baselines do not add up.\n";

typedef struct s_opts {
    const char *archive, *format, *cmd, *key, *plot, *detector, *rollup;
    ana_query_filter_t filter;
    ana_query_range_t range;
    ana_query_alert_filter_t alerts;
    ana_query_format_t fmt;
} s_opts_t;

/* @return the string option `a` names, or NULL. */
static const char **
s_string_flag(s_opts_t *o, const char *a)
{
    static const char *const flags[] = {"-a",          "--archive", "--format",
                                        "--condition", "--region",  "--source",
                                        "--site",      "--level",   "--plot",
                                        "--detector",  "--rollup"};
    const char **dst[] = {
        &o->archive,          &o->archive,       &o->format,
        &o->filter.condition, &o->filter.region, &o->filter.source,
        &o->filter.site,      &o->alerts.level,  &o->plot,
        &o->detector,         &o->rollup};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (strcmp(a, flags[i]) == 0) {
            return dst[i];
        }
    }
    return NULL;
}

/* @return the date option `a` names, or NULL. */
static sn_day_t *
s_day_flag(s_opts_t *o, const char *a)
{
    if (strcmp(a, "--from") == 0) {
        return &o->range.from;
    }
    if (strcmp(a, "--to") == 0) {
        return &o->range.to;
    }
    return strcmp(a, "--since") == 0 ? &o->alerts.since : NULL;
}

/* Take one flag at argv[*i] (and its value). */
static int
s_flag(int argc, char **argv, int *i, s_opts_t *o)
{
    const char *a = argv[*i];
    if (strcmp(a, "--open") == 0 || strcmp(a, "--weekly") == 0) {
        *(a[2] == 'o' ? &o->alerts.open_only : &o->range.weekly) = true;
        return CLI_EXIT_OK;
    }
    const char **dst = s_string_flag(o, a);
    sn_day_t *day = s_day_flag(o, a);
    if (dst == NULL && day == NULL) {
        return cli_usage("query", "unknown flag '%s'", a);
    }
    if (*i + 1 >= argc) {
        return cli_usage("query", "%s needs a value", a);
    }
    const char *v = argv[++*i];
    if (dst != NULL) {
        *dst = v;
    } else if (sn_day_parse(v, day) != SN_OK) {
        return cli_usage("query", "%s: '%s' is not a date YYYY-MM-DD", a, v);
    }
    return CLI_EXIT_OK;
}

/* Check what the flags say together. */
static int
s_check(s_opts_t *o)
{
    sn_err_t err;
    if (o->archive == NULL) {
        return cli_usage("query", "no archive: give -a ARCHIVE");
    }
    if (ana_query_format_parse(o->format, &o->fmt, &err) != SN_OK ||
        (o->rollup != NULL &&
         ana_query_rollup_parse(o->rollup, &o->range.rollup, &err) != SN_OK)) {
        return cli_usage("query", "%s", err.msg);
    }
    if (o->cmd == NULL || (strcmp(o->cmd, "list") && strcmp(o->cmd, "series") &&
                           strcmp(o->cmd, "alerts") &&
                           strcmp(o->cmd, "corrections"))) {
        return cli_usage("query",
                         "give a command: list, series, alerts or corrections");
    }
    if (strcmp(o->cmd, "series") == 0 && o->key == NULL) {
        return cli_usage("query", "series: give a KEY (see 'list')");
    }
    if (o->key != NULL && strcmp(o->cmd, "series") != 0 &&
        strcmp(o->cmd, "corrections") != 0) {
        return cli_usage("query", "unexpected argument '%s'", o->key);
    }
    if (o->range.from > o->range.to) {
        return cli_usage("query", "--from is after --to");
    }
    return CLI_EXIT_OK;
}

static int
s_parse(int argc, char **argv, s_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->format = "csv";
    o->range.from = ANA_QUERY_OPEN_FROM;
    o->range.to = ANA_QUERY_OPEN_TO;
    o->alerts.since = INT32_MIN;
    for (int i = 1; i < argc; i++) {
        int rc = CLI_EXIT_OK;
        if (argv[i][0] == '-') {
            rc = s_flag(argc, argv, &i, o);
        } else if (o->cmd == NULL) {
            o->cmd = argv[i];
        } else if (o->key == NULL) {
            o->key = argv[i];
        } else {
            rc = cli_usage("query", "unexpected argument '%s'", argv[i]);
        }
        if (rc != CLI_EXIT_OK) {
            return rc;
        }
    }
    return s_check(o);
}

static int
s_series(ana_archive_read_t *r, const s_opts_t *o, sn_err_t *err)
{
    ana_query_series_t *s = NULL;
    int rc = ana_query_series_load(r, o->key, &o->range, &s, err);
    if (rc == SN_OK && o->plot != NULL) {
        rc = ana_plot_series(s, o->detector, o->plot, err);
        ana_plot_shutdown();
    } else if (rc == SN_OK) {
        rc = ana_query_series_print(s, o->fmt, stdout, err);
    }
    ana_query_series_destroy(&s);
    return rc;
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
    rc = ana_archive_read_open(o.archive, &r, &err);
    if (rc == SN_OK && strcmp(o.cmd, "list") == 0) {
        rc = ana_query_list(r, &o.filter, o.fmt, stdout, &err);
    } else if (rc == SN_OK && strcmp(o.cmd, "series") == 0) {
        rc = s_series(r, &o, &err);
    } else if (rc == SN_OK && strcmp(o.cmd, "corrections") == 0) {
        ana_query_fix_filter_t ff = {o.key, o.alerts.since};
        rc = ana_query_corrections(r, &ff, o.fmt, stdout, &err);
    } else if (rc == SN_OK) {
        rc = ana_query_alerts(r, &o.alerts, o.fmt, stdout, &err);
    }
    ana_archive_read_destroy(&r);
    if (rc != SN_OK) {
        fprintf(stderr, "sentinel query: %s\n", err.msg);
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}
