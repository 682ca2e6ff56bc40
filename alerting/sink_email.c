/*  alerting/sink_email.c - notifications by email over SMTP (libcurl)
 *
 *  Each notification becomes one plain-text mail a duty epidemiologist can
 *  read on a phone: a subject naming the level, condition and region, what
 *  changed, the evidence as a fixed-width table and how to respond. The
 *  Message-ID is derived from the CAP identifier, so a retried mail is
 *  recognisably the same message.
 */
#include "sink.h"

#include "sentinel/mem.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EMAIL_TIMEOUT_MS 30000

typedef struct s_email {
    char *url;       /* smtp://host:port */
    char *from;      /* sender */
    char **to;       /* recipients */
    size_t n_to;     /* their number */
    char *username;  /* or NULL */
    char *password;  /* or NULL */
    long timeout_ms; /* per attempt */
} s_email_t;

/* Upload state for curl's read callback. */
typedef struct s_upload {
    const char *data; /* the whole message */
    size_t len;       /* its length */
    size_t off;       /* bytes sent */
} s_upload_t;

/* ------------------------------------------------------------- rendering */

static const char *
s_str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void
s_num(FILE *f, const json_t *o, const char *k, int width)
{
    const json_t *v = json_object_get(o, k);
    if (json_is_number(v)) {
        fprintf(f, " %*.*g", width, 6, json_number_value(v));
    } else {
        fprintf(f, " %*s", width, "NA");
    }
}

static void
s_evidence_table(FILE *f, const json_t *rows)
{
    fprintf(f, "%-28s %-14s %-10s %-12s %-10s %8s %8s %8s %8s\n", "series",
            "source", "site", "detector", "day", "observed", "expected",
            "bound", "score");
    size_t i;
    const json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *site = s_str(r, "site_id");
        fprintf(f, "%-28s %-14s %-10s %-12s %-10s", s_str(r, "series_key"),
                s_str(r, "source"), site[0] ? site : "all",
                s_str(r, "detector"), s_str(r, "day"));
        s_num(f, r, "observed", 8);
        s_num(f, r, "expected", 8);
        s_num(f, r, "upperbound", 8);
        s_num(f, r, "score", 8);
        fputc('\n', f);
    }
}

static void
s_body(FILE *f, const json_t *n, const json_t *m, const json_t *a)
{
    fprintf(f, "%s warning (%s, message %lld) - alert %lld\n\n",
            s_str(a, "level"), s_str(m, "type"),
            (long long)json_integer_value(json_object_get(m, "seq")),
            (long long)json_integer_value(json_object_get(n, "id")));
    fprintf(f,
            "Condition: %s\nRegion:    %s (GB/T 2260)\nRule:      %s\n"
            "Day:       %s\nState:     %s\n\n",
            s_str(a, "condition"), s_str(a, "region"), s_str(a, "rule"),
            s_str(a, "day"), s_str(n, "state"));
    if (s_str(a, "summary")[0] != '\0') {
        fprintf(f, "%s\n\n", s_str(a, "summary"));
    }
    fprintf(f, "What changed: %s\n\nEvidence:\n", s_str(m, "reason"));
    s_evidence_table(f, json_object_get(a, "evidence"));
    fprintf(f,
            "\nTo respond:\n"
            "  sentinel alerts -c alerting.yaml ack %lld --by NAME\n"
            "  sentinel alerts -c alerting.yaml verify %lld --outcome "
            "discarded|monitoring|confirmed [--grade I|II|III|IV]\n\n"
            "Message identifier: %s\n",
            (long long)json_integer_value(json_object_get(n, "id")),
            (long long)json_integer_value(json_object_get(n, "id")),
            s_str(m, "identifier"));
}

char *
alr_sink_email_text(const char *json, char **subject)
{
    json_t *n = json_loads(json, 0, NULL);
    const json_t *m = json_object_get(n, "message");
    const json_t *a = json_object_get(n, "alert");
    if (!json_is_object(m) || !json_is_object(a)) {
        json_decref(n);
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL) {
        abort(); /* out of memory, mem.h's policy */
    }
    s_body(f, n, m, a);
    fclose(f);
    const char *type = s_str(m, "type");
    *subject = sn_strdup_printf("[Sentinel] %s%s warning: %s in %s (%s)",
                                strcmp(type, "Alert") == 0    ? ""
                                : strcmp(type, "Cancel") == 0 ? "Closed: "
                                                              : "Update: ",
                                s_str(a, "level"), s_str(a, "condition"),
                                s_str(a, "region"), s_str(a, "rule"));
    json_decref(n);
    return text;
}

/* ------------------------------------------------------------- sending */

static size_t
s_read(char *buf, size_t size, size_t n, void *arg)
{
    s_upload_t *u = arg;
    size_t room = size * n, left = u->len - u->off;
    size_t k = left < room ? left : room;
    memcpy(buf, u->data + u->off, k);
    u->off += k;
    return k;
}

/* The whole RFC 5322 message: headers, blank line, body (CRLF lines). */
static char *
s_message(const s_email_t *e, const alr_delivery_t *d, const char *subject,
          const char *body)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    char *msg = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&msg, &len);
    fprintf(f, "Date: %s\r\nFrom: %s\r\nTo: ", date, e->from);
    for (size_t i = 0; i < e->n_to; i++) {
        fprintf(f, "%s%s", i ? ", " : "", e->to[i]);
    }
    fprintf(f,
            "\r\nSubject: %s\r\nMessage-ID: <%s@sentinel>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n",
            subject, d->notice.identifier);
    for (const char *p = body; *p != '\0'; p++) {
        if (*p == '\n') {
            fputc('\r', f);
        }
        fputc(*p, f);
    }
    fclose(f);
    return msg;
}

static int
s_send(void *impl, const alr_delivery_t *d, sn_err_t *err)
{
    s_email_t *e = impl;
    char *subject = NULL;
    char *body = alr_sink_email_text(d->notice.json, &subject);
    if (body == NULL) {
        return sn_err_set(err, SN_EPARSE,
                          "email: notification %s is not "
                          "readable JSON",
                          d->notice.identifier);
    }
    char *msg = s_message(e, d, subject, body);
    s_upload_t up = {msg, strlen(msg), 0};
    CURL *c = curl_easy_init();
    struct curl_slist *rcpt = NULL;
    for (size_t i = 0; i < e->n_to; i++) {
        rcpt = curl_slist_append(rcpt, e->to[i]);
    }
    curl_easy_setopt(c, CURLOPT_URL, e->url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, e->from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, s_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, e->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (e->username != NULL) {
        curl_easy_setopt(c, CURLOPT_USERNAME, e->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, e->password ? e->password : "");
    }
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    free(msg);
    free(body);
    free(subject);
    if (cc != CURLE_OK) {
        return sn_err_set(err, SN_EIO, "email %s: %s", e->url,
                          curl_easy_strerror(cc));
    }
    return SN_OK;
}

static void
s_destroy(void *impl)
{
    s_email_t *e = impl;
    for (size_t i = 0; i < e->n_to; i++) {
        free(e->to[i]);
    }
    free(e->to);
    free(e->url);
    free(e->from);
    free(e->username);
    free(e->password);
    free(e);
}

static const alr_sink_ops_t s_ops = {"email", s_send, s_destroy};

int
alr_sink_email_new(const char *name, const alr_email_opts_t *opts,
                   alr_sink_t **out, sn_err_t *err)
{
    if (opts->url == NULL || opts->from == NULL || opts->n_to == 0) {
        return sn_err_set(err, SN_EINVAL,
                          "sink '%s': email needs url, from "
                          "and to",
                          name);
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        return sn_err_set(err, SN_ESYS, "sink '%s': cannot initialise", name);
    }
    s_email_t *e = sn_calloc(1, sizeof *e);
    e->url = sn_strdup(opts->url);
    e->from = sn_strdup(opts->from);
    e->n_to = opts->n_to;
    e->to = sn_calloc(opts->n_to, sizeof *e->to);
    for (size_t i = 0; i < opts->n_to; i++) {
        e->to[i] = sn_strdup(opts->to[i]);
    }
    e->username = sn_strdup(opts->username);
    e->password = sn_strdup(opts->password);
    e->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : EMAIL_TIMEOUT_MS;
    *out = alr_sink_new(name, &s_ops, e);
    return SN_OK;
}
