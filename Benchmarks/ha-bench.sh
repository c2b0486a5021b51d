#!/usr/bin/env bash
# `make bench` step for replication (issue 10): on loopback, a master with one slave.
# 1. The bound: a raw TCP echo of 1 KiB frames, 64 in flight (RemotingBench --loopback-only).
# 2. `mqbench producer` (1 KiB, 64 in flight, HA_BENCH_SECONDS) against an ASYNC_MASTER, then a SYNC_MASTER
#    (each send answered only after the slave acknowledged it): msgs/s and p99 side by side.
# 3. Catch-up: a slave started against a master holding HA_BACKLOG_MB of messages, timed until its CommitLog
#    reaches the master's (MB/s), beside the disk's own write rate for as many bytes (dd, fdatasync at the end).
set -euo pipefail
BIN=${1:-.build/release}
SECONDS_PER_RUN=${HA_BENCH_SECONDS:-15}
BACKLOG_MB=${HA_BACKLOG_MB:-1024}
DIR=$(mktemp -d /tmp/apus-ha-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap 'cleanup; rm -rf "$DIR"' EXIT
NS=127.0.0.1:29876

start_namesrv() {
  "$BIN/mqnamesrv" --listenPort 29876 --bindAddress 127.0.0.1 --logPath "$DIR/ns.log" --kvConfigPath "$DIR/kv.json" \
    --configStorePath "$DIR/ns.properties" > "$DIR/ns.out" 2>&1 & PIDS+=($!)
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/29876) 2>/dev/null && break; sleep 0.1; done
}

# start_broker NAME ROLE ID PORT [extra key=value line]
start_broker() {
  local dir=$DIR/$1
  mkdir -p "$dir"
  cat > "$dir/broker.conf" <<CONF
brokerClusterName=HACluster
brokerName=broker-ha
brokerId=$3
brokerRole=$2
brokerIP1=127.0.0.1
listenPort=$4
haListenPort=$(( $4 + 1 ))
grpcServerPort=0
storePathRootDir=$dir/store
flushDiskType=ASYNC_FLUSH
registerNameServerPeriod=2000
${5:-}
CONF
  HOME="$dir" "$BIN/mqbroker" -c "$dir/broker.conf" -n $NS > "$dir/out" 2>&1 & PIDS+=($!)
  for _ in $(seq 200); do grep -q "boot success" "$dir/out" && return; sleep 0.1; done
  echo "broker $1 did not start" >&2; cat "$dir/out" >&2; exit 1
}

max_offset() { "$BIN/mqadmin" brokerStatus -n $NS -b "127.0.0.1:$1" 2>/dev/null | sed -n 's/^commitLogMaxOffset *: *//p'; }

wait_in_sync() {
  for _ in $(seq 300); do
    "$BIN/mqadmin" haStatus -n $NS -b 127.0.0.1:29911 2>/dev/null | grep -q $'#InSyncSlaveNum\t1' && return
    sleep 0.1
  done
  echo "the slave did not connect" >&2; exit 1
}

echo "== bound: raw loopback, 1 KiB frames, 64 in flight"
"$BIN/RemotingBench" --loopback-only 1024 | tail -1

for role in ASYNC_MASTER SYNC_MASTER; do
  cleanup; PIDS=(); rm -rf "$DIR/master" "$DIR/slave"
  start_namesrv
  start_broker master $role 0 29911
  start_broker slave SLAVE 1 29921
  wait_in_sync
  echo "== $role with one slave: mqbench producer, 1 KiB, 64 in flight, ${SECONDS_PER_RUN} s"
  "$BIN/mqbench" producer -n $NS -t HABench -w 64 -s 1024 --duration "$SECONDS_PER_RUN" -ri 5000 | grep Summary
done

echo "== catch-up: a slave joining a master that holds ${BACKLOG_MB} MiB"
cleanup; PIDS=(); rm -rf "$DIR/master" "$DIR/slave"
start_namesrv
# One 4 GiB CommitLog file: a new slave starts at its master's last file, so the whole backlog is in that file.
BIG=mappedFileSizeCommitLog=4294967296
start_broker master ASYNC_MASTER 0 29911 "$BIG"
target=$(( BACKLOG_MB * 1024 * 1024 ))
while [ "$(max_offset 29911)" -lt "$target" ]; do
  "$BIN/mqbench" producer -n $NS -t HABench -w 64 -s 4096 --duration 2 -ri 60000 > /dev/null
done
backlog=$(max_offset 29911)
t0=$(date +%s.%N)
start_broker slave SLAVE 1 29921 "$BIG"
while [ "$(max_offset 29921 || echo 0)" != "$backlog" ]; do sleep 0.05; done
t1=$(date +%s.%N)
awk -v b="$backlog" -v a="$t0" -v z="$t1" 'BEGIN { printf "slave caught up %.0f MiB in %.2f s (its start included): %.0f MB/s\n", b / 1048576, z - a, b / 1e6 / (z - a) }'
echo "== bound: this disk, dd of the same size (1 MiB blocks, fdatasync at the end; the slave's flush is asynchronous)"
dd if=/dev/zero of="$DIR/dd.test" bs=1M count="$(( backlog / 1048576 ))" conv=fdatasync 2>&1 | tail -1
