/*  alerting/alr_config.c - the schema of alerting.yaml and its loader
 *
 *  The schema tables below are the one description of the keys: the loader
 *  in common/config.c checks types, ranges and choices against them, and
 *  their doc strings are what docs/alerts.md lists. Checks a table cannot
 *  express (which keys each sink kind needs) follow, with the line.
 */
#include "alr_config.h"

#include "sentinel/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CFG_END                                                                \
    {                                                                          \
        NULL, 0, false, 0, 0, NULL, NULL, NULL, NULL                           \
    }
#define CFG_SECRET_MAX 4096 /* largest secret, token or password file */

static const char *const s_kinds[] = {"webhook", "email", "kafka",
                                      "zmq",     "log",   NULL};
static const char *const s_formats[] = {"json", "cap", NULL};
static const char *const s_statuses[] = {"Exercise", "Actual", "Test",
                                         "System",   "Draft",  NULL};
static const char *const s_levels[] = {"debug", "info", "warn",
                                       "error", "off",  NULL};
static const char *const s_log_formats[] = {"logfmt", "json", NULL};
static const char *const s_clocks[] = {"wall", "data", NULL};

static const sn_cfg_schema_t s_string_item = {
    NULL, SN_CFG_STRING, true, 1, 320, NULL, NULL, NULL, "an address"};

static const sn_cfg_schema_t s_sink_fields[] = {
    {"name", SN_CFG_STRING, true, 1, ALR_NAME_MAX, NULL, NULL, NULL,
     "unique name of the sink (kept in the outbox)"},
    {"kind", SN_CFG_ENUM, true, 0, 0, s_kinds, NULL, NULL,
     "webhook, email, kafka, zmq or log"},
    {"format", SN_CFG_ENUM, false, 0, 0, s_formats, NULL, NULL,
     "webhook, kafka, zmq: json (default) or cap (CAP 1.2 XML)"},
    {"url", SN_CFG_STRING, false, 1, 2048, NULL, NULL, NULL,
     "webhook: http(s):// URL; email: smtp:// or smtps:// server"},
    {"secret_file", SN_CFG_STRING, false, 1, 4096, NULL, NULL, NULL,
     "webhook: file holding the HMAC-SHA256 key"},
    {"from", SN_CFG_STRING, false, 3, 320, NULL, NULL, NULL,
     "email: sender address"},
    {"to", SN_CFG_LIST, false, 1, 64, NULL, NULL, &s_string_item,
     "email: recipient addresses"},
    {"username", SN_CFG_STRING, false, 1, 256, NULL, NULL, NULL,
     "email: SMTP AUTH user"},
    {"password_file", SN_CFG_STRING, false, 1, 4096, NULL, NULL, NULL,
     "email: file holding the SMTP AUTH password"},
    {"brokers", SN_CFG_STRING, false, 1, 2048, NULL, NULL, NULL,
     "kafka: bootstrap brokers"},
    {"topic", SN_CFG_STRING, false, 1, 249, NULL, NULL, NULL,
     "kafka: the topic"},
    {"endpoint", SN_CFG_STRING, false, 1, 1024, NULL, NULL, NULL,
     "zmq: where the PUB socket binds (tcp:// or ipc://)"},
    {"path", SN_CFG_STRING, false, 1, 4096, NULL, NULL, NULL,
     "log: the JSON-lines alert log"},
    {"timeout_ms", SN_CFG_INT, false, 100, 600000, NULL, NULL, NULL,
     "webhook, email: time allowed for one attempt"},
    CFG_END,
};

static const sn_cfg_schema_t s_sink_item = {
    NULL, SN_CFG_MAP, true, 0, 0, NULL, s_sink_fields, NULL, "a sink"};

static const sn_cfg_schema_t s_cap_fields[] = {
    {"sender", SN_CFG_STRING, false, 1, 100, NULL, NULL, NULL,
     "CAP sender: no spaces or commas (sentinel.cdc.example)"},
    {"status", SN_CFG_ENUM, false, 0, 0, s_statuses, NULL, NULL,
     "CAP status: Exercise (default) or Actual"},
    {"restriction", SN_CFG_STRING, false, 1, 512, NULL, NULL, NULL,
     "CAP restriction text (scope is Restricted)"},
    {"language", SN_CFG_STRING, false, 2, 35, NULL, NULL, NULL,
     "CAP info language (en-US)"},
    CFG_END,
};

static const sn_cfg_schema_t s_outbox_fields[] = {
    {"base_ms", SN_CFG_INT, false, 10, 3600000, NULL, NULL, NULL,
     "first retry after about this long (1000)"},
    {"max_ms", SN_CFG_INT, false, 10, 86400000, NULL, NULL, NULL,
     "retry at least this often (300000)"},
    CFG_END,
};

static const sn_cfg_schema_t s_api_fields[] = {
    {"listen", SN_CFG_STRING, true, 3, 64, NULL, NULL, NULL,
     "ADDRESS:PORT of the HTTP API (127.0.0.1:8470)"},
    {"token_file", SN_CFG_STRING, true, 1, 4096, NULL, NULL, NULL,
     "file holding the bearer token"},
    CFG_END,
};

static const sn_cfg_schema_t s_alerting_fields[] = {
    {"store", SN_CFG_STRING, true, 1, 4096, NULL, NULL, NULL,
     "the SQLite database of alerts and the outbox"},
    {"quiet_days", SN_CFG_INT, false, 1, 365, NULL, NULL, NULL,
     "days without new evidence before an alert closes (7)"},
    {"tick_ms", SN_CFG_INT, false, 10, 60000, NULL, NULL, NULL,
     "main loop period (200)"},
    {"clock", SN_CFG_ENUM, false, 0, 0, s_clocks, NULL, NULL,
     "quiet days counted on the wall clock (default) or on the newest "
     "evidence day (data: replays and demos)"},
    {"metrics", SN_CFG_STRING, false, 3, 64, NULL, NULL, NULL,
     "ADDRESS:PORT serving /metrics and /healthz; absent: off"},
    {"cap", SN_CFG_MAP, false, 0, 0, NULL, s_cap_fields, NULL,
     "CAP 1.2 message settings"},
    {"outbox", SN_CFG_MAP, false, 0, 0, NULL, s_outbox_fields, NULL,
     "delivery retry timing"},
    {"api", SN_CFG_MAP, false, 0, 0, NULL, s_api_fields, NULL,
     "the HTTP API; absent: no API"},
    {"sinks", SN_CFG_LIST, false, 0, ALR_CONFIG_MAX_SINKS, NULL, NULL,
     &s_sink_item, "where notifications are delivered"},
    CFG_END,
};

static const sn_cfg_schema_t s_log_fields[] = {
    {"level", SN_CFG_ENUM, false, 0, 0, s_levels, NULL, NULL,
     "debug, info (default), warn, error or off"},
    {"format", SN_CFG_ENUM, false, 0, 0, s_log_formats, NULL, NULL,
     "logfmt (default) or json"},
    CFG_END,
};

const sn_cfg_schema_t alr_config_schema[] = {
    {"alerting", SN_CFG_MAP, true, 0, 0, NULL, s_alerting_fields, NULL,
     "the alerting daemon"},
    {"transport", SN_CFG_MAP, false, 0, 0, NULL, sn_transport_cfg_schema, NULL,
     "where alerts from the analyzer come in"},
    {"log", SN_CFG_MAP, false, 0, 0, NULL, s_log_fields, NULL, "logging"},
    CFG_END,
};

/* --------------------------------------------------------------- helpers */

/* Read a small secret file, without its trailing newline. */
static int
s_read_secret(const sn_config_t *cfg, const sn_cfg_node_t *node,
              const char *path, char **out, size_t *len, sn_err_t *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return sn_cfg_error(cfg, node, err, "cannot read '%s': %s", path,
                            strerror(errno));
    }
    char *buf = sn_malloc(CFG_SECRET_MAX + 1);
    size_t n = fread(buf, 1, CFG_SECRET_MAX + 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }
    if (n == 0 || n > CFG_SECRET_MAX) {
        free(buf);
        return sn_cfg_error(cfg, node, err, "'%s': empty or over %d bytes",
                            path, CFG_SECRET_MAX);
    }
    buf[n] = '\0';
    *out = buf;
    if (len != NULL) {
        *len = n;
    }
    return SN_OK;
}

/* The keys each kind needs. */
static int
s_check_kind(const sn_config_t *cfg, const sn_cfg_node_t *node,
             const alr_sink_cfg_t *s, sn_err_t *err)
{
    const char *missing = NULL;
    if (strcmp(s->kind, "webhook") == 0 && s->url == NULL) {
        missing = "url";
    } else if (strcmp(s->kind, "email") == 0) {
        missing = !s->url ? "url" : !s->from ? "from" : !s->n_to ? "to" : NULL;
    } else if (strcmp(s->kind, "kafka") == 0) {
        missing = !s->brokers ? "brokers" : !s->topic ? "topic" : NULL;
    } else if (strcmp(s->kind, "zmq") == 0 && s->endpoint == NULL) {
        missing = "endpoint";
    } else if (strcmp(s->kind, "log") == 0 && s->path == NULL) {
        missing = "path";
    }
    if (missing != NULL) {
        return sn_cfg_error(cfg, node, err, "sink '%s' (%s): missing key '%s'",
                            s->name, s->kind, missing);
    }
    return SN_OK;
}

static int
s_load_sink(alr_config_t *self, const sn_cfg_node_t *node, alr_sink_cfg_t *s,
            sn_err_t *err)
{
    s->name = sn_cfg_str(node, "name", NULL);
    s->kind = sn_cfg_str(node, "kind", NULL);
    s->format = strcmp(sn_cfg_str(node, "format", "json"), "cap") == 0
                    ? ALR_FORMAT_CAP
                    : ALR_FORMAT_JSON;
    s->url = sn_cfg_str(node, "url", NULL);
    s->from = sn_cfg_str(node, "from", NULL);
    s->username = sn_cfg_str(node, "username", NULL);
    s->brokers = sn_cfg_str(node, "brokers", NULL);
    s->topic = sn_cfg_str(node, "topic", NULL);
    s->endpoint = sn_cfg_str(node, "endpoint", NULL);
    s->path = sn_cfg_str(node, "path", NULL);
    s->timeout_ms = (long)sn_cfg_int(node, "timeout_ms", 0);
    const sn_cfg_node_t *to = sn_cfg_get(node, "to");
    s->n_to = sn_cfg_size(to);
    s->to = sn_calloc(s->n_to + 1, sizeof *s->to);
    for (size_t i = 0; i < s->n_to; i++) {
        s->to[i] = sn_cfg_text(sn_cfg_at(to, i));
    }
    int rc = s_check_kind(self->cfg, node, s, err);
    const char *secret = sn_cfg_str(node, "secret_file", NULL);
    const char *pass = sn_cfg_str(node, "password_file", NULL);
    if (rc == SN_OK && secret != NULL) {
        rc = s_read_secret(self->cfg, sn_cfg_get(node, "secret_file"), secret,
                           &s->secret, &s->secret_len, err);
    }
    if (rc == SN_OK && pass != NULL) {
        rc = s_read_secret(self->cfg, sn_cfg_get(node, "password_file"), pass,
                           &s->password, NULL, err);
    }
    return rc;
}

static int
s_load_sinks(alr_config_t *self, const sn_cfg_node_t *list, sn_err_t *err)
{
    for (size_t i = 0; i < sn_cfg_size(list); i++) {
        const sn_cfg_node_t *node = sn_cfg_at(list, i);
        alr_sink_cfg_t *s = &self->sinks[self->n_sinks++];
        int rc = s_load_sink(self, node, s, err);
        for (size_t j = 0; rc == SN_OK && j + 1 < self->n_sinks; j++) {
            if (strcmp(self->sinks[j].name, s->name) == 0) {
                rc = sn_cfg_error(self->cfg, node, err,
                                  "sink name '%s' used twice", s->name);
            }
        }
        if (rc != SN_OK) {
            return rc;
        }
        self->sink_names[i] = s->name;
    }
    self->life.sinks = self->sink_names;
    self->life.n_sinks = self->n_sinks;
    return SN_OK;
}

static int
s_load_cap(alr_config_t *self, const sn_cfg_node_t *a, sn_err_t *err)
{
    alr_cap_opts_t *c = &self->life.cap;
    c->sender = sn_cfg_str(a, "cap.sender", "sentinel.cdc.local");
    c->status = sn_cfg_str(a, "cap.status", "Exercise");
    c->restriction = sn_cfg_str(a, "cap.restriction", NULL);
    c->language = sn_cfg_str(a, "cap.language", "en-US");
    if (strpbrk(c->sender, " \t,<&") != NULL) {
        return sn_cfg_error(self->cfg, sn_cfg_get(a, "cap.sender"), err,
                            "key 'alerting.cap.sender': no spaces, commas, "
                            "'<' or '&' allowed in a CAP sender");
    }
    return SN_OK;
}

static int
s_load(alr_config_t *self, sn_err_t *err)
{
    const sn_cfg_node_t *root = sn_config_root(self->cfg);
    const sn_cfg_node_t *a = sn_cfg_get(root, "alerting");
    self->store = sn_cfg_str(a, "store", NULL);
    self->life.quiet_days = (int)sn_cfg_int(a, "quiet_days", 7);
    self->tick_ms = (int)sn_cfg_int(a, "tick_ms", 200);
    self->metrics = sn_cfg_str(a, "metrics", NULL);
    self->data_clock = strcmp(sn_cfg_str(a, "clock", "wall"), "data") == 0;
    self->outbox.base_ms = sn_cfg_int(a, "outbox.base_ms", ALR_OUTBOX_BASE_MS);
    self->outbox.max_ms = sn_cfg_int(a, "outbox.max_ms", ALR_OUTBOX_MAX_MS);
    self->api_listen = sn_cfg_str(a, "api.listen", NULL);
    sn_log_level_parse(sn_cfg_str(root, "log.level", "info"), &self->log_level);
    self->log_format =
        strcmp(sn_cfg_str(root, "log.format", "logfmt"), "json") == 0
            ? SN_LOG_JSON
            : SN_LOG_LOGFMT;
    int rc = s_load_cap(self, a, err);
    if (rc == SN_OK && self->api_listen != NULL) {
        rc = s_read_secret(self->cfg, sn_cfg_get(a, "api.token_file"),
                           sn_cfg_str(a, "api.token_file", NULL),
                           &self->api_token, NULL, err);
    }
    rc = rc ? rc : s_load_sinks(self, sn_cfg_get(a, "sinks"), err);
    const sn_cfg_node_t *t = sn_cfg_get(root, "transport");
    self->has_transport = t != NULL;
    if (rc == SN_OK && t != NULL) {
        rc = sn_transport_opts_from_cfg(self->cfg, t, &self->transport, err);
    }
    return rc;
}

/* ------------------------------------------------------------- lifecycle */

static int
s_finish(sn_config_t *cfg, int rc, alr_config_t **out, sn_err_t *err)
{
    if (rc != SN_OK) {
        return rc;
    }
    alr_config_t *self = sn_calloc(1, sizeof *self);
    self->cfg = cfg;
    rc = s_load(self, err);
    if (rc != SN_OK) {
        alr_config_destroy(&self);
        return rc;
    }
    *out = self;
    return SN_OK;
}

int
alr_config_load(const char *path, alr_config_t **out, sn_err_t *err)
{
    sn_config_t *cfg = NULL;
    int rc = sn_config_load(path, alr_config_schema, &cfg, err);
    return s_finish(cfg, rc, out, err);
}

int
alr_config_parse(const char *text, const char *name, alr_config_t **out,
                 sn_err_t *err)
{
    sn_config_t *cfg = NULL;
    int rc =
        sn_config_parse(text, strlen(text), name, alr_config_schema, &cfg, err);
    return s_finish(cfg, rc, out, err);
}

void
alr_config_destroy(alr_config_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    alr_config_t *self = *self_p;
    for (size_t i = 0; i < self->n_sinks; i++) {
        free(self->sinks[i].to);
        free(self->sinks[i].secret);
        free(self->sinks[i].password);
    }
    free(self->api_token);
    sn_config_destroy(&self->cfg);
    free(self);
    *self_p = NULL;
}

static int
s_make_sink(const alr_sink_cfg_t *s, alr_sink_t **sink, sn_err_t *err)
{
    if (strcmp(s->kind, "webhook") == 0) {
        alr_webhook_opts_t o = {s->url, s->format, s->secret, s->secret_len,
                                s->timeout_ms};
        return alr_sink_webhook_new(s->name, &o, sink, err);
    }
    if (strcmp(s->kind, "email") == 0) {
        alr_email_opts_t o = {s->url,      s->from,     s->to,        s->n_to,
                              s->username, s->password, s->timeout_ms};
        return alr_sink_email_new(s->name, &o, sink, err);
    }
    if (strcmp(s->kind, "kafka") == 0) {
        return alr_sink_kafka_new(s->name, s->brokers, s->topic, s->format,
                                  sink, err);
    }
    if (strcmp(s->kind, "zmq") == 0) {
        return alr_sink_zmq_new(s->name, s->endpoint, s->format, sink, err);
    }
    return alr_sink_log_new(s->name, s->path, sink, err);
}

int
alr_config_make_sinks(const alr_config_t *self, alr_outbox_t *outbox,
                      sn_err_t *err)
{
    for (size_t i = 0; i < self->n_sinks; i++) {
        alr_sink_t *sink = NULL;
        int rc = s_make_sink(&self->sinks[i], &sink, err);
        if (rc != SN_OK) {
            return rc;
        }
        alr_outbox_add_sink(outbox, &sink);
    }
    return SN_OK;
}
