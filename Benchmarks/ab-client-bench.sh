#!/usr/bin/env bash
# A/B of the client benchmark: builds BASE (a commit, default the parent of HEAD's first issue-9 change)
# beside this checkout in a git worktree with its own scratch path (.build-ab, git-ignored), then runs
# client-bench.sh for base and head in turns (ROUNDS each, BENCH_SECONDS per run) on this machine, so both
# figures come from the same spell of this VM. Prints each run's producer and consumer summary lines.
# Usage: Benchmarks/ab-client-bench.sh [BASE_REV]   (ROUNDS=3 BENCH_SECONDS=12 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:-260c39e}
ROUNDS=${ROUNDS:-3}
export BENCH_SECONDS=${BENCH_SECONDS:-12}
WT=.build-ab/base-src
if [ ! -d "$WT" ]; then git worktree add --detach "$WT" "$BASE" >/dev/null; fi
git -C "$WT" checkout -q --detach "$BASE"
for p in mqbench mqbroker mqnamesrv RemotingBench; do
  (cd "$WT" && swift build -c release -j "${JOBS:-2}" --scratch-path ../base-build --product "$p" >/dev/null)
  swift build -c release -j "${JOBS:-2}" --product "$p" >/dev/null
done
BASE_BIN=.build-ab/base-build/release
for r in $(seq "$ROUNDS"); do
  for side in base head; do
    bin=.build/release; [ "$side" = base ] && bin=$BASE_BIN
    echo "== round $r: $side ($([ "$side" = base ] && echo "$BASE" || git rev-parse --short HEAD))"
    Benchmarks/client-bench.sh "$bin" 2>&1 | grep -vE "^Current Time|^topic|compressEnable|Consumer Started|^\[Complete\]" || true
  done
done
