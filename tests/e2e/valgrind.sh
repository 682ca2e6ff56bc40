#!/bin/bash
# tests/e2e/valgrind.sh - one short pipeline run under valgrind memcheck
#
# The analyzer, the alerting daemon and two collectors run as real
# processes over ipc:// in a temporary folder, the analyzer and the
# collectors under memcheck (--leak-check=full
# --errors-for-leak-kinds=definite --error-exitcode=99): two seeded
# simulated feeds, one with a bad record and a cholera case (so the dead
# letter and an alert are exercised), are published, the daemons are
# stopped with SIGTERM, and every memcheck log must report no errors
# (no invalid read or write, no use of uninitialised values) and no
# definitely lost bytes. Too slow for every CI run: `make valgrind`.
#
# usage: tests/e2e/valgrind.sh [BUILD_DIR]
set -eu
build=${1:-build}
bin=$(cd "$build/bin" && pwd)/sentinel
dir=$(mktemp -d "${TMPDIR:-/tmp}/sentinel-valgrind-XXXXXX")
vg=(valgrind --tool=memcheck --leak-check=full
    --errors-for-leak-kinds=definite --error-exitcode=99
    --track-origins=yes --num-callers=30)
cd "$dir"
echo "valgrind: folder $dir"

cat >sentinel.yaml <<EOF
analyzer:
  state_dir: $dir/state
  dead_letter: $dir/analyzer-dead.jsonl
  checkpoint_ms: 200
  lateness_days: 1
  wall_clock: false
  window_days: 200
  dedup_capacity: 100000
transport: {endpoint: "ipc://$dir/events.ipc", curve: false}
alerts:
  transport: {endpoint: "ipc://$dir/alerts.ipc", curve: false,
              sender_id: analyzer}
  spool: {dir: $dir/outbox, fsync: always}
archive: {path: $dir/archive.h5, flush_interval: 0.5}
series:
  - {condition: ili, levels: [site, county]}
  - {condition: cholera}
detectors:
  - {name: ears-c2}
rules:
  - {name: class-a, kind: threshold, level: red, classes: A}
  - {name: single, kind: single, level: blue, detector: ears-c2}
EOF
cat >alerting.yaml <<EOF
alerting:
  store: $dir/alerts.db
  clock: data
  tick_ms: 50
  sinks:
    - {name: log, kind: log, path: $dir/alerts.jsonl}
transport: {kind: zmq, endpoint: "ipc://$dir/alerts.ipc", curve: false}
EOF
for s in s1:330102:hospital s2:330105:pharmacy; do
    IFS=: read -r id region source <<<"$s"
    cat >"collector-$id.yaml" <<EOF
site: {id: "$id", source: $source, region: "$region"}
dead_letter: {path: "$dir/dead-$id.jsonl"}
log: {level: warn}
spool: {dir: "$dir/spool-$id", fsync: batch}
transport: {endpoint: "ipc://$dir/events.ipc", curve: false,
            heartbeat_ms: 200, timeout_ms: 2000}
EOF
done
"$bin" simulate --out sim --seed 11 --start 2025-01-06 --days 40 \
    --site s1:330102:hospital:20 --site s2:330105:pharmacy:20 2>/dev/null
cat >>sim/s1.jsonl <<EOF
{"event_id":"s1-cholera","site_id":"s1","source":"hospital","region":"330102","condition":"cholera","report_time":"2025-02-10T10:00:00Z","count":1}
{"event_id":"s1-bad","condition":"nonsense","report_time":"2025-02-10T10:00:00Z"}
{"event_id":"s1-close","site_id":"s1","source":"hospital","region":"330102","condition":"fever","report_time":"2025-02-20T10:00:00Z","count":1}
EOF
echo '{"event_id":"s2-close","site_id":"s2","source":"pharmacy","region":"330105","condition":"fever","report_time":"2025-02-20T10:00:00Z","count":1}' >>sim/s2.jsonl

"${vg[@]}" --log-file=vg-analyzer.log "$bin" analyze -c sentinel.yaml \
    --log-level warn 2>analyzer.log &
ana=$!
"$bin" alerts -c alerting.yaml serve 2>alerting.log &
alr=$!
sleep 3
cols=()
for id in s1 s2; do
    "${vg[@]}" --log-file="vg-collector-$id.log" "$bin" collect \
        -c "collector-$id.yaml" --timeout 300 "sim/$id.jsonl" \
        2>"collector-$id.log" &
    cols+=($!)
done
status=0
for p in "${cols[@]}"; do
    wait "$p" || { rc=$?; [ $rc -eq 3 ] || status=1; }
done
for i in $(seq 1 100); do
    grep -q cholera alerts.jsonl 2>/dev/null && break
    sleep 0.2
done
kill -TERM "$ana" "$alr"
wait "$ana" || status=1
wait "$alr" || true
grep -q cholera alerts.jsonl || { echo "valgrind: no alert delivered"; status=1; }
for log in vg-*.log; do
    errors=$(awk '/ERROR SUMMARY:/ {print $4}' "$log" | tail -1)
    lost=$(awk '/definitely lost:/ {gsub(",", "", $4); print $4}' "$log" |
        tail -1)
    echo "valgrind: ${log#vg-}: errors ${errors:-?}, definitely lost" \
        "${lost:-0} bytes"
    if [ "${errors:-1}" != 0 ] || [ "${lost:-0}" != 0 ]; then
        status=1
        sed -n '/Invalid\|uninitialised\|definitely lost in/,+12p' "$log" |
            head -60
    fi
done
[ $status -eq 0 ] && echo "valgrind: clean" && rm -rf "$dir"
exit $status
