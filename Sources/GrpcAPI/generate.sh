#!/usr/bin/env bash
# Regenerates Sources/GrpcAPI/Generated from Sources/GrpcAPI/Protos (RocketMQ 5.x's gRPC API, written for
# Apus from the published apache.rocketmq.v2 definitions). The generated code is committed, so builds and CI
# never run protoc. Needs:
#   protoc                    Debian's protobuf-compiler (apt-get install protobuf-compiler)
#   protoc-gen-swift          from apple/swift-protobuf 1.39.0
#   protoc-gen-grpc-swift-2   from grpc/grpc-swift-protobuf 2.4.1
# Build the two plugins in a scratch package outside the work tree, e.g.
#   mkdir -p /tmp/protoc-plugins && cd /tmp/protoc-plugins   # Package.swift depending on both packages
#   swift build -j 2 --product protoc-gen-swift && swift build -j 2 --product protoc-gen-grpc-swift-2
# and point PLUGIN_DIR at their folder (default /tmp/protoc-plugins/.build/debug).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PLUGIN_DIR="${PLUGIN_DIR:-/tmp/protoc-plugins/.build/debug}"
out="$here/Generated"
rm -rf "$out" && mkdir -p "$out"
protos=(apache/rocketmq/v2/definition.proto apache/rocketmq/v2/service.proto)
# Public types: BrokerGrpc and the tests use them from another module. FileNaming=DropPath: flat file names.
protoc -I "$here/Protos" \
  --plugin=protoc-gen-swift="$PLUGIN_DIR/protoc-gen-swift" \
  --swift_out="$out" --swift_opt=Visibility=Public --swift_opt=FileNaming=DropPath \
  "${protos[@]}"
protoc -I "$here/Protos" \
  --plugin=protoc-gen-grpc-swift-2="$PLUGIN_DIR/protoc-gen-grpc-swift-2" \
  --grpc-swift-2_out="$out" --grpc-swift-2_opt=Visibility=Public,FileNaming=DropPath,Server=true,Client=true \
  apache/rocketmq/v2/service.proto
ls "$out"
