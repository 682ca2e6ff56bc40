/*  alerting/sink.h - where notifications go: the delivery sink interface
 *
 *  A sink delivers one notification at a time and says whether it got
 *  through; the outbox (outbox.h) decides when to try again. Each kind
 *  lives in its own file and is made by its constructor below:
 *  sink_webhook.c (HTTP POST of JSON or CAP XML, signed), sink_email.c
 *  (SMTP), sink_kafka.c (a topic), sink_zmq.c (a PUB socket) and
 *  sink_log.c (a JSON-lines file). The constructors are declared here, not
 *  in one header per file, because callers only ever need the interface.
 *
 *  Threading: a sink belongs to the thread that runs the outbox.
 */
#ifndef SENTINEL_ALERTING_SINK_H
#define SENTINEL_ALERTING_SINK_H

#include <stddef.h>

#include "sentinel/error.h"
#include "store.h"

typedef struct alr_sink alr_sink_t; /* opaque; defined in sink.c */

/* What a kind of sink implements. */
typedef struct alr_sink_ops {
    const char *kind; /* "webhook", "email", … */
    /* Deliver `d`'s notice once. SN_OK when the receiver has it; an error
     * (with the reason in err) makes the outbox try again later. */
    int (*send)(void *impl, const alr_delivery_t *d, sn_err_t *err);
    /* Free impl. */
    void (*destroy)(void *impl);
} alr_sink_ops_t;

/* The body a sink sends. */
typedef enum {
    ALR_FORMAT_JSON = 0, /* the notification's JSON */
    ALR_FORMAT_CAP = 1,  /* its CAP 1.2 XML */
} alr_format_t;

/* Webhook settings; strings borrowed for the constructor only. */
typedef struct alr_webhook_opts {
    const char *url;     /* http:// or https:// */
    alr_format_t format; /* JSON or CAP */
    const char *secret;  /* HMAC-SHA256 key; NULL: no signature */
    size_t secret_len;   /* its length in bytes */
    long timeout_ms;     /* whole request; 10000 when 0 */
} alr_webhook_opts_t;

/* Email settings; strings borrowed for the constructor only. */
typedef struct alr_email_opts {
    const char *url;       /* smtp://host:port or smtps:// */
    const char *from;      /* envelope and From: address */
    const char *const *to; /* recipients */
    size_t n_to;           /* their number, >= 1 */
    const char *username;  /* SMTP AUTH, or NULL */
    const char *password;  /* SMTP AUTH, or NULL */
    long timeout_ms;       /* 30000 when 0 */
} alr_email_opts_t;

/** Create a sink named `name` of kind `ops` over `impl` (owned from now,
 *  freed by ops->destroy). Never returns NULL. Caller owns it. */
alr_sink_t *alr_sink_new(const char *name, const alr_sink_ops_t *ops,
                         void *impl);

/** Free the sink and its implementation; set *self_p to NULL. */
void alr_sink_destroy(alr_sink_t **self_p);

/** @return the sink's name (from the config); valid while it lives. */
const char *alr_sink_name(const alr_sink_t *self);

/** @return the sink's kind ("webhook"). Static. */
const char *alr_sink_kind(const alr_sink_t *self);

/** Deliver `d` once. @return SN_OK or the sink's error. */
int alr_sink_send(alr_sink_t *self, const alr_delivery_t *d, sn_err_t *err);

/** @return the body of `d` in `format` (borrowed from d). */
const char *alr_sink_body(const alr_delivery_t *d, alr_format_t format);

/** A webhook. @return SN_OK or SN_EINVAL (no URL); *out only on success. */
int alr_sink_webhook_new(const char *name, const alr_webhook_opts_t *opts,
                         alr_sink_t **out, sn_err_t *err);

/** Hex HMAC-SHA256 of `body` under `key` into hex (65 bytes). @return hex.
 *  The webhook sends it as "X-Sentinel-Signature: sha256=<hex>". */
char *alr_sink_webhook_sign(const char *key, size_t key_len, const char *body,
                            size_t len, char *hex);

/** An SMTP sink. @return SN_OK or SN_EINVAL; *out only on success. */
int alr_sink_email_new(const char *name, const alr_email_opts_t *opts,
                       alr_sink_t **out, sn_err_t *err);

/** Render the plain-text email of notification JSON `json`: subject line
 *  in *subject, body returned. Caller owns both (free()). @return the body,
 *  or NULL when `json` is not a notification. */
char *alr_sink_email_text(const char *json, char **subject);

/** A Kafka producer to `topic` on `brokers`; the key is the notification
 *  identifier. @return SN_OK, SN_EINVAL or SN_ETRANSPORT. */
int alr_sink_kafka_new(const char *name, const char *brokers, const char *topic,
                       alr_format_t format, alr_sink_t **out, sn_err_t *err);

/** A ZeroMQ XPUB socket bound to `endpoint`; messages are two frames,
 *  "alert.<level>" and the body. A send before any subscriber has joined
 *  fails (and is retried), so each notification reaches at least one.
 *  @return SN_OK or SN_ETRANSPORT (cannot bind). */
int alr_sink_zmq_new(const char *name, const char *endpoint,
                     alr_format_t format, alr_sink_t **out, sn_err_t *err);

/** An append-only JSON-lines alert log at `path` (created 0640): one line
 *  per notification, fsynced. @return SN_OK or SN_EIO. */
int alr_sink_log_new(const char *name, const char *path, alr_sink_t **out,
                     sn_err_t *err);

#endif
