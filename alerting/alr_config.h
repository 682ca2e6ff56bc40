/*  alerting/alr_config.h - the alerting daemon's configuration file
 *
 *  `sentinel alerts -c alerting.yaml …` reads one YAML file with the
 *  sections `alerting` (this component's: store, quiet period, CAP, outbox,
 *  API, sinks), `transport` (where the analyzer's alerts come in; the
 *  shared sn_transport_cfg_schema) and `log`. deploy/alerting.yaml is the
 *  commented example; docs/alerts.md describes the keys for operators.
 *  Loading checks the schema and then what it cannot express: sink kinds
 *  and their required keys, unique sink names, readable secret files.
 *
 *  Threading: a loaded configuration is immutable; read it from any thread.
 */
#ifndef SENTINEL_ALERTING_ALR_CONFIG_H
#define SENTINEL_ALERTING_ALR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "lifecycle.h"
#include "outbox.h"
#include "sentinel/config.h"
#include "sentinel/log.h"
#include "sentinel/transport.h"

#define ALR_CONFIG_MAX_SINKS 32

/* One sink as configured; strings borrow from the loaded file. */
typedef struct alr_sink_cfg {
    const char *name;     /* unique name, used in the outbox */
    const char *kind;     /* webhook, email, kafka, zmq, log */
    alr_format_t format;  /* json (default) or cap */
    const char *url;      /* webhook, email */
    char *secret;         /* webhook: HMAC key read from secret_file */
    size_t secret_len;    /* its length */
    const char *from;     /* email */
    const char **to;      /* email recipients (owned array) */
    size_t n_to;          /* their number */
    const char *username; /* email: SMTP AUTH user, or NULL */
    char *password;       /* email: read from password_file, or NULL */
    const char *brokers;  /* kafka */
    const char *topic;    /* kafka */
    const char *endpoint; /* zmq */
    const char *path;     /* log */
    long timeout_ms;      /* webhook, email; 0: default */
} alr_sink_cfg_t;

/* The loaded configuration. */
typedef struct alr_config {
    sn_config_t *cfg;          /* owned; the strings below live here */
    const char *store;         /* SQLite file */
    alr_lifecycle_opts_t life; /* quiet_days, CAP, sink names */
    alr_outbox_opts_t outbox;  /* retry timing */
    int tick_ms;               /* main loop period */
    bool data_clock;           /* quiet days counted on the data */
    const char *metrics;       /* /metrics address, or NULL */
    const char *api_listen;    /* NULL: no HTTP API */
    char *api_token;           /* owned; read from token_file */
    alr_sink_cfg_t sinks[ALR_CONFIG_MAX_SINKS];   /* configured sinks */
    size_t n_sinks;                               /* their number */
    const char *sink_names[ALR_CONFIG_MAX_SINKS]; /* for life.sinks */
    bool has_transport;            /* a `transport` section is present */
    sn_transport_opts_t transport; /* the intake receiver */
    sn_log_level_t log_level;      /* from `log.level` */
    sn_log_format_t log_format;    /* from `log.format` */
} alr_config_t;

/** The root schema: sections alerting (required), transport, log. */
extern const sn_cfg_schema_t alr_config_schema[];

/** Load and check `path`. @return SN_OK, SN_EIO or SN_ECONFIG with
 *  "file:line: reason"; *out only on success, caller owns it. */
int alr_config_load(const char *path, alr_config_t **out, sn_err_t *err);

/** As alr_config_load() from text in memory; `name` names it in messages. */
int alr_config_parse(const char *text, const char *name, alr_config_t **out,
                     sn_err_t *err);

/** Free the configuration and set *self_p to NULL. Safe on NULL. */
void alr_config_destroy(alr_config_t **self_p);

/** Build every configured sink and add it to `outbox`. @return SN_OK or
 *  the first sink's error (the message names the sink). */
int alr_config_make_sinks(const alr_config_t *self, alr_outbox_t *outbox,
                          sn_err_t *err);

#endif
