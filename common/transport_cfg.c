/*  common/transport_cfg.c - the `transport:` and `spool:` config sections
 *
 *  Every daemon that sends or receives records (collector, analyzer,
 *  alerting) lists these two tables in its root schema, so the keys, their
 *  ranges and their one-line docs are the same everywhere. sn_config_load()
 *  has already checked types and ranges; what is left here is the checks a
 *  table cannot express (CURVE needs its key files).
 */
#include "sentinel/transport.h"

#include <string.h>

static const char *const s_kinds[] = {"zmq", "kafka", NULL};
static const char *const s_fsyncs[] = {"always", "batch", "never", NULL};

#define U32_MAX 4294967295.0

const sn_cfg_schema_t sn_transport_cfg_schema[] = {
    {"kind", SN_CFG_ENUM, false, 0, 0, s_kinds, NULL, NULL,
     "zmq (default, no broker) or kafka"},
    {"endpoint", SN_CFG_STRING, true, 1, 1024, NULL, NULL, NULL,
     "zmq: tcp://host:port or ipc://path; kafka: bootstrap brokers"},
    {"sender_id", SN_CFG_STRING, false, 1, SN_SENDER_ID_MAX, NULL, NULL, NULL,
     "this sender's stable name (never reuse one with a new spool)"},
    {"curve", SN_CFG_BOOL, false, 0, 0, NULL, NULL, NULL,
     "encrypt and authenticate with CURVE (default true; false: demo only)"},
    {"secret_key", SN_CFG_STRING, false, 1, 4096, NULL, NULL, NULL,
     "own secret key file, written by 'sentinel keygen'"},
    {"server_key", SN_CFG_STRING, false, 1, 4096, NULL, NULL, NULL,
     "sender: the receiver's public key file"},
    {"authorized_keys", SN_CFG_STRING, false, 1, 4096, NULL, NULL, NULL,
     "receiver: file of the senders' public keys allowed in"},
    {"topic", SN_CFG_STRING, false, 1, 249, NULL, NULL, NULL,
     "kafka: the topic"},
    {"group", SN_CFG_STRING, false, 1, 255, NULL, NULL, NULL,
     "kafka receiver: the consumer group"},
    {"state_dir", SN_CFG_STRING, false, 1, 4096, NULL, NULL, NULL,
     "receiver: where it keeps each sender's position"},
    {"batch_records", SN_CFG_INT, false, 1, 100000, NULL, NULL, NULL,
     "records per batch (1000)"},
    {"batch_ms", SN_CFG_INT, false, 0, 60000, NULL, NULL, NULL,
     "kafka: linger before a partial batch goes (5)"},
    {"window", SN_CFG_INT, false, 1, 100000000, NULL, NULL, NULL,
     "unacknowledged records in flight (100000)"},
    {"heartbeat_ms", SN_CFG_INT, false, 10, 600000, NULL, NULL, NULL,
     "heartbeat interval (1000)"},
    {"timeout_ms", SN_CFG_INT, false, 10, 3600000, NULL, NULL, NULL,
     "resend everything unacknowledged after this long without an ack"},
    {"max_message", SN_CFG_INT, false, 1024, 1 << 30, NULL, NULL, NULL,
     "receiver: largest message in bytes; a larger one drops the "
     "connection (16 MiB)"},
    {"max_batch_records", SN_CFG_INT, false, 1, 100000, NULL, NULL, NULL,
     "receiver: most records in one batch; a larger batch is refused "
     "(100000)"},
    {"lookback", SN_CFG_INT, false, 0, 100000000, NULL, NULL, NULL,
     "kafka receiver: records per partition read back before the committed "
     "offset when the group assigns it, to drop copies of records its "
     "earlier owner counted (100000; 0: none)"},
    {NULL, 0, false, 0, 0, NULL, NULL, NULL, NULL},
};

const sn_cfg_schema_t sn_spool_cfg_schema[] = {
    {"dir", SN_CFG_STRING, true, 1, 4096, NULL, NULL, NULL,
     "the spool directory (created with mode 0700)"},
    {"fsync", SN_CFG_ENUM, false, 0, 0, s_fsyncs, NULL, NULL,
     "always, batch (default) or never"},
    {"fsync_every", SN_CFG_INT, false, 1, U32_MAX, NULL, NULL, NULL,
     "batch: records between fsyncs (100000)"},
    {"fsync_ms", SN_CFG_INT, false, 0, U32_MAX, NULL, NULL, NULL,
     "batch: milliseconds between fsyncs (50)"},
    {"max_bytes", SN_CFG_INT, false, 8192, 1e15, NULL, NULL, NULL,
     "refuse new records past this many bytes unacknowledged (1 GiB)"},
    {"segment_bytes", SN_CFG_INT, false, 4096, 1e12, NULL, NULL, NULL,
     "segment file size (64 MiB)"},
    {NULL, 0, false, 0, 0, NULL, NULL, NULL, NULL},
};

int
sn_transport_opts_from_cfg(const sn_config_t *cfg, const sn_cfg_node_t *node,
                           sn_transport_opts_t *o, sn_err_t *err)
{
    sn_transport_opts_init(o);
    if (node == NULL) {
        return SN_OK;
    }
    const char *kind = sn_cfg_str(node, "kind", "zmq");
    o->kind =
        strcmp(kind, "kafka") == 0 ? SN_TRANSPORT_KAFKA : SN_TRANSPORT_ZMQ;
    o->endpoint = sn_cfg_str(node, "endpoint", NULL);
    o->sender_id = sn_cfg_str(node, "sender_id", NULL);
    o->curve = sn_cfg_bool(node, "curve", true);
    o->secret_key = sn_cfg_str(node, "secret_key", NULL);
    o->server_key = sn_cfg_str(node, "server_key", NULL);
    o->authorized_keys = sn_cfg_str(node, "authorized_keys", NULL);
    o->topic = sn_cfg_str(node, "topic", NULL);
    o->group = sn_cfg_str(node, "group", NULL);
    o->state_dir = sn_cfg_str(node, "state_dir", NULL);
    o->batch_records = (uint32_t)sn_cfg_int(node, "batch_records", 1000);
    o->batch_ms = (uint32_t)sn_cfg_int(node, "batch_ms", 5);
    o->window = (uint32_t)sn_cfg_int(node, "window", 100000);
    o->heartbeat_ms = (uint32_t)sn_cfg_int(node, "heartbeat_ms", 1000);
    o->timeout_ms = (uint32_t)sn_cfg_int(node, "timeout_ms", 5000);
    o->max_message =
        (uint64_t)sn_cfg_int(node, "max_message", SN_TRANSPORT_MAX_MESSAGE);
    o->max_batch_records =
        (uint32_t)sn_cfg_int(node, "max_batch_records", SN_TRANSPORT_MAX_BATCH);
    o->lookback = (uint32_t)sn_cfg_int(node, "lookback", SN_TRANSPORT_LOOKBACK);
    if (o->kind == SN_TRANSPORT_ZMQ && o->curve && o->secret_key == NULL) {
        return sn_cfg_error(cfg, node, err,
                            "transport: curve is on but secret_key is not "
                            "set (run 'sentinel keygen'; curve: false is for "
                            "the demo only)");
    }
    if (o->window < o->batch_records) {
        return sn_cfg_error(cfg, node, err,
                            "transport: window must be >= batch_records");
    }
    return SN_OK;
}

int
sn_spool_opts_from_cfg(const sn_config_t *cfg, const sn_cfg_node_t *node,
                       sn_spool_opts_t *o, sn_err_t *err)
{
    sn_spool_opts_init(o);
    if (node == NULL) {
        return sn_err_set(err, SN_ECONFIG, "%s: missing section 'spool'",
                          sn_config_file(cfg));
    }
    o->dir = sn_cfg_str(node, "dir", NULL);
    sn_spool_fsync_parse(sn_cfg_str(node, "fsync", "batch"), &o->fsync);
    o->fsync_every = (uint32_t)sn_cfg_int(node, "fsync_every", 100000);
    o->fsync_ms = (uint32_t)sn_cfg_int(node, "fsync_ms", 50);
    o->max_bytes = (uint64_t)sn_cfg_int(node, "max_bytes", 1ll << 30);
    o->segment_bytes = (uint64_t)sn_cfg_int(node, "segment_bytes", 64ll << 20);
    if (o->segment_bytes > o->max_bytes) {
        return sn_cfg_error(cfg, node, err,
                            "spool: segment_bytes must not exceed max_bytes");
    }
    return SN_OK;
}
