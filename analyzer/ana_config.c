/*  analyzer/ana_config.c - the analyzer's configuration (sentinel.yaml)
 *
 *  Schema tables first (what the loader checks), then the readers that
 *  turn each section into the plain structs the modules take, with the
 *  cross-checks a schema cannot express. The default condition catalogue
 *  (the notifiable diseases and syndromes, as the collectors ship it) is
 *  used when the file has no `conditions:` list.
 */
#include "ana_config.h"

#include "archive.h"
#include "sentinel/mem.h"
#include "sentinel/transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- schema ------------------------------------------------------------- */

static const char *const s_sources[] = {
    "hospital", "fever_clinic",  "pharmacy",         "lab",
    "school",   "direct_report", "clinician_report", "public_report",
    "media",    "animal_health", "food_safety",      NULL};
static const char *const s_levels[] = {"site", "county", "prefecture",
                                       "province", NULL};
static const char *const s_colours[] = {"blue", "yellow", "orange", "red",
                                        NULL};
static const char *const s_kinds[] = {"threshold",  "single", "multi-source",
                                      "multi-site", "spread", NULL};
static const char *const s_bases[] = {"report", "onset", NULL};
static const char *const s_classes[] = {"A", "B", "C", "S", "-", NULL};

static const sn_cfg_schema_t s_source_item = {.type = SN_CFG_ENUM,
                                              .choices = s_sources};
static const sn_cfg_schema_t s_level_item = {.type = SN_CFG_ENUM,
                                             .choices = s_levels};
static const sn_cfg_schema_t s_code_item = {
    .type = SN_CFG_STRING, .min = 1, .max = SN_CONDITION_MAX};
static const sn_cfg_schema_t s_param_item = {.type = SN_CFG_SCALAR};

static const sn_cfg_schema_t s_analyzer_fields[] = {
    {.key = "state_dir",
     .type = SN_CFG_STRING,
     .required = true,
     .min = 1,
     .max = 4096,
     .doc = "folder of the durable state (created when missing)"},
    {.key = "dead_letter",
     .type = SN_CFG_STRING,
     .min = 1,
     .max = 4096,
     .doc =
         "rejected records, one JSON line each (state_dir/dead-letter.jsonl)"},
    {.key = "metrics",
     .type = SN_CFG_STRING,
     .min = 1,
     .max = 256,
     .doc = "serve /metrics and /healthz on this loopback address"},
    {.key = "checkpoint_ms",
     .type = SN_CFG_INT,
     .min = 10,
     .max = 600000,
     .doc = "write the state and acknowledge every this many ms (1000)"},
    {.key = "date_basis",
     .type = SN_CFG_ENUM,
     .choices = s_bases,
     .doc = "bin by report date or onset date (report)"},
    {.key = "lateness_days",
     .type = SN_CFG_INT,
     .min = 0,
     .max = 60,
     .doc = "a day closes this many days after it ends (1)"},
    {.key = "idle_days",
     .type = SN_CFG_INT,
     .min = 1,
     .max = 365,
     .doc = "a source this far behind stops holding days open (3)"},
    {.key = "horizon_days",
     .type = SN_CFG_INT,
     .min = 1,
     .max = 3650,
     .doc = "late events are counted this far back, older refused (60)"},
    {.key = "wall_clock",
     .type = SN_CFG_BOOL,
     .doc = "the wall clock also closes days (true; false to replay)"},
    {.key = "window_days",
     .type = SN_CFG_INT,
     .min = 2,
     .max = ANA_WINDOW_MAX_SPAN,
     .doc = "daily bins kept per series (1096)"},
    {.key = "dedup_capacity",
     .type = SN_CFG_INT,
     .min = 8,
     .max = 1e9,
     .doc = "events remembered for dedup within the horizon (4000000)"},
    {.key = "max_new_series_per_site_day",
     .type = SN_CFG_INT,
     .min = 1,
     .max = 1e9,
     .doc = "new series (condition, region, source, site) one sender may "
            "open per day; more are dead-lettered (10000)"},
    {.key = NULL}};

static const sn_cfg_schema_t s_condition_fields[] = {
    {.key = "code",
     .type = SN_CFG_STRING,
     .required = true,
     .min = 1,
     .max = SN_CONDITION_MAX,
     .doc = "the events' condition code"},
    {.key = "class",
     .type = SN_CFG_ENUM,
     .choices = s_classes,
     .doc = "notifiable class A, B, C, S(yndrome) or -"},
    {.key = NULL}};
static const sn_cfg_schema_t s_condition_item = {.type = SN_CFG_MAP,
                                                 .fields = s_condition_fields};

static const sn_cfg_schema_t s_series_fields[] = {
    {.key = "condition",
     .type = SN_CFG_STRING,
     .required = true,
     .min = 1,
     .max = SN_CONDITION_MAX,
     .doc = "condition code of the catalogue"},
    {.key = "sources",
     .type = SN_CFG_LIST,
     .item = &s_source_item,
     .doc = "sources with a series each (all when absent)"},
    {.key = "levels",
     .type = SN_CFG_LIST,
     .item = &s_level_item,
     .doc = "site, county, prefecture, province (county when absent)"},
    {.key = "denominator",
     .type = SN_CFG_STRING,
     .min = 1,
     .max = SN_CONDITION_MAX,
     .doc = "condition counted as the denominator"},
    {.key = NULL}};
static const sn_cfg_schema_t s_series_item = {.type = SN_CFG_MAP,
                                              .fields = s_series_fields};

static const sn_cfg_schema_t s_detector_fields[] = {
    {.key = "name",
     .type = SN_CFG_STRING,
     .required = true,
     .min = 1,
     .max = SN_DETECTOR_MAX,
     .doc = "name in the archive and in rules"},
    {.key = "method",
     .type = SN_CFG_STRING,
     .min = 1,
     .max = SN_DETECTOR_MAX,
     .doc = "detector method (the name when absent)"},
    {.key = "params",
     .type = SN_CFG_DICT,
     .item = &s_param_item,
     .doc = "parameters, named as the reference names them"},
    {.key = "weekly",
     .type = SN_CFG_BOOL,
     .doc = "run on ISO week totals, on Sundays (width 7, step 7)"},
    {.key = "width",
     .type = SN_CFG_INT,
     .min = 1,
     .max = 366,
     .doc = "days summed into each value: a sliding window (1)"},
    {.key = "step",
     .type = SN_CFG_INT,
     .min = 1,
     .max = 366,
     .doc = "days between evaluations, counted from Sundays (1)"},
    {.key = "proportion",
     .type = SN_CFG_BOOL,
     .doc = "run on count / denominator"},
    {.key = "levels",
     .type = SN_CFG_LIST,
     .item = &s_level_item,
     .doc = "levels of the series it runs on (all when absent)"},
    {.key = "warmup",
     .type = SN_CFG_INT,
     .min = 0,
     .max = 3650,
     .doc = "first values that are history only (0)"},
    {.key = NULL}};
static const sn_cfg_schema_t s_detector_item = {.type = SN_CFG_MAP,
                                                .fields = s_detector_fields};

static const sn_cfg_schema_t s_rule_fields[] = {
    {.key = "name",
     .type = SN_CFG_STRING,
     .required = true,
     .min = 1,
     .max = SN_RULE_MAX,
     .doc = "rule name, shown in alerts"},
    {.key = "kind",
     .type = SN_CFG_ENUM,
     .required = true,
     .choices = s_kinds,
     .doc = "threshold, single, multi-source, multi-site, spread"},
    {.key = "level",
     .type = SN_CFG_ENUM,
     .required = true,
     .choices = s_colours,
     .doc = "blue, yellow, orange or red"},
    {.key = "conditions",
     .type = SN_CFG_LIST,
     .item = &s_code_item,
     .doc = "conditions it covers"},
    {.key = "classes",
     .type = SN_CFG_STRING,
     .min = 1,
     .max = 7,
     .doc = "classes it covers, e.g. A"},
    {.key = "sources",
     .type = SN_CFG_LIST,
     .item = &s_source_item,
     .doc = "sources it reads (all when absent)"},
    {.key = "detector",
     .type = SN_CFG_STRING,
     .min = 1,
     .max = SN_DETECTOR_MAX,
     .doc = "detector it reads (any when absent)"},
    {.key = "group",
     .type = SN_CFG_ENUM,
     .choices = s_levels,
     .doc = "region level of the alert (county)"},
    {.key = "series",
     .type = SN_CFG_ENUM,
     .choices = s_levels,
     .doc = "level of the series read (county; multi-site: site)"},
    {.key = "min_count",
     .type = SN_CFG_INT,
     .min = 1,
     .max = 1e9,
     .doc = "threshold: cases in one day (1)"},
    {.key = "k",
     .type = SN_CFG_INT,
     .min = 1,
     .max = 1000,
     .doc = "distinct sources, sites or sub-regions (2)"},
    {.key = "days",
     .type = SN_CFG_INT,
     .min = 1,
     .max = 60,
     .doc = "within this many days (1)"},
    {.key = NULL}};
static const sn_cfg_schema_t s_rule_item = {.type = SN_CFG_MAP,
                                            .fields = s_rule_fields};

static const sn_cfg_schema_t s_health_fields[] = {
    {.key = "silent_days",
     .type = SN_CFG_INT,
     .min = 1,
     .max = 60,
     .doc = "days without events before a usual feed is silent (3)"},
    {.key = "baseline_days",
     .type = SN_CFG_INT,
     .min = 1,
     .max = 60,
     .doc = "days looked at to know a feed usually reports (28)"},
    {.key = "usual_fraction",
     .type = SN_CFG_FLOAT,
     .min = 0.01,
     .max = 1,
     .doc = "share of those days with events (0.5)"},
    {.key = "backlog_days",
     .type = SN_CFG_INT,
     .min = 1,
     .max = 3650,
     .doc = "an event this much older than the closed day is backlog (7)"},
    {.key = "backlog_min",
     .type = SN_CFG_INT,
     .min = 1,
     .max = 1e9,
     .doc = "backlog events between two closes that raise a signal (100)"},
    {.key = "level",
     .type = SN_CFG_ENUM,
     .choices = s_colours,
     .doc = "level of feed-health signals (blue)"},
    {.key = NULL}};

static const sn_cfg_schema_t s_alerts_fields[] = {
    {.key = "transport",
     .type = SN_CFG_MAP,
     .required = true,
     .fields = sn_transport_cfg_schema,
     .doc = "where alerts go (the alerting daemon's receiver)"},
    {.key = "spool",
     .type = SN_CFG_MAP,
     .required = true,
     .fields = sn_spool_cfg_schema,
     .doc = "the durable outbox of alerts"},
    {.key = NULL}};

const sn_cfg_schema_t ana_config_schema[] = {
    {.key = "analyzer",
     .type = SN_CFG_MAP,
     .required = true,
     .fields = s_analyzer_fields,
     .doc = "the analyzer daemon"},
    {.key = "transport",
     .type = SN_CFG_MAP,
     .fields = sn_transport_cfg_schema,
     .doc = "where case events arrive (the receiver)"},
    {.key = "alerts",
     .type = SN_CFG_MAP,
     .fields = s_alerts_fields,
     .doc = "where alerts are sent"},
    {.key = "archive",
     .type = SN_CFG_MAP,
     .fields = ana_archive_schema,
     .doc = "the HDF5 archive"},
    {.key = "conditions",
     .type = SN_CFG_LIST,
     .item = &s_condition_item,
     .doc = "the condition catalogue (the default one when absent)"},
    {.key = "series",
     .type = SN_CFG_LIST,
     .item = &s_series_item,
     .doc = "which series exist"},
    {.key = "detectors",
     .type = SN_CFG_LIST,
     .item = &s_detector_item,
     .doc = "detectors run on every series"},
    {.key = "rules",
     .type = SN_CFG_LIST,
     .item = &s_rule_item,
     .doc = "multi-point trigger rules"},
    {.key = "health",
     .type = SN_CFG_MAP,
     .fields = s_health_fields,
     .doc = "feed health"},
    SN_CFG_LOG_SECTION,
    {.key = NULL}};

/* The default catalogue: code and class, as the collectors ship it. */
static const struct {
    const char *code;
    char klass;
} s_default_conds[] = {{"plague", 'A'},
                       {"cholera", 'A'},
                       {"sars", 'B'},
                       {"covid19", 'B'},
                       {"hiv_aids", 'B'},
                       {"hepatitis", 'B'},
                       {"polio", 'B'},
                       {"avian_influenza", 'B'},
                       {"measles", 'B'},
                       {"hfrs", 'B'},
                       {"rabies", 'B'},
                       {"japanese_encephalitis", 'B'},
                       {"dengue", 'B'},
                       {"anthrax", 'B'},
                       {"dysentery", 'B'},
                       {"tuberculosis", 'B'},
                       {"typhoid", 'B'},
                       {"meningococcal", 'B'},
                       {"pertussis", 'B'},
                       {"diphtheria", 'B'},
                       {"neonatal_tetanus", 'B'},
                       {"scarlet_fever", 'B'},
                       {"brucellosis", 'B'},
                       {"gonorrhoea", 'B'},
                       {"syphilis", 'B'},
                       {"leptospirosis", 'B'},
                       {"schistosomiasis", 'B'},
                       {"malaria", 'B'},
                       {"mpox", 'B'},
                       {"influenza", 'C'},
                       {"mumps", 'C'},
                       {"rubella", 'C'},
                       {"leprosy", 'C'},
                       {"typhus", 'C'},
                       {"kala_azar", 'C'},
                       {"echinococcosis", 'C'},
                       {"filariasis", 'C'},
                       {"hfmd", 'C'},
                       {"infectious_diarrhoea", 'C'},
                       {"ili", 'S'},
                       {"rash", 'S'},
                       {"diarrhoea", 'S'},
                       {"fever", 'S'},
                       {"unexplained", 'S'}};

/* ---- readers ------------------------------------------------------------ */

static uint32_t
s_bits(const sn_cfg_node_t *list, const char *const *names, uint32_t shift)
{
    uint32_t bits = 0;
    for (size_t i = 0; i < sn_cfg_size(list); i++) {
        const char *t = sn_cfg_text(sn_cfg_at(list, i));
        for (uint32_t j = 0; names[j] != NULL; j++) {
            if (strcmp(t, names[j]) == 0) {
                bits |= 1u << (j + shift);
            }
        }
    }
    return bits;
}

static int
s_enum(const char *text, const char *const *names)
{
    for (int j = 0; names[j] != NULL; j++) {
        if (strcmp(text, names[j]) == 0) {
            return j;
        }
    }
    return 0;
}

static void
s_read_analyzer(const sn_cfg_node_t *root, ana_config_t *c)
{
    const sn_cfg_node_t *a = sn_cfg_get(root, "analyzer");
    c->state_dir = sn_cfg_str(a, "state_dir", NULL);
    c->dead_letter = sn_cfg_str(a, "dead_letter", NULL);
    c->metrics = sn_cfg_str(a, "metrics", NULL);
    c->checkpoint_ms = (int)sn_cfg_int(a, "checkpoint_ms", 1000);
    c->onset = strcmp(sn_cfg_str(a, "date_basis", "report"), "onset") == 0;
    c->lateness_days = (int)sn_cfg_int(a, "lateness_days", 1);
    c->idle_days = (int)sn_cfg_int(a, "idle_days", 3);
    c->horizon_days = (int)sn_cfg_int(a, "horizon_days", 60);
    c->wall_clock = sn_cfg_bool(a, "wall_clock", true);
    c->window_days = (size_t)sn_cfg_int(a, "window_days", 1096);
    c->dedup_capacity = (size_t)sn_cfg_int(a, "dedup_capacity", 4000000);
    c->max_new_series = (uint32_t)sn_cfg_int(a, "max_new_series_per_site_day",
                                             ANA_MAX_NEW_SERIES_DEFAULT);
    c->transport = sn_cfg_get(root, "transport");
    c->alerts = sn_cfg_get(root, "alerts");
    c->archive = sn_cfg_get(root, "archive");
}

static void
s_read_conditions(const sn_cfg_node_t *root, ana_config_t *c)
{
    const sn_cfg_node_t *list = sn_cfg_get(root, "conditions");
    if (list == NULL) {
        size_t n = sizeof s_default_conds / sizeof s_default_conds[0];
        c->conds = sn_calloc(n, sizeof *c->conds);
        for (size_t i = 0; i < n; i++) {
            snprintf(c->conds[i].code, sizeof c->conds[i].code, "%s",
                     s_default_conds[i].code);
            c->conds[i].klass = s_default_conds[i].klass;
        }
        c->n_conds = n;
        return;
    }
    c->n_conds = sn_cfg_size(list);
    c->conds = sn_calloc(c->n_conds + 1, sizeof *c->conds);
    for (size_t i = 0; i < c->n_conds; i++) {
        const sn_cfg_node_t *n = sn_cfg_at(list, i);
        snprintf(c->conds[i].code, sizeof c->conds[i].code, "%s",
                 sn_cfg_str(n, "code", ""));
        c->conds[i].klass = sn_cfg_str(n, "class", "-")[0];
    }
}

static int
s_known(const ana_config_t *c, const char *code)
{
    for (size_t i = 0; i < c->n_conds; i++) {
        if (strcmp(c->conds[i].code, code) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The sources (bit per sn_source_t) that series specs of `condition` have
 * at `level`; a spec listing no sources has them all. */
static uint32_t
s_covered(const ana_config_t *c, const char *condition, uint32_t level)
{
    uint32_t all = ((1u << (sizeof s_sources / sizeof *s_sources - 1)) - 1)
                   << 1;
    uint32_t bits = 0;
    for (size_t j = 0; j < c->n_specs; j++) {
        const ana_series_spec_t *sp = &c->specs[j];
        if (strcmp(sp->condition, condition) == 0 &&
            (sp->levels & (1u << level))) {
            bits |= sp->sources != 0 ? sp->sources : all;
        }
    }
    return bits & all;
}

/* A proportion needs its denominator counted for every source and level of
 * the series: a denominator series that nothing counts into would leave
 * the proportion empty, silently. */
static int
s_check_denominators(const sn_config_t *cfg, const sn_cfg_node_t *list,
                     const ana_config_t *c, sn_err_t *err)
{
    uint32_t all = ((1u << (sizeof s_sources / sizeof *s_sources - 1)) - 1)
                   << 1;
    for (size_t i = 0; i < c->n_specs; i++) {
        const ana_series_spec_t *sp = &c->specs[i];
        uint32_t want = sp->sources != 0 ? sp->sources : all;
        for (uint32_t l = 0; sp->denominator[0] && s_levels[l] != NULL; l++) {
            uint32_t miss = (sp->levels & (1u << l))
                                ? want & ~s_covered(c, sp->denominator, l)
                                : 0;
            for (uint32_t b = 1; miss != 0 && s_sources[b - 1] != NULL; b++) {
                if (miss & (1u << b)) {
                    return sn_cfg_error(
                        cfg, sn_cfg_at(list, i), err,
                        "series %s: denominator '%s' has no %s series at "
                        "level %s (add the source to a '%s' series, or give "
                        "this source its own series without a denominator)",
                        sp->condition, sp->denominator, s_sources[b - 1],
                        s_levels[l], sp->denominator);
                }
            }
        }
    }
    return SN_OK;
}

static int
s_read_series(const sn_config_t *cfg, const sn_cfg_node_t *root,
              ana_config_t *c, sn_err_t *err)
{
    const sn_cfg_node_t *list = sn_cfg_get(root, "series");
    c->n_specs = sn_cfg_size(list);
    c->specs = sn_calloc(c->n_specs + 1, sizeof *c->specs);
    for (size_t i = 0; i < c->n_specs; i++) {
        const sn_cfg_node_t *n = sn_cfg_at(list, i);
        ana_series_spec_t *sp = &c->specs[i];
        snprintf(sp->condition, sizeof sp->condition, "%s",
                 sn_cfg_str(n, "condition", ""));
        sp->sources = s_bits(sn_cfg_get(n, "sources"), s_sources, 1);
        sp->levels = s_bits(sn_cfg_get(n, "levels"), s_levels, 0);
        if (sp->levels == 0) {
            sp->levels = 1u << ANA_LEVEL_COUNTY;
        }
        snprintf(sp->denominator, sizeof sp->denominator, "%s",
                 sn_cfg_str(n, "denominator", ""));
        if (!s_known(c, sp->condition)) {
            return sn_cfg_error(cfg, n, err,
                                "series: condition '%s' is not in the "
                                "catalogue",
                                sp->condition);
        }
        if (sp->denominator[0] && !s_known(c, sp->denominator)) {
            return sn_cfg_error(cfg, n, err,
                                "series: denominator '%s' is not in the "
                                "catalogue",
                                sp->denominator);
        }
    }
    return s_check_denominators(cfg, list, c, err);
}

static int
s_read_params(const sn_config_t *cfg, const sn_cfg_node_t *n,
              ana_detector_spec_t *d, sn_err_t *err)
{
    const sn_cfg_node_t *p = sn_cfg_get(n, "params");
    if (sn_cfg_size(p) > ANA_ENGINE_MAX_PARAMS) {
        return sn_cfg_error(cfg, p, err, "detector '%s': more than %d params",
                            d->name, ANA_ENGINE_MAX_PARAMS);
    }
    for (size_t j = 0; j < sn_cfg_size(p); j++) {
        const sn_cfg_node_t *v = sn_cfg_at(p, j);
        snprintf(d->params[j].key, sizeof d->params[j].key, "%s",
                 sn_cfg_key(v));
        snprintf(d->params[j].value, sizeof d->params[j].value, "%s",
                 sn_cfg_text(v) ? sn_cfg_text(v) : "");
    }
    d->n_params = sn_cfg_size(p);
    return SN_OK;
}

static int
s_read_detectors(const sn_config_t *cfg, const sn_cfg_node_t *root,
                 ana_config_t *c, sn_err_t *err)
{
    const sn_cfg_node_t *list = sn_cfg_get(root, "detectors");
    c->n_dets = sn_cfg_size(list);
    if (c->n_dets > ANA_ENGINE_MAX_DETECTORS) {
        return sn_cfg_error(cfg, list, err, "more than %d detectors",
                            ANA_ENGINE_MAX_DETECTORS);
    }
    c->dets = sn_calloc(c->n_dets + 1, sizeof *c->dets);
    for (size_t i = 0; i < c->n_dets; i++) {
        const sn_cfg_node_t *n = sn_cfg_at(list, i);
        ana_detector_spec_t *d = &c->dets[i];
        snprintf(d->name, sizeof d->name, "%s", sn_cfg_str(n, "name", ""));
        snprintf(d->method, sizeof d->method, "%s",
                 sn_cfg_str(n, "method", d->name));
        d->weekly = sn_cfg_bool(n, "weekly", false);
        d->width = (uint32_t)sn_cfg_int(n, "width", d->weekly ? 7 : 1);
        d->step = (uint32_t)sn_cfg_int(n, "step", d->weekly ? 7 : 1);
        if (d->weekly && (d->width != 7 || d->step != 7)) {
            return sn_cfg_error(cfg, n, err,
                                "detector '%s': weekly is width 7 and step 7; "
                                "give either weekly or width and step",
                                d->name);
        }
        d->proportion = sn_cfg_bool(n, "proportion", false);
        d->levels = s_bits(sn_cfg_get(n, "levels"), s_levels, 0);
        d->warmup = (size_t)sn_cfg_int(n, "warmup", 0);
        int rc = s_read_params(cfg, n, d, err);
        if (rc != SN_OK) {
            return rc;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(c->dets[j].name, d->name) == 0) {
                return sn_cfg_error(cfg, n, err, "detector '%s' named twice",
                                    d->name);
            }
        }
    }
    return SN_OK;
}

static int
s_read_rule(const sn_config_t *cfg, const sn_cfg_node_t *n,
            const ana_config_t *c, ana_rule_t *r, sn_err_t *err)
{
    snprintf(r->name, sizeof r->name, "%s", sn_cfg_str(n, "name", ""));
    r->kind = (ana_rule_kind_t)s_enum(sn_cfg_str(n, "kind", ""), s_kinds);
    r->level = (sn_level_t)(s_enum(sn_cfg_str(n, "level", ""), s_colours) + 1);
    const sn_cfg_node_t *conds = sn_cfg_get(n, "conditions");
    if (sn_cfg_size(conds) > ANA_RULE_MAX_CONDS) {
        return sn_cfg_error(cfg, conds, err,
                            "rule '%s': more than %d "
                            "conditions",
                            r->name, ANA_RULE_MAX_CONDS);
    }
    for (size_t j = 0; j < sn_cfg_size(conds); j++) {
        const char *code = sn_cfg_text(sn_cfg_at(conds, j));
        if (!s_known(c, code)) {
            return sn_cfg_error(cfg, sn_cfg_at(conds, j), err,
                                "rule '%s': condition '%s' is not in the "
                                "catalogue",
                                r->name, code);
        }
        snprintf(r->conditions[j], sizeof r->conditions[j], "%s", code);
    }
    r->n_conditions = sn_cfg_size(conds);
    snprintf(r->classes, sizeof r->classes, "%s", sn_cfg_str(n, "classes", ""));
    r->sources = s_bits(sn_cfg_get(n, "sources"), s_sources, 1);
    snprintf(r->detector, sizeof r->detector, "%s",
             sn_cfg_str(n, "detector", ""));
    r->group = (ana_level_t)s_enum(sn_cfg_str(n, "group", "county"), s_levels);
    r->series = (ana_level_t)s_enum(
        sn_cfg_str(n, "series",
                   r->kind == ANA_RULE_MULTI_SITE ? "site" : "county"),
        s_levels);
    r->min_count = (uint32_t)sn_cfg_int(n, "min_count", 1);
    r->k = (uint32_t)sn_cfg_int(n, "k", 2);
    r->days = (uint32_t)sn_cfg_int(n, "days", 1);
    if (r->kind == ANA_RULE_SPREAD && r->series <= r->group) {
        /* Sub-regions are only sub-regions when the group is coarser. */
        if (ana_level_digits(r->series) <= ana_level_digits(r->group)) {
            return sn_cfg_error(cfg, n, err,
                                "rule '%s': spread needs 'group' coarser "
                                "than 'series'",
                                r->name);
        }
    }
    return SN_OK;
}

static int
s_read_rules(const sn_config_t *cfg, const sn_cfg_node_t *root, ana_config_t *c,
             sn_err_t *err)
{
    const sn_cfg_node_t *list = sn_cfg_get(root, "rules");
    c->n_rules = sn_cfg_size(list);
    c->rules = sn_calloc(c->n_rules + 1, sizeof *c->rules);
    for (size_t i = 0; i < c->n_rules; i++) {
        const sn_cfg_node_t *n = sn_cfg_at(list, i);
        ana_rule_t *r = &c->rules[i];
        int rc = s_read_rule(cfg, n, c, r, err);
        if (rc != SN_OK) {
            return rc;
        }
        int found = r->detector[0] == '\0';
        for (size_t j = 0; j < c->n_dets && !found; j++) {
            found = strcmp(c->dets[j].name, r->detector) == 0;
        }
        if (!found) {
            return sn_cfg_error(cfg, n, err,
                                "rule '%s': detector '%s' is not configured",
                                r->name, r->detector);
        }
    }
    return SN_OK;
}

static int
s_read_health(const sn_config_t *cfg, const sn_cfg_node_t *root,
              ana_config_t *c, sn_err_t *err)
{
    const sn_cfg_node_t *h = sn_cfg_get(root, "health");
    ana_health_opts_t *o = &c->health;
    ana_health_opts_default(o);
    o->silent_days = (int)sn_cfg_int(h, "silent_days", o->silent_days);
    o->baseline_days = (int)sn_cfg_int(h, "baseline_days", o->baseline_days);
    o->usual_fraction = sn_cfg_float(h, "usual_fraction", o->usual_fraction);
    o->backlog_days = (int)sn_cfg_int(h, "backlog_days", o->backlog_days);
    o->backlog_min = (uint32_t)sn_cfg_int(h, "backlog_min", o->backlog_min);
    o->level =
        (sn_level_t)(s_enum(sn_cfg_str(h, "level", "blue"), s_colours) + 1);
    if (o->silent_days + o->baseline_days > ANA_HEALTH_MAX_DAYS) {
        return sn_cfg_error(cfg, h, err,
                            "health: silent_days + baseline_days must be at "
                            "most %d",
                            ANA_HEALTH_MAX_DAYS);
    }
    return SN_OK;
}

int
ana_config_read(const sn_config_t *cfg, ana_config_t *out, sn_err_t *err)
{
    ana_config_t c;
    memset(&c, 0, sizeof c);
    const sn_cfg_node_t *root = sn_config_root(cfg);
    s_read_analyzer(root, &c);
    s_read_conditions(root, &c);
    int rc = s_read_series(cfg, root, &c, err);
    if (rc == SN_OK) {
        rc = s_read_detectors(cfg, root, &c, err);
    }
    if (rc == SN_OK) {
        rc = s_read_rules(cfg, root, &c, err);
    }
    if (rc == SN_OK) {
        rc = s_read_health(cfg, root, &c, err);
    }
    if (rc == SN_OK && c.window_days <= (size_t)c.horizon_days) {
        rc = sn_cfg_error(cfg, sn_cfg_get(root, "analyzer"), err,
                          "analyzer: window_days (%zu) must exceed "
                          "horizon_days (%d)",
                          c.window_days, c.horizon_days);
    }
    if (rc != SN_OK) {
        ana_config_fini(&c);
        return rc;
    }
    *out = c;
    return SN_OK;
}

void
ana_config_fini(ana_config_t *self)
{
    free(self->conds);
    free(self->specs);
    free(self->dets);
    free(self->rules);
    memset(self, 0, sizeof *self);
}
