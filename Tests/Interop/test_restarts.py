# Issue 14, must-show 4, with a client the Apus team did not write (PyPI `rocketmq` 0.4.4, the RocketMQ C++
# client): a producer sending without pause and a clustering push consumer stay up while the NameServer is
# killed (-9) and restarted on its port, then while the broker is stopped with SIGTERM and restarted on its
# port and store. Both clients recover by themselves, each within 60 s, and every message acknowledged
# SEND_OK is consumed at least once. The Swift client's half is Tests/ClientTests/RestartRecoveryTests.swift.

import threading
import time
import unittest

from harness import Cluster, Collector, log, wait_until
from rmq import SendStatus, message, new_producer, new_push_consumer

TOPIC = "RestartTopic"


class RestartTest(unittest.TestCase):
    def test_clients_recover_from_a_namesrv_and_a_broker_restart(self):
        cluster = Cluster("restarts")
        clients = []
        stop = threading.Event()
        sender = None
        try:
            with cluster.reporting():
                sender = self.run_scenario(cluster, clients, stop)
        finally:
            stop.set()
            if sender:
                sender.join(30)
            for c in reversed(clients):
                c.shutdown()
            cluster.close()

    def run_scenario(self, cluster, clients, stop):
        cluster.start_namesrv()
        namesrv_port = int(cluster.namesrv_addr.rsplit(":", 1)[1])
        broker = cluster.broker("broker").start()
        cluster.create_topic(TOPIC, broker, queues=4)
        got = Collector("consumer")
        clients.append(new_push_consumer(cluster.namesrv_addr, "restart_cg", TOPIC, got, instance="restart-consumer"))
        producer = new_producer(cluster.namesrv_addr, "restart_pg", "restart-producer")
        clients.append(producer)

        acked, failures = [], [0]
        lock = threading.Lock()

        def send_loop():
            n = 0
            while not stop.is_set():
                body = "m-%d" % n
                n += 1
                try:
                    r = producer.send_sync(message(TOPIC, body))
                    if r.status == SendStatus.OK:
                        with lock:
                            acked.append(body)
                        continue
                except Exception:  # a server is down: the client raises until it finds one again
                    pass
                with lock:
                    failures[0] += 1
                time.sleep(0.05)

        sender = threading.Thread(target=send_loop, daemon=True)
        sender.start()

        def count():
            with lock:
                return len(acked)

        wait_until("traffic flowing", lambda: count() >= 200, timeout=60)

        # The NameServer dies: the clients go on with the routes they hold.
        cluster.namesrv.kill9()
        at_kill = count()
        wait_until("sends while the NameServer is down", lambda: count() >= at_kill + 200, timeout=60)
        cluster.start_namesrv(port=namesrv_port)
        wait_until("the broker registered with the restarted NameServer",
                   lambda: 0 in cluster.broker_addrs(TOPIC), timeout=60, interval=0.5)
        log("NameServer restarted; %d acknowledged so far" % count())

        # The broker stops in order and comes back on its port and store.
        broker.stop()
        before = count()
        t_restart = time.monotonic()
        broker.start()
        wait_until("sends succeed after the broker restart", lambda: count() >= before + 200, timeout=60, interval=0.2)
        recovered = time.monotonic() - t_restart
        log("producer recovered %.1fs after the broker restart" % recovered)
        self.assertLess(recovered, 60)
        stop.set()
        sender.join(30)

        with lock:
            sent = list(acked)
        log("%d acknowledged, %d sends failed while a server was down" % (len(sent), failures[0]))
        got.wait_for(sent, timeout=60, what=" after both restarts")
        log("consumer: all %d acknowledged messages received (%d deliveries)" % (len(sent), got.deliveries))
        return sender


if __name__ == "__main__":
    unittest.main(verbosity=2)
