#!/bin/sh
# tests/fuzz/run.sh - run each libFuzzer target for a while and sum it up
#
#   FUZZ_DIR=build-fuzz FUZZ_SECONDS=60 tests/fuzz/run.sh TARGET…
#
# `make fuzz` calls it after building. Each target runs on its committed
# seeds (tests/fuzz/corpus/<target>/, read only) plus what earlier runs
# found ($FUZZ_DIR/corpus/<target>/, where new inputs are written). A crash
# stops that target and is saved in $FUZZ_DIR/artifacts/<target>/; the
# log is $FUZZ_DIR/artifacts/<target>.log. Exits 1 when any target crashed.
set -u
dir=${FUZZ_DIR:-build-fuzz}
secs=${FUZZ_SECONDS:-60}
src=$(cd "$(dirname "$0")" && pwd)
status=0
printf '%-14s %10s %8s %8s  %s\n' target executions exec/s seconds result
for t in "$@"; do
    bin="$dir/bin/fuzz_$t"
    mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t"
    log="$dir/artifacts/$t.log"
    start=$(date +%s)
    "$bin" -max_total_time="$secs" -max_len=4096 -timeout=20 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t/" \
        "$dir/corpus/$t" "$src/corpus/$t" >"$log" 2>&1
    rc=$?
    took=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    if [ "$rc" -eq 0 ]; then
        result="no crash"
    else
        status=1
        crash=$(sed -n 's/.*Test unit written to //p' "$log" | head -n 1)
        why=$(grep -m 1 -E 'ERROR|runtime error|invariant broken' "$log")
        result="CRASH ${crash:-?}: ${why:-exit $rc}"
    fi
    printf '%-14s %10s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" \
        "$took" "$result"
done
exit $status
