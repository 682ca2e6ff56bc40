/*  common/transport_zap.c - CURVE key files and the ZAP handler
 *
 *  With CURVE on, ZeroMQ asks a ZAP handler (RFC 27) at the well-known
 *  inproc://zeromq.zap.01 endpoint of the socket's context whether each
 *  client may connect, passing the client's public key. Ours accepts only
 *  the keys listed in the authorised-keys file (one Z85 key per line; a line
 *  starting with '#' is a comment, so an operator can note which site a key
 *  belongs to) and logs each refusal with the key and the peer's address.
 *  A key may be followed on its line by the sender ids it may speak for
 *  ("KEY BJ-CY-H01"): the handler names the key as the connection's user
 *  id, ZeroMQ puts that on every message of the connection ("User-Id"),
 *  and the receiver drops a message whose sender id the key is not bound
 *  to (sn_zap_allows()), so one listed site cannot send as another.
 *
 *  The handler runs in its own thread, as ZAP requires. It and the
 *  receiver's thread only read the key list, loaded before the thread
 *  starts and never changed; the handler is stopped by a message on an
 *  inproc pipe, never by shared state.
 */
#include "transport_int.h"

#include "sentinel/log.h"
#include "sentinel/mem.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_FRAMES 7 /* version, id, domain, address, identity, mech, key */

#define ZAP_SENDERS_MAX 1024 /* bytes of sender ids on one key's line */

/* One authorised key and the senders it may speak for. */
typedef struct s_authz {
    uint8_t key[32];                /* binary */
    char z85[SN_CURVE_KEY_Z85 + 1]; /* as written, the user id */
    char senders[ZAP_SENDERS_MAX];  /* " id1 id2 " or "" for any */
} s_authz_t;

struct sn_zap {
    void *ctx;        /* borrowed ZeroMQ context */
    void *pipe;       /* PAIR to the thread, for "stop" */
    char pipe_ep[64]; /* its inproc endpoint */
    s_authz_t *keys;  /* the authorised public keys */
    size_t nkeys;     /* their number */
    pthread_t thread; /* the handler */
    bool running;     /* the thread was started */
};

/* -- key files ---------------------------------------------------------- */

static char *
s_trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL) {
        s[--n] = '\0';
    }
    return s;
}

/* Read the next key line of `f`. @return 1 with the key in out and what
 * follows it on the line (trimmed, sender ids) in rest (when not NULL), 0
 * at end, -1 for a line that is not a key (lineno says which). */
static int
s_next_key(FILE *f, int *lineno, char out[SN_CURVE_KEY_Z85 + 1], char *rest,
           size_t rest_size)
{
    char line[ZAP_SENDERS_MAX + 64];
    while (fgets(line, sizeof line, f) != NULL) {
        (*lineno)++;
        /* Only whole-line comments: '#' is a Z85 digit. */
        char *k = s_trim(line);
        if (*k == '\0' || *k == '#') {
            continue;
        }
        size_t n = strlen(k);
        char *after = k + n; /* the sender ids after the key, or "" */
        if (n > SN_CURVE_KEY_Z85 &&
            (k[SN_CURVE_KEY_Z85] == ' ' || k[SN_CURVE_KEY_Z85] == '\t')) {
            k[SN_CURVE_KEY_Z85] = '\0';
            after = s_trim(k + SN_CURVE_KEY_Z85 + 1);
            n = SN_CURVE_KEY_Z85;
        }
        uint8_t bin[32];
        if (n != SN_CURVE_KEY_Z85 || zmq_z85_decode(bin, k) == NULL) {
            return -1;
        }
        memcpy(out, k, SN_CURVE_KEY_Z85 + 1);
        if (rest != NULL) {
            snprintf(rest, rest_size, "%s", after);
        }
        return 1;
    }
    return 0;
}

int
sn_curve_read_key(const char *path, char out[SN_CURVE_KEY_Z85 + 1],
                  sn_err_t *err)
{
    if (path == NULL) {
        return sn_err_set(err, SN_ECONFIG,
                          "transport: a CURVE key file is "
                          "missing (set curve: false only "
                          "for the demo)");
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return sn_err_set(err, SN_EIO, "key file %s: %s", path,
                          strerror(errno));
    }
    int lineno = 0, r = s_next_key(f, &lineno, out, NULL, 0);
    fclose(f);
    if (r <= 0) {
        return sn_err_set(err, SN_ECONFIG,
                          "key file %s:%d: expected a 40-character Z85 "
                          "CURVE key (made by 'sentinel keygen')",
                          path, lineno);
    }
    return SN_OK;
}

static int
s_load_keys(sn_zap_t *self, const char *path, sn_err_t *err)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (f == NULL) {
        return sn_err_set(err, path ? SN_EIO : SN_ECONFIG,
                          "authorized_keys %s: %s", path ? path : "(unset)",
                          path ? strerror(errno) : "required with CURVE on");
    }
    char key[SN_CURVE_KEY_Z85 + 1], rest[ZAP_SENDERS_MAX - 2];
    int lineno = 0, r, rc = SN_OK;
    size_t cap = 0;
    while ((r = s_next_key(f, &lineno, key, rest, sizeof rest)) == 1) {
        if (self->nkeys == cap) {
            cap = cap ? 2 * cap : 16;
            self->keys = sn_reallocarray(self->keys, cap, sizeof *self->keys);
        }
        s_authz_t *a = &self->keys[self->nkeys++];
        zmq_z85_decode(a->key, key);
        memcpy(a->z85, key, sizeof a->z85);
        /* " id1 id2 ": each id found as " id " by sn_zap_allows(). */
        for (char *t = rest; *t != '\0'; t++) {
            *t = *t == '\t' ? ' ' : *t;
        }
        snprintf(a->senders, sizeof a->senders, rest[0] ? " %s " : "%s", rest);
        if (strlen(rest) + 1 >= sizeof rest) {
            r = -1; /* sender ids cut short: refuse, never bind a prefix */
            break;
        }
    }
    if (r < 0) {
        rc = sn_err_set(err, SN_ECONFIG,
                        "authorized_keys %s:%d: expected one Z85 public key "
                        "per line, then the sender ids it may use (at most "
                        "%d bytes)",
                        path, lineno, ZAP_SENDERS_MAX - 3);
    }
    fclose(f);
    return rc;
}

/* -- the handler thread ------------------------------------------------- */

static const s_authz_t *
s_allowed(const sn_zap_t *self, const uint8_t *key)
{
    for (size_t i = 0; i < self->nkeys; i++) {
        if (memcmp(self->keys[i].key, key, 32) == 0) {
            return &self->keys[i];
        }
    }
    return NULL;
}

bool
sn_zap_allows(const sn_zap_t *self, const char *user_id, const char *sender)
{
    char want[SN_SENDER_ID_MAX + 3];
    snprintf(want, sizeof want, " %s ", sender);
    /* Every line of the key counts: a key listed twice speaks for the
     * sender ids of both lines. */
    for (size_t i = 0; user_id != NULL && i < self->nkeys; i++) {
        const s_authz_t *a = &self->keys[i];
        if (strcmp(a->z85, user_id) == 0 &&
            (a->senders[0] == '\0' || strstr(a->senders, want) != NULL)) {
            return true; /* bound to `sender`, or to no sender id: any */
        }
    }
    return false;
}

static void
s_send_str(void *sock, const char *s, bool more)
{
    zmq_send(sock, s, strlen(s), more ? ZMQ_SNDMORE : 0);
}

/* Answer one request: frames as RFC 27 lists them. */
static void
s_handle(const sn_zap_t *self, void *rep)
{
    zmq_msg_t f[ZAP_FRAMES];
    int n = 0;
    int more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, rep, 0) < 0) {
            zmq_msg_close(&part);
            break;
        }
        more = zmq_msg_more(&part);
        if (n < ZAP_FRAMES) {
            f[n++] = part;
        } else {
            zmq_msg_close(&part);
        }
    }
    if (n < 6) {
        for (int i = 0; i < n; i++) {
            zmq_msg_close(&f[i]);
        }
        return;
    }
    const s_authz_t *a = n == ZAP_FRAMES && zmq_msg_size(&f[6]) == 32
                             ? s_allowed(self, zmq_msg_data(&f[6]))
                             : NULL;
    bool ok = a != NULL;
    if (!ok) {
        char z85[SN_CURVE_KEY_Z85 + 1] = "?", addr[64];
        if (n == ZAP_FRAMES && zmq_msg_size(&f[6]) == 32) {
            zmq_z85_encode(z85, zmq_msg_data(&f[6]), 32);
        }
        snprintf(addr, sizeof addr, "%.*s", (int)zmq_msg_size(&f[3]),
                 (const char *)zmq_msg_data(&f[3]));
        sn_log(SN_LOG_WARN, "transport", "curve_refused",
               "key=%s address=%s reason=\"public key not in "
               "authorized_keys\"",
               z85, addr[0] ? addr : "local");
    }
    s_send_str(rep, "1.0", true);
    zmq_send(rep, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
    s_send_str(rep, ok ? "200" : "400", true);
    s_send_str(rep, ok ? "OK" : "key not authorised", true);
    s_send_str(rep, ok ? a->z85 : "", true); /* the user id */
    s_send_str(rep, "", false);
    for (int i = 0; i < n; i++) {
        zmq_msg_close(&f[i]);
    }
}

static void *
s_run(void *arg)
{
    sn_zap_t *self = arg;
    void *rep = zmq_socket(self->ctx, ZMQ_REP);
    void *pipe = zmq_socket(self->ctx, ZMQ_PAIR);
    int linger = 0;
    zmq_setsockopt(rep, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(pipe, ZMQ_LINGER, &linger, sizeof linger);
    int rc = zmq_bind(rep, ZAP_ENDPOINT);
    zmq_connect(pipe, self->pipe_ep);
    /* Tell the creator whether the bind worked before serving. */
    zmq_send(pipe, rc == 0 ? "ok" : "no", 2, 0);
    while (rc == 0) {
        zmq_pollitem_t items[] = {{rep, 0, ZMQ_POLLIN, 0},
                                  {pipe, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, -1) < 0 && zmq_errno() != EINTR) {
            break;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            break;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            s_handle(self, rep);
        }
    }
    zmq_close(rep);
    zmq_close(pipe);
    return NULL;
}

int
sn_zap_new(void *ctx, const char *authorized_keys, sn_zap_t **out,
           sn_err_t *err)
{
    sn_zap_t *self = sn_calloc(1, sizeof *self);
    self->ctx = ctx;
    int rc = s_load_keys(self, authorized_keys, err);
    if (rc != SN_OK) {
        sn_zap_destroy(&self);
        return rc;
    }
    snprintf(self->pipe_ep, sizeof self->pipe_ep, "inproc://sn-zap-%p",
             (void *)self);
    self->pipe = zmq_socket(ctx, ZMQ_PAIR);
    int linger = 0;
    zmq_setsockopt(self->pipe, ZMQ_LINGER, &linger, sizeof linger);
    zmq_bind(self->pipe, self->pipe_ep);
    if (pthread_create(&self->thread, NULL, s_run, self) != 0) {
        sn_zap_destroy(&self);
        return sn_err_set(err, SN_ETRANSPORT, "zap: cannot start thread");
    }
    self->running = true;
    char ok[2] = "";
    zmq_recv(self->pipe, ok, sizeof ok, 0);
    if (memcmp(ok, "ok", 2) != 0) {
        sn_zap_destroy(&self);
        return sn_err_set(err, SN_ETRANSPORT,
                          "zap: another handler already serves this context");
    }
    *out = self;
    return SN_OK;
}

void
sn_zap_destroy(sn_zap_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    sn_zap_t *self = *self_p;
    if (self->running) {
        zmq_send(self->pipe, "stop", 4, ZMQ_DONTWAIT);
        pthread_join(self->thread, NULL);
    }
    if (self->pipe != NULL) {
        zmq_close(self->pipe);
    }
    free(self->keys);
    free(self);
    *self_p = NULL;
}
