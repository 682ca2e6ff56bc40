/*  tests/collectors/sink.c - a receiving application for the end-to-end tests
 *
 *  sentinel-test-sink binds a transport receiver, writes one line per
 *  record it is handed to an output file, makes the file durable (fdatasync)
 *  and only then acknowledges, exactly as the analyzer must. Each line is
 *      <sender> <seq> <site_id> <event_id> <revision>
 *  (or "<sender> <seq> ? <hex>" for a record that is not a CaseEvent).
 *
 *  Positions live in the output itself: at start the sink cuts a torn last
 *  line, reads the highest seq per sender and hands them to the receiver
 *  with sn_receiver_set_position(), so records and positions move together
 *  and a kill -9 at any point neither loses nor repeats a record.
 *
 *  usage: sentinel-test-sink --endpoint EP --out FILE
 *             [--secret-key K --authorized-keys A] [--delay-ms N]
 *  --delay-ms holds each acknowledgement back N ms, so a publish lasts long
 *  enough for a test to kill the sender while it is in progress.
 *  SIGTERM or SIGINT ends it cleanly. Built for the tests only.
 */
#include "sentinel/event.h"
#include "sentinel/mem.h"
#include "sentinel/transport.h"

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

/* What one poll collected, written before the acknowledgement. */
typedef struct sink {
    char *buf;  /* lines not yet written */
    size_t len; /* their length */
    size_t cap; /* allocated */
} sink_t;

static volatile sig_atomic_t s_stop; /* set by SIGTERM / SIGINT */

static void
s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static void
s_add(sink_t *k, const char *line, size_t n)
{
    if (k->len + n > k->cap) {
        k->cap = 2 * (k->len + n);
        k->buf = sn_realloc(k->buf, k->cap);
    }
    memcpy(k->buf + k->len, line, n);
    k->len += n;
}

static int
s_on_record(const sn_record_t *rec, void *arg)
{
    sink_t *k = arg;
    char line[512];
    sn_event_t ev;
    int n;
    if (sn_event_decode(rec->data, rec->len, &ev, NULL) == SN_OK) {
        n = snprintf(line, sizeof line, "%s %" PRIu64 " %s %s %u\n",
                     rec->sender_id, rec->seq, ev.site_id, ev.event_id,
                     ev.revision);
    } else {
        n = snprintf(line, sizeof line, "%s %" PRIu64 " ? ", rec->sender_id,
                     rec->seq);
        for (size_t i = 0; i < rec->len && n < 500; i++) {
            n += snprintf(line + n, sizeof line - (size_t)n, "%02x",
                          rec->data[i]);
        }
        line[n++] = '\n';
    }
    s_add(k, line, (size_t)n);
    return SN_OK;
}

/* Cut a torn last line and restore each sender's position. */
static int
s_recover(const char *path, sn_receiver_t *rx)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return errno == ENOENT ? 0 : -1;
    }
    char line[1024], sender[128];
    long good = 0;
    uint64_t seq;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strchr(line, '\n') == NULL) {
            break; /* the torn tail of a crash */
        }
        good = ftell(f);
        if (sscanf(line, "%127s %" SCNu64, sender, &seq) == 2 &&
            seq > sn_receiver_position(rx, sender)) {
            sn_receiver_set_position(rx, sender, seq);
        }
    }
    fclose(f);
    return truncate(path, good);
}

static int
s_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
s_loop(sn_receiver_t *rx, int fd, long delay_ms)
{
    sink_t k = {0};
    sn_err_t err;
    while (!s_stop) {
        int n = sn_receiver_poll(rx, 100, s_on_record, &k, &err);
        if (n < 0) {
            fprintf(stderr, "sink: %s\n", err.msg);
            return 1;
        }
        if (k.len > 0) {
            if (s_write_all(fd, k.buf, k.len) != 0 || fdatasync(fd) != 0) {
                fprintf(stderr, "sink: write: %s\n", strerror(errno));
                return 1;
            }
            k.len = 0;
            if (delay_ms > 0) {
                struct timespec ts = {delay_ms / 1000,
                                      (delay_ms % 1000) * 1000000L};
                nanosleep(&ts, NULL);
            }
        }
        /* Durable: now the senders may free their spools. */
        if (sn_receiver_commit(rx, &err) != SN_OK) {
            fprintf(stderr, "sink: %s\n", err.msg);
            return 1;
        }
    }
    free(k.buf);
    return 0;
}

int
main(int argc, char **argv)
{
    sn_transport_opts_t o;
    sn_transport_opts_init(&o);
    o.curve = false;
    const char *out = NULL;
    long delay_ms = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--endpoint") == 0) {
            o.endpoint = argv[i + 1];
        } else if (strcmp(argv[i], "--out") == 0) {
            out = argv[i + 1];
        } else if (strcmp(argv[i], "--secret-key") == 0) {
            o.secret_key = argv[i + 1];
            o.curve = true;
        } else if (strcmp(argv[i], "--authorized-keys") == 0) {
            o.authorized_keys = argv[i + 1];
        } else if (strcmp(argv[i], "--delay-ms") == 0) {
            delay_ms = atol(argv[i + 1]);
        }
    }
    if (o.endpoint == NULL || out == NULL) {
        fprintf(stderr, "usage: sentinel-test-sink --endpoint EP --out FILE "
                        "[--secret-key K --authorized-keys A] "
                        "[--delay-ms N]\n");
        return 2;
    }
    signal(SIGTERM, s_on_signal);
    signal(SIGINT, s_on_signal);
    sn_receiver_t *rx = NULL;
    sn_err_t err;
    if (sn_receiver_new(&o, &rx, &err) != SN_OK) {
        fprintf(stderr, "sink: %s\n", err.msg);
        return 1;
    }
    int fd = -1;
    if (s_recover(out, rx) != 0 ||
        (fd = open(out, O_WRONLY | O_APPEND | O_CREAT, 0600)) < 0) {
        fprintf(stderr, "sink: %s: %s\n", out, strerror(errno));
        sn_receiver_destroy(&rx);
        return 1;
    }
    fprintf(stderr, "sink: ready on %s\n", o.endpoint);
    int rc = s_loop(rx, fd, delay_ms);
    close(fd);
    sn_receiver_destroy(&rx);
    return rc;
}
