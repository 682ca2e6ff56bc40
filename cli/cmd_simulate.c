/*  cli/cmd_simulate.c - `sentinel simulate`: synthetic feeds with outbreaks
 *
 *  Writes one feed file per site (JSON lines, CSV or HL7; "auto" gives the
 *  demo's mix: hospitals HL7, pharmacies CSV, the rest JSON lines) or JSON
 *  lines on stdout, from the scenario on the command line. The same seed
 *  and flags give byte-identical output.
 */
#include "cli.h"

#include "sentinel/date.h"
#include "sentinel/mem.h"
#include "simulate.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char s_usage[] =
    "usage: sentinel simulate [--out DIR|-] [--seed N] [--start YYYY-MM-DD]\n"
    "         [--days N] [--condition CODE] [--site ID:REGION:SOURCE:MEAN]…\n"
    "         [--outbreak REGION:START:DAYS:SIZE[:SOURCES][:CONDITION]]…\n"
    "         [--format jsonl|csv|hl7|auto] [--aggregate] [--amplitude A]\n"
    "\n"
    "Write reproducible synthetic case feeds: seasonal baseline counts per\n"
    "site (Poisson, fewer at weekends) plus injected outbreaks of a given\n"
    "size in a region prefix, seen by the given sources (comma-separated),\n"
    "along a triangular epidemic curve. One file per site in DIR (named\n"
    "SITE.jsonl, SITE.csv or SITE.hl7), or JSON lines on stdout with '-'.\n"
    "Without --site, nine demo sites in three counties of prefecture 3301.\n"
    "\n"
    "  --out DIR|-      where to write (default: -)\n"
    "  --seed N         generator seed (default 1)\n"
    "  --start DATE     first day (default 2024-01-01)\n"
    "  --days N         number of days (default 365)\n"
    "  --condition C    baseline condition code (default ili)\n"
    "  --format F       jsonl, csv, hl7 or auto (default jsonl)\n"
    "  --aggregate      one event with a count per site and day\n"
    "  --amplitude A    seasonal swing 0..1 (default 0.3)\n";

/* Everything the command collects from its flags. */
typedef struct s_args {
    ana_sim_opts_t opts;                                 /* scenario */
    ana_sim_site_t sites[ANA_SIM_MAX_SITES];             /* --site */
    ana_sim_outbreak_t outbreaks[ANA_SIM_MAX_OUTBREAKS]; /* --outbreak */
    const char *out;                                     /* DIR or "-" */
    const char *format;                                  /* format name */
} s_args_t;

/* The writer state: one file per site. */
typedef struct s_out {
    const s_args_t *args;   /* the scenario */
    FILE **files;           /* per site, opened on first event */
    uint64_t events, cases; /* written */
} s_out_t;

static void
s_demo_sites(s_args_t *a)
{
    static const char *const counties[] = {"330102", "330105", "330106"};
    static const struct {
        const char *tag;
        sn_source_t src;
        double mean;
    } kinds[] = {{"h", SN_SOURCE_HOSPITAL, 8},
                 {"f", SN_SOURCE_FEVER_CLINIC, 5},
                 {"p", SN_SOURCE_PHARMACY, 12}};
    size_t n = 0;
    for (size_t c = 0; c < 3; c++) {
        for (size_t k = 0; k < 3; k++) {
            ana_sim_site_t *s = &a->sites[n++];
            memset(s, 0, sizeof *s);
            snprintf(s->site_id, sizeof s->site_id, "%s-%s", kinds[k].tag,
                     counties[c]);
            snprintf(s->region, sizeof s->region, "%s", counties[c]);
            s->source = kinds[k].src;
            s->mean = kinds[k].mean;
        }
    }
    a->opts.n_sites = n;
}

static ana_sim_format_t
s_format_of(const s_args_t *a, const ana_sim_site_t *site)
{
    ana_sim_format_t fmt = ANA_SIM_JSONL;
    if (strcmp(a->format, "auto") == 0) {
        return site->source == SN_SOURCE_HOSPITAL   ? ANA_SIM_HL7
               : site->source == SN_SOURCE_PHARMACY ? ANA_SIM_CSV
                                                    : ANA_SIM_JSONL;
    }
    ana_sim_format_parse(a->format, &fmt);
    return fmt;
}

static int
s_write(const sn_event_t *ev, void *arg)
{
    s_out_t *o = arg;
    const s_args_t *a = o->args;
    size_t i = 0;
    while (i < a->opts.n_sites && strcmp(a->sites[i].site_id, ev->site_id)) {
        i++;
    }
    ana_sim_format_t fmt = s_format_of(a, &a->sites[i]);
    if (o->files[i] == NULL) {
        char *path = sn_strdup_printf("%s/%s.%s", a->out, ev->site_id,
                                      ana_sim_format_ext(fmt));
        o->files[i] = fopen(path, "w");
        if (o->files[i] == NULL) {
            fprintf(stderr, "sentinel simulate: %s: %s\n", path,
                    strerror(errno));
            free(path);
            return SN_EIO;
        }
        free(path);
        ana_sim_write_header(o->files[i], fmt);
    }
    o->events++;
    o->cases += ev->count;
    return ana_sim_write(o->files[i], fmt, ev);
}

static int
s_print(const sn_event_t *ev, void *arg)
{
    s_out_t *o = arg;
    o->events++;
    o->cases += ev->count;
    return ana_sim_write(stdout, ANA_SIM_JSONL, ev);
}

/* Parse one flag with an argument into `a`. @return 0 or a usage exit. */
static int
s_flag(s_args_t *a, int c, const char *v)
{
    sn_err_t err;
    char *end = NULL;
    switch (c) {
    case 'o':
        a->out = v;
        return 0;
    case 's':
        a->opts.seed = strtoull(v, &end, 10);
        break;
    case 'd':
        a->opts.days = (int)strtol(v, &end, 10);
        break;
    case 'a':
        a->opts.amplitude = strtod(v, &end);
        break;
    case 'S':
        if (sn_day_parse(v, &a->opts.start) != SN_OK) {
            return cli_usage("simulate", "--start '%s': expected YYYY-MM-DD",
                             v);
        }
        return 0;
    case 'c':
        snprintf(a->opts.condition, sizeof a->opts.condition, "%s", v);
        return 0;
    case 'f': {
        ana_sim_format_t f;
        if (strcmp(v, "auto") != 0 && ana_sim_format_parse(v, &f) != SN_OK) {
            return cli_usage("simulate",
                             "--format '%s': expected jsonl, csv, "
                             "hl7 or auto",
                             v);
        }
        a->format = v;
        return 0;
    }
    case 'i':
        if (a->opts.n_sites == ANA_SIM_MAX_SITES ||
            ana_sim_site_parse(v, &a->sites[a->opts.n_sites], &err) != SN_OK) {
            return cli_usage("simulate", "%s", sn_err_text(&err));
        }
        a->opts.n_sites++;
        return 0;
    case 'b':
        if (a->opts.n_outbreaks == ANA_SIM_MAX_OUTBREAKS ||
            ana_sim_outbreak_parse(v, &a->outbreaks[a->opts.n_outbreaks],
                                   &err) != SN_OK) {
            return cli_usage("simulate", "%s", sn_err_text(&err));
        }
        a->opts.n_outbreaks++;
        return 0;
    default:
        return cli_usage("simulate", "unknown option");
    }
    if (end == NULL || *end != '\0') {
        return cli_usage("simulate", "bad number '%s'", v);
    }
    return 0;
}

static int
s_parse(int argc, char **argv, s_args_t *a)
{
    static const struct option longs[] = {
        {"out", required_argument, NULL, 'o'},
        {"seed", required_argument, NULL, 's'},
        {"start", required_argument, NULL, 'S'},
        {"days", required_argument, NULL, 'd'},
        {"condition", required_argument, NULL, 'c'},
        {"site", required_argument, NULL, 'i'},
        {"outbreak", required_argument, NULL, 'b'},
        {"format", required_argument, NULL, 'f'},
        {"amplitude", required_argument, NULL, 'a'},
        {"aggregate", no_argument, NULL, 'g'},
        {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", longs, NULL)) != -1) {
        if (c == 'g') {
            a->opts.aggregate = true;
            continue;
        }
        if (c == '?' || c == ':') {
            return cli_usage("simulate",
                             "unknown option or missing value "
                             "near '%s'",
                             argv[optind - 1]);
        }
        int rc = s_flag(a, c, optarg);
        if (rc != 0) {
            return rc;
        }
    }
    if (optind < argc) {
        return cli_usage("simulate", "unexpected argument '%s'", argv[optind]);
    }
    return 0;
}

int
cli_simulate(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(s_usage, stdout);
        return CLI_EXIT_OK;
    }
    s_args_t *a = sn_calloc(1, sizeof *a);
    ana_sim_opts_default(&a->opts);
    a->out = "-";
    a->format = "jsonl";
    int rc = s_parse(argc, argv, a);
    if (rc == 0 && a->opts.n_sites == 0) {
        s_demo_sites(a);
    }
    a->opts.sites = a->sites;
    a->opts.outbreaks = a->outbreaks;
    s_out_t out = {a, NULL, 0, 0};
    bool to_stdout = strcmp(a->out, "-") == 0;
    if (rc == 0 && !to_stdout && mkdir(a->out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "sentinel simulate: %s: %s\n", a->out, strerror(errno));
        rc = CLI_EXIT_FAILURE;
    }
    if (rc == 0) {
        sn_err_t err;
        out.files = sn_calloc(a->opts.n_sites, sizeof *out.files);
        int r =
            ana_sim_run(&a->opts, to_stdout ? s_print : s_write, &out, &err);
        if (r == SN_EINVAL) {
            rc = cli_usage("simulate", "%s", sn_err_text(&err));
        } else if (r != SN_OK) {
            rc = CLI_EXIT_FAILURE;
        }
        for (size_t i = 0; i < a->opts.n_sites; i++) {
            if (out.files[i] != NULL && fclose(out.files[i]) != 0) {
                rc = CLI_EXIT_FAILURE;
            }
        }
        free(out.files);
        fprintf(stderr, "simulate: %llu events, %llu cases, %zu sites\n",
                (unsigned long long)out.events, (unsigned long long)out.cases,
                a->opts.n_sites);
    }
    free(a);
    return rc;
}
