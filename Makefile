# Apus build entry points. Every target that compiles runs `deps` first so a fresh machine works.
# Swift builds go to .build (debug, tests) and .build (release, via -c release); sanitizer and fuzz
# builds of the C core go to .build-c/ so they never disturb SwiftPM's folders.

SHELL := /bin/bash
SWIFT ?= swift
CLANG ?= clang
JOBS ?= 2
APT_PACKAGES := liburing-dev libzstd-dev zlib1g-dev liblz4-dev
# etcd for the controller's real-process tests (ControllerTests; `mqcontroller` keeps its state in etcd).
TEST_APT_PACKAGES := etcd-server etcd-client
CDIR := .build-c
CSTORE_SRC := $(wildcard Sources/CStore/*.c)
CURING_SRC := $(wildcard Sources/CUring/*.c)
CFLAGS_COMMON := -std=c11 -g -O1 -Wall -Wextra -Werror -ISources/CStore/include -ISources/CUring/include -D_GNU_SOURCE
SAN := -fuse-ld=lld -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SECONDS ?= 60

.PHONY: all deps build test test-c test-swift test-interop test-interop-v5 interop-venv bench compare bench-deps fuzz run run-2m-2s-sync run-2m-2s-async clean

all: build

# $(call apt_install,packages): installs those of the Debian packages that are missing, and nothing else.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

# Installs the Debian packages the C core links against, only if one is missing.
deps:
	$(call apt_install,$(APT_PACKAGES))

build: deps
	$(SWIFT) build -c release -j $(JOBS)

# The C core's own tests, built with AddressSanitizer and UBSan (store.md golden bytes, bad input).
test-c: deps
	@mkdir -p $(CDIR)
	$(CLANG) $(CFLAGS_COMMON) $(SAN) -o $(CDIR)/cstore-tests Tests/CStoreTests/*.c $(CSTORE_SRC) $(CURING_SRC) -luring -lz
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 $(CDIR)/cstore-tests

test-swift: deps
	$(call apt_install,$(TEST_APT_PACKAGES))
	@mkdir -p $(CDIR)
	@# Brokers refuse sends when their disk is over 90% full (diskSpaceWarningLevelRatio, as RocketMQ's do):
	@# name that cause up front rather than as a puzzling SERVICE_NOT_AVAILABLE deep in the run.
	@tmp=$${TMPDIR:-/tmp}; used=$$(df --output=pcent "$$tmp" | tail -1 | tr -dc 0-9); \
	echo "test disk: $$tmp is $$used% used"; \
	if [ "$$used" -ge 80 ]; then echo "WARNING: $$tmp is $$used% used; brokers under test refuse sends above 90%" >&2; fi
	$(SWIFT) build --build-tests -j $(JOBS)
	@# The full log is long; the failures are repeated at the end so a truncated CI log still names them.
	@set -o pipefail; $(SWIFT) test --skip-build --parallel --num-workers 2 2>&1 | tee $(CDIR)/swift-test.log; \
	rc=$$?; if [ $$rc != 0 ]; then echo "=== failing tests (from $(CDIR)/swift-test.log) ==="; \
	grep -E "✘|error: |Fatal error|failed \(" $(CDIR)/swift-test.log | grep -v "^✘ Suite\|^✘ Test run" | head -40; fi; exit $$rc

test: test-c test-swift test-interop

# Interoperability with a client nobody here wrote: the PyPI package rocketmq 0.4.4, whose wheel bundles the
# RocketMQ C++ client (librocketmq.so, loaded through ctypes; it needs libstdc++6 at run time), against the
# mqnamesrv, mqbroker and mqadmin in APUS_BIN (Tests/Interop, docs/OPERATIONS.md). The venv lives in the
# git-ignored .build-py and is made again only when it lacks that exact version.
PYTHON ?= python3
PY_VENV := .build-py/venv
APUS_BIN ?= .build/debug
ROCKETMQ_PY_VERSION := 0.4.4
# The RocketMQ 5.x Python client (gRPC, test_v5_* modules) in a venv of its own: it installs a package named
# `rocketmq` too. It brings grpcio, protobuf and opentelemetry wheels from PyPI.
PY5_VENV := .build-py/venv5
ROCKETMQ_PY5_VERSION := 5.1.2
INTEROP_APT_PACKAGES := libstdc++6 python3-venv

interop-venv:
	$(call apt_install,$(INTEROP_APT_PACKAGES))
	@if ! $(PY_VENV)/bin/python -c 'import importlib.metadata as m, sys; sys.exit(m.version("rocketmq") != "$(ROCKETMQ_PY_VERSION)")' 2>/dev/null; then \
	  echo "creating $(PY_VENV) with rocketmq==$(ROCKETMQ_PY_VERSION)"; \
	  $(PYTHON) -m venv --clear $(PY_VENV) && \
	  $(PY_VENV)/bin/pip install -q --disable-pip-version-check rocketmq==$(ROCKETMQ_PY_VERSION); \
	fi
	@$(PY_VENV)/bin/python -c 'import rocketmq.client' || { \
	  echo "librocketmq.so does not load; see: ldd $(PY_VENV)/lib/python3*/site-packages/rocketmq/librocketmq.so"; exit 1; }
	@if ! $(PY5_VENV)/bin/python -c 'import importlib.metadata as m, sys; sys.exit(m.version("rocketmq-python-client") != "$(ROCKETMQ_PY5_VERSION)")' 2>/dev/null; then \
	  echo "creating $(PY5_VENV) with rocketmq-python-client==$(ROCKETMQ_PY5_VERSION)"; \
	  $(PYTHON) -m venv --clear $(PY5_VENV) && \
	  $(PY5_VENV)/bin/pip install -q --disable-pip-version-check rocketmq-python-client==$(ROCKETMQ_PY5_VERSION); \
	fi
	@$(PY5_VENV)/bin/python -c 'from rocketmq import Producer, SimpleConsumer'

# 2¾ to 4 minutes, most of it waiting for the C++ client's 30 s route refresh (two or three per failover test).
test-interop: interop-venv
	APUS_BIN=$(APUS_BIN) APUS_PY5=$(PY5_VENV)/bin/python PYTHONDONTWRITEBYTECODE=1 $(PY_VENV)/bin/python Tests/Interop/run.py

# Only the RocketMQ 5.x client's modules (gRPC endpoint, issue 13), e.g. APUS_BIN=.build-grpc/debug.
test-interop-v5: interop-venv
	APUS_BIN=$(APUS_BIN) APUS_PY5=$(PY5_VENV)/bin/python PYTHONDONTWRITEBYTECODE=1 $(PY_VENV)/bin/python Tests/Interop/run.py \
	  $$(cd Tests/Interop && ls test_v5_*.py | sed 's/\.py$$//')

bench: deps
	$(SWIFT) build -c release -j $(JOBS) --product StoreBench
	.build/release/StoreBench
	$(SWIFT) build -c release -j $(JOBS) --product RemotingBench
	.build/release/RemotingBench
	$(SWIFT) build -c release -j $(JOBS) --product BrokerBench
	.build/release/BrokerBench
	$(SWIFT) build -c release -j $(JOBS) --product mqbench
	$(SWIFT) build -c release -j $(JOBS) --product mqnamesrv
	$(SWIFT) build -c release -j $(JOBS) --product mqbroker
	Benchmarks/client-bench.sh .build/release
	$(SWIFT) build -c release -j $(JOBS) --product mqadmin
	Benchmarks/ha-bench.sh .build/release
	$(MAKE) compare

# The peer the benchmarks are read against: NATS JetStream (Debian's nats-server) and our libnats load generator.
BENCH_APT_PACKAGES := nats-server libnats-dev
bench-deps:
	$(call apt_install,$(BENCH_APT_PACKAGES))

# Apus against NATS JetStream on this machine, side by side with ratios (issue 12; docs/BENCHMARKS.md).
compare: deps bench-deps
	@mkdir -p $(CDIR)
	$(CLANG) -std=c11 -O2 -Wall -Wextra -Werror -o $(CDIR)/nats_bench Benchmarks/NatsBench/nats_bench.c -lnats
	$(SWIFT) build -c release -j $(JOBS) --product mqbench
	$(SWIFT) build -c release -j $(JOBS) --product mqnamesrv
	$(SWIFT) build -c release -j $(JOBS) --product mqbroker
	$(SWIFT) build -c release -j $(JOBS) --product mqadmin
	Benchmarks/compare-nats.sh .build/release $(CDIR)/nats_bench

# A NameServer (9876) and a broker (10911) on localhost, store under ./run, in the foreground; Ctrl-C stops both.
RUN_DIR := $(CURDIR)/run
BIN ?= .build/release
run: build
	@mkdir -p $(RUN_DIR)
	@{ cat conf/broker.conf; echo "brokerIP1 = 127.0.0.1"; echo "storePathRootDir = $(RUN_DIR)/store"; } > $(RUN_DIR)/broker.conf
	@echo "NameServer 127.0.0.1:9876, broker 127.0.0.1:10911, store $(RUN_DIR)/store, config $(RUN_DIR)/broker.conf"
	@echo "In another terminal:"
	@echo "  send:    $(BIN)/BrokerBench produce --topic TopicTest --count 10"
	@echo "  receive: $(BIN)/BrokerBench consume --topic TopicTest --group QuickStartGroup"
	@echo "  or any RocketMQ client with namesrvAddr=127.0.0.1:9876 (e.g. the Java quickstart Producer/Consumer)"
	@$(BIN)/mqnamesrv --listenPort 9876 --logPath $(RUN_DIR)/logs/namesrv.log \
	  --kvConfigPath $(RUN_DIR)/namesrv/kvConfig.json --configStorePath $(RUN_DIR)/namesrv/namesrv.properties & \
	  ns=$$!; trap 'kill $$ns 2>/dev/null' EXIT; trap 'exit 0' INT TERM; \
	  sleep 1; $(BIN)/mqbroker -c $(RUN_DIR)/broker.conf -n 127.0.0.1:9876

# Two masters, each with a slave (conf/2m-2s-sync or -async), and a NameServer (9876) on this machine, in the
# foreground (ports and stores in conf/run-2m-2s.sh); Ctrl-C stops all five.
run-2m-2s-sync: build
	@conf/run-2m-2s.sh sync $(BIN) $(RUN_DIR)/2m-2s-sync
run-2m-2s-async: build
	@conf/run-2m-2s.sh async $(BIN) $(RUN_DIR)/2m-2s-async

# libFuzzer over the record decoder and the recovery scanner, for FUZZ_SECONDS each.
fuzz: deps
	@mkdir -p $(CDIR) fuzz-out/record fuzz-out/scan
	$(CLANG) $(CFLAGS_COMMON) -fsanitize=fuzzer,address,undefined -o $(CDIR)/fuzz-record Tests/Fuzz/fuzz_record.c $(CSTORE_SRC) -lz
	$(CLANG) $(CFLAGS_COMMON) -fsanitize=fuzzer,address,undefined -o $(CDIR)/fuzz-scan Tests/Fuzz/fuzz_scan.c $(CSTORE_SRC) -lz
	$(CDIR)/fuzz-record -max_total_time=$(FUZZ_SECONDS) -max_len=4096 fuzz-out/record Tests/Fuzz/corpus
	$(CDIR)/fuzz-scan -max_total_time=$(FUZZ_SECONDS) -max_len=16384 fuzz-out/scan Tests/Fuzz/corpus

clean:
	rm -rf .build $(CDIR) fuzz-out
