# Issue 10, must-show 3, with a client the Apus team did not write (PyPI `rocketmq` 0.4.4, the RocketMQ C++
# client): a SYNC_MASTER and its SLAVE with one NameServer; a push consumer keeps receiving from the slave while
# the master is killed (-9), and goes back to the master when it returns on the same port and store. The same
# scenario as Tests/ClientTests/ReplicaFailoverTests.swift; test_failover_clustering.py and
# test_failover_broadcasting.py run it for each message model.
#
# How the client is made to need the slave: the consumer's listener is held shut while the batch is sent,
# so the consumer can only have pulled what fits its cache (this client stops pulling a queue at more than
# 1000 cached messages, in pulls of 32), then the master is killed and the listener opened. Every message
# past what was cached is in the slave alone, and the C++ client finds it there after its next route
# refresh (every 30 s; nothing else in the client notices the dead master sooner).

import threading
import time
import unittest

from harness import Cluster, Collector, log, wait_until
from rmq import MessageModel, SendStatus, message, new_producer, new_push_consumer, send_sync

TOPIC = "FailoverTopic"
QUEUES = 2
PER_QUEUE = 1300
CLIENT_CACHE_PER_QUEUE = 1000 + 32


def broker_status(cluster, broker):
    out = cluster.mqadmin("brokerStatus", "-b", broker.addr)
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines()) if v}


def messages_served(cluster, broker):
    """Messages the broker has handed to consumers since it started (brokerStatus msgGetTotalTodayNow)."""
    return int(broker_status(cluster, broker).get("msgGetTotalTodayNow", "0"))


class FailoverScenario:
    """Mixed into a unittest.TestCase that sets `model` (kept out of TestCase so it is not collected itself)."""
    model = None

    def test_consumer_reads_the_slave_while_the_master_is_down_and_returns(self):
        cluster = Cluster("failover-%s" % self.model.name.lower())
        gate = threading.Event()
        clients = []
        try:
            with cluster.reporting():
                self.run_scenario(cluster, gate, clients)
        finally:
            gate.set()
            for c in reversed(clients):
                c.shutdown()
            cluster.close()

    def run_scenario(self, cluster, gate, clients):
        model = self.model
        cluster.start_namesrv()
        master = cluster.broker("master", role="SYNC_MASTER").start()
        slave = cluster.broker("slave", broker_id=1, role="SLAVE").start()
        cluster.create_topic(TOPIC, master, queues=QUEUES)
        wait_until("the slave in the route", lambda: 1 in cluster.broker_addrs(TOPIC), timeout=30)
        # A slave serves only topics it copied from its master (every 10 s); until then it answers TOPIC_NOT_EXIST.
        wait_until("the slave to know %s" % TOPIC, lambda: cluster.broker_knows_topic(slave, TOPIC), timeout=30)

        producer = new_producer(cluster.namesrv_addr, "failover_pg", "failover-producer")
        clients.append(producer)
        got = Collector("%s consumer" % model.name.lower())

        def listener(msg):
            if not msg.body.startswith(b"probe-"):
                gate.wait(180)
            got(msg)

        group = "failover_%s_cg" % model.name.lower()
        clients.append(new_push_consumer(cluster.namesrv_addr, group, TOPIC, listener, model=model,
                                         instance="failover-consumer"))
        self.wait_until_positioned(producer, got)

        # SYNC_MASTER: SEND_OK means the slave has the message too.
        sent, other = [], []
        t0 = time.monotonic()
        for i in range(QUEUES * PER_QUEUE):
            body = "before-%d" % i
            r = send_sync(producer, message(TOPIC, body, keys="key-%d" % i, tags="Tag%d" % (i % 3)))
            (sent if r.status == SendStatus.OK else other).append(body if r.status == SendStatus.OK else r.status)
        log("sent %d SEND_OK (%d other: %s) in %.1fs" % (len(sent), len(other), sorted(set(other))[:3],
                                                        time.monotonic() - t0))
        self.assertGreaterEqual(len(sent), 0.9 * QUEUES * PER_QUEUE, "SEND_OK answers from the SYNC_MASTER")

        master.kill9()
        t_kill = time.monotonic()
        gate.set()
        wait_until("the route to list only the slave", lambda: sorted(cluster.broker_addrs(TOPIC)) == [1], timeout=30)

        late = None
        if model == MessageModel.CLUSTERING:
            # A group that starts while the master is down finds only the slave; its first offset comes from
            # the slave's QUERY_CONSUMER_OFFSET (a new group on a queue whose first message is in memory: 0).
            # (A new broadcasting consumer cannot start then: this client asks a master for the queue's end,
            # and with none in its route it deadlocks in start(); docs/OPERATIONS.md.)
            late = Collector("late clustering consumer")
            late_consumer = new_push_consumer(cluster.namesrv_addr, "failover_late_cg", TOPIC, late,
                                              instance="failover-late-consumer")
            clients.append(late_consumer)

        got.wait_for(sent, timeout=120, what=" with the master down")
        log("%s consumer: all %d SEND_OK messages received %.1fs after the kill (%d deliveries)"
            % (model.name.lower(), len(sent), time.monotonic() - t_kill, got.deliveries))
        if late:
            late.wait_for(sent, timeout=60, what=" from the slave")
            log("late consumer: all %d received from the slave" % len(sent))
            # Done: from here on only the first consumer pulls, so what the restarted master serves is its.
            clients.remove(late_consumer)
            late_consumer.shutdown()
        served = messages_served(cluster, slave)
        at_least = len(sent) - QUEUES * CLIENT_CACHE_PER_QUEUE
        log("the slave served %d messages (the held consumer could have cached at most %d of %d)"
            % (served, QUEUES * CLIENT_CACHE_PER_QUEUE, len(sent)))
        self.assertGreaterEqual(served, at_least, "messages the slave served while the master was down")

        # The master returns on its port and store; new messages are consumed, and from the master.
        master.start()
        wait_until("the master back in the route", lambda: 0 in cluster.broker_addrs(TOPIC), timeout=30)
        after = []

        def send_after(body):
            try:
                r = send_sync(producer, message(TOPIC, body), attempts=1)
            except Exception as e:  # the producer learns the new route on its own schedule
                log("send %s: %s" % (body, e))
                return False
            if r.status == SendStatus.OK:
                after.append(body)
            return r.status == SendStatus.OK

        # SLAVE_NOT_AVAILABLE until the slave has reconnected to the restarted master.
        counter = iter(range(10 ** 6))
        wait_until("SEND_OK from the restarted master", lambda: send_after("after-probe-%d" % next(counter)),
                   timeout=60, interval=0.5)
        ok = sum(send_after("after-%d" % i) for i in range(100))
        self.assertGreaterEqual(ok, 90, "SEND_OK answers of 100 after the master returned")
        got.wait_for(after, timeout=60, what=" after the master returned")
        # Until its next route refresh the client may still read the (in-sync) slave; the restarted master
        # counts what it hands out, so keep sending until it has served this consumer.
        log("restarted master has served %d messages" % messages_served(cluster, master))
        extra = iter(range(10 ** 6))

        def master_served():
            if messages_served(cluster, master) > 0:
                return True
            send_after("after-extra-%d" % next(extra))
            return False

        wait_until("the consumer to pull from the restarted master", master_served, timeout=60, interval=1.0)
        got.wait_for(after, timeout=60, what=" from the restarted master")
        log("after the master returned: %d SEND_OK messages, all received; the master served %d"
            % (len(after), messages_served(cluster, master)))

    def wait_until_positioned(self, producer, got):
        """Until one probe per queue came back: the consumer has taken every queue and set its start offset
        (a broadcasting consumer of this client starts at the queue's end, so earlier sends would be skipped)."""
        n = iter(range(10 ** 6))
        confirmed = set()

        def probe_all():
            for q in range(QUEUES):
                if any(b.startswith("probe-%d-" % q) for b in got.bodies()):
                    confirmed.add(q)
            if len(confirmed) == QUEUES:
                return True
            for q in sorted(set(range(QUEUES)) - confirmed):
                producer.send_orderly(message(TOPIC, "probe-%d-%d" % (q, next(n))), q)
            time.sleep(0.5)
            return False

        wait_until("the consumer to take all %d queues" % QUEUES, probe_all, timeout=60)
