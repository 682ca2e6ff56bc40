/*  common/transport_krecv.c - the receiving end of the Kafka transport
 *
 *  A consumer in the analyzers' group, reading the topic the senders of
 *  transport_kafka.c produce to; each message holds one record and the
 *  sn-sender and sn-seq headers.
 *
 *  A producer killed before its reports arrive sends those records again
 *  after a restart. Within one partition a sender's records are in order, so
 *  the receiver drops them by a position per (sender, partition). A
 *  consumer assigned a partition first reads back up to `lookback` records
 *  before its committed offset, only to learn each sender's last sequence
 *  number there, so a copy sent again after the partition changed owner is
 *  dropped too (the earlier owner counted the original). The
 *  receiver commits offsets only when the application says its state is
 *  durable (sn_receiver_commit()). When the group moves partitions away
 *  (a consumer joins, leaves or is declared dead), the application's revoke
 *  hook makes its state durable and commits first, so the next owner
 *  starts at the first record not counted here. Each commit carries a
 *  token in the group's commit metadata (transport_kmeta.c), so an
 *  application killed between writing its state and the commit's answer
 *  can ask later whether that commit landed (sn_receiver_landed()).
 */
#include "transport_int.h"

#include "sentinel/log.h"
#include "sentinel/mem.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KAFKA_BURST 1000       /* messages handled per receiver poll */
#define KAFKA_TIMEOUT_MS 10000 /* committed() asks the coordinator */

/* The commit tokens of a partition's earlier owners, newest first, as the
 * committed metadata said when it was assigned here ("h=" below). */
typedef struct s_handoff {
    int32_t partition;             /* of opts.topic */
    char h[SN_KMETA_HANDOFFS_LEN]; /* "hex16,hex16,..." */
    int64_t replay_end; /* records before this offset only teach positions
                           (read back on the assignment); -1: none */
} s_handoff_t;

struct sn_kreceiver {
    sn_transport_opts_t opts;                 /* strings borrowed */
    rd_kafka_t *rk;                           /* the consumer */
    sn_positions_t *pos;                      /* (sender/partition) */
    rd_kafka_topic_partition_list_t *offsets; /* delivered, to commit */
    sn_receiver_revoke_fn revoke_fn;          /* the application's hook */
    void *revoke_arg;                         /* its argument */
    uint64_t instance;                        /* random id of this consumer */
    uint64_t token;                           /* next commit's, 0: fresh */
    s_handoff_t *hand;                        /* per assigned partition */
    size_t n_hand, cap_hand;                  /* their number, room */
    size_t n_replay; /* partitions whose read-back is not over */
};

/* -- commit metadata (transport_kmeta.c) ------------------------------- */

static s_handoff_t *
s_handoff(sn_kreceiver_t *self, int32_t partition, bool create)
{
    for (size_t k = 0; k < self->n_hand; k++) {
        if (self->hand[k].partition == partition) {
            return &self->hand[k];
        }
    }
    if (!create) {
        return NULL;
    }
    if (self->n_hand == self->cap_hand) {
        self->cap_hand = self->cap_hand ? 2 * self->cap_hand : 16;
        self->hand =
            sn_reallocarray(self->hand, self->cap_hand, sizeof *self->hand);
    }
    s_handoff_t *o = &self->hand[self->n_hand++];
    o->partition = partition;
    o->h[0] = '\0';
    o->replay_end = -1;
    return o;
}

/* Start partition `tp` (committed offset `committed`) `lookback` records
 * early: the records before `committed` are read back only to learn each
 * sender's position there (s_kdeliver()). */
static void
s_read_back(sn_kreceiver_t *self, s_handoff_t *o,
            rd_kafka_topic_partition_t *tp, int64_t committed)
{
    if (self->opts.lookback == 0 || committed <= 0) {
        return; /* nothing committed yet: the group starts at the earliest */
    }
    int64_t from = committed - (int64_t)self->opts.lookback;
    /* An offset below the log's start is reset to the earliest one. */
    tp->offset = from > 0 ? from : 0;
    o->replay_end = committed;
    self->n_replay++;
}

/* On an assignment: the committed metadata of each partition gives the
 * earlier owners' tokens to carry on, and its committed offset where the
 * read-back of the partition ends. */
static void
s_note_handoffs(sn_kreceiver_t *self, rd_kafka_topic_partition_list_t *parts)
{
    for (size_t k = 0; k < self->n_hand; k++) {
        self->hand[k].replay_end = -1;
    }
    self->n_replay = 0;
    rd_kafka_topic_partition_list_t *c =
        rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t e = rd_kafka_committed(self->rk, c, KAFKA_TIMEOUT_MS);
    for (int k = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && k < c->cnt; k++) {
        s_handoff_t *o = s_handoff(self, c->elems[k].partition, true);
        sn_kmeta_carry(c->elems[k].metadata, c->elems[k].metadata_size,
                       self->instance, o->h, sizeof o->h);
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_find(
            parts, c->elems[k].topic, c->elems[k].partition);
        if (tp != NULL) {
            s_read_back(self, o, tp, c->elems[k].offset);
        }
    }
    /* Unread, the handoff is marked unknown: a consumer asking later
     * learns that the group cannot tell, rather than a wrong answer. */
    for (int k = 0; e != RD_KAFKA_RESP_ERR_NO_ERROR && k < parts->cnt; k++) {
        s_handoff_t *o = s_handoff(self, parts->elems[k].partition, true);
        snprintf(o->h, sizeof o->h, "%s", SN_KMETA_UNKNOWN);
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        sn_log(SN_LOG_WARN, "transport", "kafka_handoff",
               "topic=%s reason=\"committed offsets: %s\"", self->opts.topic,
               rd_kafka_err2str(e));
    }
    rd_kafka_topic_partition_list_destroy(c);
}

/* Put this commit's metadata on every partition of self->offsets. */
static void
s_meta_set(sn_kreceiver_t *self, uint64_t token)
{
    for (int k = 0; k < self->offsets->cnt; k++) {
        rd_kafka_topic_partition_t *tp = &self->offsets->elems[k];
        const s_handoff_t *o = s_handoff(self, tp->partition, false);
        char *md = sn_kmeta_format(token, self->instance, o ? o->h : NULL);
        free(tp->metadata); /* the list frees it with free() */
        tp->metadata = md;
        tp->metadata_size = strlen(md);
    }
}

/* Write "0,2,3" (the partitions of `parts`) into buf. */
static void
s_partition_names(const rd_kafka_topic_partition_list_t *parts, char *buf,
                  size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; parts != NULL && i < parts->cnt && n + 12 < cap; i++) {
        n += (size_t)snprintf(buf + n, cap - n, "%s%d", i ? "," : "",
                              (int)parts->elems[i].partition);
    }
}

/* Forget the uncommitted offsets of `parts`: this consumer no longer owns
 * them, and a commit of them now would overwrite the next owner's. */
static void
s_forget_offsets(sn_kreceiver_t *self,
                 const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; parts != NULL && i < parts->cnt; i++) {
        rd_kafka_topic_partition_list_del(self->offsets, parts->elems[i].topic,
                                          parts->elems[i].partition);
    }
}

/* The group's rebalance, run by rd_kafka_consumer_poll() in the receiver's
 * thread (eager protocol: every rebalance revokes all, then assigns). On a
 * revoke the application makes what it counted durable and commits through
 * its hook while this consumer still owns the partitions, so their next
 * owner starts at the first record not counted here. */
static void
s_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e,
               rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    sn_kreceiver_t *self = opaque;
    char names[256];
    s_partition_names(parts, names, sizeof names);
    bool assign = e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    if (assign) {
        sn_log(SN_LOG_INFO, "transport", "kafka_assign",
               "topic=%s group=%s partitions=%s", self->opts.topic,
               self->opts.group, names);
        s_note_handoffs(self, parts);
    } else if (self->revoke_fn != NULL && self->offsets->cnt > 0) {
        int rc = self->revoke_fn(self->revoke_arg);
        if (rc != SN_OK) {
            sn_log(SN_LOG_ERROR, "transport", "kafka_revoke_commit",
                   "topic=%s reason=\"%s\"", self->opts.topic, sn_strerror(rc));
        }
    }
    if (!assign) {
        s_forget_offsets(self, parts);
        for (size_t k = 0; k < self->n_hand; k++) {
            self->hand[k].replay_end = -1;
        }
        self->n_replay = 0;
        sn_log(SN_LOG_INFO, "transport", "kafka_revoke",
               "topic=%s group=%s partitions=%s", self->opts.topic,
               self->opts.group, names);
    }
    /* A refusal has no one to go back to from here: it is logged. */
    e = rd_kafka_assign(rk, assign ? parts : NULL);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        sn_log(SN_LOG_ERROR, "transport", "kafka_assign_failed",
               "topic=%s partitions=%s reason=\"%s\"", self->opts.topic,
               assign ? names : "none", rd_kafka_err2str(e));
    }
}

static int
s_consumer(sn_kreceiver_t *self, sn_err_t *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* A consumer killed without leaving the group loses its partitions
     * when the group has not heard from it for session.timeout.ms. */
    const char *kv[][2] = {{"bootstrap.servers", self->opts.endpoint},
                           {"group.id", self->opts.group},
                           {"enable.auto.commit", "false"},
                           {"enable.auto.offset.store", "false"},
                           {"auto.offset.reset", "earliest"},
                           {"enable.partition.eof", "false"},
                           {"session.timeout.ms", "10000"},
                           {"heartbeat.interval.ms", "1000"}};
    int rc = SN_OK;
    for (size_t i = 0; rc == SN_OK && i < sizeof kv / sizeof kv[0]; i++) {
        rc = sn_kafka_conf_set(conf, kv[i][0], kv[i][1], err);
    }
    if (rc != SN_OK) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    rd_kafka_conf_set_opaque(conf, self);
    rd_kafka_conf_set_rebalance_cb(conf, s_on_rebalance);
    char msg[256];
    self->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, msg, sizeof msg);
    if (self->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return sn_err_set(err, SN_ETRANSPORT, "kafka consumer: %s", msg);
    }
    rd_kafka_poll_set_consumer(self->rk);
    rd_kafka_topic_partition_list_t *topics =
        rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, self->opts.topic,
                                      RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(self->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return sn_err_set(err, SN_ETRANSPORT, "kafka subscribe %s: %s",
                          self->opts.topic, rd_kafka_err2str(e));
    }
    return SN_OK;
}

int
sn_kreceiver_new(const sn_transport_opts_t *opts, sn_kreceiver_t **out,
                 sn_err_t *err)
{
    sn_kreceiver_t *self = sn_calloc(1, sizeof *self);
    self->opts = *opts;
    self->pos = sn_positions_new(opts->state_dir);
    self->offsets = rd_kafka_topic_partition_list_new(16);
    self->instance = sn_kmeta_random();
    int rc = sn_positions_load(self->pos, err);
    if (rc == SN_OK) {
        rc = s_consumer(self, err);
    }
    if (rc != SN_OK) {
        sn_kreceiver_destroy(&self);
        return rc;
    }
    *out = self;
    return SN_OK;
}

void
sn_kreceiver_destroy(sn_kreceiver_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    sn_kreceiver_t *self = *self_p;
    if (self->rk != NULL) {
        rd_kafka_consumer_close(self->rk);
        rd_kafka_destroy(self->rk);
    }
    rd_kafka_topic_partition_list_destroy(self->offsets);
    sn_positions_destroy(&self->pos);
    free(self->hand);
    free(self);
    *self_p = NULL;
}

sn_positions_t *
sn_kreceiver_positions(sn_kreceiver_t *self)
{
    return self->pos;
}

void
sn_kreceiver_on_revoke(sn_kreceiver_t *self, sn_receiver_revoke_fn fn,
                       void *arg)
{
    self->revoke_fn = fn;
    self->revoke_arg = arg;
}

/* Read the sender and sequence headers. @return false when absent. */
static bool
s_headers(const rd_kafka_message_t *m, char *id, size_t idsize, uint64_t *seq)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t n;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, SN_KAFKA_HDR_SENDER, &v, &n) != 0 ||
        n == 0 || n >= idsize) {
        return false;
    }
    memcpy(id, v, n);
    id[n] = '\0';
    if (rd_kafka_header_get_last(h, SN_KAFKA_HDR_SEQ, &v, &n) != 0 || n != 8) {
        return false;
    }
    *seq = 0;
    for (int i = 7; i >= 0; i--) {
        *seq = (*seq << 8) | ((const uint8_t *)v)[i];
    }
    return true;
}

static void
s_note_offset(sn_kreceiver_t *self, const rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    rd_kafka_topic_partition_t *tp =
        rd_kafka_topic_partition_list_find(self->offsets, topic, m->partition);
    if (tp == NULL) {
        tp = rd_kafka_topic_partition_list_add(self->offsets, topic,
                                               m->partition);
    }
    tp->offset = m->offset + 1;
}

/* A message read back before the committed offset of its partition (the
 * earlier owner counted it): raise its sender's position to its sequence
 * number. @return true when `m` was such a message. */
static bool
s_replayed(sn_kreceiver_t *self, const rd_kafka_message_t *m)
{
    if (self->n_replay == 0) {
        return false;
    }
    s_handoff_t *o = s_handoff(self, m->partition, false);
    if (o == NULL || o->replay_end < 0) {
        return false;
    }
    if (m->offset >= o->replay_end) {
        o->replay_end = -1; /* the read-back of this partition is over */
        self->n_replay--;
        return false;
    }
    char id[SN_SENDER_ID_MAX + 1], key[SN_SENDER_ID_MAX + 16];
    uint64_t seq;
    if (s_headers(m, id, sizeof id, &seq)) {
        snprintf(key, sizeof key, "%s/%d", id, (int)m->partition);
        sn_peer_t *peer = sn_positions_get(self->pos, key, true);
        if (peer != NULL && seq > peer->delivered) {
            peer->delivered = seq;
        }
    }
    return true;
}

/* Deliver one message unless its (sender, partition) position shows it is
 * a copy a restarted producer sent again. */
static int
s_kdeliver(sn_kreceiver_t *self, const rd_kafka_message_t *m, sn_receiver_fn fn,
           void *arg, int *delivered)
{
    char id[SN_SENDER_ID_MAX + 1], key[SN_SENDER_ID_MAX + 16];
    uint64_t seq;
    if (s_replayed(self, m)) {
        return SN_OK; /* counted by the earlier owner, never committed here */
    }
    if (self->opts.max_message > 0 && m->len > self->opts.max_message) {
        /* The ZeroMQ receiver's limit: refused, never handed over, and
         * committed with the rest so it is not fetched again forever. */
        sn_log(SN_LOG_WARN, "transport", "message_refused",
               "topic=%s partition=%d offset=%" PRId64
               " reason=\"message of %zu bytes is larger than max_message "
               "%" PRIu64 "\"",
               rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset,
               m->len, self->opts.max_message);
        s_note_offset(self, m);
        return SN_OK;
    }
    if (!s_headers(m, id, sizeof id, &seq)) {
        sn_log(SN_LOG_WARN, "transport", "bad_message",
               "topic=%s partition=%d offset=%" PRId64
               " reason=\"no sn-sender/sn-seq headers\"",
               rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset);
        s_note_offset(self, m);
        return SN_OK;
    }
    snprintf(key, sizeof key, "%s/%d", id, (int)m->partition);
    sn_peer_t *peer = sn_positions_get(self->pos, key, true);
    if (peer != NULL && seq <= peer->delivered) {
        s_note_offset(self, m);
        return SN_OK;
    }
    sn_record_t rec = {id, seq, m->payload, m->len};
    int rc = fn(&rec, arg);
    if (rc != SN_OK) {
        return rc;
    }
    if (peer != NULL) {
        peer->delivered = seq;
    }
    s_note_offset(self, m);
    (*delivered)++;
    return SN_OK;
}

int
sn_kreceiver_poll(sn_kreceiver_t *self, int timeout_ms, sn_receiver_fn fn,
                  void *arg, sn_err_t *err)
{
    /* Each message holds one record, so the ZeroMQ receiver's batch limit
     * bounds here the records handed over in one poll. */
    uint32_t burst = self->opts.max_batch_records;
    burst = (burst == 0 || burst > KAFKA_BURST) ? KAFKA_BURST : burst;
    int delivered = 0;
    for (uint32_t i = 0; i < burst; i++) {
        rd_kafka_message_t *m =
            rd_kafka_consumer_poll(self->rk, i == 0 ? timeout_ms : 0);
        if (m == NULL) {
            break;
        }
        int rc = SN_OK;
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            sn_log(SN_LOG_WARN, "transport", "kafka_error", "reason=\"%s\"",
                   rd_kafka_message_errstr(m));
        } else {
            rc = s_kdeliver(self, m, fn, arg, &delivered);
        }
        rd_kafka_message_destroy(m);
        if (rc != SN_OK) {
            /* Not committed: the group redelivers it after a restart. */
            return sn_err_set(err, rc,
                              "kafka %s: delivery stopped by the "
                              "application: %s",
                              self->opts.topic, sn_strerror(rc));
        }
    }
    return delivered;
}

int
sn_kreceiver_commit(sn_kreceiver_t *self, sn_err_t *err)
{
    if (self->offsets->cnt == 0) {
        return SN_OK;
    }
    for (size_t i = 0; i < sn_positions_size(self->pos); i++) {
        sn_peer_t *p = sn_positions_at(self->pos, i);
        p->acked = p->delivered;
    }
    int rc = sn_positions_save(self->pos, err);
    if (rc != SN_OK) {
        return rc;
    }
    s_meta_set(self, self->token != 0 ? self->token : sn_kmeta_random());
    rd_kafka_resp_err_t e = rd_kafka_commit(self->rk, self->offsets, 0);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return sn_err_set(err, SN_ETRANSPORT, "kafka commit on %s: %s",
                          self->opts.topic, rd_kafka_err2str(e));
    }
    self->token = 0;
    rd_kafka_topic_partition_list_destroy(self->offsets);
    self->offsets = rd_kafka_topic_partition_list_new(16);
    return SN_OK;
}

int
sn_kreceiver_mark(sn_kreceiver_t *self, uint8_t **out, size_t *len,
                  sn_err_t *err)
{
    (void)err;
    if (self->offsets->cnt == 0) {
        return SN_ENODATA;
    }
    if (self->token == 0) {
        self->token = sn_kmeta_random();
    }
    uint32_t n = (uint32_t)self->offsets->cnt;
    *out = sn_kmeta_mark_new(self->token, n, len);
    for (uint32_t k = 0; k < n; k++) {
        sn_kmeta_mark_set(*out, k, self->offsets->elems[k].partition,
                          self->offsets->elems[k].offset);
    }
    return SN_OK;
}

/* @return 1 when the committed metadata of `tp` shows `token` landed, 0
 * when it shows it did not, -1 when a handoff on the way went unrecorded. */
static int
s_landed_one(const rd_kafka_topic_partition_t *tp, uint64_t token)
{
    uint64_t t, i;
    char h[SN_KMETA_HANDOFFS_LEN];
    if (!sn_kmeta_parse(tp->metadata, tp->metadata_size, &t, &i, h, sizeof h)) {
        return 0; /* no Sentinel commit since: ours never landed */
    }
    if (t == token || sn_kmeta_has(h, token)) {
        return 1;
    }
    return strstr(h, SN_KMETA_UNKNOWN) != NULL ? -1 : 0;
}

int
sn_kreceiver_landed(sn_kreceiver_t *self, const uint8_t *mark, size_t len,
                    sn_err_t *err)
{
    uint32_t n = 0;
    uint64_t token = 0;
    if (!sn_kmeta_mark_parse(mark, len, &token, &n)) {
        return sn_err_set(err, SN_ECORRUPT,
                          "kafka commit mark: %zu bytes, not a mark", len);
    }
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new((int)n);
    for (uint32_t k = 0; k < n; k++) {
        rd_kafka_topic_partition_list_add(l, self->opts.topic,
                                          sn_kmeta_mark_partition(mark, k));
    }
    rd_kafka_resp_err_t e = rd_kafka_committed(self->rk, l, KAFKA_TIMEOUT_MS);
    uint32_t yes = 0, unknown = 0;
    for (int k = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && k < l->cnt; k++) {
        int one = s_landed_one(&l->elems[k], token);
        yes += one == 1 ? 1 : 0;
        unknown += one < 0 ? 1 : 0;
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return sn_err_set(
            err, SN_ETRANSPORT, "kafka %s: committed offsets of group %s: %s",
            self->opts.topic, self->opts.group, rd_kafka_err2str(e));
    }
    if (yes == 0 && unknown > 0) {
        return sn_err_set(err, SN_ESTATE,
                          "kafka %s: commit %016" PRIx64 ": a later owner of "
                          "%u of its partitions could not read the group's "
                          "offsets when it took them: cannot tell",
                          self->opts.topic, token, unknown);
    }
    if (yes != 0 && yes != n) {
        return sn_err_set(err, SN_ESTATE,
                          "kafka %s: commit %016" PRIx64 " reached %u of its "
                          "%u partitions",
                          self->opts.topic, token, yes, n);
    }
    return yes == n ? 1 : 0;
}
