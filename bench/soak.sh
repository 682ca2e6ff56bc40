#!/bin/bash
# bench/soak.sh - run the pipeline for a long while and watch it stay flat
#
# Starts three site collectors in daemon mode (inbox folders), the analyzer
# and the alerting daemon, all as real processes on ipc:// in a temporary
# folder, each serving its counters on a loopback /metrics port. Then:
#
# 1. The maximum rate, in this run and through the same daemons: one burst
#    of simulated events (SOAK_BURST events, default 600,000) is dropped
#    into the inboxes at once, and the rate is the burst over the time until
#    the analyzer has acknowledged every record (each collector's
#    records_spooled reaches its share and its spool_depth is 0).
# 2. The soak, for SOAK_MINUTES (default 30) at SOAK_FRACTION (default 1/2)
#    of that rate: every SOAK_TICK seconds (default 5) one simulated day per
#    site is moved into the inboxes. The days are made ahead of time by a
#    background generator (one simulated week, then the same weekday's
#    events with their dates moved on) that keeps SOAK_AHEAD ticks (36)
#    ready on disk and is filled before the clock starts, so feeding is a
#    rename and never the bottleneck; a tick whose day is not ready yet is
#    counted as a feeder underrun (and fed as soon as it is).
#
# Every SOAK_SAMPLE seconds (default 3: the samples fall at every phase of
# the tick, so they also see the spools with a drop in them) it records per
# daemon the resident memory (VmRSS, /proc/PID/status), the open file
# descriptors (/proc/PID/fd) and the spool depth: for a collector the bytes
# of its spool folder (1 MiB segments, freed once acknowledged) and the
# records not yet acknowledged (its spool_depth metric, which it refreshes
# between two inbox files); for the analyzer the bytes of its alert outbox
# spool; for alerting the deliveries waiting (its outbox_pending metric).
# A pseudo-daemon "backlog" is the whole pipeline's: records fed into the
# inboxes but not yet taken in by the analyzer (its events_in counter).
# The samples go to $SOAK_DIR/soak.csv; at the end it prints them as a
# table over time per daemon, the rates (maximum, target, fed and
# acknowledged) and a verdict per daemon.
#
# Flat (the criterion is printed with the verdict): the first half of the
# run is warm-up (dedup table, day windows, archive blocks and caches fill
# to their steady size). Over the second half, the least-squares trend of
# each quantity, times the length of that half, must stay within a bound:
# VmRSS max(10 % of its half-time value, 4 MiB); descriptors 4; spool
# depth 2 MiB (a collector's spool, the analyzer's outbox), 10 deliveries
# (alerting) or one tick's drop (the backlog); and the last sample's spool
# depth must be within twice that (the spools drain; they do not pile up).
# The exit status is 1 when a daemon is not flat or one died, or when a
# record was refused (dead-lettered) anywhere on the way.
#
# usage: bench/soak.sh [BUILD_DIR]   (make soak SOAK_MINUTES=5)
set -eu
build=${1:-build}
bin=$(cd "$build/bin" && pwd)/sentinel
here=$(cd "$(dirname "$0")" && pwd)
minutes=${SOAK_MINUTES:-30}
tick=${SOAK_TICK:-5}
sample=${SOAK_SAMPLE:-3}
burst=${SOAK_BURST:-600000}
fraction=${SOAK_FRACTION:-0.5}
ahead=${SOAK_AHEAD:-36}
dir=${SOAK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sentinel-soak-XXXXXX")}
sites="s1:330102:hospital s2:330105:fever_clinic s3:330106:pharmacy"
nsites=3
mkdir -p "$dir"
cd "$dir"
echo "soak: folder $dir, $minutes minutes, $bin"

# A loopback TCP port nobody listens on right now and not picked before.
declare -A port
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 30000))
        if [[ " ${port[*]} " == *" $p "* ]]; then
            continue
        fi
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
}

for d in analyzer alerting s1 s2 s3; do
    port[$d]=$(free_port)
done

# The soak moves one simulated day per tick (5 s), so the analyzer's dedup
# memory holds about horizon_days + 1 ticks of events: 4 days of up to
# 4,000,000 events (a target of 800,000 events/s) fit in 16,000,000
# entries. (Full of live entries, the table refuses new events, which go
# to the dead letter, and the spools back up: size dedup_capacity for
# horizon_days of the real feed.)
write_configs() {
    cat >sentinel.yaml <<EOF
analyzer:
  state_dir: $dir/state
  dead_letter: $dir/analyzer-dead.jsonl
  checkpoint_ms: 500
  lateness_days: 1
  horizon_days: 3
  wall_clock: false
  window_days: 400
  dedup_capacity: 16000000
  metrics: 127.0.0.1:${port[analyzer]}
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
  metrics: 127.0.0.1:${port[alerting]}
  sinks:
    - {name: log, kind: log, path: $dir/alerts.jsonl}
transport: {kind: zmq, endpoint: "ipc://$dir/alerts.ipc", curve: false}
EOF
    for s in $sites; do
        IFS=: read -r id region source <<<"$s"
        mkdir -p "inbox-$id"
        # settle_ms 0: every file is written aside and moved in whole.
        cat >"collector-$id.yaml" <<EOF
site: {id: "$id", source: $source, region: "$region"}
inbox: {path: "$dir/inbox-$id", poll_ms: 500, settle_ms: 0}
dead_letter: {path: "$dir/dead-$id.jsonl"}
log: {level: warn}
spool: {dir: "$dir/spool-$id", fsync: batch, segment_bytes: 1048576}
transport: {endpoint: "ipc://$dir/events.ipc", curve: false}
metrics: 127.0.0.1:${port[$id]}
EOF
    done
}

# The date of day offset $1 (YYYY-MM-DD).
day_date() {
    date -u -d "2024-01-01 + $1 days" +%F
}

# Simulate `days` days from day offset `from`, `mean` events per site and
# day, one file per site into $1/.
simulate() {
    local out=$1 from=$2 days=$3 mean=$4 args=()
    for s in $sites; do
        args+=(--site "$s:$mean")
    done
    "$bin" simulate --out "$out" --seed "$from" --amplitude 0 --days "$days" \
        --start "$(day_date "$from")" "${args[@]}" \
        >/dev/null 2>&1
}

# metric DAEMON NAME: one value from the daemon's /metrics (empty if none).
metric() {
    curl -s --max-time 2 "http://127.0.0.1:${port[$1]}/metrics" 2>/dev/null |
        awk -v n="$2" '$1 == n { print $2 }'
}

pids=()
names=()
gen_pid= sampler_pid=
start_daemons() {
    "$bin" analyze -c sentinel.yaml --log-level warn 2>analyzer.log &
    pids+=($!) names+=(analyzer)
    "$bin" alerts -c alerting.yaml serve 2>alerting.log &
    pids+=($!) names+=(alerting)
    for s in $sites; do
        "$bin" collect -c "collector-${s%%:*}.yaml" 2>>"collect-${s%%:*}.log" &
        pids+=($!) names+=("${s%%:*}")
    done
    local d
    for d in analyzer alerting s1 s2 s3; do
        for _ in $(seq 600); do
            curl -sf --max-time 1 "http://127.0.0.1:${port[$d]}/metrics" \
                >/dev/null && break
            sleep 0.1
        done
    done
}

stop_all() {
    for p in $gen_pid $sampler_pid; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap stop_all EXIT

# Records acknowledged by the analyzer, summed over the collectors:
# spooled minus still in the spool.
acked_total() {
    local s id sp dp sum=0
    for s in $sites; do
        id=${s%%:*}
        sp=$(metric "$id" sentinel_collector_records_spooled_total)
        dp=$(metric "$id" sentinel_collector_spool_depth)
        sum=$((sum + ${sp:-0} - ${dp:-0}))
    done
    echo "$sum"
}

# The maximum rate: the burst through the inbox daemons, timed until every
# record is acknowledged.
measure_max() {
    local days=20 mean n t0 t1 s id acked
    mean=$((burst * 100 / (days * nsites * 93)))
    simulate burst 0 "$days" "$mean"
    n=$(cat burst/*.jsonl | wc -l)
    base=$(acked_total)
    t0=$(date +%s.%N)
    for s in $sites; do
        id=${s%%:*}
        mv "burst/$id.jsonl" "inbox-$id/burst.jsonl"
    done
    for _ in $(seq 12000); do
        acked=$(acked_total)
        [ "$((acked - base))" -ge "$n" ] && break
        sleep 0.1
    done
    t1=$(date +%s.%N)
    echo "$n $t0 $t1 $((acked - base))" |
        awk '{printf "%d %d %.1f %d\n", $1 / ($3 - $2), $1, $3 - $2, $4}'
}

# The generator: one simulated week (days $1..$1+6, `mean` per site and
# day) as templates, then day after day into ready/<day>/ (one file per
# site and the event count in n), keeping at most $ahead days ready. After
# the first week a day is its template of the same weekday with every date
# moved by whole weeks (sed: event ids carry the date, so they stay
# unique); that costs a third of simulating it, which keeps the generator
# well ahead of the feed on a busy machine.
generate() {
    local first=$1 mean=$2 day=$1 t s id k j expr
    mkdir -p tmpl gen ready
    for t in $(seq "$first" $((first + 6))); do
        simulate "tmpl/$t" "$t" 1 "$mean"
        cat "tmpl/$t"/*.jsonl | wc -l >"tmpl/$t/n"
    done
    while :; do
        while [ "$(ls ready | wc -l)" -ge "$ahead" ]; do
            sleep 0.2
        done
        t=$((first + (day - first) % 7)) k=$((day - t))
        expr=()
        for j in 0 1 2 3 4; do
            expr+=(-e "s/$(day_date $((t - j)))/$(day_date $((day - j)))/g")
        done
        rm -rf "gen/$day"
        mkdir -p "gen/$day"
        for s in $sites; do
            id=${s%%:*}
            if [ "$k" = 0 ]; then
                cp "tmpl/$t/$id.jsonl" "gen/$day/$id.jsonl"
            else
                sed "${expr[@]}" "tmpl/$t/$id.jsonl" >"gen/$day/$id.jsonl"
            fi
        done
        cp "tmpl/$t/n" "gen/$day/n"
        mv "gen/$day" "ready/$day"
        day=$((day + 1))
    done
}

sample_all() {
    local now=$1 i name pid rss fds rec bytes
    for i in "${!pids[@]}"; do
        pid=${pids[$i]} name=${names[$i]}
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null ||
            true)
        fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
        case $name in
        s*)
            rec=$(metric "$name" sentinel_collector_spool_depth)
            bytes=$(du -sb "spool-$name" 2>/dev/null | cut -f1)
            ;;
        analyzer)
            rec=$(metric analyzer sentinel_analyzer_events_in_total)
            # The backlog: records fed but not yet taken in by the analyzer
            # (in the inboxes, the spools or on the way).
            echo "$now,backlog,0,NA,NA,$(($(cat fed) - ${rec:-0} + in0)),NA" \
                >>soak.csv
            rec=NA bytes=$(du -sb outbox 2>/dev/null | cut -f1)
            ;;
        alerting)
            rec=$(metric alerting sentinel_alerting_outbox_pending)
            bytes=NA
            ;;
        esac
        echo "$now,$name,$pid,${rss:-NA},$fds,${rec:-NA},${bytes:-NA}" \
            >>soak.csv
    done
}

write_configs
start_daemons
read -r max n_burst burst_s burst_acked < <(measure_max)
echo "soak: maximum rate $max events/s ($n_burst events in $burst_s s," \
    "$burst_acked acknowledged)"
rate=$(awk -v m="$max" -v f="$fraction" 'BEGIN { printf "%d", m * f }')
per_tick=$((rate * tick))
# simulate draws about 93 % of its mean per site and day (measured by the
# burst: n_burst events for 20 days of 3 sites).
mean=$(awk -v p="$per_tick" -v n="$n_burst" -v b="$burst" \
    'BEGIN { printf "%d", p / 3 * (b / n) * 100 / 93 }')
echo "soak: target $rate events/s: one simulated day of ~$((per_tick / 3))" \
    "events per site every $tick s; preparing $ahead days ahead"
# The generator runs at a slightly higher priority than the daemons (nice
# -5; it needs a small part of one core), so that on a machine busy with
# other work the feed still follows its schedule.
generate 20 "$mean" >generate.log 2>&1 &
gen_pid=$!
renice -n -5 -p "$gen_pid" >/dev/null 2>&1 || true
for _ in $(seq 6000); do
    [ "$(ls ready 2>/dev/null | wc -l)" -ge "$ahead" ] && break
    sleep 0.2
done
acked0=$(acked_total)
in0=$(metric analyzer sentinel_analyzer_events_in_total)
echo 0 >fed
echo "t_s,daemon,pid,vmrss_kib,fds,spool_records,spool_bytes" >soak.csv
t0=$(date +%s)
end=$((t0 + minutes * 60))
# The sampler runs beside the feeder, so a slow sample never delays a drop.
sampler() {
    local next=$t0 now
    while :; do
        now=$(date +%s)
        if [ "$now" -ge "$next" ]; then
            sample_all $((now - t0))
            next=$((next + sample))
        fi
        sleep 0.5
    done
}
sampler &
sampler_pid=$!
next_tick=$t0 day=20 fed=0 underruns=0 waiting=0
while [ "$(date +%s)" -lt "$end" ]; do
    now=$(date +%s)
    # Every tick that is due is fed at once (a slow sample must not make
    # the feed fall behind its schedule).
    while [ "$now" -ge "$next_tick" ] && [ "$next_tick" -lt "$end" ]; do
        if [ ! -f "ready/$day/n" ]; then
            if [ "$waiting" = 0 ]; then
                underruns=$((underruns + 1)) waiting=1
            fi
            break
        fi
        for s in $sites; do
            id=${s%%:*}
            if [ -f "ready/$day/$id.jsonl" ]; then
                mv "ready/$day/$id.jsonl" "inbox-$id/d$day.jsonl"
            fi
        done
        fed=$((fed + $(cat "ready/$day/n")))
        echo "$fed" >fed.tmp && mv fed.tmp fed
        rm -rf "ready/$day"
        day=$((day + 1)) next_tick=$((next_tick + tick)) waiting=0
    done
    sleep 0.1
done
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sample_all $(($(date +%s) - t0))
elapsed=$((end - t0))
acked=$(($(acked_total) - acked0))
drain_s=0
while [ "$acked" -lt "$fed" ] && [ "$drain_s" -lt 300 ]; do
    sleep 1
    drain_s=$((drain_s + 1))
    acked=$(($(acked_total) - acked0))
done
alive=0
for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null && alive=$((alive + 1))
done
echo
echo "soak: $elapsed s, $((day - 20)) simulated days fed"
echo "soak: rates (events/s): maximum $max, target $rate ($fraction of" \
    "it), fed $((fed / elapsed)) ($fed events in $elapsed s);" \
    "feeder underruns $underruns"
echo "soak: acknowledged by the analyzer: $acked of $fed fed events" \
    "($drain_s s after the feed stopped); daemons alive $alive of ${#pids[@]}"
echo "soak: analyzer counters: $(curl -s --max-time 5 \
    "http://127.0.0.1:${port[analyzer]}/metrics" |
    awk '/^sentinel_analyzer_events/ { sub("sentinel_analyzer_", "", $1);
        printf "%s %s ", $1, $2 }')"
# Records refused on the way (dead letters of the collectors and of the
# analyzer): none is expected of the simulator's valid events.
refused=$(cat dead-*.jsonl analyzer-dead.jsonl 2>/dev/null | wc -l)
echo "soak: records refused (dead letters): $refused"
echo "soak: samples in $dir/soak.csv"
status=0
awk -F, -v half=$((minutes * 30)) -v dur=$((minutes * 60)) \
    -v drop=$((per_tick / nsites)) -v tickn="$per_tick" -v alive="$alive" -v all="${#pids[@]}" \
    -f "$here/soak_report.awk" soak.csv || status=$?
if [ "$refused" -gt 0 ]; then
    echo "soak: FAIL: $refused records refused (see the dead-letter files)"
    status=1
fi
exit "$status"
