/*  cli/demo_watch.c - what the demo shows: alerts as they come, CAP files
 *
 *  The watcher reads the alerting daemon's notifications exactly as a
 *  subscribing system would (two frames: topic "alert.<level>", then the
 *  JSON body: {"id", "message": {identifier, type, …}, "state", "alert":
 *  {level, rule, condition, region, day, summary, evidence[]}}). The CAP
 *  receiver is the smallest webhook that honours the delivery contract:
 *  store, then answer 200; a repeat of an identifier overwrites the same
 *  file, so a redelivery leaves one file.
 */
#include "demo_watch.h"

#include "sentinel/mem.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#define S_BODY_MAX (1u << 20) /* longest CAP message taken */

/* -- the alert watcher ------------------------------------------------------
 */

struct cli_demo_watch {
    void *ctx, *sub;       /* ZeroMQ context and SUB socket */
    unsigned char *levels; /* last level printed, by alert id */
    size_t n_levels;       /* entries of `levels` */
    sn_day_t outbreak;     /* first outbreak day */
    FILE *out;             /* where lines go */
    cli_demo_seen_t seen;  /* counts */
};

cli_demo_watch_t *
cli_demo_watch_new(const char *endpoint, sn_day_t outbreak, FILE *out)
{
    cli_demo_watch_t *w = sn_calloc(1, sizeof *w);
    w->ctx = zmq_ctx_new();
    w->sub = zmq_socket(w->ctx, ZMQ_SUB);
    w->outbreak = outbreak;
    w->out = out;
    for (int l = 0; l <= SN_LEVEL_RED; l++) {
        w->seen.first[l] = SN_DAY_NONE;
    }
    int linger = 0;
    zmq_setsockopt(w->sub, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_setsockopt(w->sub, ZMQ_SUBSCRIBE, "alert.", 6) != 0 ||
        zmq_connect(w->sub, endpoint) != 0) {
        cli_demo_watch_destroy(&w);
    }
    return w;
}

void
cli_demo_watch_destroy(cli_demo_watch_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    cli_demo_watch_t *w = *self_p;
    zmq_close(w->sub);
    zmq_ctx_term(w->ctx);
    free(w->levels);
    free(w);
    *self_p = NULL;
}

const cli_demo_seen_t *
cli_demo_watch_seen(const cli_demo_watch_t *self)
{
    return &self->seen;
}

static const char *
s_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static double
s_num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void
s_print_evidence(FILE *out, json_t *ev)
{
    fprintf(out, "      %-34s %-19s %-10s %5s %7s %7s %6s\n", "series",
            "detector", "day", "obs", "expect", "bound", "score");
    size_t i;
    json_t *row;
    json_array_foreach(ev, i, row)
    {
        if (i == 8) {
            fprintf(out, "      … and %zu more rows\n",
                    json_array_size(ev) - i);
            break;
        }
        fprintf(out, "      %-34s %-19s %-10s %5.0f %7.1f %7.1f %6.2f\n",
                s_str(row, "series_key"), s_str(row, "detector"),
                s_str(row, "day"), s_num(row, "observed"),
                s_num(row, "expected"), s_num(row, "upperbound"),
                s_num(row, "score"));
    }
}

/* Print a new or escalated warning in full. */
static void
s_print_warning(FILE *out, json_t *msg, json_t *a)
{
    char upper[16];
    snprintf(upper, sizeof upper, "%s", s_str(a, "level"));
    for (char *p = upper; *p; p++) {
        *p = (char)toupper((unsigned char)*p);
    }
    fprintf(out, "\n  %s  %-6s %-7s rule %s, condition %s, region %s\n",
            s_str(a, "day"), upper, s_str(msg, "type"), s_str(a, "rule"),
            s_str(a, "condition"), s_str(a, "region"));
    fprintf(out, "      %s\n", s_str(a, "summary"));
    s_print_evidence(out, json_object_get(a, "evidence"));
    fprintf(out, "      CAP identifier %s\n\n", s_str(msg, "identifier"));
}

/* Remember the level of alert `n`; @return true when it is new or higher
 * than the one printed before. */
static bool
s_escalated(cli_demo_watch_t *w, json_t *n, sn_level_t level)
{
    json_int_t id = json_integer_value(json_object_get(n, "id"));
    if (id < 0 || id > 1000000) {
        return true;
    }
    if ((size_t)id >= w->n_levels) {
        size_t grown = (size_t)id * 2 + 64;
        w->levels = sn_realloc(w->levels, grown);
        memset(w->levels + w->n_levels, 0, grown - w->n_levels);
        w->n_levels = grown;
    }
    bool higher = level > w->levels[id];
    w->levels[id] = (unsigned char)(higher ? level : w->levels[id]);
    return higher;
}

/* Print one notification: signals, updates and closes on one line, a new
 * or escalated warning in full. */
static void
s_show(cli_demo_watch_t *w, json_t *n)
{
    json_t *msg = json_object_get(n, "message");
    json_t *a = json_object_get(n, "alert");
    sn_level_t level = SN_LEVEL_NONE;
    sn_level_parse(s_str(a, "level"), &level);
    sn_day_t day = SN_DAY_NONE;
    sn_day_parse(s_str(a, "day"), &day);
    const char *type = s_str(msg, "type");
    w->seen.messages++;
    if (strcmp(type, "Alert") == 0 && level <= SN_LEVEL_RED) {
        (day < w->outbreak ? w->seen.before : w->seen.after)[level]++;
        sn_day_t *first = &w->seen.first[level];
        if (day >= w->outbreak && (*first == SN_DAY_NONE || day < *first)) {
            *first = day;
        }
    }
    json_t *ev = json_object_get(a, "evidence");
    json_t *e0 = json_array_get(ev, 0);
    if (strcmp(type, "Alert") == 0) {
        s_escalated(w, n, level);
    }
    if (level == SN_LEVEL_BLUE && day < w->outbreak - CLI_DEMO_SHOW_DAYS) {
        return; /* baseline signals are counted, not printed */
    }
    if (level == SN_LEVEL_BLUE && strcmp(type, "Alert") != 0) {
        return; /* a signal's updates repeat its evidence */
    }
    if (level == SN_LEVEL_BLUE) {
        fprintf(w->out,
                "  %s  signal  %-7s %-14s %-28s obs %3.0f > bound %5.1f "
                "(%s)\n",
                s_str(a, "day"), type, s_str(a, "rule"),
                s_str(e0, "series_key"), s_num(e0, "observed"),
                s_num(e0, "upperbound"), s_str(e0, "detector"));
        return;
    }
    if (strcmp(type, "Cancel") == 0) {
        fprintf(w->out, "  %s  closed  %-14s %s %s (quiet; %s)\n",
                s_str(a, "day"), s_str(a, "rule"), s_str(a, "condition"),
                s_str(a, "region"), s_str(msg, "identifier"));
        return;
    }
    if (strcmp(type, "Update") == 0 && !s_escalated(w, n, level)) {
        fprintf(w->out, "  %s  update  %-14s %s %s: %zu evidence rows (%s)\n",
                s_str(a, "day"), s_str(a, "rule"), s_str(a, "condition"),
                s_str(a, "region"), json_array_size(ev),
                s_str(msg, "identifier"));
        return;
    }
    s_print_warning(w->out, msg, a);
}

int
cli_demo_watch_poll(cli_demo_watch_t *self, int timeout_ms)
{
    int printed = 0;
    zmq_pollitem_t item = {self->sub, 0, ZMQ_POLLIN, 0};
    while (zmq_poll(&item, 1, printed ? 0 : timeout_ms) > 0) {
        zmq_msg_t topic, body;
        zmq_msg_init(&topic);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&topic, self->sub, 0) >= 0 && zmq_msg_more(&topic) &&
            zmq_msg_recv(&body, self->sub, 0) >= 0) {
            json_t *n =
                json_loadb(zmq_msg_data(&body), zmq_msg_size(&body), 0, NULL);
            if (n != NULL) {
                s_show(self, n);
                json_decref(n);
            }
        }
        zmq_msg_close(&topic);
        zmq_msg_close(&body);
        printed++;
    }
    fflush(self->out);
    return printed;
}

/* -- the CAP receiver ------------------------------------------------------ */

struct cli_demo_cap {
    struct MHD_Daemon *mhd; /* the server */
    char *dir;              /* where files go; read-only once serving */
};

/* One request's body as it arrives. */
typedef struct s_body {
    char *data;  /* bytes so far */
    size_t len;  /* their number */
    int too_big; /* over S_BODY_MAX */
} s_body_t;

static enum MHD_Result
s_answer(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Store the body as DIR/<identifier>.xml (identifier made file-safe). */
static unsigned
s_store(cli_demo_cap_t *cap, struct MHD_Connection *c, const s_body_t *b)
{
    const char *key =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
    if (key == NULL || *key == '\0' || b->too_big) {
        return MHD_HTTP_BAD_REQUEST;
    }
    char name[256];
    size_t n = 0;
    for (; key[n] != '\0' && n < sizeof name - 1; n++) {
        name[n] = isalnum((unsigned char)key[n]) || strchr("._-", key[n])
                      ? key[n]
                      : '_';
    }
    name[n] = '\0';
    char *path = sn_strdup_printf("%s/%s.xml", cap->dir, name);
    FILE *f = fopen(path, "w");
    int ok = f != NULL && fwrite(b->data, 1, b->len, f) == b->len;
    ok = (f != NULL && fclose(f) == 0) && ok;
    free(path);
    return ok ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
}

static enum MHD_Result
s_handler(void *cls, struct MHD_Connection *c, const char *url,
          const char *method, const char *version, const char *upload,
          size_t *upload_size, void **con_cls)
{
    (void)url;
    (void)version;
    s_body_t *b = *con_cls;
    if (b == NULL) {
        *con_cls = sn_calloc(1, sizeof *b);
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0) {
        return s_answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only\n");
    }
    if (*upload_size > 0) {
        if (b->len + *upload_size > S_BODY_MAX) {
            b->too_big = 1;
        } else {
            b->data = sn_realloc(b->data, b->len + *upload_size);
            memcpy(b->data + b->len, upload, *upload_size);
            b->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    unsigned status = s_store(cls, c, b);
    return s_answer(c, status, status == MHD_HTTP_OK ? "stored\n" : "no\n");
}

static void
s_completed(void *cls, struct MHD_Connection *c, void **con_cls,
            enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)c;
    (void)code;
    s_body_t *b = *con_cls;
    if (b != NULL) {
        free(b->data);
        free(b);
    }
    *con_cls = NULL;
}

cli_demo_cap_t *
cli_demo_cap_new(int port, const char *dir)
{
    cli_demo_cap_t *cap = sn_calloc(1, sizeof *cap);
    cap->dir = sn_strdup(dir);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cap->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, s_handler, cap,
        MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, s_completed,
        NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (cap->mhd == NULL) {
        cli_demo_cap_destroy(&cap);
    }
    return cap;
}

void
cli_demo_cap_destroy(cli_demo_cap_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    cli_demo_cap_t *cap = *self_p;
    if (cap->mhd != NULL) {
        MHD_stop_daemon(cap->mhd);
    }
    free(cap->dir);
    free(cap);
    *self_p = NULL;
}

unsigned
cli_demo_cap_count(const cli_demo_cap_t *self)
{
    DIR *d = opendir(self->dir);
    unsigned n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        n += len > 4 && strcmp(e->d_name + len - 4, ".xml") == 0;
    }
    if (d != NULL) {
        closedir(d);
    }
    return n;
}

/* -- /metrics ---------------------------------------------------------------
 */

/* GET /metrics from 127.0.0.1:port. @return the body (caller frees). */
static char *
s_get_metrics(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    static const char req[] =
        "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    size_t len = 0, cap = 8192;
    char *buf = sn_malloc(cap);
    ssize_t n;
    while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len < 1024) {
            cap *= 2;
            buf = sn_realloc(buf, cap);
        }
    }
    close(fd);
    buf[len] = '\0';
    return buf;
}

int64_t
cli_demo_metric(int port, const char *name)
{
    char *body = s_get_metrics(port);
    if (body == NULL) {
        return -1;
    }
    int64_t v = -1;
    size_t nl = strlen(name);
    for (char *p = strstr(body, name); p != NULL; p = strstr(p + 1, name)) {
        if ((p == body || p[-1] == '\n') && p[nl] == ' ') {
            v = (int64_t)strtod(p + nl + 1, NULL);
            break;
        }
    }
    free(body);
    return v;
}
