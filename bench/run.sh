#!/bin/sh
# bench/run.sh - run every benchmark and print its figures
#
# Each bench_* program prints its own figures next to the limit it is
# measured against (raw ZeroMQ, raw HDF5, R) in the same run.
set -u
build=${1:-build}
status=0
for b in "$build"/bin/bench_*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b" || status=1
done
exit $status
