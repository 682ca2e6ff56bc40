/*  tests/fuzz/fuzz_http_api.c - fuzz the alerting HTTP API over loopback
 *
 *  alerting/api.h offers no way to call the request handler without a
 *  socket, so this target starts the real API (libmicrohttpd on
 *  127.0.0.1, a port of its own) over a real SQLite store holding two
 *  alerts, once per process, and sends each input as one HTTP request on
 *  a fresh connection. The input is shaped so that the fuzzer spends its
 *  time in Sentinel's handler rather than in libmicrohttpd's parser:
 *
 *    byte 0           authorisation: 0 the right bearer token, 1 none,
 *                     2 a wrong one (its value modulo 3)
 *    up to '\n'       "METHOD /path?query" (bytes outside 0x21..0x7e
 *                     become '_')
 *    the rest         the request body, sent with its Content-Length
 *
 *  Invariants: every request is answered with an HTTP status line; a
 *  request without the right token never gets a 2xx; no request gets a
 *  5xx (hostile input is a 4xx, never a server error). The store keeps
 *  what earlier inputs did (an acknowledged alert stays acknowledged), as
 *  a running server does.
 */
#include "fuzz.h"

#include "api.h"
#include "lifecycle.h"
#include "sentinel/alert.h"
#include "store.h"

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define FUZZ_TARGET "http_api"
#define FUZZ_TOKEN "fuzz-duty-token"
#define FUZZ_RESPONSE_MAX (1 << 20)

/* The server of this process. A harness-only mutable static: libFuzzer
 * calls the entry point once per input, and starting a store and a server
 * for each would measure SQLite's schema creation, not the handler. */
typedef struct {
    char dir[64];              /* temporary directory of the store */
    alr_lifecycle_opts_t opts; /* lifecycle settings the API keeps */
    alr_api_t *api;            /* the server */
} s_server_t;

static s_server_t *s_srv;

static int
s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
s_stop(void)
{
    alr_api_destroy(&s_srv->api);
    nftw(s_srv->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(s_srv);
    s_srv = NULL;
}

/* Raise two alerts in the store through the lifecycle. */
static void
s_seed(const char *path, const alr_lifecycle_opts_t *opts)
{
    alr_store_t *st = NULL;
    sn_err_t err;
    if (alr_store_open(path, &st, &err) != SN_OK) {
        fuzz_fail(FUZZ_TARGET, err.msg);
    }
    alr_lifecycle_t *life = alr_lifecycle_new(st, opts);
    static const char *const regions[] = {"110105", "310101"};
    for (int i = 0; i < 2; i++) {
        sn_alert_t *a =
            sn_alert_new(SN_LEVEL_ORANGE, "multi-source", "ILI", regions[i],
                         20777, 1795600000000LL, "ILI above baseline", NULL);
        sn_evidence_t ev;
        sn_evidence_init(&ev);
        strcpy(ev.series_key, "ILI|110105|lab");
        strcpy(ev.detector, "ears-c2");
        ev.source = SN_SOURCE_LAB;
        ev.day = 20777;
        ev.observed = 4;
        sn_alert_add_evidence(a, &ev, NULL);
        if (alr_lifecycle_intake(life, a, 1000, NULL, &err) != SN_OK) {
            fuzz_fail(FUZZ_TARGET, err.msg);
        }
        sn_alert_destroy(&a);
    }
    alr_lifecycle_destroy(&life);
    alr_store_destroy(&st);
}

static s_server_t *
s_server(void)
{
    static const char *const sinks[] = {"log"};
    if (s_srv != NULL) {
        return s_srv;
    }
    s_srv = calloc(1, sizeof *s_srv);
    const char *tmp = getenv("TMPDIR");
    snprintf(s_srv->dir, sizeof s_srv->dir, "%s/sn-fuzz-XXXXXX",
             tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (mkdtemp(s_srv->dir) == NULL) {
        fuzz_fail(FUZZ_TARGET, "cannot make a temporary directory");
    }
    s_srv->opts.quiet_days = 3;
    s_srv->opts.cap.sender = "cdc.sentinel.fuzz";
    s_srv->opts.cap.status = "Exercise";
    s_srv->opts.sinks = sinks;
    s_srv->opts.n_sinks = 1;
    char path[128];
    snprintf(path, sizeof path, "%s/alerts.db", s_srv->dir);
    s_seed(path, &s_srv->opts);
    sn_err_t err;
    if (alr_api_start(path, &s_srv->opts, "127.0.0.1:0", FUZZ_TOKEN,
                      &s_srv->api, &err) != SN_OK) {
        fuzz_fail(FUZZ_TARGET, err.msg);
    }
    atexit(s_stop);
    return s_srv;
}

/* Build the request text from the shaped input. Caller frees. */
static char *
s_request(const uint8_t *data, size_t size, size_t *len, int *auth)
{
    *auth = size > 0 ? data[0] % 3 : 0;
    const uint8_t *p = size > 0 ? data + 1 : data;
    size_t n = size > 0 ? size - 1 : 0;
    const uint8_t *nl = memchr(p, '\n', n);
    size_t line = nl ? (size_t)(nl - p) : n;
    line = line > 1024 ? 1024 : line;
    const uint8_t *body = nl ? nl + 1 : p + n;
    size_t blen = (size_t)(p + n - body);
    char head[1100];
    size_t h = 0;
    for (size_t i = 0; i < line; i++) {
        uint8_t c = p[i];
        head[h++] = (c == ' ' || (c >= 0x21 && c <= 0x7e)) ? (char)c : '_';
    }
    head[h] = '\0';
    char *sp = strchr(head, ' ');
    const char *method = "GET", *path = head;
    if (sp != NULL && sp != head) {
        *sp = '\0';
        method = head;
        path = sp + 1;
    }
    for (char *q = (char *)path; *q; q++) {
        *q = *q == ' ' ? '_' : *q;
    }
    const char *hdr = *auth == 0   ? "Authorization: Bearer " FUZZ_TOKEN "\r\n"
                      : *auth == 2 ? "Authorization: Bearer fuzz-wrong\r\n"
                                   : "";
    char *out = malloc(1400 + blen);
    int k = snprintf(out, 1400,
                     "%s %s%s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     method, path[0] == '/' ? "" : "/", path, hdr, blen);
    memcpy(out + k, body, blen);
    *len = (size_t)k + blen;
    return out;
}

/* Send the request on a new connection and read the whole answer.
 * @return the status code, or -1 when there was no status line. */
static int
s_exchange(int port, const char *req, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fuzz_fail(FUZZ_TARGET, "cannot connect to the API");
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (w <= 0) {
            break; /* the server may answer and close early */
        }
        off += (size_t)w;
    }
    char *resp = malloc(FUZZ_RESPONSE_MAX + 1);
    size_t got = 0;
    ssize_t r;
    while (got < FUZZ_RESPONSE_MAX &&
           (r = recv(fd, resp + got, FUZZ_RESPONSE_MAX - got, 0)) > 0) {
        got += (size_t)r;
    }
    close(fd);
    resp[got] = '\0';
    int status = -1;
    if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1) {
        status = -1;
    }
    free(resp);
    return status;
}

int
fuzz_http_api(const uint8_t *data, size_t size)
{
    s_server_t *srv = s_server();
    size_t len;
    int auth;
    char *req = s_request(data, size, &len, &auth);
    int status = s_exchange(alr_api_port(srv->api), req, len);
    free(req);
    if (status < 100) {
        fuzz_fail(FUZZ_TARGET, "no HTTP status line in the answer");
    }
    if (auth != 0 && status >= 200 && status < 300) {
        fuzz_fail(FUZZ_TARGET, "a request without the token got a 2xx");
    }
    if (status >= 500) {
        fuzz_fail(FUZZ_TARGET, "a request got a server error (5xx)");
    }
    return 0;
}

SN_FUZZ_TARGET(fuzz_http_api)
