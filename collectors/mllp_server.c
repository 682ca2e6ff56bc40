/*  collectors/mllp_server.c - the MLLP TCP listener of the collector daemon
 *
 *  One poll() loop serves the listener and every connection. A connection
 *  owns a deframer and a queue of ACK bytes; the handler runs for each
 *  whole message as soon as it is read, and its ACK is queued and written
 *  when the socket takes it. A connection whose peer stops reading its ACKs
 *  is not read from until the queue drains (back-pressure), so one stuck
 *  interface engine cannot make the collector buffer without bound. When
 *  the peer closes, the ACKs already owed are still written before the
 *  socket is closed. Each connection remembers when it last moved bytes:
 *  that time closes it after the idle timeout, and picks the connection
 *  to close when a new one arrives with every slot taken.
 */
#include "mllp_server.h"

#include "sentinel/date.h"
#include "sentinel/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_READ_CHUNK 65536    /* bytes read per call */
#define S_OUT_HIGH (1u << 20) /* stop reading above this much unsent */
#define S_PEER_MAX 64         /* "address:port" */

typedef struct s_conn {
    int fd;                /* the socket */
    char peer[S_PEER_MAX]; /* who it is, for the handler */
    col_mllp_t *deframer;  /* its MLLP stream */
    char *out;             /* ACK bytes not yet written */
    size_t out_len;        /* bytes in out */
    size_t out_off;        /* bytes of out already written */
    bool closing;          /* peer closed: flush, then close */
    uint64_t last_ms;      /* monotonic time of its last traffic */
} s_conn_t;

struct col_mllp_server {
    int lfd;                                  /* listening socket */
    int port;                                 /* its port */
    size_t max;                               /* longest message */
    col_mllp_handler_fn handler;              /* the owner's callback */
    col_mllp_oversize_fn on_oversize;         /* told of oversize frames */
    void *arg;                                /* its argument */
    s_conn_t conns[COL_MLLP_SERVER_MAX_CONN]; /* open connections */
    size_t n_conns;                           /* their number */
    uint64_t msg_no;                          /* messages handled */
    uint64_t idle_ms;                         /* idle timeout, 0: none */
    uint64_t evict_ms;                        /* idle before an eviction */
    uint64_t refused;                         /* connections refused */
    uint64_t idle_closed;                     /* closed for it */
    uint64_t evicted;                         /* closed to make room */
};

/* --------------------------------------------------------------- helpers */

static int
s_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Split "host:port", "[v6]:port" or ":port" into host (NULL for any) and
 * port. */
static int
s_split_address(const char *address, char *host, size_t hsize, char *port,
                size_t psize)
{
    const char *colon = address ? strrchr(address, ':') : NULL;
    if (!colon || !colon[1] || (size_t)(colon - address) >= hsize ||
        strlen(colon + 1) >= psize) {
        return SN_EINVAL;
    }
    const char *h = address;
    size_t n = (size_t)(colon - address);
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    memcpy(host, h, n);
    host[n] = '\0';
    snprintf(port, psize, "%s", colon + 1);
    return SN_OK;
}

static int
s_listen(col_mllp_server_t *self, const char *address, sn_err_t *err)
{
    char host[256], port[16];
    if (s_split_address(address, host, sizeof host, port, sizeof port)) {
        return sn_err_set(err, SN_EINVAL,
                          "mllp listen address '%.100s': expected host:port",
                          address ? address : "");
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int grc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (grc != 0) {
        return sn_err_set(err, SN_EINVAL, "mllp listen address '%.100s': %s",
                          address, gai_strerror(grc));
    }
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64) ||
        s_nonblock(fd)) {
        int e = errno;
        freeaddrinfo(ai);
        if (fd >= 0) {
            close(fd);
        }
        return sn_err_set(err, SN_EIO, "mllp listen on '%.100s': %s", address,
                          strerror(e));
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    self->port =
        ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                       : ((struct sockaddr_in *)&ss)->sin_port);
    self->lfd = fd;
    return SN_OK;
}

/* ------------------------------------------------------------- lifecycle */

col_mllp_server_t *
col_mllp_server_new(const char *address, size_t max_message,
                    col_mllp_handler_fn handler, void *arg, sn_err_t *err)
{
    col_mllp_server_t *self = sn_calloc(1, sizeof *self);
    self->lfd = -1;
    self->max = max_message ? max_message : COL_MLLP_MAX_DEFAULT;
    self->handler = handler;
    self->arg = arg;
    self->idle_ms = COL_MLLP_SERVER_IDLE_MS;
    self->evict_ms = COL_MLLP_SERVER_EVICT_MS;
    if (s_listen(self, address, err) != SN_OK) {
        free(self);
        return NULL;
    }
    return self;
}

void
col_mllp_server_set_idle_timeout(col_mllp_server_t *self, uint64_t idle_ms)
{
    self->idle_ms = idle_ms;
}

void
col_mllp_server_on_oversize(col_mllp_server_t *self, col_mllp_oversize_fn fn)
{
    self->on_oversize = fn;
}

static void
s_close(col_mllp_server_t *self, size_t i)
{
    s_conn_t *c = &self->conns[i];
    close(c->fd);
    col_mllp_destroy(&c->deframer);
    free(c->out);
    self->conns[i] = self->conns[--self->n_conns];
}

void
col_mllp_server_destroy(col_mllp_server_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    col_mllp_server_t *self = *self_p;
    while (self->n_conns > 0) {
        s_close(self, self->n_conns - 1);
    }
    if (self->lfd >= 0) {
        close(self->lfd);
    }
    free(self);
    *self_p = NULL;
}

int
col_mllp_server_port(const col_mllp_server_t *self)
{
    return self->port;
}

size_t
col_mllp_server_connections(const col_mllp_server_t *self)
{
    return self->n_conns;
}

uint64_t
col_mllp_server_idle_closed(const col_mllp_server_t *self)
{
    return self->idle_closed;
}

uint64_t
col_mllp_server_evicted(const col_mllp_server_t *self)
{
    return self->evicted;
}

static uint64_t
s_now_ms(void)
{
    return (uint64_t)sn_clock_ns() / 1000000u;
}

/* ------------------------------------------------------------ connection */

void
col_mllp_server_set_evict_idle(col_mllp_server_t *self, uint64_t min_idle_ms)
{
    self->evict_ms = min_idle_ms;
}

uint64_t
col_mllp_server_refused(const col_mllp_server_t *self)
{
    return self->refused;
}

/* Make room for a new connection: close the one idle the longest, if it
 * has been idle long enough. @return false when none may go. */
static bool
s_evict(col_mllp_server_t *self, uint64_t now)
{
    size_t oldest = 0;
    for (size_t i = 1; i < self->n_conns; i++) {
        if (self->conns[i].last_ms < self->conns[oldest].last_ms) {
            oldest = i;
        }
    }
    if (now - self->conns[oldest].last_ms < self->evict_ms) {
        return false;
    }
    s_close(self, oldest);
    self->evicted++;
    return true;
}

static void
s_accept(col_mllp_server_t *self, uint64_t now)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept(self->lfd, (struct sockaddr *)&ss, &sl);
        if (fd < 0) {
            return; /* EAGAIN, or a connection that vanished */
        }
        if (s_nonblock(fd) != 0) {
            close(fd);
            continue;
        }
        if (self->n_conns == COL_MLLP_SERVER_MAX_CONN && !s_evict(self, now)) {
            close(fd); /* every slot busy: the engine retries later */
            self->refused++;
            continue;
        }
        s_conn_t *c = &self->conns[self->n_conns++];
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->last_ms = now;
        c->deframer = col_mllp_new(self->max);
        char host[INET6_ADDRSTRLEN] = "?";
        int port = 0;
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *in = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
            port = ntohs(in->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
            port = ntohs(in6->sin6_port);
        }
        snprintf(c->peer, sizeof c->peer, "%s:%d", host, port);
    }
}

/* Queue the framed ACK for `msg` (NULL when unreadable). */
static void
s_queue_ack(s_conn_t *c, const uint8_t *msg, size_t len, col_ack_t code,
            const char *reason)
{
    size_t alen, flen;
    char *ack = col_mllp_ack(msg, len, code, reason, sn_time_now(), &alen);
    uint8_t *framed = col_mllp_frame(ack, alen, &flen);
    free(ack);
    c->out = sn_realloc(c->out, c->out_len + flen);
    memcpy(c->out + c->out_len, framed, flen);
    c->out_len += flen;
    free(framed);
}

/* Hand every whole message to the handler. @return messages handled. */
static int
s_dispatch(col_mllp_server_t *self, s_conn_t *c)
{
    const uint8_t *msg;
    size_t len;
    int handled = 0;
    int r;
    while ((r = col_mllp_next(c->deframer, &msg, &len)) != COL_MLLP_AGAIN) {
        self->msg_no++;
        handled++;
        if (r == COL_MLLP_OVERSIZE) {
            char why[96];
            snprintf(why, sizeof why, "message longer than %zu bytes",
                     self->max);
            if (self->on_oversize != NULL) {
                self->on_oversize(self->arg, c->peer, self->msg_no, msg, len,
                                  why);
            }
            s_queue_ack(c, NULL, 0, COL_ACK_AR, why);
            continue;
        }
        sn_err_t reason;
        sn_err_clear(&reason);
        col_ack_t code =
            self->handler(self->arg, c->peer, self->msg_no, msg, len, &reason);
        s_queue_ack(c, msg, len, code,
                    code == COL_ACK_AA ? NULL : sn_err_text(&reason));
    }
    return handled;
}

static int
s_read(col_mllp_server_t *self, s_conn_t *c)
{
    uint8_t buf[S_READ_CHUNK];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        c->closing = true;
        return 0;
    }
    if (n > 0) {
        col_mllp_push(c->deframer, buf, (size_t)n);
    }
    return s_dispatch(self, c);
}

/* @return false when the connection failed. */
static bool
s_write(s_conn_t *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL);
        if (n < 0) {
            return errno == EAGAIN || errno == EINTR;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return true;
}

/* ------------------------------------------------------------------- API */

int
col_mllp_server_step(col_mllp_server_t *self, int timeout_ms)
{
    struct pollfd fds[COL_MLLP_SERVER_MAX_CONN + 1];
    size_t n = self->n_conns;
    for (size_t i = 0; i < n; i++) {
        s_conn_t *c = &self->conns[i];
        fds[i].fd = c->fd;
        fds[i].events =
            (c->out_len - c->out_off < S_OUT_HIGH && !c->closing) ? POLLIN : 0;
        fds[i].events |= c->out_len > c->out_off ? POLLOUT : 0;
        fds[i].revents = 0;
    }
    fds[n].fd = self->lfd; /* at the limit too: s_accept() evicts */
    fds[n].events = POLLIN;
    fds[n].revents = 0;
    if (poll(fds, n + 1, timeout_ms) < 0) {
        return errno == EINTR ? 0 : SN_ESYS;
    }
    uint64_t now = s_now_ms();
    int handled = 0;
    /* Walk backwards: s_close() moves the last connection into slot i. */
    for (size_t i = n; i-- > 0;) {
        s_conn_t *c = &self->conns[i];
        if (fds[i].revents != 0) {
            c->last_ms = now;
        }
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
            handled += s_read(self, c);
        }
        bool ok = s_write(c);
        bool idle = self->idle_ms > 0 && now - c->last_ms >= self->idle_ms;
        if (!ok || (c->closing && c->out_len == 0) || idle) {
            self->idle_closed += idle && ok && !c->closing;
            s_close(self, i);
        }
    }
    if (fds[n].revents & POLLIN) {
        s_accept(self, now);
    }
    return handled;
}
