/*  include/sentinel/config.h - the one configuration format of every daemon
 *
 *  Configuration files are YAML (read with libyaml). A daemon describes the
 *  keys it accepts as a static schema table (sn_cfg_schema_t) and loads the
 *  file against it: unknown keys, wrong types, out-of-range values and missing
 *  required keys are refused with "file:line: reason", before anything starts.
 *  Values are then read through typed getters that take dotted paths
 *  ("archive.flush_interval") and fall back to the caller's default when the
 *  key is absent. Each component keeps the schema of its own section in its
 *  own folder; a daemon's root schema lists the sections it accepts.
 *
 *  Threading: a loaded sn_config_t is immutable and may be read from any
 *  thread; loading is reentrant.
 */
#ifndef SENTINEL_INCLUDE_CONFIG_H
#define SENTINEL_INCLUDE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentinel/error.h"

typedef enum {
    SN_CFG_MAP,    /* a mapping with the keys listed in `fields` */
    SN_CFG_DICT,   /* a mapping with any keys; values of type `item` */
    SN_CFG_LIST,   /* a sequence; each item described by `item`;
                      min/max bound the number of items when max > 0 */
    SN_CFG_STRING, /* a scalar; min/max bound its length when max > 0 */
    SN_CFG_INT,    /* an integer within [min, max] */
    SN_CFG_FLOAT,  /* a number within [min, max] */
    SN_CFG_BOOL,   /* true/false, yes/no, on/off */
    SN_CFG_ENUM,   /* a string from `choices` */
    SN_CFG_SCALAR, /* any scalar, checked by the component */
} sn_cfg_type_t;

/* One key of a schema table; tables end with an entry whose key is NULL. */
typedef struct sn_cfg_schema {
    const char *key;                    /* the key; NULL ends the table */
    sn_cfg_type_t type;                 /* what its value must be */
    bool required;                      /* refused when missing */
    double min, max;                    /* range (INT, FLOAT, STRING length) */
    const char *const *choices;         /* ENUM: NULL-terminated names */
    const struct sn_cfg_schema *fields; /* MAP: table of its keys */
    const struct sn_cfg_schema *item;   /* LIST, DICT: one entry, key unused */
    const char *doc;                    /* one line for --help and docs */
} sn_cfg_schema_t;

typedef struct sn_config sn_config_t;     /* opaque; a loaded file */
typedef struct sn_cfg_node sn_cfg_node_t; /* opaque; a node of the file */

/** Load and validate the YAML file `path` against the MAP schema `root`.
 *  @return SN_OK, SN_EIO (cannot read) or SN_ECONFIG with "path:line: reason";
 *  *out is written only on success and the caller owns it. */
int sn_config_load(const char *path, const sn_cfg_schema_t *root,
                   sn_config_t **out, sn_err_t *err);

/** As sn_config_load(), from `len` bytes of `text`; `name` stands for the
 *  file name in messages. */
int sn_config_parse(const char *text, size_t len, const char *name,
                    const sn_cfg_schema_t *root, sn_config_t **out,
                    sn_err_t *err);

/** Free the configuration and set *self_p to NULL. Safe on NULL. Every node
 *  and string read from it becomes invalid. */
void sn_config_destroy(sn_config_t **self_p);

/** @return the file name given to load or parse; valid while self lives. */
const char *sn_config_file(const sn_config_t *self);

/** @return the root mapping; valid while self lives. */
const sn_cfg_node_t *sn_config_root(const sn_config_t *self);

/** @return the node at the dotted `path` below `node` ("archive.path"), or
 *  NULL when a key on the way is absent. An empty path gives `node`. */
const sn_cfg_node_t *sn_cfg_get(const sn_cfg_node_t *node, const char *path);

/** @return the string at `path`, or `dflt` when absent. The string lives as
 *  long as the configuration. */
const char *sn_cfg_str(const sn_cfg_node_t *node, const char *path,
                       const char *dflt);

/** @return the integer at `path`, or `dflt` when absent. */
int64_t sn_cfg_int(const sn_cfg_node_t *node, const char *path, int64_t dflt);

/** @return the number at `path`, or `dflt` when absent. */
double sn_cfg_float(const sn_cfg_node_t *node, const char *path, double dflt);

/** @return the boolean at `path`, or `dflt` when absent. */
bool sn_cfg_bool(const sn_cfg_node_t *node, const char *path, bool dflt);

/** @return the number of items of a list or entries of a mapping; 0 for a
 *  scalar or NULL. */
size_t sn_cfg_size(const sn_cfg_node_t *node);

/** @return item `i` of a list, or the value of entry `i` of a mapping. */
const sn_cfg_node_t *sn_cfg_at(const sn_cfg_node_t *node, size_t i);

/** @return the key of a mapping entry's value node, or NULL. */
const char *sn_cfg_key(const sn_cfg_node_t *node);

/** @return the scalar text of `node`, or NULL for a list or mapping. */
const char *sn_cfg_text(const sn_cfg_node_t *node);

/** @return the 1-based line of `node` in its file. */
int sn_cfg_line(const sn_cfg_node_t *node);

/** Fill `err` with SN_ECONFIG and "file:line: " + the printf-style reason,
 *  for checks a schema cannot express (a rule naming an unknown detector).
 *  @return SN_ECONFIG. */
int sn_cfg_error(const sn_config_t *cfg, const sn_cfg_node_t *node,
                 sn_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The `log` section every daemon accepts: level (debug, info, warn, error,
 * off) and format (logfmt, json). A daemon's root schema embeds it with
 * SN_CFG_LOG_SECTION and applies it with sn_cfg_log_setup(). */
extern const sn_cfg_schema_t sn_cfg_log_schema[];

#define SN_CFG_LOG_SECTION                                                     \
    {                                                                          \
        .key = "log", .type = SN_CFG_MAP, .fields = sn_cfg_log_schema,         \
        .doc = "logging to stderr: level and format"                           \
    }

/** Set the process's log level and format (sn_log_setup()) from the `log`
 *  section of `cfg`; absent keys give level info and format logfmt. Call
 *  once at start-up, before threads start. */
void sn_cfg_log_setup(const sn_config_t *cfg);

#endif
