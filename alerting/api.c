/*  alerting/api.c - the HTTP API on libmicrohttpd
 *
 *  Requests are routed by method and path; POST bodies (small JSON
 *  objects) are collected per connection, then the token is checked before
 *  anything is read or changed. Acknowledgement and verification go through
 *  the lifecycle, so the API and the CLI record the same history.
 */
#include "api.h"

#include "sentinel/date.h"
#include "sentinel/mem.h"
#include "store_json.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_BODY_MAX 65536 /* largest POST body accepted */

struct alr_api {
    struct MHD_Daemon *mhd; /* the server */
    alr_store_t *store;     /* used only by the server thread */
    alr_lifecycle_t *life;  /* used only by the server thread */
    char *token;            /* the bearer token */
    int port;               /* where it listens */
};

typedef struct s_body {
    char *data;    /* POST body so far */
    size_t len;    /* its length */
    int too_large; /* more than API_BODY_MAX */
} s_body_t;

/* ------------------------------------------------------------ responses */

static enum MHD_Result
s_reply(struct MHD_Connection *c, unsigned status, char *json)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(json), json, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (status == MHD_HTTP_UNAUTHORIZED) {
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    }
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
s_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
    json_t *o = json_pack("{s:s}", "error", msg);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s_reply(c, status, s);
}

static unsigned
s_status_of(int rc)
{
    switch (rc) {
    case SN_ENOTFOUND:
        return MHD_HTTP_NOT_FOUND;
    case SN_ESTATE:
        return MHD_HTTP_CONFLICT;
    case SN_EINVAL:
    case SN_EPARSE:
        return MHD_HTTP_BAD_REQUEST;
    default:
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

static int
s_authorised(const alr_api_t *self, struct MHD_Connection *c)
{
    const char *h =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (h == NULL || strncmp(h, "Bearer ", 7) != 0) {
        return 0;
    }
    size_t n = strlen(self->token);
    return strlen(h + 7) == n && sodium_memcmp(h + 7, self->token, n) == 0;
}

/* ---------------------------------------------------------------- routes */

/* Parse "/alerts/ID" or "/alerts/ID/VERB": *id and the verb ("" when
 * none). @return 1 when it matches. */
static int
s_route(const char *url, int64_t *id, const char **verb)
{
    if (strncmp(url, "/alerts/", 8) != 0) {
        return 0;
    }
    char *end = NULL;
    long long v = strtoll(url + 8, &end, 10);
    if (end == url + 8 || v <= 0 || (*end != '\0' && *end != '/')) {
        return 0;
    }
    *id = v;
    *verb = *end == '/' ? end + 1 : "";
    return 1;
}

static enum MHD_Result
s_get(alr_api_t *self, struct MHD_Connection *c, const char *url)
{
    char *json = NULL;
    sn_err_t err = {0};
    int64_t id;
    const char *verb;
    int rc;
    if (strcmp(url, "/alerts") == 0) {
        const char *lim =
            MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
        long limit = lim ? strtol(lim, NULL, 10) : 100;
        rc = alr_store_list_json(self->store, limit > 0 ? (size_t)limit : 100,
                                 &json, &err);
    } else if (s_route(url, &id, &verb) && verb[0] == '\0') {
        rc = alr_store_show_json(self->store, id, &json, &err);
    } else {
        return s_error(c, MHD_HTTP_NOT_FOUND, "no such resource");
    }
    if (rc != SN_OK) {
        return s_error(c, s_status_of(rc), sn_err_text(&err));
    }
    return s_reply(c, MHD_HTTP_OK, json);
}

static const char *
s_field(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Apply an ack or verify body to alert `id`. */
static int
s_change(alr_api_t *self, int64_t id, const char *verb, const json_t *o,
         sn_err_t *err)
{
    const char *by = s_field(o, "by"), *note = s_field(o, "note");
    if (strcmp(verb, "ack") == 0) {
        return alr_lifecycle_ack(self->life, id, by, note, sn_time_now(), err);
    }
    alr_outcome_t outcome;
    int grade = 0;
    const char *g = s_field(o, "grade");
    if (alr_outcome_parse(s_field(o, "outcome"), &outcome) != SN_OK) {
        return sn_err_set(err, SN_EINVAL,
                          "field 'outcome': expected "
                          "discarded, monitoring or confirmed");
    }
    if (g != NULL && alr_grade_parse(g, &grade) != SN_OK) {
        return sn_err_set(err, SN_EINVAL,
                          "field 'grade': expected I, II, III "
                          "or IV");
    }
    return alr_lifecycle_verify(self->life, id, outcome, grade, by, note,
                                sn_time_now(), err);
}

static enum MHD_Result
s_post(alr_api_t *self, struct MHD_Connection *c, const char *url,
       const s_body_t *b)
{
    int64_t id;
    const char *verb;
    if (!s_route(url, &id, &verb) ||
        (strcmp(verb, "ack") != 0 && strcmp(verb, "verify") != 0)) {
        return s_error(c, MHD_HTTP_NOT_FOUND, "no such resource");
    }
    if (b->too_large) {
        return s_error(c, MHD_HTTP_BAD_REQUEST, "body too large");
    }
    json_t *o = json_loadb(b->data ? b->data : "", b->len, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return s_error(c, MHD_HTTP_BAD_REQUEST,
                       "body: expected a JSON "
                       "object");
    }
    sn_err_t err = {0};
    int rc = s_change(self, id, verb, o, &err);
    json_decref(o);
    if (rc != SN_OK) {
        return s_error(c, s_status_of(rc), sn_err_text(&err));
    }
    char *json = NULL;
    rc = alr_store_show_json(self->store, id, &json, &err);
    if (rc != SN_OK) {
        return s_error(c, s_status_of(rc), sn_err_text(&err));
    }
    return s_reply(c, MHD_HTTP_OK, json);
}

static enum MHD_Result
s_handler(void *cls, struct MHD_Connection *c, const char *url,
          const char *method, const char *version, const char *upload,
          size_t *upload_size, void **con_cls)
{
    (void)version;
    alr_api_t *self = cls;
    s_body_t *b = *con_cls;
    if (b == NULL) {
        *con_cls = sn_calloc(1, sizeof *b);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (b->len + *upload_size > API_BODY_MAX) {
            b->too_large = 1;
        } else {
            b->data = sn_realloc(b->data, b->len + *upload_size + 1);
            memcpy(b->data + b->len, upload, *upload_size);
            b->len += *upload_size;
            b->data[b->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (!s_authorised(self, c)) {
        return s_error(c, MHD_HTTP_UNAUTHORIZED, "missing or wrong token");
    }
    if (strcmp(method, "GET") == 0) {
        return s_get(self, c, url);
    }
    if (strcmp(method, "POST") == 0) {
        return s_post(self, c, url, b);
    }
    return s_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET or POST");
}

static void
s_completed(void *cls, struct MHD_Connection *c, void **con_cls,
            enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)c, (void)code;
    s_body_t *b = *con_cls;
    if (b != NULL) {
        free(b->data);
        free(b);
    }
    *con_cls = NULL;
}

/* ------------------------------------------------------------- lifecycle */

/* Parse "A.B.C.D:PORT" into `sa`. */
static int
s_parse_listen(const char *listen, struct sockaddr_in *sa, sn_err_t *err)
{
    char host[64];
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (colon == NULL || (size_t)(colon - listen) >= sizeof host ||
        end == colon + 1 || *end != '\0' || port < 0 || port > 65535) {
        return sn_err_set(err, SN_EINVAL,
                          "api listen '%s': expected ADDRESS:PORT",
                          listen ? listen : "");
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        return sn_err_set(err, SN_EINVAL,
                          "api listen '%s': '%s' is not an IPv4 address",
                          listen, host);
    }
    return SN_OK;
}

int
alr_api_start(const char *store_path, const alr_lifecycle_opts_t *opts,
              const char *listen, const char *token, alr_api_t **out,
              sn_err_t *err)
{
    struct sockaddr_in sa;
    int rc = s_parse_listen(listen, &sa, err);
    if (rc == SN_OK && (token == NULL || token[0] == '\0')) {
        rc = sn_err_set(err, SN_EINVAL, "api: empty token");
    }
    if (rc != SN_OK || sodium_init() < 0) {
        return rc ? rc : sn_err_set(err, SN_ESYS, "api: libsodium");
    }
    alr_api_t *self = sn_calloc(1, sizeof *self);
    self->token = sn_strdup(token);
    rc = alr_store_open(store_path, &self->store, err);
    if (rc == SN_OK) {
        self->life = alr_lifecycle_new(self->store, opts);
        self->mhd = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
            s_handler, self, MHD_OPTION_SOCK_ADDR, &sa,
            MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
        if (self->mhd == NULL) {
            rc = sn_err_set(err, SN_EIO, "api: cannot listen on %s", listen);
        }
    }
    if (rc != SN_OK) {
        alr_api_destroy(&self);
        return rc;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(self->mhd, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : ntohs(sa.sin_port);
    *out = self;
    return SN_OK;
}

void
alr_api_destroy(alr_api_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    alr_api_t *self = *self_p;
    if (self->mhd != NULL) {
        MHD_stop_daemon(self->mhd);
    }
    alr_lifecycle_destroy(&self->life);
    alr_store_destroy(&self->store);
    if (self->token != NULL) {
        sodium_memzero(self->token, strlen(self->token));
        free(self->token);
    }
    free(self);
    *self_p = NULL;
}

int
alr_api_port(const alr_api_t *self)
{
    return self->port;
}
