# Harness for the interoperability tests: runs the real mqnamesrv / mqbroker binaries on 127.0.0.1 with
# ephemeral ports in a temporary directory, and speaks just enough of the remoting protocol to poll the
# NameServer and brokers for the conditions the tests wait on. The client under test (the PyPI `rocketmq`
# package, i.e. the RocketMQ C++ client) is not used here, so a harness check never depends on it.
#
# Binaries come from $APUS_BIN (default .build/debug). Children get PR_SET_PDEATHSIG so that a crash of the
# test process (the C++ client runs in-process) cannot leave brokers behind; run.py removes the temp dirs.

import ctypes
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.abspath(os.path.join(REPO, os.environ.get("APUS_BIN", ".build/debug")))

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, predicate, timeout=30.0, interval=0.1):
    """Polls `predicate` until it returns something truthy; raises AssertionError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return "(%s)" % e
    return "\n".join(text.splitlines()[-lines:])


class Child:
    """One binary running in the background, its stdout and stderr in `logfile`."""

    def __init__(self, name, argv, logfile, env=None):
        self.name = name
        self.argv = argv
        self.logfile = logfile
        full_env = dict(os.environ)
        full_env.pop("NAMESRV_ADDR", None)
        full_env.update(env or {})
        self._out = open(logfile, "ab")
        self._start_offset = self._out.tell()
        self.proc = subprocess.Popen(argv, stdout=self._out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=full_env, preexec_fn=_die_with_parent)

    def output(self):
        with open(self.logfile, "rb") as f:
            f.seek(self._start_offset)
            return f.read().decode("utf-8", "replace")

    def wait_for_line(self, pattern, timeout=60.0):
        """The first match of `pattern` in this run's output; fails at once if the process exits."""
        rx = re.compile(pattern, re.M)

        def found():
            m = rx.search(self.output())
            if m:
                return m
            if self.proc.poll() is not None:
                raise AssertionError("%s exited with %s before printing /%s/:\n%s"
                                     % (self.name, self.proc.returncode, pattern, tail(self.logfile)))
            return None

        try:
            return wait_until("%s to print /%s/" % (self.name, pattern), found, timeout=timeout, interval=0.05)
        except AssertionError:
            print(tail(self.logfile), file=sys.stderr)
            raise

    def alive(self):
        return self.proc.poll() is None

    def kill9(self):
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        self._out.close()

    def stop(self, timeout=20.0):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


class Broker:
    """A broker's fixed identity (name, id, role, store, ports) across restarts."""

    def __init__(self, cluster, name, broker_name, broker_id, role, extra):
        self.cluster = cluster
        self.name = name
        self.home = os.path.join(cluster.dir, name)
        os.makedirs(self.home, exist_ok=True)
        self.conf = {
            "brokerClusterName": "InteropCluster", "brokerName": broker_name, "brokerId": str(broker_id),
            "brokerRole": role, "brokerIP1": "127.0.0.1", "listenPort": "0",
            "storePathRootDir": os.path.join(self.home, "store"),
            # Small files keep the store's preallocation cheap in a temp dir.
            "mappedFileSizeCommitLog": str(64 * 1024 * 1024), "mappedFileSizeConsumeQueue": "300000",
            "flushDiskType": "ASYNC_FLUSH", "registerNameServerPeriod": "10000",
        }
        if role != "SLAVE":
            # Chosen once: the default (listenPort + 1) may be taken by some client's ephemeral port by the
            # time the master restarts on the same listen port.
            self.conf["haListenPort"] = str(free_port())
        # The gRPC endpoint (RocketMQ 5.x clients), chosen once like haListenPort: a restart keeps it, and
        # the default 8081 would collide between brokers.
        self.conf["grpcServerPort"] = str(free_port())
        self.conf.update(extra)
        self.child = None
        self.addr = None
        self.port = 0

    @property
    def logfile(self):
        return os.path.join(self.home, "stdout.log")

    def start(self):
        # The second start reuses the first one's port, so clients that know the address find it again.
        if self.port:
            self.conf["listenPort"] = str(self.port)
        path = os.path.join(self.home, "broker.conf")
        with open(path, "w") as f:
            for k in sorted(self.conf):
                f.write("%s=%s\n" % (k, self.conf[k]))
        self.child = Child(self.name, [os.path.join(BIN, "mqbroker"), "-c", path, "-n", self.cluster.namesrv_addr],
                           self.logfile, env={"HOME": self.home})
        m = self.child.wait_for_line(r"^The broker\[[^,]*, *([0-9.]+:\d+)\] boot success")
        self.addr = m.group(1)
        self.port = int(self.addr.rsplit(":", 1)[1])
        log("%s (%s) up at %s" % (self.name, self.conf["brokerRole"], self.addr))
        return self

    def kill9(self):
        self.child.kill9()
        log("%s killed (-9)" % self.name)

    def stop(self):
        if self.child:
            self.child.stop()


class Cluster:
    """A NameServer and any number of brokers in one temporary directory; `close()` kills all and removes it."""

    def __init__(self, label):
        parent = os.environ.get("APUS_INTEROP_TMP") or None
        self.dir = tempfile.mkdtemp(prefix="apus-interop-%s-" % label, dir=parent)
        self.namesrv = None
        self.namesrv_addr = ""
        self.brokers = []
        self.failed = False

    def start_namesrv(self, port=0):
        """Starts (or, with the previous `port`, restarts) the NameServer."""
        d = self.dir
        self.namesrv = Child("mqnamesrv", [
            os.path.join(BIN, "mqnamesrv"), "--listenPort", str(port), "--bindAddress", "127.0.0.1",
            "--logPath", os.path.join(d, "namesrv.log"), "--kvConfigPath", os.path.join(d, "kvConfig.json"),
            "--configStorePath", os.path.join(d, "namesrv.properties"),
        ], os.path.join(d, "namesrv.stdout.log"))
        m = self.namesrv.wait_for_line(r"^The Name Server listening port=(\d+)")
        self.namesrv.wait_for_line(r"^The Name Server boot success")
        self.namesrv_addr = "127.0.0.1:%s" % m.group(1)
        log("NameServer up at %s (dir %s)" % (self.namesrv_addr, d))
        return self

    def broker(self, name, broker_name="broker-a", broker_id=0, role="ASYNC_MASTER", **extra):
        b = Broker(self, name, broker_name, broker_id, role, {k: str(v) for k, v in extra.items()})
        self.brokers.append(b)
        return b

    def mqadmin(self, *args, check=True):
        r = subprocess.run([os.path.join(BIN, "mqadmin")] + list(args) + ["-n", self.namesrv_addr],
                           capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("mqadmin %s failed (%d): %s %s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r.stdout

    def create_topic(self, topic, broker, queues=4):
        self.mqadmin("updateTopic", "-b", broker.addr, "-t", topic, "-r", str(queues), "-w", str(queues))
        wait_until("the NameServer to route %s" % topic,
                   lambda: (self.route(topic) or {}).get("queueDatas"), timeout=15)

    def route(self, topic):
        """The NameServer's TopicRouteData for `topic` as a dict (brokerAddrs keys are ints), or None."""
        code, _, body = invoke(self.namesrv_addr, 105, {"topic": topic})
        if code != 0 or not body:
            return None
        return parse_fastjson(body)

    def broker_addrs(self, topic, broker_name="broker-a"):
        route = self.route(topic) or {}
        for bd in route.get("brokerDatas", []):
            if bd.get("brokerName") == broker_name:
                return {int(k): v for k, v in bd.get("brokerAddrs", {}).items()}
        return {}

    def broker_knows_topic(self, broker, topic):
        """GET_ALL_TOPIC_CONFIG (21) on that broker lists `topic` (a slave copies its master's every 10 s)."""
        try:
            code, _, body = invoke(broker.addr, 21, {})
        except OSError:
            return False
        return code == 0 and topic in parse_fastjson(body).get("topicConfigTable", {})

    def report(self):
        """What a user needs to see when a test failed: the tail of every log."""
        # A broker's stdout carries every line of its broker.log (which mqbroker puts under the real home
        # directory, whatever HOME says).
        print("---- logs in %s ----" % self.dir, file=sys.stderr)
        if self.namesrv:
            print("---- mqnamesrv: %s ----\n%s" % (self.namesrv.logfile, tail(self.namesrv.logfile, 15)), file=sys.stderr)
        for b in self.brokers:
            print("---- %s: %s ----\n%s" % (b.name, b.logfile, tail(b.logfile, 30)), file=sys.stderr)
        client_log_dir = os.path.join(os.environ.get("HOME", ""), "logs", "rocketmq-cpp")
        if os.path.isdir(client_log_dir):
            for name in sorted(os.listdir(client_log_dir)):
                path = os.path.join(client_log_dir, name)
                if os.path.isfile(path):
                    print("---- C++ client: %s ----\n%s" % (path, tail(path, 30)), file=sys.stderr)

    @contextmanager
    def reporting(self):
        """Wraps a test body: on any failure the logs' tails are printed before the error propagates."""
        try:
            yield
        except BaseException:
            self.failed = True
            self.report()
            raise

    def close(self):
        for b in reversed(self.brokers):
            if b.child:
                b.child.kill9()
        if self.namesrv:
            self.namesrv.kill9()
        if self.failed and os.environ.get("APUS_INTEROP_KEEP"):
            log("kept %s (APUS_INTEROP_KEEP)" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


# --- a minimal remoting client (RocketMQ's frame: length, header length, JSON header, body) ---

_opaque = [0]
_opaque_lock = threading.Lock()


def invoke(addr, code, ext_fields, body=b"", timeout=5.0):
    """One request/response; returns (code, extFields, body)."""
    with _opaque_lock:
        _opaque[0] += 1
        opaque = _opaque[0]
    header = json.dumps({"code": code, "language": "JAVA", "version": 373, "opaque": opaque, "flag": 0,
                         "extFields": {k: str(v) for k, v in ext_fields.items()}}).encode()
    frame = struct.pack(">II", 4 + len(header) + len(body), len(header)) + header + body
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(frame)
        length = struct.unpack(">I", _recv_exactly(s, 4))[0]
        data = _recv_exactly(s, length)
    header_len = struct.unpack(">I", data[:4])[0] & 0xFFFFFF
    h = json.loads(data[4:4 + header_len])
    return h.get("code"), h.get("extFields") or {}, data[4 + header_len:]


def _recv_exactly(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise OSError("connection closed")
        buf += chunk
    return buf


def parse_fastjson(body):
    """fastjson writes integer map keys unquoted ({0:"addr"}); quote them so json can read the body."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return json.loads(re.sub(r'([{,])\s*(-?\d+)\s*:', r'\1"\2":', text))


class Collector:
    """Messages a consumer's callback saw, by body, and the order they came in; the callback runs on the C++
    client's threads. `properties` names user properties to keep."""

    def __init__(self, name, properties=()):
        self.name = name
        self.properties = properties
        self._lock = threading.Lock()
        self.by_body = {}
        self.arrivals = []
        self.deliveries = 0

    def __call__(self, msg):
        body = msg.body.decode("utf-8", "replace")
        entry = {"tags": msg.tags, "keys": msg.keys, "topic": msg.topic, "queue_id": msg.queue_id,
                 "queue_offset": msg.queue_offset, "id": msg.id,
                 "properties": {p: msg.get_property(p) for p in self.properties}}
        with self._lock:
            self.by_body.setdefault(body, entry)
            self.arrivals.append(body)
            self.deliveries += 1

    def bodies(self):
        with self._lock:
            return set(self.by_body)

    def missing(self, expected):
        return sorted(set(expected) - self.bodies())

    def wait_for(self, expected, timeout, what=""):
        expected = set(expected)
        try:
            wait_until("%s to receive %d messages%s" % (self.name, len(expected), what),
                       lambda: expected <= self.bodies(), timeout=timeout, interval=0.2)
        except AssertionError as e:
            missing = self.missing(expected)
            raise AssertionError("%s: received %d of %d expected (%d deliveries); missing %d, e.g. %s"
                                 % (e, len(expected) - len(missing), len(expected), self.deliveries,
                                    len(missing), missing[:10])) from None
