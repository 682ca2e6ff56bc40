/*  cli/demo_feed.c - the demo's sites: simulated feeds, delivered for real
 *
 *  The events of the whole scenario are drawn once (a few hundred thousand
 *  at most, in day order) and delivered span by span, so that the nine
 *  collectors move through the years together and the analyzer's days
 *  close as they would in live operation.
 */
#include "demo_feed.h"

#include "mllp.h"
#include "sentinel/mem.h"
#include "simulate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_OUTBREAK_DAYS 14 /* fever clinics and pharmacies */
#define S_HOSPITAL_LAG 4   /* days before the hospitals see it */
#define S_TAIL_DAYS 21     /* replayed after the outbreak */
#define S_ACK_MAX 4096     /* longest ACK read */
#define S_CONNECT_MS 10000 /* wait for a collector to listen */

struct cli_demo_feed {
    const cli_demo_conf_t *conf; /* the sites; borrowed */
    cli_demo_plan_t plan;        /* the dates */
    sn_event_t *events;          /* the scenario, day order */
    size_t n, cap;               /* events held, allocated */
    size_t next;                 /* first event not yet delivered */
    int fds[CLI_DEMO_SITES];     /* MLLP connections (-1: none yet) */
    col_mllp_t *deframer;        /* reads ACKs */
    uint64_t sent, hl7;          /* delivered records, HL7 messages */
    unsigned chunk;              /* inbox file counter */
};

/* -- the scenario -------------------------------------------------------- */

static int
s_keep(const sn_event_t *ev, void *arg)
{
    cli_demo_feed_t *f = arg;
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 65536;
        f->events = sn_reallocarray(f->events, f->cap, sizeof *f->events);
    }
    f->events[f->n++] = *ev;
    return 0;
}

static void
s_plan(cli_demo_plan_t *p, int years, sn_day_t today)
{
    p->end = today - 1;
    p->hospital = p->end - S_TAIL_DAYS - S_OUTBREAK_DAYS + S_HOSPITAL_LAG + 1;
    p->outbreak = p->hospital - S_HOSPITAL_LAG;
    p->start = p->outbreak - years * 365 - 7;
}

static int
s_draw(cli_demo_feed_t *f, uint64_t seed, sn_err_t *err)
{
    ana_sim_site_t sites[CLI_DEMO_SITES];
    for (int i = 0; i < CLI_DEMO_SITES; i++) {
        const cli_demo_site_t *s = &f->conf->sites[i];
        memset(&sites[i], 0, sizeof sites[i]);
        snprintf(sites[i].site_id, sizeof sites[i].site_id, "%s", s->id);
        snprintf(sites[i].region, sizeof sites[i].region, "%s", s->region);
        sites[i].source = s->source;
        sites[i].mean = s->mean;
    }
    ana_sim_outbreak_t obs[2];
    char ymd[2][SN_DAY_STR_MAX], spec[2][128];
    snprintf(spec[0], sizeof spec[0], "%s:%s:%d:900:fever_clinic,pharmacy",
             CLI_DEMO_PREFECTURE, sn_day_format(f->plan.outbreak, ymd[0]),
             S_OUTBREAK_DAYS);
    snprintf(spec[1], sizeof spec[1], "%s:%s:%d:420:hospital",
             CLI_DEMO_PREFECTURE, sn_day_format(f->plan.hospital, ymd[1]),
             S_OUTBREAK_DAYS - S_HOSPITAL_LAG);
    for (int i = 0; i < 2; i++) {
        int rc = ana_sim_outbreak_parse(spec[i], &obs[i], err);
        if (rc != SN_OK) {
            return rc;
        }
    }
    ana_sim_opts_t o;
    ana_sim_opts_default(&o);
    o.seed = seed;
    o.start = f->plan.start;
    o.days = f->plan.end - f->plan.start + 1;
    o.sites = sites;
    o.n_sites = CLI_DEMO_SITES;
    o.outbreaks = obs;
    o.n_outbreaks = 2;
    return ana_sim_run(&o, s_keep, f, err);
}

cli_demo_feed_t *
cli_demo_feed_new(const cli_demo_conf_t *conf, int years, uint64_t seed,
                  sn_day_t today, sn_err_t *err)
{
    cli_demo_feed_t *f = sn_calloc(1, sizeof *f);
    f->conf = conf;
    for (int i = 0; i < CLI_DEMO_SITES; i++) {
        f->fds[i] = -1;
    }
    f->deframer = col_mllp_new(0);
    s_plan(&f->plan, years, today);
    if (s_draw(f, seed, err) != SN_OK) {
        cli_demo_feed_destroy(&f);
    }
    return f;
}

void
cli_demo_feed_destroy(cli_demo_feed_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    cli_demo_feed_t *f = *self_p;
    for (int i = 0; i < CLI_DEMO_SITES; i++) {
        if (f->fds[i] >= 0) {
            close(f->fds[i]);
        }
    }
    col_mllp_destroy(&f->deframer);
    free(f->events);
    free(f);
    *self_p = NULL;
}

const cli_demo_plan_t *
cli_demo_feed_plan(const cli_demo_feed_t *self)
{
    return &self->plan;
}

uint64_t
cli_demo_feed_sent(const cli_demo_feed_t *self)
{
    return self->sent;
}

uint64_t
cli_demo_feed_hl7(const cli_demo_feed_t *self)
{
    return self->hl7;
}

/* -- HL7 over MLLP: the hospital's interface engine ---------------------- */

static int
s_connect(cli_demo_feed_t *f, int site, sn_err_t *err)
{
    if (f->fds[site] >= 0) {
        return SN_OK;
    }
    const cli_demo_site_t *s = &f->conf->sites[site];
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)s->mllp_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = -1, one = 1, e = 0;
    /* The collector may still be starting: try for up to S_CONNECT_MS. */
    for (int ms = 0; fd < 0 && ms <= S_CONNECT_MS; ms += 50) {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
            e = errno;
            close(fd);
            fd = -1;
            struct timespec ts = {0, 50000000L};
            nanosleep(&ts, NULL);
        }
    }
    if (fd < 0) {
        return sn_err_set(err, SN_ETRANSPORT, "%s: MLLP 127.0.0.1:%d: %s",
                          s->id, s->mllp_port, strerror(e));
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {30, 0}; /* an ACK that takes longer is a failure */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    f->fds[site] = fd;
    return SN_OK;
}

/* Read one framed ACK and check MSA-1 is AA. */
static int
s_read_ack(cli_demo_feed_t *f, int site, sn_err_t *err)
{
    const char *id = f->conf->sites[site].id;
    const uint8_t *msg;
    size_t len;
    uint8_t buf[S_ACK_MAX];
    while (col_mllp_next(f->deframer, &msg, &len) != COL_MLLP_MESSAGE) {
        ssize_t n = read(f->fds[site], buf, sizeof buf);
        if (n <= 0) {
            return sn_err_set(err, SN_ETRANSPORT, "%s: no MLLP ACK (%s)", id,
                              n == 0 ? "connection closed" : strerror(errno));
        }
        col_mllp_push(f->deframer, buf, (size_t)n);
    }
    size_t at = 0;
    while (at + 6 <= len && memcmp(msg + at, "MSA|", 4) != 0) {
        at++;
    }
    if (at + 6 > len || memcmp(msg + at + 4, "AA", 2) != 0) {
        return sn_err_set(err, SN_ETRANSPORT, "%s: ACK %.*s", id,
                          (int)(len > 200 ? 200 : len), (const char *)msg);
    }
    return SN_OK;
}

/* Send one HL7 message (segments end with CR) and wait for its ACK. */
static int
s_send_hl7(cli_demo_feed_t *f, int site, const char *msg, size_t len,
           sn_err_t *err)
{
    size_t flen;
    uint8_t *frame = col_mllp_frame(msg, len, &flen);
    ssize_t w = write(f->fds[site], frame, flen);
    free(frame);
    if (w != (ssize_t)flen) {
        return sn_err_set(err, SN_ETRANSPORT, "%s: MLLP write: %s",
                          f->conf->sites[site].id, strerror(errno));
    }
    f->hl7++;
    return s_read_ack(f, site, err);
}

/* Write one event in `fmt`. The simulator's HL7 birth date keeps the
 * visit's month and day: on 29 February it must fall in a leap year too,
 * so such a visit's age is made a multiple of four. */
static int
s_write(FILE *out, ana_sim_format_t fmt, const sn_event_t *ev)
{
    sn_event_t copy = *ev;
    int y, m, d;
    sn_day_to_ymd(sn_time_day(ev->report_time), &y, &m, &d);
    if (fmt == ANA_SIM_HL7 && m == 2 && d == 29) {
        copy.age_years = copy.age_years / 4 * 4 + 4;
    }
    return ana_sim_write(out, fmt, &copy);
}

/* The simulator writes HL7 messages one after another, each ending with
 * CR LF; the LF is the file's line end and not part of the message. */
static int
s_send_event(cli_demo_feed_t *f, int site, const sn_event_t *ev, sn_err_t *err)
{
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    int rc = s_write(mem, ANA_SIM_HL7, ev);
    fclose(mem);
    char *p = text;
    while (rc == SN_OK && p < text + size) {
        char *end = strstr(p, "\r\n");
        size_t len = end ? (size_t)(end - p) + 1 : strlen(p);
        rc = s_send_hl7(f, site, p, len, err);
        p += len + (end ? 1 : 0);
    }
    free(text);
    return rc;
}

/* -- the inbox files ------------------------------------------------------- */

static int
s_site_of(const cli_demo_feed_t *f, const sn_event_t *ev)
{
    for (int i = 0; i < CLI_DEMO_SITES; i++) {
        if (strcmp(f->conf->sites[i].id, ev->site_id) == 0) {
            return i;
        }
    }
    return -1;
}

/* Write the site's events of [lo, hi) into a hidden file of its inbox and
 * rename it into place, so the collector sees only whole files. */
static int
s_drop_file(cli_demo_feed_t *f, int site, size_t lo, size_t hi, sn_err_t *err)
{
    const cli_demo_site_t *s = &f->conf->sites[site];
    ana_sim_format_t fmt = s->source == SN_SOURCE_PHARMACY   ? ANA_SIM_CSV
                           : s->source == SN_SOURCE_HOSPITAL ? ANA_SIM_HL7
                                                             : ANA_SIM_JSONL;
    char tmp[1200], path[1200];
    unsigned k = f->chunk;
    snprintf(tmp, sizeof tmp, "%s/sites/%s/inbox/.%06u.tmp", f->conf->dir,
             s->id, k);
    snprintf(path, sizeof path, "%s/sites/%s/inbox/%06u.%s", f->conf->dir,
             s->id, k, ana_sim_format_ext(fmt));
    FILE *out = fopen(tmp, "w");
    if (out == NULL) {
        return sn_err_set(err, SN_EIO, "%s: %s", tmp, strerror(errno));
    }
    int rc = ana_sim_write_header(out, fmt);
    for (size_t i = lo; i < hi && rc == SN_OK; i++) {
        if (s_site_of(f, &f->events[i]) == site) {
            rc = s_write(out, fmt, &f->events[i]);
            f->sent++;
        }
    }
    if (fclose(out) != 0 || rc != SN_OK || rename(tmp, path) != 0) {
        return sn_err_set(err, SN_EIO, "%s: %s", path, strerror(errno));
    }
    return SN_OK;
}

int
cli_demo_feed_days(cli_demo_feed_t *self, sn_day_t to, bool live, sn_err_t *err)
{
    size_t lo = self->next, hi = lo;
    while (hi < self->n && sn_time_day(self->events[hi].report_time) <= to) {
        hi++;
    }
    int rc = SN_OK;
    for (size_t i = lo; live && i < hi && rc == SN_OK; i++) {
        const sn_event_t *ev = &self->events[i];
        int site = s_site_of(self, ev);
        if (site >= 0 && self->conf->sites[site].mllp_port > 0) {
            rc = s_connect(self, site, err);
            rc = rc == SN_OK ? s_send_event(self, site, ev, err) : rc;
            self->sent += rc == SN_OK ? 1 : 0;
        }
    }
    for (int s = 0; s < CLI_DEMO_SITES && rc == SN_OK; s++) {
        if (!live || self->conf->sites[s].mllp_port == 0) {
            rc = s_drop_file(self, s, lo, hi, err);
        }
    }
    self->chunk++;
    self->next = hi;
    return rc;
}
