# The client under test: thin helpers over the PyPI `rocketmq` 0.4.4 package (ctypes over the RocketMQ C++
# client it bundles). Only its public Python API is used, plus the C functions the package already declares
# (instance names), so what passes here passes for an application using that package.

import atexit
import os
import shutil
import tempfile
import time

# The C++ client keeps its log ($HOME/logs/rocketmq-cpp) and a broadcasting consumer's offsets
# ($HOME/.rocketmq_offsets/<ip>@<instance>/<group>) under HOME. Offsets left by an earlier run would make a
# broadcasting consumer start in the middle of a fresh topic, so HOME is always a fresh directory: run.py
# gives each module one; a module run on its own gets one here, before the library is loaded.
if not os.environ.get("APUS_INTEROP_TMP"):
    os.environ["HOME"] = tempfile.mkdtemp(prefix="apus-interop-home-")
    atexit.register(shutil.rmtree, os.environ["HOME"], True)

from rocketmq.client import Message, Producer, PushConsumer, SendStatus
from rocketmq.exceptions import ProducerException
from rocketmq.ffi import MessageModel, dll

from harness import log

# While a broker is unreachable this client retries its pulls in a tight loop and logs every attempt (about
# 5 MB/s); its log is capped so a failover test cannot fill the disk.
LOG_FILES, LOG_FILE_BYTES = 3, 20 * 1024 * 1024

__all__ = ["Message", "MessageModel", "SendStatus", "new_producer", "new_push_consumer", "message", "send_sync"]


def new_producer(namesrv_addr, group, instance):
    p = Producer(group)
    p.set_namesrv_addr(namesrv_addr)
    # Its own client instance (as a separate producer process would have): in one C++ client instance the
    # producer shares the connection table with the consumers' pull threads, and this build's lock on that
    # table gives up at once when contended (gcc 4.8 timed_mutex bug; rocketmq-client-cpp issues 455/456),
    # failing sends with "No route info of this topic".
    dll.SetProducerInstanceName(p._handle, instance.encode())
    dll.SetProducerLogFileNumAndSize(p._handle, LOG_FILES, LOG_FILE_BYTES)
    p.start()
    return p


def new_push_consumer(namesrv_addr, group, topic, callback, model=MessageModel.CLUSTERING, orderly=False,
                      expression="*", instance=None):
    c = PushConsumer(group, orderly=orderly, message_model=model)
    c.set_namesrv_addr(namesrv_addr)
    if instance:
        c.set_instance_name(instance)
    dll.SetPushConsumerLogFileNumAndSize(c._handle, LOG_FILES, LOG_FILE_BYTES)
    c.subscribe(topic, callback, expression)
    c.start()
    return c


def message(topic, body, keys=None, tags=None):
    m = Message(topic)
    m.set_body(body)
    if keys is not None:
        m.set_keys(keys)
    if tags is not None:
        m.set_tags(tags)
    return m


def send_sync(producer, msg, attempts=3):
    """send_sync, tried again when the C++ client raises before a broker answered (see new_producer).
    Returns the SendResult; the caller decides what a status other than OK means."""
    for attempt in range(1, attempts + 1):
        try:
            return producer.send_sync(msg)
        except ProducerException as e:
            if attempt == attempts:
                raise
            log("send raised (%s), attempt %d of %d" % (e, attempt, attempts))
            time.sleep(0.2)
