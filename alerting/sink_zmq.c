/*  alerting/sink_zmq.c - notifications on a ZeroMQ PUB socket
 *
 *  For systems that subscribe: each notification goes out as two frames,
 *  the topic "alert.<level>" (subscribe to "alert." for all, or
 *  "alert.red" for red only) and the body. The socket is an XPUB, which
 *  sees subscriptions arrive: while no subscriber has ever joined, a send
 *  fails and the outbox keeps the notification, so each reaches at least
 *  the first subscriber. Later subscribers get what is sent after they
 *  join, as with any PUB socket.
 */
#include "sink.h"

#include "sentinel/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct s_zmq {
    void *ctx;           /* own context */
    void *sock;          /* XPUB */
    char *endpoint;      /* where it binds */
    alr_format_t format; /* body */
    int subscribers;     /* subscriptions seen minus unsubscriptions */
} s_zmq_t;

/* Read pending subscription messages without blocking. */
static void
s_drain(s_zmq_t *z)
{
    unsigned char buf[256];
    int n;
    while ((n = zmq_recv(z->sock, buf, sizeof buf, ZMQ_DONTWAIT)) > 0) {
        z->subscribers += buf[0] == 1 ? 1 : -1;
    }
}

static int
s_send(void *impl, const alr_delivery_t *d, sn_err_t *err)
{
    s_zmq_t *z = impl;
    zmq_pollitem_t item = {z->sock, 0, ZMQ_POLLIN, 0};
    zmq_poll(&item, 1, z->subscribers > 0 ? 0 : 100);
    s_drain(z);
    if (z->subscribers <= 0) {
        return sn_err_set(err, SN_EAGAIN, "zmq %s: no subscriber yet",
                          z->endpoint);
    }
    char topic[32];
    snprintf(topic, sizeof topic, "alert.%s", sn_level_name(d->notice.level));
    const char *body = alr_sink_body(d, z->format);
    if (zmq_send(z->sock, topic, strlen(topic), ZMQ_SNDMORE) < 0 ||
        zmq_send(z->sock, body, strlen(body), 0) < 0) {
        return sn_err_set(err, SN_ETRANSPORT, "zmq %s: %s", z->endpoint,
                          zmq_strerror(zmq_errno()));
    }
    return SN_OK;
}

static void
s_destroy(void *impl)
{
    s_zmq_t *z = impl;
    zmq_close(z->sock);
    zmq_ctx_term(z->ctx);
    free(z->endpoint);
    free(z);
}

static const alr_sink_ops_t s_ops = {"zmq", s_send, s_destroy};

int
alr_sink_zmq_new(const char *name, const char *endpoint, alr_format_t format,
                 alr_sink_t **out, sn_err_t *err)
{
    s_zmq_t *z = sn_calloc(1, sizeof *z);
    z->ctx = zmq_ctx_new();
    z->sock = zmq_socket(z->ctx, ZMQ_XPUB);
    int linger = 1000, verbose = 1;
    zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(z->sock, ZMQ_XPUB_VERBOSE, &verbose, sizeof verbose);
    if (zmq_bind(z->sock, endpoint) != 0) {
        int rc = sn_err_set(err, SN_ETRANSPORT, "sink '%s': cannot bind %s: %s",
                            name, endpoint, zmq_strerror(zmq_errno()));
        z->endpoint = NULL;
        s_destroy(z);
        return rc;
    }
    z->endpoint = sn_strdup(endpoint);
    z->format = format;
    *out = alr_sink_new(name, &s_ops, z);
    return SN_OK;
}
