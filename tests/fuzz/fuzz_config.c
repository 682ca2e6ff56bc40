/*  tests/fuzz/fuzz_config.c - fuzz the YAML configuration loader
 *
 *  Every daemon reads its configuration with sn_config_parse() against its
 *  schema. The file is written by operators, not attackers, but a daemon
 *  must refuse any file with a message naming the line rather than crash.
 *  The schema here is a representative daemon root: the real `spool:`,
 *  `transport:` and `log:` sections of common/, plus one key of every
 *  schema type (string, int, float, bool, enum, scalar, list, dict of
 *  maps), which reaches every check of the loader. It is the schema of the
 *  configuration suite's fixtures (tests/common/configs), which are the
 *  seeds. An accepted file is walked node by node through every getter,
 *  and its sections are read as the daemons read them.
 *
 *  The libFuzzer build (SN_FUZZ_DAEMON_SCHEMAS) also loads every input as
 *  the collector's, the analyzer's and the alerting daemon's configuration
 *  (col_config_schema, ana_config_schema, alr_config_parse()) and runs their
 *  readers on what is accepted; the deploy/ examples are among the seeds.
 *  The regression suite of common/ replays the representative schema only.
 */
#include "fuzz.h"

#include "sentinel/config.h"
#include "sentinel/spool.h"
#include "sentinel/transport.h"

#include <stdlib.h>
#include <string.h>

#ifdef SN_FUZZ_DAEMON_SCHEMAS
#include "alr_config.h"
#include "ana_config.h"
#include "col_config.h"
#endif

#define FUZZ_TARGET "config"

static const char *const s_methods[] = {"ears", "cusum", NULL};
static const char *const s_sources[] = {"hospital", "lab", "pharmacy", NULL};

static const sn_cfg_schema_t s_publish[] = {
    {.key = "endpoint", .type = SN_CFG_STRING, .min = 1, .max = 256},
    {.key = "hwm", .type = SN_CFG_INT, .min = 1, .max = 1000000},
    {.key = "compress", .type = SN_CFG_BOOL},
    {.key = NULL},
};

static const sn_cfg_schema_t s_detector[] = {
    {.key = "method",
     .type = SN_CFG_ENUM,
     .required = true,
     .choices = s_methods},
    {.key = "threshold", .type = SN_CFG_FLOAT, .min = 0, .max = 100},
    {.key = "params",
     .type = SN_CFG_DICT,
     .item = &(const sn_cfg_schema_t){.type = SN_CFG_SCALAR}},
    {.key = NULL},
};

static const sn_cfg_schema_t s_source_item = {.type = SN_CFG_STRING};
static const sn_cfg_schema_t s_channel_item = {.type = SN_CFG_ENUM,
                                               .choices = s_sources};
static const sn_cfg_schema_t s_detector_item = {.type = SN_CFG_MAP,
                                                .fields = s_detector};

static const sn_cfg_schema_t s_root[] = {
    {.key = "site_id",
     .type = SN_CFG_STRING,
     .required = true,
     .min = 1,
     .max = 32},
    {.key = "spool",
     .type = SN_CFG_MAP,
     .required = true,
     .fields = sn_spool_cfg_schema},
    {.key = "transport", .type = SN_CFG_MAP, .fields = sn_transport_cfg_schema},
    {.key = "publish", .type = SN_CFG_MAP, .fields = s_publish},
    {.key = "rate", .type = SN_CFG_FLOAT, .min = 0, .max = 1},
    {.key = "sources",
     .type = SN_CFG_LIST,
     .min = 1,
     .max = 16,
     .item = &s_source_item},
    {.key = "channels", .type = SN_CFG_LIST, .item = &s_channel_item},
    {.key = "detectors", .type = SN_CFG_DICT, .item = &s_detector_item},
    SN_CFG_LOG_SECTION,
    {.key = NULL},
};

/* Read `node` through every getter, then its children. */
static unsigned
s_walk(const sn_cfg_node_t *node, int depth)
{
    if (depth > 10000) {
        fuzz_fail(FUZZ_TARGET, "tree deeper than the input could make");
    }
    unsigned sum = (unsigned)sn_cfg_line(node);
    const char *key = sn_cfg_key(node);
    const char *text = sn_cfg_text(node);
    sum += key ? (unsigned)strlen(key) : 0;
    sum += text ? (unsigned)strlen(text) : 0;
    sum += (unsigned)sn_cfg_int(node, "", 0);
    sum += sn_cfg_float(node, "", 0.0) != 0.0; /* no cast: may be huge */
    sum += sn_cfg_bool(node, "", false);
    sum += (unsigned)strlen(sn_cfg_str(node, "", ""));
    size_t n = sn_cfg_size(node);
    for (size_t i = 0; i < n; i++) {
        const sn_cfg_node_t *child = sn_cfg_at(node, i);
        if (child == NULL) {
            fuzz_fail(FUZZ_TARGET, "sn_cfg_at NULL below sn_cfg_size");
        }
        sum += s_walk(child, depth + 1);
    }
    if (sn_cfg_at(node, n) != NULL) {
        fuzz_fail(FUZZ_TARGET, "sn_cfg_at past the end is not NULL");
    }
    return sum;
}

/* Read the real sections the way a daemon does at start. */
static void
s_read_sections(const sn_config_t *cfg)
{
    const sn_cfg_node_t *root = sn_config_root(cfg);
    sn_transport_opts_t t;
    sn_spool_opts_t s;
    sn_err_t err;
    (void)sn_transport_opts_from_cfg(cfg, sn_cfg_get(root, "transport"), &t,
                                     &err);
    (void)sn_spool_opts_from_cfg(cfg, sn_cfg_get(root, "spool"), &s, &err);
    (void)sn_cfg_get(root, "detectors.ili.params.k");
    (void)sn_cfg_get(root, "sources.0");
    (void)sn_cfg_error(cfg, sn_cfg_get(root, "spool.dir"), &err, "fuzz");
}

#ifdef SN_FUZZ_DAEMON_SCHEMAS
/* The three daemons' own loaders and readers. */
static void
s_daemons(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    sn_config_t *cfg = NULL;
    if (sn_config_parse(text, size, "collector.yaml", col_config_schema, &cfg,
                        NULL) == SN_OK) {
        col_site_t site;
        col_cmap_t *cmap = NULL;
        (void)col_config_site(cfg, &site, NULL);
        if (col_config_cmap(cfg, &cmap, NULL) == SN_OK) {
            col_cmap_destroy(&cmap);
        }
        (void)s_walk(sn_config_root(cfg), 0);
        sn_config_destroy(&cfg);
    }
    if (sn_config_parse(text, size, "sentinel.yaml", ana_config_schema, &cfg,
                        NULL) == SN_OK) {
        ana_config_t ana = {0};
        if (ana_config_read(cfg, &ana, NULL) == SN_OK) {
            ana_config_fini(&ana);
        }
        (void)s_walk(sn_config_root(cfg), 0);
        sn_config_destroy(&cfg);
    }
    char *copy = fuzz_dup(data, size);
    alr_config_t *alr = NULL;
    if (alr_config_parse(copy, "alerting.yaml", &alr, NULL) == SN_OK) {
        alr_config_destroy(&alr);
    }
    free(copy);
}
#endif

int
fuzz_config(const uint8_t *data, size_t size)
{
#ifdef SN_FUZZ_DAEMON_SCHEMAS
    s_daemons(data, size);
#endif
    sn_config_t *cfg = NULL;
    sn_err_t err;
    sn_err_clear(&err);
    int rc = sn_config_parse((const char *)data, size, "fuzz.yaml", s_root,
                             &cfg, &err);
    if (rc != SN_OK) {
        if (rc != SN_ECONFIG || err.code != rc ||
            strncmp(err.msg, "fuzz.yaml", 9) != 0 || cfg != NULL) {
            fuzz_fail(FUZZ_TARGET, "refusal without SN_ECONFIG and file:line");
        }
        return 0;
    }
    volatile unsigned sum = s_walk(sn_config_root(cfg), 0);
    (void)sum;
    s_read_sections(cfg);
    sn_config_destroy(&cfg);
    return 0;
}

SN_FUZZ_TARGET(fuzz_config)
