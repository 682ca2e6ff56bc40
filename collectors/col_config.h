/*  collectors/col_config.h - the collector's configuration file
 *
 *  The schema of collector.yaml (sections site, inputs, mllp, inbox,
 *  dead_letter, and the spool and transport sections of the transport
 *  module) for sn_config_load(), and the builders that turn a loaded file
 *  into feeds, a condition map and a dead-letter writer. deploy/collector.yaml
 *  is a commented example.
 *
 *  Threading: the schema is immutable; builders are reentrant.
 */
#ifndef SENTINEL_COLLECTORS_COL_CONFIG_H
#define SENTINEL_COLLECTORS_COL_CONFIG_H

#include "condition_map.h"
#include "deadletter.h"
#include "feed.h"
#include "sentinel/config.h"

/* The root schema of collector.yaml. */
extern const sn_cfg_schema_t col_config_schema[];

/** Read the site section into *site (strings borrowed from cfg).
 *  @return SN_OK or SN_ECONFIG (unknown source name) with file:line. */
int col_config_site(const sn_config_t *cfg, col_site_t *site, sn_err_t *err);

/** Build the condition map of inputs.hl7 (the default catalogue unless
 *  `catalogue: none`, then the configured rules first).
 *  @return SN_OK or SN_ECONFIG with file:line; *out is the caller's. */
int col_config_cmap(const sn_config_t *cfg, col_cmap_t **out, sn_err_t *err);

/** Create a feed of `kind` named `name` from the site section and the
 *  options of that kind under `inputs`.
 *  @return the feed (caller owns it), or NULL with SN_ECONFIG. */
col_feed_t *col_feed_from_config(const sn_config_t *cfg, col_feed_kind_t kind,
                                 const char *name, sn_err_t *err);

/** Open the dead-letter writer of the dead_letter section, with its Kafka
 *  topic when transport.kind is kafka (dead_letter.topic, by default
 *  "<transport.topic>.dead-letter").
 *  @return the writer (caller owns it), or NULL with SN_ECONFIG, SN_EIO or
 *  SN_ETRANSPORT. */
col_deadletter_t *col_deadletter_from_config(const sn_config_t *cfg,
                                             sn_err_t *err);

#endif
