#!/usr/bin/env bash
# Starts a NameServer and the four brokers of conf/2m-2s-sync or conf/2m-2s-async on this machine, in the
# foreground; Ctrl-C (or SIGTERM) stops them all. Each broker gets its own port and store (the sample files
# leave both to the defaults, which four brokers on one machine cannot share):
#   NameServer  BASE_PORT+50 (default 9876 when BASE_PORT is unset)
#   broker-a    BASE_PORT     HA BASE_PORT+1      broker-a-s  BASE_PORT+10   (HA +11, unused by a slave)
#   broker-b    BASE_PORT+20  HA BASE_PORT+21     broker-b-s  BASE_PORT+30
# Usage: conf/run-2m-2s.sh sync|async [BIN_DIR] [RUN_DIR]     (make run-2m-2s-sync / run-2m-2s-async)
# EXTRA_BROKER_CONF adds lines to every broker's file, e.g. EXTRA_BROKER_CONF='mappedFileSizeCommitLog=67108864'
# on a small disk (four brokers each preallocate two 1 GiB CommitLog files by default).
set -euo pipefail
set_name=${1:?usage: $0 sync|async [BIN_DIR] [RUN_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
bin=${2:-$here/../.build/release}
run=${3:-$here/../run/2m-2s-$set_name}
base=${BASE_PORT:-10911}
namesrv_port=$([ -n "${BASE_PORT:-}" ] && echo $((base + 50)) || echo 9876)
confdir=$here/2m-2s-$set_name
[ -d "$confdir" ] || { echo "no such set: $confdir" >&2; exit 2; }
mkdir -p "$run/logs"
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT
trap 'exit 0' INT TERM
"$bin/mqnamesrv" --listenPort "$namesrv_port" --logPath "$run/logs/namesrv.log" \
  --kvConfigPath "$run/namesrv/kvConfig.json" --configStorePath "$run/namesrv/namesrv.properties" &
pids+=($!)
# Brokers register at start; a NameServer not listening yet would make them wait for the next round (10 s).
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$namesrv_port") 2>/dev/null && break; sleep 0.1; done
offset=0
for name in broker-a broker-a-s broker-b broker-b-s; do
  port=$((base + offset))
  offset=$((offset + 10))
  mkdir -p "$run/$name"
  { cat "$confdir/$name.properties"
    echo "brokerIP1=127.0.0.1"
    echo "listenPort=$port"
    echo "haListenPort=$((port + 1))"
    echo "grpcServerPort=$((port + 2))"
    echo "storePathRootDir=$run/$name/store"
    [ -z "${EXTRA_BROKER_CONF:-}" ] || printf '%s\n' "$EXTRA_BROKER_CONF"
  } > "$run/$name/broker.conf"
  HOME=$run/$name "$bin/mqbroker" -c "$run/$name/broker.conf" -n "127.0.0.1:$namesrv_port" &
  pids+=($!)
  echo "$name: 127.0.0.1:$port (store $run/$name/store, log $run/$name/logs/rocketmqlogs/broker.log)"
done
echo "NameServer 127.0.0.1:$namesrv_port; clients: namesrvAddr=127.0.0.1:$namesrv_port. Ctrl-C stops all."
wait -n "${pids[@]}" || true
