#!/bin/sh
# deploy/kafka-topics.sh - create Sentinel's Kafka topics
#
# Usage: deploy/kafka-topics.sh BOOTSTRAP [PARTITIONS] [REPLICATION]
#   BOOTSTRAP    a broker list, e.g. kafka1.cdc.example.cn:9092
#   PARTITIONS   partitions of the event topic (default 24)
#   REPLICATION  replication factor (default 3; min.insync.replicas is one
#                less, so acks=all survives the loss of one broker)
#
# Needs kafka-topics.sh from the Kafka distribution on PATH (or KAFKA_BIN
# set to its folder). Topics that exist are left as they are
# (--if-not-exists); run it again after changing nothing is harmless.
#
# The layout (docs/operators.md, "Scale"):
#   sentinel.events   case events from every collector. The message key is
#                     the prefecture (the first four digits of the region
#                     code), so one prefecture's events stay in order on one
#                     partition and are counted by one analyzer. Give it at
#                     least as many partitions as analyzers you will ever
#                     run: partitions can be added later, but adding them
#                     moves prefectures to other partitions (and analyzers).
#   sentinel.alerts   the alerting daemon's Kafka sink (one message per
#                     Alert, Update or Cancel, keyed by its CAP identifier).
#   sentinel.analyzer-alerts
#                     only when the analyzers hand their alerts to the
#                     alerting daemon over Kafka instead of ZeroMQ.
set -eu
bootstrap=${1:?usage: $0 BOOTSTRAP [PARTITIONS] [REPLICATION]}
partitions=${2:-24}
replication=${3:-3}
insync=$((replication > 1 ? replication - 1 : 1))
topics=${KAFKA_BIN:+$KAFKA_BIN/}kafka-topics.sh

create() { # name partitions retention_ms
    "$topics" --bootstrap-server "$bootstrap" --create --if-not-exists \
        --topic "$1" --partitions "$2" --replication-factor "$replication" \
        --config min.insync.replicas="$insync" \
        --config retention.ms="$3" \
        --config cleanup.policy=delete
}

# Events: kept 14 days, so an analyzer that was down for a week (or a new
# one that takes over partitions) can still read what it has not committed.
create sentinel.events "$partitions" 1209600000
# Alerts for subscribing systems: kept 90 days.
create sentinel.alerts 3 7776000000
# Analyzer -> alerting over Kafka (optional): kept 14 days.
create sentinel.analyzer-alerts 3 1209600000

"$topics" --bootstrap-server "$bootstrap" --describe --topic sentinel.events
