/*  analyzer/archive_config.c - the `archive:` section of the analyzer config
 *
 *  The schema table the analyzer's root schema includes, the defaults, and
 *  the loader that turns a validated section into ana_archive_opts_t. The
 *  chunk shape only matters when a file is created: an existing archive
 *  keeps the shape it was created with (it is stored in its attributes).
 */
#include "archive.h"

#include "archive_int.h"

#include <math.h>
#include <string.h>

#define S_DEFAULT_FLUSH 5.0
#define S_DEFAULT_CHUNK_SERIES 512
#define S_DEFAULT_CHUNK_DAYS 16
#define S_DEFAULT_DEFLATE 4
#define S_MAX_CHUNK_BYTES (4u << 20) /* HDF5 chunks stay well below 4 GB */

const sn_cfg_schema_t ana_archive_schema[] = {
    {.key = "path",
     .type = SN_CFG_STRING,
     .required = true,
     .min = 1,
     .max = 4096,
     .doc = "the HDF5 archive file; created when missing"},
    {.key = "flush_interval",
     .type = SN_CFG_FLOAT,
     .min = 0.0,
     .max = 3600.0,
     .doc = "seconds between flushes (default 5): a kill -9 loses at most "
            "this much"},
    {.key = "chunk_series",
     .type = SN_CFG_INT,
     .min = 1,
     .max = 1 << 20,
     .doc = "series per chunk, new files only (default 512)"},
    {.key = "chunk_days",
     .type = SN_CFG_INT,
     .min = 1,
     .max = 366,
     .doc = "days per chunk = days in the uncompressed recent block, new "
            "files only (default 16)"},
    {.key = "deflate",
     .type = SN_CFG_INT,
     .min = 0,
     .max = 9,
     .doc = "deflate level of sealed blocks, with shuffle; 0 stores them "
            "raw (default 4)"},
    {.key = NULL},
};

void
ana_archive_opts_default(ana_archive_opts_t *opts)
{
    *opts = (ana_archive_opts_t){
        .path = NULL,
        .detectors = NULL,
        .n_detectors = 0,
        .flush_interval = S_DEFAULT_FLUSH,
        .chunk_series = S_DEFAULT_CHUNK_SERIES,
        .chunk_days = S_DEFAULT_CHUNK_DAYS,
        .deflate = S_DEFAULT_DEFLATE,
    };
}

int
ana_archive_opts_load(const sn_cfg_node_t *node, ana_archive_opts_t *opts,
                      sn_err_t *err)
{
    opts->path = sn_cfg_str(node, "path", opts->path);
    opts->flush_interval =
        sn_cfg_float(node, "flush_interval", opts->flush_interval);
    opts->chunk_series =
        (size_t)sn_cfg_int(node, "chunk_series", (int64_t)opts->chunk_series);
    opts->chunk_days =
        (size_t)sn_cfg_int(node, "chunk_days", (int64_t)opts->chunk_days);
    opts->deflate = (int)sn_cfg_int(node, "deflate", opts->deflate);
    if (opts->chunk_series * opts->chunk_days * sizeof(float) >
        S_MAX_CHUNK_BYTES) {
        const sn_cfg_node_t *at = sn_cfg_get(node, "chunk_series");
        return sn_err_set(err, SN_ECONFIG,
                          "line %d: archive: chunk_series x chunk_days = %zu "
                          "values, more than %u per chunk",
                          at != NULL ? sn_cfg_line(at) : sn_cfg_line(node),
                          opts->chunk_series * opts->chunk_days,
                          S_MAX_CHUNK_BYTES / 4);
    }
    if (!isfinite(opts->flush_interval)) {
        return sn_err_set(err, SN_ECONFIG,
                          "archive: flush_interval: not a "
                          "number");
    }
    return SN_OK;
}

int
ana_ar_check_opts(const ana_archive_opts_t *opts, sn_err_t *err)
{
    if (opts->path == NULL || opts->path[0] == '\0') {
        return sn_err_set(err, SN_EINVAL, "archive: no path");
    }
    if (opts->n_detectors > ANA_ARCHIVE_MAX_DETECTORS) {
        return sn_err_set(err, SN_EINVAL, "archive: %zu detectors, at most %d",
                          opts->n_detectors, ANA_ARCHIVE_MAX_DETECTORS);
    }
    for (size_t i = 0; i < opts->n_detectors; i++) {
        const char *d = opts->detectors[i];
        if (d == NULL || d[0] == '\0' || strlen(d) > ANA_ARCHIVE_NAME_MAX ||
            strchr(d, '/') != NULL || d[0] == '.') {
            return sn_err_set(err, SN_EINVAL,
                              "archive: detector %zu: bad name '%s'", i,
                              d ? d : "");
        }
    }
    if (opts->chunk_series < 1 || opts->chunk_days < 1 || opts->deflate < 0 ||
        opts->deflate > 9) {
        return sn_err_set(err, SN_EINVAL, "archive: bad chunk or deflate");
    }
    return SN_OK;
}
