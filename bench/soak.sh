#!/bin/bash
# bench/soak.sh - run the pipeline for a long while and watch it stay flat
#
# Starts three site collectors in daemon mode (inbox folders), the analyzer
# and the alerting daemon, all as real processes on ipc:// in a temporary
# folder. First it measures the pipeline's maximum rate (one burst of
# simulated events through `sentinel collect`), then for SOAK_MINUTES
# (default 30) it drops a simulated day of events into each inbox every
# SOAK_TICK seconds (default 5) at half that rate. Every SOAK_SAMPLE seconds
# (default 5) it records per daemon the resident memory (VmRSS from
# /proc/PID/status), the open file descriptors (/proc/PID/fd) and, for the
# collectors, the spool depth (bytes in the spool folder: 1 MiB segments,
# freed once acknowledged, so it is the backlog to within a segment), into
# $SOAK_DIR/soak.csv. At the end it prints start, end and maximum per daemon
# and whether each is flat.
#
# Flat means: over the second half of the run (the first half is warm-up:
# dedup table, day windows and archive blocks fill up to their steady size)
# VmRSS grows by at most 10 % or 4 MiB, whichever is larger, open file
# descriptors by at most 4, and a collector's spool ends below 4 MiB (the
# spool drains; it does not pile up).
#
# usage: bench/soak.sh [BUILD_DIR]   (make soak SOAK_MINUTES=5)
set -eu
build=${1:-build}
bin=$(cd "$build/bin" && pwd)/sentinel
minutes=${SOAK_MINUTES:-30}
tick=${SOAK_TICK:-5}
sample=${SOAK_SAMPLE:-5}
dir=${SOAK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sentinel-soak-XXXXXX")}
sites="s1:330102:hospital s2:330105:fever_clinic s3:330106:pharmacy"
mkdir -p "$dir"
cd "$dir"
echo "soak: folder $dir, $minutes minutes, $bin"

write_configs() {
    cat >sentinel.yaml <<EOF
analyzer:
  state_dir: $dir/state
  dead_letter: $dir/analyzer-dead.jsonl
  checkpoint_ms: 500
  lateness_days: 1
  horizon_days: 14
  wall_clock: false
  window_days: 400
  dedup_capacity: 4000000
transport: {endpoint: "ipc://$dir/events.ipc", curve: false}
alerts:
  transport: {endpoint: "ipc://$dir/alerts.ipc", curve: false,
              sender_id: analyzer}
  spool: {dir: $dir/outbox, fsync: always}
archive: {path: $dir/archive.h5, flush_interval: 2}
series:
  - {condition: ili, levels: [site, county, prefecture]}
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
  sinks:
    - {name: log, kind: log, path: $dir/alerts.jsonl}
transport: {kind: zmq, endpoint: "ipc://$dir/alerts.ipc", curve: false}
EOF
    for s in $sites; do
        IFS=: read -r id region source <<<"$s"
        mkdir -p "inbox-$id"
        cat >"collector-$id.yaml" <<EOF
site: {id: "$id", source: $source, region: "$region"}
inbox: {path: "$dir/inbox-$id", poll_ms: 500}
dead_letter: {path: "$dir/dead-$id.jsonl"}
log: {level: warn}
spool: {dir: "$dir/spool-$id", fsync: batch, segment_bytes: 1048576}
transport: {endpoint: "ipc://$dir/events.ipc", curve: false}
EOF
    done
}

# Simulate `days` days from day offset `from` for every site into $1/.
simulate() {
    local out=$1 from=$2 days=$3 mean=$4 args=()
    for s in $sites; do
        args+=(--site "$s:$mean")
    done
    "$bin" simulate --out "$out" --seed "$from" --amplitude 0 --days "$days" \
        --start "$(date -u -d "2024-01-01 + $from days" +%F)" "${args[@]}" \
        2>/dev/null
}

# The maximum rate: one burst through file-mode collectors.
measure_max() {
    simulate burst 0 10 2000
    local n t0 t1
    n=$(cat burst/*.jsonl | wc -l)
    t0=$(date +%s.%N)
    for s in $sites; do
        "$bin" collect -c "collector-${s%%:*}.yaml" \
            "burst/${s%%:*}.jsonl" 2>>collect-burst.log &
    done
    wait
    t1=$(date +%s.%N)
    echo "$n $t0 $t1" | awk '{printf "%d\n", $1 / ($3 - $2)}'
}

pids=()
names=()
start_daemons() {
    "$bin" analyze -c sentinel.yaml --log-level warn 2>analyzer.log &
    pids+=($!) names+=(analyzer)
    "$bin" alerts -c alerting.yaml serve 2>alerting.log &
    pids+=($!) names+=(alerting)
}

start_collectors() {
    for s in $sites; do
        "$bin" collect -c "collector-${s%%:*}.yaml" 2>>"collect-${s%%:*}.log" &
        pids+=($!) names+=("collector-${s%%:*}")
    done
}

stop_all() {
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap stop_all EXIT

sample_all() {
    local now=$1 i name pid rss fds spool
    for i in "${!pids[@]}"; do
        pid=${pids[$i]} name=${names[$i]}
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null ||
            echo NA)
        fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
        spool=NA
        case $name in
        collector-*) spool=$(du -sb "spool-${name#collector-}" | cut -f1) ;;
        esac
        echo "$now,$name,$pid,${rss:-NA},$fds,$spool" >>soak.csv
    done
}

write_configs
start_daemons
sleep 1
max=$(measure_max)
rate=$((max / 2))
per_tick=$((rate * tick))
mean=$((per_tick / 3))
echo "soak: maximum rate $max events/s; feeding $rate events/s" \
    "($per_tick every $tick s)"
start_collectors
echo "t_s,daemon,pid,vmrss_kib,fds,spool_bytes" >soak.csv
t0=$(date +%s)
end=$((t0 + minutes * 60))
next_tick=$t0
next_sample=$t0
day=20
fed=0
while [ "$(date +%s)" -lt "$end" ]; do
    now=$(date +%s)
    if [ "$now" -ge "$next_tick" ]; then
        rm -rf drop && simulate drop "$day" 1 "$mean"
        for s in $sites; do
            id=${s%%:*}
            if [ -f "drop/$id.jsonl" ]; then
                fed=$((fed + $(wc -l <"drop/$id.jsonl")))
                mv "drop/$id.jsonl" "inbox-$id/d$day.jsonl"
            fi
        done
        day=$((day + 1)) next_tick=$((next_tick + tick))
    fi
    if [ "$now" -ge "$next_sample" ]; then
        sample_all $((now - t0))
        next_sample=$((next_sample + sample))
    fi
    sleep 0.5
done
sample_all $(($(date +%s) - t0))
elapsed=$(($(date +%s) - t0))
echo "soak: fed $((day - 20)) days, $fed events in $elapsed s" \
    "($((fed / (elapsed > 0 ? elapsed : 1))) events/s; the target is $rate:" \
    "lower when simulating each drop takes longer than a tick)"
echo "soak: samples in $dir/soak.csv"
awk -F, -v half=$((minutes * 30)) '
NR == 1 { next }
{
    d = $2
    if (!(d in first)) { order[++n] = d; first[d] = $4; ffd[d] = $5 }
    if ($1 >= half && !(d in mid)) { mid[d] = $4; mfd[d] = $5 }
    last[d] = $4; lfd[d] = $5; lsp[d] = $6
    if ($4 > max[d]) { max[d] = $4 }
    if ($5 > maxfd[d]) { maxfd[d] = $5 }
}
END {
    printf "%-14s %10s %10s %10s %10s %6s %6s %6s %12s %s\n", "daemon",
        "rss_start", "rss_half", "rss_end", "rss_max", "fd_st", "fd_end",
        "fd_max", "spool_end", "flat"
    bad = 0
    for (i = 1; i <= n; i++) {
        d = order[i]
        lim = mid[d] * 0.10; if (lim < 4096) { lim = 4096 }
        flat = (last[d] - mid[d] <= lim) && (lfd[d] - mfd[d] <= 4)
        if (lsp[d] != "NA" && lsp[d] > 4194304) { flat = 0 }
        bad += !flat
        printf "%-14s %8d K %8d K %8d K %8d K %6d %6d %6d %12s %s\n", d,
            first[d], mid[d], last[d], max[d], ffd[d], lfd[d], maxfd[d],
            lsp[d], flat ? "yes" : "NO"
    }
    exit bad > 0
}' soak.csv
