#!/usr/bin/env bash
# A/B with the drift cancelled: the base build and this build run client-bench.sh at the same time, each
# pinned to its own core (taskset) with its own ports, so whatever the VM does to the machine's speed happens
# to both; the cores are swapped every round. Prints each side's producer and consumer figures per round.
# Usage: Benchmarks/ab-pinned.sh BASE_BIN [HEAD_BIN]   (ROUNDS=4, BENCH_SECONDS=10 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_BIN=${1:?usage: $0 BASE_BIN [HEAD_BIN]}
HEAD_BIN=${2:-.build/release}
ROUNDS=${ROUNDS:-4}
export BENCH_SECONDS=${BENCH_SECONDS:-10}
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then base_cpu=0; head_cpu=1; else base_cpu=1; head_cpu=0; fi
  NS_PORT=19876 BROKER_PORT=20911 taskset -c "$base_cpu" Benchmarks/client-bench.sh "$BASE_BIN" > /tmp/ab-pinned-base.$$ 2>&1 &
  b=$!
  NS_PORT=19886 BROKER_PORT=20921 taskset -c "$head_cpu" Benchmarks/client-bench.sh "$HEAD_BIN" > /tmp/ab-pinned-head.$$ 2>&1 &
  h=$!
  wait $b $h || true
  for side in base head; do
    cpu=$base_cpu; [ "$side" = head ] && cpu=$head_cpu
    sent=$(sed -n 's/.*\[Summary\] msgs\/s: \([0-9]*\).*/\1/p' /tmp/ab-pinned-$side.$$)
    got=$(sed -n 's/.*\[Summary\] consumed: [0-9]* | msgs\/s: \([0-9]*\).*/\1/p' /tmp/ab-pinned-$side.$$)
    cps=$(sed -n 's/broker CPU per message sent: \([0-9.]*\) us.*/\1/p' /tmp/ab-pinned-$side.$$)
    cpc=$(sed -n 's/broker CPU per message consumed: \([0-9.]*\) us.*/\1/p' /tmp/ab-pinned-$side.$$)
    echo "round $r $side cpu$cpu: sent ${sent:-?}/s consumed ${got:-?}/s broker CPU ${cps:-?} us/sent ${cpc:-?} us/consumed"
  done
done
rm -f /tmp/ab-pinned-*.$$
