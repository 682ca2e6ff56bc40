/*  alerting/sink_webhook.c - HTTP POST of each notification, signed
 *
 *  One POST per attempt with libcurl: the body is the notification's JSON
 *  or CAP XML, the Idempotency-Key header its CAP identifier (the same on
 *  every retry, so the receiver can drop repeats), and X-Sentinel-Signature
 *  "sha256=<hex>" the HMAC-SHA256 of the body under the shared secret
 *  (libsodium), which the receiver recomputes. Any 2xx is success; anything
 *  else, or no answer, is a failure the outbox retries with backoff.
 */
#include "sink.h"

#include "sentinel/mem.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEBHOOK_TIMEOUT_MS 10000

typedef struct s_webhook {
    char *url;           /* target */
    alr_format_t format; /* body */
    char *secret;        /* HMAC key, or NULL */
    size_t secret_len;   /* its length */
    long timeout_ms;     /* whole request */
    CURL *curl;          /* reused handle (keeps the connection) */
} s_webhook_t;

char *
alr_sink_webhook_sign(const char *key, size_t key_len, const char *body,
                      size_t len, char *hex)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, 2 * sizeof mac + 1, mac, sizeof mac);
    return hex;
}

/* Discard the response body. */
static size_t
s_discard(char *ptr, size_t size, size_t n, void *arg)
{
    (void)ptr;
    (void)arg;
    return size * n;
}

static struct curl_slist *
s_headers(const s_webhook_t *w, const alr_delivery_t *d, const char *body)
{
    char line[ALR_IDENT_MAX + 256], hex[2 * crypto_auth_hmacsha256_BYTES + 1];
    struct curl_slist *h = curl_slist_append(
        NULL, w->format == ALR_FORMAT_CAP
                  ? "Content-Type: application/cap+xml; charset=utf-8"
                  : "Content-Type: application/json");
    snprintf(line, sizeof line, "Idempotency-Key: %s", d->notice.identifier);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "X-Sentinel-Message-Type: %s",
             alr_msg_type_name(d->notice.type));
    h = curl_slist_append(h, line);
    if (w->secret != NULL) {
        alr_sink_webhook_sign(w->secret, w->secret_len, body, strlen(body),
                              hex);
        snprintf(line, sizeof line, "X-Sentinel-Signature: sha256=%s", hex);
        h = curl_slist_append(h, line);
    }
    return h;
}

static int
s_send(void *impl, const alr_delivery_t *d, sn_err_t *err)
{
    s_webhook_t *w = impl;
    const char *body = alr_sink_body(d, w->format);
    struct curl_slist *h = s_headers(w, d, body);
    CURL *c = w->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, w->url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, w->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sentinel-alerting");
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    if (cc != CURLE_OK) {
        return sn_err_set(err, SN_EIO, "webhook %s: %s", w->url,
                          curl_easy_strerror(cc));
    }
    if (status < 200 || status > 299) {
        return sn_err_set(err, SN_EIO, "webhook %s: HTTP status %ld", w->url,
                          status);
    }
    return SN_OK;
}

static void
s_destroy(void *impl)
{
    s_webhook_t *w = impl;
    curl_easy_cleanup(w->curl);
    free(w->url);
    if (w->secret != NULL) {
        sodium_memzero(w->secret, w->secret_len);
        free(w->secret);
    }
    free(w);
}

static const alr_sink_ops_t s_ops = {"webhook", s_send, s_destroy};

int
alr_sink_webhook_new(const char *name, const alr_webhook_opts_t *opts,
                     alr_sink_t **out, sn_err_t *err)
{
    if (opts->url == NULL || opts->url[0] == '\0') {
        return sn_err_set(err, SN_EINVAL, "sink '%s': no url", name);
    }
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        return sn_err_set(err, SN_ESYS, "sink '%s': cannot initialise", name);
    }
    s_webhook_t *w = sn_calloc(1, sizeof *w);
    w->url = sn_strdup(opts->url);
    w->format = opts->format;
    if (opts->secret != NULL) {
        w->secret = sn_malloc(opts->secret_len + 1);
        memcpy(w->secret, opts->secret, opts->secret_len);
        w->secret_len = opts->secret_len;
    }
    w->timeout_ms =
        opts->timeout_ms > 0 ? opts->timeout_ms : WEBHOOK_TIMEOUT_MS;
    w->curl = curl_easy_init();
    *out = alr_sink_new(name, &s_ops, w);
    return SN_OK;
}
