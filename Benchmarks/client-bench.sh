#!/usr/bin/env bash
# `make bench` step for the client: starts mqnamesrv + mqbroker (ASYNC_FLUSH with transientStorePoolEnable, the
# setting RocketMQ recommends for throughput; BROKER_POOL=false for the default) on loopback in a temp dir,
# prints the raw loopback bound for 1 KiB frames with 64 in flight (RemotingBench --loopback-only), runs
# `mqbench producer` (1 KiB, 64 in flight, 20 s) then `mqbench consumer` over what was sent, prints both.
set -euo pipefail
BIN=${1:-.build/release}
DIR=$(mktemp -d /tmp/apus-client-bench.XXXXXX)
# Ports (NS_PORT, BROKER_PORT; HA on BROKER_PORT + 1) can be moved so two runs share the machine (ab-pinned.sh).
NS_PORT=${NS_PORT:-19876}
BROKER_PORT=${BROKER_PORT:-20911}
trap 'kill $BROKER $NAMESRV 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$DIR"' EXIT
"$BIN/mqnamesrv" --listenPort "$NS_PORT" --bindAddress 127.0.0.1 --logPath "$DIR/ns.log" --kvConfigPath "$DIR/kv.json" \
  --configStorePath "$DIR/ns.properties" > "$DIR/ns.out" 2>&1 & NAMESRV=$!
cat > "$DIR/broker.conf" <<CONF
brokerClusterName=BenchCluster
brokerName=broker-bench
brokerId=0
brokerIP1=127.0.0.1
listenPort=$BROKER_PORT
grpcServerPort=0
storePathRootDir=$DIR/store
flushDiskType=ASYNC_FLUSH
transientStorePoolEnable=${BROKER_POOL:-true}
transientStorePoolSize=3
CONF
# BROKER_EXTRA_CONF adds lines (A/B of one setting), e.g. BROKER_EXTRA_CONF='serverChannelMaxIdleTimeSeconds=0'.
[ -z "${BROKER_EXTRA_CONF:-}" ] || printf '%s\n' "$BROKER_EXTRA_CONF" >> "$DIR/broker.conf"
sleep 1
HOME="$DIR" "$BIN/mqbroker" -c "$DIR/broker.conf" -n 127.0.0.1:$NS_PORT > "$DIR/broker.out" 2>&1 & BROKER=$!
for _ in $(seq 100); do grep -q "boot success" "$DIR/broker.out" && break; sleep 0.1; done
# The machine's bound for this work, measured right before the run: a raw TCP echo of 1 KiB frames, 64 in flight.
"$BIN/RemotingBench" --loopback-only 1024 | tail -1
# The broker's CPU time (user + system, clock ticks) from /proc: CPU per message is steadier than
# throughput when the VM's speed drifts.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICKS_BEFORE=$(cpu_ticks "$BROKER")
"$BIN/mqbench" producer -n 127.0.0.1:$NS_PORT -t BenchmarkTest -w 64 -s 1024 --duration "${BENCH_SECONDS:-20}" -ri 5000 | tee "$DIR/producer.out"
TICKS=$(( $(cpu_ticks "$BROKER") - TICKS_BEFORE ))
SENT=$(sed -n 's/.*total msgs: \([0-9]*\).*/\1/p' "$DIR/producer.out" | tail -1)
HZ=$(getconf CLK_TCK)
[ -n "$SENT" ] && [ "$SENT" -gt 0 ] && awk -v t="$TICKS" -v n="$SENT" -v hz="$HZ" \
  'BEGIN { printf "broker CPU per message sent: %.2f us (%d ticks for %d messages)\n", t / hz * 1e6 / n, t, n }'
TICKS_BEFORE=$(cpu_ticks "$BROKER")
"$BIN/mqbench" consumer -n 127.0.0.1:$NS_PORT -t BenchmarkTest -g bench_consumer -w 20 --duration "${BENCH_SECONDS:-20}" -ri 5000 | tee "$DIR/consumer.out"
TICKS=$(( $(cpu_ticks "$BROKER") - TICKS_BEFORE ))
GOT=$(sed -n 's/.*consumed: \([0-9]*\).*/\1/p' "$DIR/consumer.out" | tail -1)
[ -n "$GOT" ] && [ "$GOT" -gt 0 ] && awk -v t="$TICKS" -v n="$GOT" -v hz="$HZ" \
  'BEGIN { printf "broker CPU per message consumed: %.2f us (%d ticks for %d messages)\n", t / hz * 1e6 / n, t, n }'
