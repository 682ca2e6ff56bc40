/*  common/metrics.c - counters, gauges and the /metrics and /healthz endpoint
 *
 *  Values are C11 atomics updated with relaxed ordering: a scrape may see
 *  one counter a moment before another, which Prometheus tolerates, and the
 *  hot paths pay one uncontended atomic add. The HTTP side is
 *  libmicrohttpd in its own thread (MHD_USE_INTERNAL_POLLING_THREAD), so a
 *  daemon's main loop never blocks on a scrape.
 */
#include "sentinel/metrics.h"

#include "sentinel/date.h"
#include "sentinel/mem.h"

#include <arpa/inet.h>
#include <assert.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One registered metric. */
typedef struct {
    const char *name;       /* lower_snake_case, static */
    const char *help;       /* help text, static */
    sn_metric_kind_t kind;  /* counter or gauge */
    _Atomic int64_t value;  /* current value */
} s_metric_t;

struct sn_metrics {
    char *prefix;                     /* prepended to every name */
    s_metric_t items[SN_METRICS_MAX]; /* registered metrics */
    int count;                        /* how many are registered */
    _Atomic int64_t last_beat_ms;     /* wall clock of the last beat */
    int stale_ms;                     /* /healthz limit */
    struct MHD_Daemon *http;          /* the server, or NULL */
};

sn_metrics_t *
sn_metrics_new(const char *prefix)
{
    sn_metrics_t *self = sn_calloc(1, sizeof *self);
    self->prefix = sn_strdup(prefix);
    atomic_store(&self->last_beat_ms, sn_time_now());
    return self;
}

void
sn_metrics_destroy(sn_metrics_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    sn_metrics_t *self = *self_p;
    if (self->http != NULL) {
        MHD_stop_daemon(self->http);
    }
    free(self->prefix);
    free(self);
    *self_p = NULL;
}

int
sn_metrics_register(sn_metrics_t *self, const char *name,
                    sn_metric_kind_t kind, const char *help)
{
    assert(self != NULL && self->count < SN_METRICS_MAX);
    s_metric_t *m = &self->items[self->count];
    m->name = name;
    m->help = help;
    m->kind = kind;
    atomic_store(&m->value, 0);
    return self->count++;
}

void
sn_metrics_add(sn_metrics_t *self, int id, int64_t delta)
{
    assert(self != NULL && id >= 0 && id < self->count);
    atomic_fetch_add_explicit(&self->items[id].value, delta,
                              memory_order_relaxed);
}

void
sn_metrics_set(sn_metrics_t *self, int id, int64_t value)
{
    assert(self != NULL && id >= 0 && id < self->count);
    atomic_store_explicit(&self->items[id].value, value, memory_order_relaxed);
}

int64_t
sn_metrics_get(const sn_metrics_t *self, int id)
{
    assert(self != NULL && id >= 0 && id < self->count);
    return atomic_load_explicit(&((sn_metrics_t *)self)->items[id].value,
                                memory_order_relaxed);
}

void
sn_metrics_beat(sn_metrics_t *self)
{
    atomic_store_explicit(&self->last_beat_ms, sn_time_now(),
                          memory_order_relaxed);
}

char *
sn_metrics_render(const sn_metrics_t *self)
{
    size_t cap = 256 + (size_t)self->count * 256;
    char *out = sn_malloc(cap);
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < self->count; i++) {
        const s_metric_t *m = &self->items[i];
        const char *type = m->kind == SN_METRIC_COUNTER ? "counter" : "gauge";
        const char *suffix = m->kind == SN_METRIC_COUNTER ? "_total" : "";
        int64_t v = sn_metrics_get(self, i);
        int n = snprintf(out + o, cap - o,
                         "# HELP %s_%s%s %s\n# TYPE %s_%s%s %s\n%s_%s%s %lld\n",
                         self->prefix, m->name, suffix, m->help, self->prefix,
                         m->name, suffix, type, self->prefix, m->name, suffix,
                         (long long)v);
        if (n < 0 || (size_t)n >= cap - o) {
            cap = (cap + (size_t)(n > 0 ? n : 0)) * 2;
            out = sn_realloc(out, cap);
            i--; /* render this metric again into the bigger buffer */
            continue;
        }
        o += (size_t)n;
    }
    return out;
}

/* Answer one request: /metrics, /healthz, or 404. */
static enum MHD_Result
s_answer(void *cls, struct MHD_Connection *conn, const char *url,
         const char *method, const char *version, const char *upload,
         size_t *upload_size, void **req_cls)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)req_cls;
    sn_metrics_t *self = cls;
    char *body;
    unsigned status = MHD_HTTP_OK;
    const char *type = "text/plain; version=0.0.4; charset=utf-8";
    if (strcmp(method, "GET") != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        body = sn_strdup("method not allowed\n");
    } else if (strcmp(url, "/metrics") == 0) {
        body = sn_metrics_render(self);
    } else if (strcmp(url, "/healthz") == 0) {
        int64_t age = sn_time_now() - atomic_load(&self->last_beat_ms);
        int ok = age <= self->stale_ms;
        status = ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
        body = sn_strdup_printf("%s last_beat_ms_ago=%lld\n",
                                ok ? "ok" : "stale", (long long)age);
    } else {
        status = MHD_HTTP_NOT_FOUND;
        body = sn_strdup("not found\n");
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", type);
    enum MHD_Result rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* Parse "host:port" (IPv4) into a socket address. */
static int
s_parse_address(const char *address, struct sockaddr_in *sa, sn_err_t *err)
{
    const char *colon = address ? strrchr(address, ':') : NULL;
    if (colon == NULL || colon == address) {
        return sn_err_set(err, SN_EINVAL,
                          "metrics address '%s': expected HOST:PORT",
                          address ? address : "");
    }
    char host[64];
    size_t hlen = (size_t)(colon - address);
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (hlen >= sizeof host || *end != '\0' || port < 1 || port > 65535) {
        return sn_err_set(err, SN_EINVAL,
                          "metrics address '%s': expected HOST:PORT", address);
    }
    memcpy(host, address, hlen);
    host[hlen] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        return sn_err_set(err, SN_EINVAL,
                          "metrics address '%s': '%s' is not an IPv4 address",
                          address, host);
    }
    return SN_OK;
}

int
sn_metrics_serve(sn_metrics_t *self, const char *address, int stale_ms,
                 sn_err_t *err)
{
    struct sockaddr_in sa;
    int rc = s_parse_address(address, &sa, err);
    if (rc != SN_OK) {
        return rc;
    }
    self->stale_ms = stale_ms;
    self->http = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        s_answer, self, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (self->http == NULL) {
        return sn_err_set(err, SN_EIO, "metrics: cannot listen on %s",
                          address);
    }
    return SN_OK;
}
