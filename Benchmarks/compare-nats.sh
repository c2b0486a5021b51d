#!/usr/bin/env bash
# `make compare` (part of `make bench`): NATS JetStream (Debian's nats-server, file storage, its defaults) and
# Apus (mqnamesrv + mqbroker with conf/broker.conf, the configuration `make run` uses) one after the other on
# this machine, same message size and count, each server's CPU time per message (/proc/<pid>/stat) and memory
# (VmHWM, RssAnon) beside its rate, and Apus/NATS ratios (issue 12). The NATS load generator is ours
# (Benchmarks/NatsBench/nats_bench.c over libnats): one publisher with 1000 asynchronous publishes in flight,
# and a push consumer reading the backlog to its end. Apus: mqbench with 64 sends in flight (RocketMQ's
# benchmark default window), batches of 32 with 16 in flight, and a push consumer (20 threads) over the backlog.
# Then SYNC_FLUSH: the same file with flushDiskType=SYNC_FLUSH, 64 in flight, puts per fdatasync from brokerStatus.
# Usage: Benchmarks/compare-nats.sh [BIN_DIR] [NATS_BENCH]   (COUNT, SIZE override the 1 000 000 x 1 KiB default)
set -euo pipefail
BIN=${1:-.build/release}
NATS_BENCH=${2:-.build-c/nats_bench}
COUNT=${COUNT:-1000000}
SIZE=${SIZE:-1024}
DIR=$(mktemp -d /tmp/apus-compare.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"' EXIT
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# VmHWM counts mapped file pages (Apus maps its CommitLog): RssAnon is the process's own memory.
mem() { awk '/VmHWM|RssAnon|RssFile/ { printf "%s %d MiB  ", $1, $2 / 1024 }' "/proc/$1/status"; }
per_msg_us() { awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }'; }
declare -A R CPU

echo "== NATS JetStream $(nats-server --version | awk '{print $2}'), file storage =="
nats-server -js -sd "$DIR/nats" -p 14222 -a 127.0.0.1 > "$DIR/nats.out" 2>&1 & NATS=$!
PIDS+=("$NATS")
for _ in $(seq 100); do grep -q "Server is ready" "$DIR/nats.out" && break; sleep 0.1; done
"$NATS_BENCH" setup nats://127.0.0.1:14222 BENCH "bench.>"
T0=$(cpu_ticks "$NATS")
"$NATS_BENCH" produce nats://127.0.0.1:14222 bench.a "$COUNT" "$SIZE" 1000 | tee "$DIR/np.out"
R[nats_produce]=$(sed -n 's/.*s, \([0-9]*\) msgs\/s.*/\1/p' "$DIR/np.out")
CPU[nats_produce]=$(per_msg_us $(( $(cpu_ticks "$NATS") - T0 )) "$COUNT")
T0=$(cpu_ticks "$NATS")
"$NATS_BENCH" consume nats://127.0.0.1:14222 BENCH "bench.>" "$COUNT" | tee "$DIR/nc.out"
R[nats_consume]=$(sed -n 's/.*s, \([0-9]*\) msgs\/s.*/\1/p' "$DIR/nc.out")
CPU[nats_consume]=$(per_msg_us $(( $(cpu_ticks "$NATS") - T0 )) "$COUNT")
NATS_MEM=$(mem "$NATS")
kill "$NATS"; wait "$NATS" 2>/dev/null || true

echo "== Apus, conf/broker.conf =="
"$BIN/mqnamesrv" --listenPort 19876 --bindAddress 127.0.0.1 --logPath "$DIR/ns.log" --kvConfigPath "$DIR/kv.json" \
  --configStorePath "$DIR/ns.properties" > "$DIR/ns.out" 2>&1 & NAMESRV=$!
PIDS+=("$NAMESRV")
{ cat conf/broker.conf; echo "brokerIP1=127.0.0.1"; echo "listenPort=20911"; echo "grpcServerPort=0"; echo "storePathRootDir=$DIR/store"; } > "$DIR/broker.conf"
for _ in $(seq 100); do grep -q "boot success" "$DIR/ns.out" && break; sleep 0.1; done
# start_broker <conf>: runs mqbroker on that file, sets BROKER once it booted.
start_broker() {
  HOME="$DIR" "$BIN/mqbroker" -c "$1" -n 127.0.0.1:19876 > "$1.out" 2>&1 & BROKER=$!
  PIDS+=("$BROKER")
  for _ in $(seq 100); do grep -q "boot success" "$1.out" && break; sleep 0.1; done
}
# produce <name> <messages> <mqbench producer options...>: records R[name] and the broker's CPU[name].
produce() {
  local name=$1 messages=$2 t0
  shift 2
  t0=$(cpu_ticks "$BROKER")
  "$BIN/mqbench" producer -n 127.0.0.1:19876 -s "$SIZE" -ri 5000 "$@" | tee "$DIR/$name.out" | grep Summary
  R[$name]=$(sed -n 's/.*\[Summary\] msgs\/s: \([0-9]*\).*/\1/p' "$DIR/$name.out")
  CPU[$name]=$(per_msg_us $(( $(cpu_ticks "$BROKER") - t0 )) "$messages")
}
start_broker "$DIR/broker.conf"
produce apus_produce "$COUNT" -t BenchmarkTest -w 64 -q "$COUNT"
# -q counts requests: COUNT / 32 batches of 32 messages.
produce apus_batch $((COUNT / 32 * 32)) -t BenchmarkBatch -w 16 -b 32 -q $((COUNT / 32))
T0=$(cpu_ticks "$BROKER")
"$BIN/mqbench" consumer -n 127.0.0.1:19876 -t BenchmarkTest -g compare_consumer -w 20 --expect "$COUNT" --duration 300 -ri 5000 | tee "$DIR/ac.out" | grep Summary
R[apus_consume]=$(sed -n 's/.*first to last message: [0-9.]* s, \([0-9]*\) msgs\/s.*/\1/p' "$DIR/ac.out")
CPU[apus_consume]=$(per_msg_us $(( $(cpu_ticks "$BROKER") - T0 )) "$COUNT")
APUS_MEM=$(mem "$BROKER")
kill "$BROKER"; wait "$BROKER" 2>/dev/null || true

# SYNC_FLUSH: the same broker file with flushDiskType=SYNC_FLUSH on a fresh store, 64 sends in flight (each
# answered once its bytes are durable); the group commit's counters (brokerStatus) give puts per fdatasync.
SYNC_COUNT=$((COUNT / 4))
{ grep -v "^flushDiskType" "$DIR/broker.conf" | grep -v "^storePathRootDir"; echo "flushDiskType=SYNC_FLUSH"; echo "storePathRootDir=$DIR/store-sync"; } > "$DIR/broker-sync.conf"
start_broker "$DIR/broker-sync.conf"
produce apus_sync "$SYNC_COUNT" -t BenchmarkSync -w 64 -q "$SYNC_COUNT"
STATUS=$("$BIN/mqadmin" brokerStatus -n 127.0.0.1:19876 -b 127.0.0.1:20911 2>/dev/null || true)
SYNCS=$(echo "$STATUS" | awk -F: '/^groupCommitSyncs/ {gsub(/ /, "", $2); print $2}')
SYNC_REQS=$(echo "$STATUS" | awk -F: '/^groupCommitRequests/ {gsub(/ /, "", $2); print $2}')
PER_SYNC=$(awk -v r="${SYNC_REQS:-0}" -v s="${SYNCS:-0}" 'BEGIN { if (s > 0) printf "%.1f", r / s; else print "-" }')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
echo
echo "== $COUNT messages of $SIZE bytes; server CPU per message from /proc =="
printf "%-44s %14s %14s %8s\n" "" "Apus" "NATS JetStream" "ratio"
printf "%-44s %14s %14s %8s\n" "produce, one producer (msgs/s)" "${R[apus_produce]}" "${R[nats_produce]}" "$(ratio "${R[apus_produce]}" "${R[nats_produce]}")"
printf "%-44s %14s %14s %8s\n" "produce, batches of 32 (msgs/s)" "${R[apus_batch]}" "${R[nats_produce]}" "$(ratio "${R[apus_batch]}" "${R[nats_produce]}")"
printf "%-44s %14s %14s %8s\n" "consume the backlog, push consumer (msgs/s)" "${R[apus_consume]}" "${R[nats_consume]}" "$(ratio "${R[apus_consume]}" "${R[nats_consume]}")"
printf "%-44s %14s %14s\n" "server CPU per produced message (us)" "${CPU[apus_produce]}" "${CPU[nats_produce]}"
printf "%-44s %14s %14s\n" "server CPU per batched message (us)" "${CPU[apus_batch]}" "-"
printf "%-44s %14s %14s\n" "server CPU per consumed message (us)" "${CPU[apus_consume]}" "${CPU[nats_consume]}"
echo "memory: Apus broker $APUS_MEM| nats-server $NATS_MEM"
echo
echo "== SYNC_FLUSH, $SYNC_COUNT messages, 64 in flight =="
printf "%-44s %14s\n" "produce (msgs/s)" "${R[apus_sync]}"
printf "%-44s %14s\n" "of the ASYNC_FLUSH rate" "$(ratio "${R[apus_sync]}" "${R[apus_produce]}")"
printf "%-44s %14s\n" "messages per fdatasync" "$PER_SYNC ($SYNC_REQS puts, $SYNCS syncs)"
printf "%-44s %14s\n" "broker CPU per message (us)" "${CPU[apus_sync]} ($(ratio "${CPU[apus_sync]}" "${CPU[apus_produce]}") of ASYNC_FLUSH's)"
echo "goals (issue 12): produce 2x, batches 4x, consume 3x NATS; SYNC_FLUSH >= 100k msgs/s or half the ASYNC rate,"
echo "  >= 32 messages per fdatasync, CPU per message within 1.5x of ASYNC_FLUSH's"
