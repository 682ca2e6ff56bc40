/*  cli/cmd_collect.c - `sentinel collect`: publish feeds or run the site daemon
 *
 *  With files, the collector parses each one (JSON lines, CSV or HL7 by
 *  extension; `-` is JSON lines on stdin), validates every record, appends
 *  the good ones to the disk spool and the rejected ones to the dead-letter
 *  file, publishes the spool over the configured transport and exits once
 *  the receiver has acknowledged every record: 0, or 3 when some records
 *  were rejected, or 1 when the receiver did not acknowledge in time (the
 *  records stay in the spool and go with the next run).
 *
 *  A rerun after a crash resumes each file where the spool stopped, from
 *  the checkpoints of collect_ckpt.h, so no record is spooled twice.
 *
 *  Without files it is the site daemon: an MLLP listener (mllp.listen)
 *  answering AA only once the message is in the spool, and/or an inbox
 *  folder (inbox.path) whose files are published and then moved to
 *  inbox.done (or deleted when it is not set). SIGTERM or SIGINT stops it
 * cleanly.
 */
#include "cli.h"

#include "col_config.h"
#include "collect_ckpt.h"
#include "deadletter.h"
#include "feed.h"
#include "hl7_redact.h"
#include "mllp_server.h"
#include "sentinel/config.h"
#include "sentinel/event.h"
#include "sentinel/log.h"
#include "sentinel/mem.h"
#include "sentinel/metrics.h"
#include "sentinel/spool.h"
#include "sentinel/transport.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define COLLECT_CHUNK (64u << 10) /* bytes read at a time */
#define COLLECT_FLUSH_EVERY 4096  /* records between spool flushes */
#define COLLECT_TIMEOUT_S 60      /* default --timeout */
#define COLLECT_ENC_MAX 1024      /* an encoded event fits in this */
#define COLLECT_DL_FLUSH_MS 10000 /* wait for the dead-letter topic */

static const char s_usage[] =
    "usage: sentinel collect -c collector.yaml [--timeout SECONDS] "
    "[FILE…|-]\n"
    "\n"
    "Publish the files (JSON lines .json/.jsonl/.ndjson, CSV .csv, HL7 .hl7;\n"
    "'-' reads JSON lines from stdin) through the spool to the receiver and\n"
    "exit once every record is acknowledged: 0, 3 when some records were\n"
    "rejected (see the dead-letter file), 1 when the receiver did not\n"
    "acknowledge within --timeout seconds (default 60; 0 waits for ever).\n"
    "Records stay in the spool and go with the next run.\n"
    "\n"
    "Without files, run as the site daemon: the MLLP listener (mllp:) and/or\n"
    "the inbox folder (inbox:) of the configuration. SIGTERM stops it.\n";

/* Everything one collect run holds. */
typedef struct collect {
    const sn_config_t *cfg;       /* the configuration */
    sn_spool_t *spool;            /* the disk spool */
    sn_sender_t *tx;              /* the transport */
    col_deadletter_t *dl;         /* rejected records */
    cli_collect_ckpt_t *ck;       /* checkpoints of the inputs */
    uint64_t cur_pos;             /* position of the last record handled */
    uint64_t spooled;             /* good records spooled this run */
    uint64_t rejected;            /* records dead-lettered this run */
    int timeout_s;                /* wait for acks at most this long */
    uint8_t enc[COLLECT_ENC_MAX]; /* one encoded event */
    sn_metrics_t *metrics;        /* counters, served when configured */
    int m_in, m_rej, m_spooled;   /* their ids: records in, rejected, */
    int m_depth, m_lag;           /* spooled, spool depth, ack lag (s) */
    uint64_t m_seen[2];           /* spooled and rejected already added */
    uint64_t m_acked, m_acked_ns; /* last acked seq and when it moved */
} collect_t;

static volatile sig_atomic_t s_stop; /* SIGTERM / SIGINT seen */

static void
s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

/* -- spooling ----------------------------------------------------------- */

/* Flush the spool, then record how far `k` got (flush first: a checkpoint
 * must never claim records the spool does not hold). */
static int
s_commit(collect_t *c, cli_collect_pos_t *k, sn_err_t *err)
{
    int rc = sn_spool_flush(c->spool, err);
    if (rc == SN_OK && k != NULL) {
        k->pos = c->cur_pos;
        k->seq = sn_spool_last_seq(c->spool);
        rc = cli_collect_ckpt_save(c->ck, err);
    }
    return rc;
}

/* Append one encoded event, waiting for acknowledgements while the spool
 * is full: a full spool slows the feed down, it never drops a record. */
static int
s_append(collect_t *c, cli_collect_pos_t *k, size_t len, sn_err_t *err)
{
    time_t until = time(NULL) + c->timeout_s;
    for (;;) {
        int rc = sn_spool_append(c->spool, c->enc, len, NULL, err);
        if (rc != SN_EFULL) {
            return rc;
        }
        rc = s_commit(c, k, err);
        if (rc == SN_OK) {
            rc = sn_sender_poll(c->tx, 100, err);
        }
        if (rc != SN_OK) {
            return rc;
        }
        if (s_stop || (c->timeout_s > 0 && time(NULL) >= until)) {
            return sn_err_set(err, SN_EFULL,
                              "spool full and the receiver does not "
                              "acknowledge: %s",
                              "giving up (the records stay in the spool)");
        }
    }
}

/* What an earlier run already did with this file. */
typedef struct resume {
    uint64_t pos;  /* records up to this position were handled */
    uint64_t good; /* then this many good records were spooled */
} resume_t;

/* Validate and spool one record, or dead-letter it, unless an earlier run
 * already did (`rs`). */
static int
s_handle(collect_t *c, col_record_t *rec, int r, cli_collect_pos_t *k,
         resume_t *rs, sn_err_t *err)
{
    if (rec->position <= rs->pos) {
        return SN_OK;
    }
    if (r == COL_FEED_EVENT &&
        sn_event_validate(&rec->event, sn_time_now(), &rec->err) != SN_OK) {
        r = COL_FEED_REJECT;
    }
    int rc = SN_OK;
    if (r == COL_FEED_REJECT) {
        c->rejected++;
        rc = col_deadletter_write(c->dl, rec, sn_time_now(), err);
    } else if (rs->good > 0) {
        rs->good--;
    } else {
        int len = sn_event_encode(&rec->event, c->enc, sizeof c->enc);
        rc = len < 0
                 ? sn_err_set(err, len, "%s:%" PRIu64 ": cannot encode event",
                              rec->source, rec->position)
                 : s_append(c, k, (size_t)len, err);
        c->spooled += rc == SN_OK;
    }
    if (rc == SN_OK) {
        c->cur_pos = rec->position;
        if (r != COL_FEED_REJECT && c->spooled > 0 &&
            c->spooled % COLLECT_FLUSH_EVERY == 0) {
            rc = s_commit(c, k, err);
        }
    }
    return rc;
}

static int
s_drain_feed(collect_t *c, col_feed_t *feed, cli_collect_pos_t *k, resume_t *rs,
             sn_err_t *err)
{
    col_record_t rec;
    int r;
    while ((r = col_feed_next(feed, &rec)) > 0) {
        int rc = s_handle(c, &rec, r, k, rs, err);
        if (rc != SN_OK) {
            return rc;
        }
    }
    return r < 0 ? sn_err_set(err, r, "%s: %s", col_feed_name(feed),
                              sn_strerror(r))
                 : SN_OK;
}

/* Where this file's earlier run stopped: its checkpoint, plus the good
 * records spooled after it when a run died while reading this file. Then
 * record (durably) that this file is being read, from a spool position
 * that holds nothing of it beyond its checkpoint unless those records. */
static int
s_resume(collect_t *c, cli_collect_pos_t *k, resume_t *rs, sn_err_t *err)
{
    *rs = (resume_t){k ? k->pos : 0, 0};
    c->cur_pos = rs->pos;
    if (k == NULL) {
        return SN_OK; /* stdin: no checkpoint */
    }
    rs->good = cli_collect_ckpt_orphans(c->ck, k);
    int rc = sn_spool_flush(c->spool, err);
    if (rc == SN_OK) {
        if (rs->good == 0) {
            k->seq = sn_spool_last_seq(c->spool);
        }
        cli_collect_ckpt_reading(c->ck, k);
        rc = cli_collect_ckpt_save(c->ck, err);
    }
    return rc;
}

static int
s_read_fd(collect_t *c, col_feed_t *feed, int fd, cli_collect_pos_t *k,
          sn_err_t *err)
{
    resume_t rs;
    int rc = s_resume(c, k, &rs, err);
    if (rc != SN_OK) {
        return rc;
    }
    uint8_t *buf = sn_malloc(COLLECT_CHUNK);
    ssize_t n;
    while (rc == SN_OK && !s_stop && (n = read(fd, buf, COLLECT_CHUNK)) != 0) {
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = sn_err_set(err, SN_EIO, "%s: read: %s", col_feed_name(feed),
                            strerror(errno));
            break;
        }
        col_feed_push(feed, buf, (size_t)n);
        rc = s_drain_feed(c, feed, k, &rs, err);
        if (rc == SN_OK) {
            rc = sn_sender_poll(c->tx, 0, err);
        }
    }
    free(buf);
    if (rc == SN_OK && !s_stop) {
        col_feed_end(feed);
        rc = s_drain_feed(c, feed, k, &rs, err);
        if (rc == SN_OK) {
            cli_collect_ckpt_reading(c->ck, NULL); /* read to its end */
        }
    }
    return rc == SN_OK ? s_commit(c, k, err) : rc;
}

static int
s_publish_file(collect_t *c, const char *path, sn_err_t *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    col_feed_kind_t kind = COL_FEED_JSON;
    if (!is_stdin && col_feed_kind_for_path(path, &kind) != SN_OK) {
        return sn_err_set(err, SN_EINVAL,
                          "%s: unknown feed type (use .json, .jsonl, "
                          ".ndjson, .csv or .hl7)",
                          path);
    }
    int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        return sn_err_set(err, SN_EIO, "%s: %s", path, strerror(errno));
    }
    col_feed_t *feed = col_feed_from_config(c->cfg, kind, path, err);
    int rc = feed ? SN_OK : SN_ECONFIG;
    if (rc == SN_OK) {
        cli_collect_pos_t *k =
            is_stdin ? NULL : cli_collect_ckpt_for(c->ck, &st);
        rc = s_read_fd(c, feed, fd, k, err);
    }
    col_feed_destroy(&feed);
    if (!is_stdin) {
        close(fd);
    }
    return rc;
}

/* -- metrics ------------------------------------------------------------ */

/* Register the collector's counters and serve them when `metrics:` is set:
 * records in, rejected and spooled, the spool depth (records not yet
 * acknowledged by the receiver) and the lag (seconds since the receiver
 * last acknowledged anything while records wait). */
static int
s_metrics_open(collect_t *c, sn_err_t *err)
{
    sn_metrics_t *m = sn_metrics_new("sentinel_collector");
    c->m_in = sn_metrics_register(m, "records_in", SN_METRIC_COUNTER,
                                  "records read (good and rejected)");
    c->m_rej = sn_metrics_register(m, "records_rejected", SN_METRIC_COUNTER,
                                   "records dead-lettered");
    c->m_spooled = sn_metrics_register(m, "records_spooled", SN_METRIC_COUNTER,
                                       "records spooled");
    c->m_depth = sn_metrics_register(m, "spool_depth", SN_METRIC_GAUGE,
                                     "records not yet acknowledged");
    c->m_lag = sn_metrics_register(m, "lag_seconds", SN_METRIC_GAUGE,
                                   "seconds since the last acknowledgement "
                                   "while records wait");
    c->metrics = m;
    c->m_acked_ns = (uint64_t)sn_clock_ns();
    sn_metrics_beat(m);
    const char *addr = sn_cfg_str(sn_config_root(c->cfg), "metrics", NULL);
    return addr ? sn_metrics_serve(m, addr, 10000, err) : SN_OK;
}

static void
s_metrics_update(collect_t *c)
{
    if (c->metrics == NULL || c->spool == NULL) {
        return;
    }
    uint64_t now = (uint64_t)sn_clock_ns();
    uint64_t acked = sn_spool_acked_seq(c->spool);
    uint64_t depth = sn_spool_flushed_seq(c->spool) - acked;
    if (acked != c->m_acked || depth == 0) {
        c->m_acked = acked;
        c->m_acked_ns = now;
    }
    uint64_t news = c->spooled - c->m_seen[0],
             newr = c->rejected - c->m_seen[1];
    sn_metrics_add(c->metrics, c->m_spooled, (int64_t)news);
    sn_metrics_add(c->metrics, c->m_rej, (int64_t)newr);
    sn_metrics_add(c->metrics, c->m_in, (int64_t)(news + newr));
    c->m_seen[0] = c->spooled;
    c->m_seen[1] = c->rejected;
    sn_metrics_set(c->metrics, c->m_depth, (int64_t)depth);
    sn_metrics_set(c->metrics, c->m_lag,
                   (int64_t)((now - c->m_acked_ns) / 1000000000u));
    sn_metrics_beat(c->metrics);
}

static int
s_wait_acked(collect_t *c, sn_err_t *err)
{
    time_t until = time(NULL) + c->timeout_s;
    while (!sn_sender_drained(c->tx)) {
        s_metrics_update(c);
        int rc = sn_sender_poll(c->tx, 200, err);
        if (rc != SN_OK) {
            return rc;
        }
        if (s_stop) {
            return sn_err_set(err, SN_ESTATE, "stopped by a signal");
        }
        if (c->timeout_s > 0 && time(NULL) >= until) {
            return sn_err_set(
                err, SN_ETIMEDOUT,
                "the receiver acknowledged %" PRIu64 " of %" PRIu64
                " records within %d s; the rest stay in the spool",
                sn_spool_acked_seq(c->spool), sn_spool_flushed_seq(c->spool),
                c->timeout_s);
        }
    }
    return SN_OK;
}

/* -- the daemon --------------------------------------------------------- */

/* One HL7 message from MLLP: the site gets AA only once it is spooled. */
typedef struct mllp_ctx {
    collect_t *c;     /* the run */
    col_feed_t *feed; /* the HL7 feed of MLLP messages */
} mllp_ctx_t;

static col_ack_t
s_on_mllp(void *arg, const char *peer, uint64_t msg_no, const uint8_t *msg,
          size_t len, sn_err_t *reason)
{
    (void)peer;
    (void)msg_no;
    mllp_ctx_t *m = arg;
    col_record_t rec;
    int r = col_feed_parse(m->feed, msg, len, &rec);
    if (r == COL_FEED_EVENT &&
        sn_event_validate(&rec.event, sn_time_now(), &rec.err) != SN_OK) {
        r = COL_FEED_REJECT;
    }
    if (r != COL_FEED_EVENT) {
        sn_err_t dl;
        if (col_deadletter_write(m->c->dl, &rec, sn_time_now(), &dl) != SN_OK) {
            /* The refusal is recorded nowhere: AR, so the interface
             * engine keeps the message and sends it again. */
            sn_log(SN_LOG_ERROR, "collector", "dead_letter_failed",
                   "message=%" PRIu64 " reason=\"%s\"", rec.position, dl.msg);
            sn_err_set(reason, SN_EIO,
                       "the refusal (%s) cannot be recorded: resend later",
                       sn_err_name(rec.err.code));
            return COL_ACK_AR;
        }
        m->c->rejected++;
        sn_err_set(reason, rec.err.code, "%s", rec.err.msg);
        /* AR for a message that cannot be processed at all (no MSH, wrong
         * separators, unsupported type), AE for a readable but bad one. */
        return col_mllp_ack_code(rec.err.code);
    }
    int n = sn_event_encode(&rec.event, m->c->enc, sizeof m->c->enc);
    int rc = n < 0 ? n
                   : sn_spool_append(m->c->spool, m->c->enc, (size_t)n, NULL,
                                     reason);
    if (rc == SN_OK) {
        rc = sn_spool_flush(m->c->spool, reason);
    }
    if (rc != SN_OK) {
        sn_log(SN_LOG_WARN, "collector", "refused", "reason=\"%s\"",
               sn_err_text(reason));
        return col_mllp_ack_code(rc); /* AR: nothing was taken */
    }
    m->c->spooled++;
    return COL_ACK_AA;
}

/* A frame over mllp.max_message, answered AR by the server: dead-letter
 * its first bytes (with the fields that identify a person emptied, as for
 * every refused HL7 message) and the reason. */
static void
s_on_oversize(void *arg, const char *peer, uint64_t msg_no, const uint8_t *head,
              size_t len, const char *reason)
{
    (void)peer;
    mllp_ctx_t *m = arg;
    uint8_t *clean = sn_malloc(len ? len : 1);
    col_record_t rec = {.source = "mllp", .position = msg_no, .raw = clean};
    rec.raw_len = col_hl7_redact(head, len, clean);
    sn_err_set(&rec.err, SN_EOVERFLOW, "%s", reason);
    sn_err_t err;
    m->c->rejected++;
    if (col_deadletter_write(m->c->dl, &rec, sn_time_now(), &err) != SN_OK) {
        sn_log(SN_LOG_ERROR, "collector", "dead_letter_failed", "reason=\"%s\"",
               err.msg);
    }
    free(clean);
}

/* @return true when the file `st` was last modified `settle_ms` or more
 * ago. A file an exporter is still writing keeps moving its mtime, so it
 * waits; a clock step backwards only delays a file. */
static bool
s_settled(const struct stat *st, int64_t settle_ms)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t age_ms =
        ((int64_t)now.tv_sec - (int64_t)st->st_mtim.tv_sec) * 1000 +
        ((int64_t)now.tv_nsec - (int64_t)st->st_mtim.tv_nsec) / 1000000;
    return age_ms >= settle_ms;
}

/* Publish every file in the inbox that has settled (no change for
 * inbox.settle_ms), then move it to `done` (or delete it when `done` is
 * NULL): the file leaves the inbox only once it is spooled. */
static void
s_scan_inbox(collect_t *c, const char *dir, const char *done)
{
    const sn_cfg_node_t *root = sn_config_root(c->cfg);
    int64_t settle_ms = sn_cfg_int(root, "inbox.settle_ms", 2000);
    DIR *d = opendir(dir);
    if (d == NULL) {
        return;
    }
    if (done != NULL) {
        mkdir(done, 0700);
    }
    struct dirent *e;
    while (!s_stop && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char *path = sn_strdup_printf("%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
            !s_settled(&st, settle_ms)) {
            free(path);
            continue; /* not a file, or still being written */
        }
        sn_err_t err;
        int rc = s_publish_file(c, path, &err);
        if (s_stop) {
            /* A stop may have cut the file short: it stays in the inbox
             * and its checkpoint resumes it at the next start. */
            free(path);
            break;
        }
        if (rc == SN_OK) {
            char *to = done ? sn_strdup_printf("%s/%s", done, e->d_name) : NULL;
            int moved = to ? rename(path, to) : unlink(path);
            if (moved == 0) {
                cli_collect_ckpt_forget(c->ck, &st);
            }
            sn_log(moved == 0 ? SN_LOG_INFO : SN_LOG_ERROR, "collector",
                   "inbox_file", "file=%s moved=%s", e->d_name,
                   moved == 0 ? "yes" : strerror(errno));
            free(to);
        } else {
            sn_log(SN_LOG_WARN, "collector", "inbox_failed",
                   "file=%s reason=\"%s\"", e->d_name, err.msg);
        }
        free(path);
    }
    closedir(d);
}

/* Log the copies of dead letters the Kafka topic did not get: the
 * dead-letter file holds them all the same. */
static void
s_dl_topic_check(int rc, const sn_err_t *err)
{
    if (rc != SN_OK) {
        sn_log(SN_LOG_ERROR, "collector", "dead_letter_topic",
               "reason=\"%s\" file=kept", err->msg);
    }
}

static void
s_daemon_poll(collect_t *c, int timeout_ms, uint64_t *logged)
{
    s_metrics_update(c);
    sn_err_t err;
    s_dl_topic_check(col_deadletter_poll_topic(c->dl, &err), &err);
    if (sn_sender_poll(c->tx, timeout_ms, &err) != SN_OK) {
        uint64_t now = (uint64_t)time(NULL);
        if (now >= *logged + 10) { /* at most one line per 10 s */
            sn_log(SN_LOG_ERROR, "collector", "transport", "reason=\"%s\"",
                   err.msg);
            *logged = now;
        }
    }
}

/* Log the MLLP connections the listener closed since the last call:
 * silent past mllp.idle_timeout_s, or the longest idle, closed to make
 * room at the connection limit. `seen` holds the totals logged so far. */
static void
s_mllp_closes(const col_mllp_server_t *srv, uint64_t seen[3])
{
    uint64_t idle = col_mllp_server_idle_closed(srv);
    uint64_t evicted = col_mllp_server_evicted(srv);
    uint64_t refused = col_mllp_server_refused(srv);
    if (refused != seen[2]) {
        sn_log(SN_LOG_WARN, "collector", "mllp_refused",
               "connections=%" PRIu64 " total=%" PRIu64
               " reason=\"all %d connections busy, none idle for %d s: "
               "refused\"",
               refused - seen[2], refused, COL_MLLP_SERVER_MAX_CONN,
               COL_MLLP_SERVER_EVICT_MS / 1000);
    }
    seen[2] = refused;
    if (idle != seen[0]) {
        sn_log(SN_LOG_INFO, "collector", "mllp_idle_closed",
               "connections=%" PRIu64 " total=%" PRIu64, idle - seen[0], idle);
    }
    if (evicted != seen[1]) {
        sn_log(SN_LOG_WARN, "collector", "mllp_evicted",
               "connections=%" PRIu64 " total=%" PRIu64
               " reason=\"all %d connections taken: closed the longest "
               "idle\"",
               evicted - seen[1], evicted, COL_MLLP_SERVER_MAX_CONN);
    }
    seen[0] = idle;
    seen[1] = evicted;
}

static int
s_daemon(collect_t *c, sn_err_t *err)
{
    const sn_cfg_node_t *root = sn_config_root(c->cfg);
    const char *addr = sn_cfg_str(root, "mllp.listen", NULL);
    const char *inbox = sn_cfg_str(root, "inbox.path", NULL);
    if (addr == NULL && inbox == NULL) {
        return sn_err_set(err, SN_ECONFIG,
                          "%s: no files given and neither mllp.listen nor "
                          "inbox.path is configured",
                          sn_config_file(c->cfg));
    }
    mllp_ctx_t m = {c, NULL};
    col_mllp_server_t *srv = NULL;
    if (addr != NULL) {
        m.feed = col_feed_from_config(c->cfg, COL_FEED_HL7, "mllp", err);
        size_t max = (size_t)sn_cfg_int(root, "mllp.max_message", 0);
        srv =
            m.feed ? col_mllp_server_new(addr, max, s_on_mllp, &m, err) : NULL;
        if (srv == NULL) {
            col_feed_destroy(&m.feed);
            return err ? err->code : SN_ECONFIG;
        }
        col_mllp_server_on_oversize(srv, s_on_oversize);
        col_mllp_server_set_idle_timeout(
            srv, 1000u * (uint64_t)sn_cfg_int(root, "mllp.idle_timeout_s",
                                              COL_MLLP_SERVER_IDLE_MS / 1000));
        sn_log(SN_LOG_INFO, "collector", "listening", "mllp_port=%d",
               col_mllp_server_port(srv));
    }
    int64_t poll_ms = sn_cfg_int(root, "inbox.poll_ms", 1000);
    uint64_t next_scan = 0, logged = 0, closed[3] = {0, 0, 0};
    while (!s_stop) {
        if (srv != NULL) {
            col_mllp_server_step(srv, 20);
            s_mllp_closes(srv, closed);
        }
        s_daemon_poll(c, srv ? 0 : 20, &logged);
        uint64_t now = (uint64_t)sn_clock_ns() / 1000000u;
        if (inbox != NULL && now >= next_scan) {
            s_scan_inbox(c, inbox, sn_cfg_str(root, "inbox.done", NULL));
            next_scan = now + (uint64_t)poll_ms;
        }
    }
    col_mllp_server_destroy(&srv);
    col_feed_destroy(&m.feed);
    sn_log(SN_LOG_INFO, "collector", "stopped",
           "spooled=%" PRIu64 " rejected=%" PRIu64 " acked=%" PRIu64,
           c->spooled, c->rejected, sn_spool_acked_seq(c->spool));
    return sn_spool_flush(c->spool, err);
}

/* -- the command -------------------------------------------------------- */

static int
s_open(collect_t *c, sn_err_t *err)
{
    const sn_cfg_node_t *root = sn_config_root(c->cfg);
    sn_spool_opts_t so;
    sn_transport_opts_t to;
    int rc =
        sn_spool_opts_from_cfg(c->cfg, sn_cfg_get(root, "spool"), &so, err);
    if (rc == SN_OK) {
        rc = sn_transport_opts_from_cfg(c->cfg, sn_cfg_get(root, "transport"),
                                        &to, err);
    }
    if (rc != SN_OK) {
        return rc;
    }
    if (to.sender_id == NULL) {
        to.sender_id = sn_cfg_str(root, "site.id", NULL);
    }
    rc = sn_spool_open(&so, &c->spool, err);
    if (rc == SN_OK) {
        rc = sn_sender_new(&to, c->spool, sn_event_prefecture_key, NULL, &c->tx,
                           err);
        /* Before any record moves, a key file that cannot be read (SN_EIO)
         * is a configuration error like a malformed one: exit 2. */
        rc = rc == SN_EIO || rc == SN_EINVAL ? SN_ECONFIG : rc;
    }
    if (rc == SN_OK) {
        c->dl = col_deadletter_from_config(c->cfg, err);
        rc = c->dl ? SN_OK : (err ? err->code : SN_ECONFIG);
    }
    if (rc == SN_OK) {
        c->ck = cli_collect_ckpt_new(so.dir);
        cli_collect_ckpt_load(c->ck, sn_spool_last_seq(c->spool));
        rc = s_metrics_open(c, err);
    }
    return rc;
}

static void
s_close(collect_t *c)
{
    sn_metrics_destroy(&c->metrics);
    col_deadletter_destroy(&c->dl);
    sn_sender_destroy(&c->tx);
    sn_spool_destroy(&c->spool);
    cli_collect_ckpt_destroy(&c->ck);
}

static int
s_run(collect_t *c, int nfiles, char **files)
{
    sn_err_t err;
    sn_err_clear(&err);
    int rc = s_open(c, &err);
    for (int i = 0; rc == SN_OK && i < nfiles && !s_stop; i++) {
        rc = s_publish_file(c, files[i], &err);
    }
    if (rc == SN_OK) {
        rc = nfiles > 0 ? s_wait_acked(c, &err) : s_daemon(c, &err);
    }
    if (c->dl != NULL) { /* the dead letters' copies go before the exit */
        sn_err_t e;
        s_dl_topic_check(
            col_deadletter_flush_topic(c->dl, COLLECT_DL_FLUSH_MS, &e), &e);
    }
    if (nfiles > 0 && c->spool != NULL) {
        sn_log(SN_LOG_INFO, "collector", "done",
               "spooled=%" PRIu64 " rejected=%" PRIu64 " acked=%" PRIu64,
               c->spooled, c->rejected, sn_spool_acked_seq(c->spool));
    }
    s_close(c);
    if (rc != SN_OK) {
        fprintf(stderr, "sentinel collect: %s\n", sn_err_text(&err));
        return rc == SN_ECONFIG ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    /* The daemon's rejections were answered (AE) or dead-lettered as they
     * came; a clean stop is a success. */
    return nfiles > 0 && c->rejected > 0 ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
}

int
cli_collect(int argc, char **argv)
{
    cli_signals_catch(s_on_signal); /* a stop during the start is taken now */
    if (cli_wants_help(argc, argv)) {
        fputs(s_usage, stdout);
        return CLI_EXIT_OK;
    }
    const char *conf = NULL;
    int timeout_s = COLLECT_TIMEOUT_S, i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            conf = argv[++i];
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            timeout_s = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else {
            return cli_usage("collect", "unknown option '%s'", argv[i]);
        }
    }
    if (conf == NULL) {
        return cli_usage("collect", "missing -c collector.yaml");
    }
    sn_config_t *cfg = NULL;
    sn_err_t err;
    if (sn_config_load(conf, col_config_schema, &cfg, &err) != SN_OK) {
        fprintf(stderr, "sentinel collect: %s\n", err.msg);
        return CLI_EXIT_USAGE;
    }
    sn_cfg_log_setup(cfg);
    collect_t *c = sn_calloc(1, sizeof *c);
    c->cfg = cfg;
    c->timeout_s = timeout_s;
    int rc = s_run(c, argc - i, argv + i);
    free(c);
    sn_config_destroy(&cfg);
    return rc;
}
