/*  collectors/col_config.c - the schema of collector.yaml and its builders
 *
 *  The tables below are the whole vocabulary of the collector's file;
 *  sn_config_load() refuses anything else with "file:line: reason" before
 *  the collector starts. The builders then read the checked values: the
 *  site defaults, the feeds of each input kind with their options, the
 *  condition map (the default catalogue plus the site's rules) and the
 *  dead-letter writer. deploy/collector.yaml is the commented example.
 */
#include "col_config.h"

#include "feed_csv.h"
#include "feed_hl7.h"
#include "feed_json.h"
#include "sentinel/mem.h"
#include "sentinel/transport.h"

#include <stdlib.h>
#include <string.h>

#define S_MAX_TERMS 64 /* icd10 prefixes or keywords of one rule */

static const char *const s_sources[] = {
#define S_SOURCE_NAME(name, value, text) text,
    SN_SOURCE_MAP(S_SOURCE_NAME)
#undef S_SOURCE_NAME
        NULL};
static const char *const s_id_modes[] = {"hash", "plain", NULL};
static const char *const s_unmatched[] = {"unexplained", "reject", NULL};
static const char *const s_catalogues[] = {"default", "none", NULL};
static const char *const s_fsyncs[] = {"always", "batch", "never", NULL};

static const sn_cfg_schema_t s_site[] = {
    {.key = "id",
     .type = SN_CFG_STRING,
     .required = true,
     .min = 1,
     .max = SN_SITE_ID_MAX,
     .doc = "sentinel site code"},
    {.key = "source",
     .type = SN_CFG_ENUM,
     .choices = s_sources,
     .doc = "reporting channel of this site (hospital)"},
    {.key = "region",
     .type = SN_CFG_STRING,
     .required = true,
     .min = 1,
     .max = SN_REGION_MAX,
     .doc = "administrative code, GB/T 2260"},
    {.key = NULL},
};

static const sn_cfg_schema_t s_columns[] = {
#define S_COLUMN(name)                                                         \
    {                                                                          \
        .key = name, .type = SN_CFG_STRING, .min = 1, .max = 256,              \
        .doc = "column holding " name                                          \
    }
    S_COLUMN("event_id"),   S_COLUMN("revision"),    S_COLUMN("site_id"),
    S_COLUMN("source"),     S_COLUMN("region"),      S_COLUMN("condition"),
    S_COLUMN("onset_date"), S_COLUMN("report_time"), S_COLUMN("count"),
    S_COLUMN("age_years"),  S_COLUMN("sex"),         S_COLUMN("lab_confirmed"),
#undef S_COLUMN
    {.key = NULL},
};

static const sn_cfg_schema_t s_csv[] = {
    {.key = "delimiter",
     .type = SN_CFG_STRING,
     .min = 1,
     .max = 1,
     .doc = "field separator (,)"},
    {.key = "date_format",
     .type = SN_CFG_STRING,
     .min = 2,
     .max = 64,
     .doc = "onset_date format: %Y %m %d %H %M %S (%Y-%m-%d)"},
    {.key = "time_format",
     .type = SN_CFG_STRING,
     .min = 2,
     .max = 64,
     .doc = "report_time format (RFC 3339, else date_format)"},
    {.key = "tz_offset_minutes",
     .type = SN_CFG_INT,
     .min = -720,
     .max = 840,
     .doc = "zone of formatted times, minutes east of UTC (0)"},
    {.key = "map_conditions",
     .type = SN_CFG_BOOL,
     .doc = "map condition values through the hl7 rules (false)"},
    {.key = "columns",
     .type = SN_CFG_MAP,
     .required = true,
     .fields = s_columns,
     .doc = "event field: column header"},
    {.key = NULL},
};

static const sn_cfg_schema_t s_term = {
    .type = SN_CFG_STRING, .min = 1, .max = 128, .doc = "a prefix or word"};

static const sn_cfg_schema_t s_rule_fields[] = {
    {.key = "condition",
     .type = SN_CFG_STRING,
     .required = true,
     .min = 1,
     .max = SN_CONDITION_MAX,
     .doc = "condition code to report"},
    {.key = "icd10",
     .type = SN_CFG_LIST,
     .max = S_MAX_TERMS,
     .item = &s_term,
     .doc = "ICD-10 code prefixes (DG1-3)"},
    {.key = "keywords",
     .type = SN_CFG_LIST,
     .max = S_MAX_TERMS,
     .item = &s_term,
     .doc = "complaint words; a+b needs both"},
    {.key = NULL},
};

static const sn_cfg_schema_t s_rule = {
    .type = SN_CFG_MAP, .fields = s_rule_fields, .doc = "one mapping rule"};

static const sn_cfg_schema_t s_hl7[] = {
    {.key = "event_id",
     .type = SN_CFG_ENUM,
     .choices = s_id_modes,
     .doc = "hash (default) or plain facility/visit"},
    {.key = "id_key",
     .type = SN_CFG_STRING,
     .min = 1,
     .max = 256,
     .doc = "secret key of the visit hash (the site id)"},
    {.key = "unmatched",
     .type = SN_CFG_ENUM,
     .choices = s_unmatched,
     .doc = "when no rule matches: unexplained (default) or reject"},
    {.key = "patient_classes",
     .type = SN_CFG_STRING,
     .min = 1,
     .max = 16,
     .doc = "PV1-2 classes collected, e.g. EO (all)"},
    {.key = "tz_offset_minutes",
     .type = SN_CFG_INT,
     .min = -720,
     .max = 840,
     .doc = "zone of HL7 times without one, minutes east of UTC (0)"},
    {.key = "catalogue",
     .type = SN_CFG_ENUM,
     .choices = s_catalogues,
     .doc = "default (notifiable diseases and syndromes) or none"},
    {.key = "rules",
     .type = SN_CFG_LIST,
     .item = &s_rule,
     .doc = "site rules, tried before the catalogue's"},
    {.key = NULL},
};

static const sn_cfg_schema_t s_empty[] = {{.key = NULL}};

static const sn_cfg_schema_t s_inputs[] = {
    {.key = "max_record",
     .type = SN_CFG_INT,
     .min = 256,
     .max = 64 << 20,
     .doc = "longest record in bytes (1 MiB)"},
    {.key = "json",
     .type = SN_CFG_MAP,
     .fields = s_empty,
     .doc = "JSON lines (no options)"},
    {.key = "csv", .type = SN_CFG_MAP, .fields = s_csv, .doc = "CSV exports"},
    {.key = "hl7", .type = SN_CFG_MAP, .fields = s_hl7, .doc = "HL7 v2 ADT"},
    {.key = NULL},
};

static const sn_cfg_schema_t s_mllp[] = {
    {.key = "listen",
     .type = SN_CFG_STRING,
     .required = true,
     .min = 2,
     .max = 300,
     .doc = "host:port (127.0.0.1:2575; 0.0.0.0:2575 for any)"},
    {.key = "max_message",
     .type = SN_CFG_INT,
     .min = 1024,
     .max = 64 << 20,
     .doc = "longest message in bytes (1 MiB)"},
    {.key = "idle_timeout_s",
     .type = SN_CFG_INT,
     .min = 0,
     .max = 86400,
     .doc = "close a connection silent this long; 0: never (300)"},
    {.key = NULL},
};

static const sn_cfg_schema_t s_inbox[] = {
    {.key = "path",
     .type = SN_CFG_STRING,
     .required = true,
     .min = 1,
     .max = 4096,
     .doc = "folder watched for new files"},
    {.key = "done",
     .type = SN_CFG_STRING,
     .min = 1,
     .max = 4096,
     .doc = "folder files move to once published (else deleted)"},
    {.key = "poll_ms",
     .type = SN_CFG_INT,
     .min = 10,
     .max = 3600000,
     .doc = "how often to look (1000)"},
    {.key = "settle_ms",
     .type = SN_CFG_INT,
     .min = 0,
     .max = 86400000,
     .doc = "take a file only once unchanged this long (2000)"},
    {.key = NULL},
};

static const sn_cfg_schema_t s_dead_letter[] = {
    {.key = "path",
     .type = SN_CFG_STRING,
     .required = true,
     .min = 1,
     .max = 4096,
     .doc = "file of rejected records (JSON lines, 0600)"},
    {.key = "fsync",
     .type = SN_CFG_ENUM,
     .choices = s_fsyncs,
     .doc = "always (default), batch or never"},
    {.key = "raw_max",
     .type = SN_CFG_INT,
     .min = 16,
     .max = 1 << 20,
     .doc = "raw bytes kept per record (4096)"},
    {.key = "topic",
     .type = SN_CFG_STRING,
     .min = 1,
     .max = 249,
     .doc = "kafka: topic of rejected records, keyed by site "
            "(<transport.topic>.dead-letter)"},
    {.key = NULL},
};

const sn_cfg_schema_t col_config_schema[] = {
    {.key = "site",
     .type = SN_CFG_MAP,
     .required = true,
     .fields = s_site,
     .doc = "who this collector reports as"},
    {.key = "inputs",
     .type = SN_CFG_MAP,
     .fields = s_inputs,
     .doc = "options of each feed kind"},
    {.key = "mllp",
     .type = SN_CFG_MAP,
     .fields = s_mllp,
     .doc = "HL7 over MLLP listener (daemon mode)"},
    {.key = "inbox",
     .type = SN_CFG_MAP,
     .fields = s_inbox,
     .doc = "watched folder (daemon mode)"},
    {.key = "dead_letter",
     .type = SN_CFG_MAP,
     .required = true,
     .fields = s_dead_letter,
     .doc = "where rejected records go"},
    {.key = "metrics",
     .type = SN_CFG_STRING,
     .min = 1,
     .max = 128,
     .doc = "host:port of Prometheus /metrics and /healthz (off when absent)"},
    SN_CFG_LOG_SECTION,
    /* ---- transport sections (owned by the transport module) ---- */
    {.key = "spool",
     .type = SN_CFG_MAP,
     .required = true,
     .fields = sn_spool_cfg_schema,
     .doc = "crash-safe disk spool"},
    {.key = "transport",
     .type = SN_CFG_MAP,
     .required = true,
     .fields = sn_transport_cfg_schema,
     .doc = "ZeroMQ or Kafka"},
    /* ---- end of transport sections ---- */
    {.key = NULL},
};

/* ------------------------------------------------------------- builders */

int
col_config_site(const sn_config_t *cfg, col_site_t *site, sn_err_t *err)
{
    const sn_cfg_node_t *root = sn_config_root(cfg);
    const sn_cfg_node_t *src = sn_cfg_get(root, "site.source");
    sn_source_t source = SN_SOURCE_HOSPITAL;
    if (src && sn_source_parse(sn_cfg_text(src), &source) != SN_OK) {
        return sn_cfg_error(cfg, src, err, "site.source: unknown source '%s'",
                            sn_cfg_text(src));
    }
    site->site_id = sn_cfg_str(root, "site.id", NULL);
    site->region = sn_cfg_str(root, "site.region", NULL);
    site->source = source;
    return SN_OK;
}

/* Copy the strings of list `node` into terms[] (NULL-terminated). */
static void
s_terms(const sn_cfg_node_t *node, const char **terms)
{
    size_t n = sn_cfg_size(node);
    for (size_t i = 0; i < n && i < S_MAX_TERMS; i++) {
        terms[i] = sn_cfg_text(sn_cfg_at(node, i));
    }
    terms[n < S_MAX_TERMS ? n : S_MAX_TERMS] = NULL;
}

int
col_config_cmap(const sn_config_t *cfg, col_cmap_t **out, sn_err_t *err)
{
    const sn_cfg_node_t *hl7 = sn_cfg_get(sn_config_root(cfg), "inputs.hl7");
    const char *cat = sn_cfg_str(hl7, "catalogue", "default");
    col_cmap_t *cmap = col_cmap_new(strcmp(cat, "none") != 0);
    const sn_cfg_node_t *rules = sn_cfg_get(hl7, "rules");
    for (size_t i = 0; i < sn_cfg_size(rules); i++) {
        const sn_cfg_node_t *r = sn_cfg_at(rules, i);
        const char *icd[S_MAX_TERMS + 1], *words[S_MAX_TERMS + 1];
        s_terms(sn_cfg_get(r, "icd10"), icd);
        s_terms(sn_cfg_get(r, "keywords"), words);
        sn_err_t why;
        if (col_cmap_add_rule(cmap, sn_cfg_str(r, "condition", ""), icd, words,
                              &why) != SN_OK) {
            col_cmap_destroy(&cmap);
            return sn_cfg_error(cfg, r, err, "inputs.hl7.rules[%zu]: %s", i,
                                why.msg);
        }
    }
    *out = cmap;
    return SN_OK;
}

static col_feed_t *
s_csv_feed(const sn_config_t *cfg, const col_site_t *site, const char *name,
           size_t max_record, sn_err_t *err)
{
    const sn_cfg_node_t *csv = sn_cfg_get(sn_config_root(cfg), "inputs.csv");
    if (!csv) {
        sn_err_set(err, SN_ECONFIG,
                   "%s: CSV input needs an inputs.csv section with columns",
                   sn_config_file(cfg));
        return NULL;
    }
    col_csv_opts_t o = {0};
    o.delimiter = sn_cfg_str(csv, "delimiter", ",")[0];
    o.date_format = sn_cfg_str(csv, "date_format", NULL);
    o.time_format = sn_cfg_str(csv, "time_format", NULL);
    o.tz_offset_minutes = (int)sn_cfg_int(csv, "tz_offset_minutes", 0);
    const sn_cfg_node_t *cols = sn_cfg_get(csv, "columns");
    for (int f = 0; f < COL_CSV_FIELD_COUNT; f++) {
        o.columns[f] = sn_cfg_str(cols, col_csv_field_name(f), NULL);
    }
    col_cmap_t *cmap = NULL;
    if (sn_cfg_bool(csv, "map_conditions", false) &&
        col_config_cmap(cfg, &cmap, err) != SN_OK) {
        return NULL;
    }
    return col_feed_csv_new(name, site, &o, cmap ? &cmap : NULL, max_record);
}

static col_feed_t *
s_hl7_feed(const sn_config_t *cfg, const col_site_t *site, const char *name,
           size_t max_record, sn_err_t *err)
{
    const sn_cfg_node_t *hl7 = sn_cfg_get(sn_config_root(cfg), "inputs.hl7");
    col_cmap_t *cmap = NULL;
    if (col_config_cmap(cfg, &cmap, err) != SN_OK) {
        return NULL;
    }
    col_hl7_opts_t o = {0};
    o.event_id = strcmp(sn_cfg_str(hl7, "event_id", "hash"), "plain") == 0
                     ? COL_HL7_ID_PLAIN
                     : COL_HL7_ID_HASH;
    o.id_key = sn_cfg_str(hl7, "id_key", NULL);
    o.reject_unmatched =
        strcmp(sn_cfg_str(hl7, "unmatched", "unexplained"), "reject") == 0;
    o.classes = sn_cfg_str(hl7, "patient_classes", NULL);
    o.tz_offset_minutes = (int)sn_cfg_int(hl7, "tz_offset_minutes", 0);
    return col_feed_hl7_new(name, site, &o, &cmap, max_record);
}

col_feed_t *
col_feed_from_config(const sn_config_t *cfg, col_feed_kind_t kind,
                     const char *name, sn_err_t *err)
{
    col_site_t site;
    if (col_config_site(cfg, &site, err) != SN_OK) {
        return NULL;
    }
    size_t max_record =
        (size_t)sn_cfg_int(sn_config_root(cfg), "inputs.max_record", 0);
    switch (kind) {
    case COL_FEED_JSON:
        return col_feed_json_new(name, &site, max_record);
    case COL_FEED_CSV:
        return s_csv_feed(cfg, &site, name, max_record, err);
    case COL_FEED_HL7:
        return s_hl7_feed(cfg, &site, name, max_record, err);
    default:
        sn_err_set(err, SN_EINVAL, "unknown input kind %d", (int)kind);
        return NULL;
    }
}

/* With a Kafka transport, attach the dead-letter topic: dead_letter.topic,
 * or the transport's topic with COL_DEADLETTER_TOPIC_SUFFIX, on the same
 * brokers, keyed by the site id. */
static int
s_deadletter_topic(const sn_config_t *cfg, col_deadletter_t *w, sn_err_t *err)
{
    const sn_cfg_node_t *root = sn_config_root(cfg);
    if (strcmp(sn_cfg_str(root, "transport.kind", "zmq"), "kafka") != 0) {
        return SN_OK;
    }
    const char *topic = sn_cfg_str(root, "dead_letter.topic", NULL);
    const char *main_topic = sn_cfg_str(root, "transport.topic", NULL);
    if (topic == NULL && main_topic == NULL) {
        return sn_err_set(err, SN_ECONFIG,
                          "%s: kafka transport without transport.topic",
                          sn_config_file(cfg));
    }
    char *name = topic ? sn_strdup(topic)
                       : sn_strdup_printf("%s%s", main_topic,
                                          COL_DEADLETTER_TOPIC_SUFFIX);
    col_deadletter_kafka_t *k = NULL;
    if (strlen(name) > 249) {
        sn_err_set(err, SN_ECONFIG,
                   "%s: dead-letter topic '%s' is longer than 249 "
                   "characters (set dead_letter.topic)",
                   sn_config_file(cfg), name);
    } else {
        k = col_deadletter_kafka_new(sn_cfg_str(root, "transport.endpoint", ""),
                                     name, sn_cfg_str(root, "site.id", ""),
                                     err);
    }
    free(name);
    if (k == NULL) {
        return err ? err->code : SN_ECONFIG;
    }
    col_deadletter_set_topic(w, &k);
    return SN_OK;
}

col_deadletter_t *
col_deadletter_from_config(const sn_config_t *cfg, sn_err_t *err)
{
    const sn_cfg_node_t *dl = sn_cfg_get(sn_config_root(cfg), "dead_letter");
    col_dl_fsync_t policy = COL_DL_FSYNC_ALWAYS;
    col_dl_fsync_parse(sn_cfg_str(dl, "fsync", "always"), &policy);
    const char *path = sn_cfg_str(dl, "path", NULL);
    if (!path) {
        sn_err_set(err, SN_ECONFIG, "%s: no dead_letter.path",
                   sn_config_file(cfg));
        return NULL;
    }
    col_deadletter_t *w = col_deadletter_new(
        path, policy, (size_t)sn_cfg_int(dl, "raw_max", 0), err);
    if (w != NULL && s_deadletter_topic(cfg, w, err) != SN_OK) {
        col_deadletter_destroy(&w);
    }
    return w;
}
