# Runs the interoperability tests (`make test-interop`): each test_*.py module in its own Python process, one
# after another, so that a crash in the C++ client (it runs in-process, through ctypes) fails that module
# only. Every module gets a fresh HOME (the C++ client's log and offset files) inside one temp directory,
# which is removed at the end whatever happened; brokers a crashed module started die with it
# (PR_SET_PDEATHSIG, harness.py), and its process group is killed after a timeout.
#
#   .build-py/venv/bin/python Tests/Interop/run.py [test_basic ...]
#   APUS_BIN=dir (default .build/debug), APUS_INTEROP_TIMEOUT=seconds per module (default 300),
#   APUS_PY5=python of the RocketMQ 5.x client's venv for test_v5_* (default .build-py/venv5/bin/python),
#   APUS_INTEROP_KEEP=1 keeps the temp directory of a failed run.
#
# The last line is "interop: N passed, N failed".

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def count_tests(path):
    with open(path) as f:
        return max(1, len(re.findall(r"^\s+def test_", f.read(), re.M)))


def python_for(name):
    """test_v5_* modules use the RocketMQ 5.x Python client, which lives in a venv of its own ($APUS_PY5):
    it installs a package named `rocketmq`, as the 0.4.4 client of the other modules does."""
    if name.startswith("test_v5_"):
        return os.path.abspath(os.environ.get("APUS_PY5") or os.path.join(REPO, ".build-py", "venv5", "bin", "python"))
    return sys.executable


def run_module(name, root, timeout):
    """Runs one module; returns (passed, failed, seconds)."""
    home = os.path.join(root, "home-" + name)
    os.makedirs(home)
    env = dict(os.environ, HOME=home, APUS_INTEROP_TMP=root, PYTHONUNBUFFERED="1")
    started = time.monotonic()
    proc = subprocess.Popen([python_for(name), "-m", "unittest", "-v", name], cwd=HERE, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    timed_out = threading.Event()

    def on_timeout():
        timed_out.set()
        os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, on_timeout)
    timer.start()
    lines = []
    try:
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace")
            lines.append(line)
            sys.stdout.write(line)
            sys.stdout.flush()
        proc.wait()
    finally:
        timer.cancel()
        # Anything the module left in its process group (it should have killed its brokers) goes now.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    seconds = time.monotonic() - started
    text = "".join(lines)
    ran = re.search(r"^Ran (\d+) tests? in", text, re.M)
    if timed_out.is_set() or not ran:
        why = "timed out after %ds" % timeout if timed_out.is_set() else "exited with %s" % proc.returncode
        print("%s: %s without finishing its tests" % (name, why), flush=True)
        return 0, count_tests(os.path.join(HERE, name + ".py")), seconds
    total = int(ran.group(1))
    counts = {k: int(v) for k, v in re.findall(r"(failures|errors|skipped|unexpected successes)=(\d+)", text)}
    failed = counts.get("failures", 0) + counts.get("errors", 0) + counts.get("unexpected successes", 0)
    if proc.returncode != 0 and failed == 0:
        failed = 1  # a crash after the summary (e.g. at interpreter exit) still fails the module
    return total - failed - counts.get("skipped", 0), failed, seconds


def main(argv):
    names = argv or sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(HERE, "test_*.py")))
    bin_dir = os.path.abspath(os.path.join(REPO, os.environ.get("APUS_BIN", ".build/debug")))
    missing = [b for b in ("mqnamesrv", "mqbroker", "mqadmin") if not os.access(os.path.join(bin_dir, b), os.X_OK)]
    if missing:
        print("interop: %s not found in %s; build them (make test-swift builds .build/debug) or set APUS_BIN"
              % (", ".join(missing), bin_dir), flush=True)
        print("interop: 0 passed, %d failed" % sum(count_tests(os.path.join(HERE, n + ".py")) for n in names))
        return 2
    timeout = int(os.environ.get("APUS_INTEROP_TIMEOUT", "300"))
    root = tempfile.mkdtemp(prefix="apus-interop-")
    print("interop: binaries from %s, temp dir %s" % (bin_dir, root), flush=True)
    results = []
    # SIGTERM (make or CI stopping us) still runs the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        for name in names:
            print("==== %s ====" % name, flush=True)
            results.append((name,) + run_module(name, root, timeout))
    finally:
        failed_any = any(r[2] for r in results) or len(results) < len(names)
        if failed_any and os.environ.get("APUS_INTEROP_KEEP"):
            print("interop: kept %s" % root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print("==== interop summary ====")
    for name, passed, failed, seconds in results:
        print("%-32s %2d passed %2d failed %6.1fs" % (name, passed, failed, seconds))
    passed = sum(r[1] for r in results)
    failed = sum(r[2] for r in results)
    print("interop: %d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
