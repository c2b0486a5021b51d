# RocketMQ 5.x clients over gRPC (issue 13, must-show 1): the official Python 5.x client (PyPI
# rocketmq-python-client 5.1.2, in its own venv: it installs a `rocketmq` package as 0.4.4 does) against a
# real mqbroker's gRPC endpoint (grpcServerPort). A producer sends normal, FIFO (message group), delay
# (delivery timestamp) and transactional messages; a SimpleConsumer receives and acks them; a message left
# unacked comes back after its invisible duration with its delivery attempt incremented, and an acked one
# never does; a committed transaction's message arrives, a rolled-back one never; a PushConsumer whose
# listener fails a message gets it again (the client's ChangeInvisibleDuration) with attempt 2; an orderly
# group's PushConsumer gets each message group in order; a remoting send is received over gRPC.
#
# Run by run.py with $APUS_PY5 (the 5.x venv's python) like every test_v5_* module.

import time
import unittest

from harness import Cluster, log, wait_until
import threading

from rocketmq import (ClientConfiguration, ConsumeResult, Credentials, FilterExpression, Message, MessageListener,
                      Producer, PushConsumer, SimpleConsumer, TransactionChecker, TransactionResolution)


class RollbackChecker(TransactionChecker):
    """Answers the broker's transaction checks (Apus does not send them to 5.x clients yet)."""

    def check(self, message):
        return TransactionResolution.ROLLBACK


def receive_until(consumer, predicate, timeout, invisible=30, what="messages", ack=False):
    """Receives until `predicate(all received)` holds; returns everything received. With `ack`, each message
    is acked as soon as it arrives (a slow machine must not let its invisible time run out first)."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = consumer.receive(16, invisible)
        if ack:
            for m in batch:
                consumer.ack(m)
        got += batch
        if predicate(got):
            return got
    raise AssertionError("%s not received in %ss; got %d: %s" % (what, timeout, len(got), [m.body for m in got]))


class SimpleConsumerInteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster("v5")
        try:
            cls.cluster.start_namesrv()
            cls.broker = cls.cluster.broker("broker", role="ASYNC_MASTER").start()
            cls.endpoints = "127.0.0.1:%s" % cls.broker.conf["grpcServerPort"]
            log("gRPC endpoint %s" % cls.endpoints)
            cls.topics = ["V5Normal", "V5Redeliver", "V5Fifo", "V5Delay", "V5Tx", "V5Push", "V5Cross", "V5FifoPush"]
            for t in cls.topics:
                cls.cluster.create_topic(t, cls.broker, queues=4)
            cls.producer = Producer(cls.config(), tuple(cls.topics))
            cls.producer.startup()
        except BaseException:
            cls.cluster.report()
            cls.cluster.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.producer.shutdown()
        cls.cluster.close()

    @classmethod
    def config(cls):
        return ClientConfiguration(cls.endpoints, Credentials(), request_timeout=10)

    def consumer(self, group, topic, await_duration=2):
        c = SimpleConsumer(self.config(), group, {topic: FilterExpression()}, await_duration=await_duration)
        c.startup()
        self.addCleanup(c.shutdown)
        return c

    def send(self, topic, body, tag=None, keys=(), group=None, deliver_at_s=None, props=None):
        m = Message()
        m.topic = topic
        m.body = body.encode("utf-8")
        if tag:
            m.tag = tag
        for k in keys:
            m.keys = k  # this client's setter adds one key per assignment
        if group:
            m.message_group = group
        if deliver_at_s:
            m.delivery_timestamp = deliver_at_s
        for k, v in (props or {}).items():
            m.add_property(k, v)
        return self.producer.send(m)

    def test_normal_messages_are_received_intact_and_acked_ones_do_not_return(self):
        with self.cluster.reporting():
            sent = {}
            for i in range(20):
                body = "normal-%d-äöü" % i
                r = self.send("V5Normal", body, tag="TagA" if i % 2 else "TagB", keys=("k%d" % i,), props={"p": str(i)})
                self.assertTrue(r.message_id)
                sent[body] = r.message_id
            c = self.consumer("v5_normal_cg", "V5Normal")
            got = receive_until(c, lambda ms: {m.body.decode() for m in ms} >= set(sent), 30, what="20 normal messages",
                                ack=True)
            self.assertEqual(len(got), 20, "a message came twice: %s" % sorted(m.body.decode() for m in got))
            for m in got:
                body = m.body.decode()
                i = int(body.split("-")[1])
                self.assertEqual(m.message_id, sent[body])
                self.assertEqual(m.tag, "TagA" if i % 2 else "TagB")
                self.assertEqual(set(m.keys), {"k%d" % i})
                self.assertEqual(m.properties.get("p"), str(i))
                self.assertEqual(m.delivery_attempt, 1)
                self.assertFalse(m.corrupted, "body digest mismatch")
            # Acked: nothing comes back, even after the invisible duration (20 s) would have passed for
            # unacked ones; a few long polls of 2 s find nothing.
            for _ in range(3):
                self.assertEqual([m.body for m in c.receive(16, 1)], [])

    def test_an_unacked_message_comes_back_after_its_invisible_duration_with_attempt_plus_one(self):
        with self.cluster.reporting():
            r = self.send("V5Redeliver", "redeliver-me")
            c = self.consumer("v5_redeliver_cg", "V5Redeliver")
            first = receive_until(c, lambda ms: len(ms) >= 1, 30, invisible=3, what="the message")
            self.assertEqual([m.message_id for m in first], [r.message_id])
            self.assertEqual(first[0].delivery_attempt, 1)
            received_at = time.monotonic()
            # Not acked: invisible for 3 s, then delivered again with attempt 2.
            again = receive_until(c, lambda ms: len(ms) >= 1, 30, invisible=30, what="the redelivery")
            waited = time.monotonic() - received_at
            self.assertEqual([m.message_id for m in again], [r.message_id])
            self.assertEqual(again[0].delivery_attempt, 2)
            self.assertGreaterEqual(waited, 2.5, "came back before its invisible duration")
            # The first delivery's handle is stale now (INVALID_RECEIPT_HANDLE); the second one acks.
            with self.assertRaises(Exception):
                c.ack(first[0])
            c.ack(again[0])
            for _ in range(2):
                self.assertEqual([m.body for m in c.receive(16, 1)], [])

    def test_fifo_messages_of_one_group_go_to_one_queue_in_order(self):
        with self.cluster.reporting():
            receipts = [self.send("V5Fifo", "fifo-%02d" % i, group="order-42") for i in range(10)]
            # A fresh topic of 4 queues: one queue took all ten, so their queue offsets are 0...9 in send order.
            self.assertEqual([r.offset for r in receipts], list(range(10)))
            c = self.consumer("v5_fifo_cg", "V5Fifo")
            got = receive_until(c, lambda ms: len(ms) >= 10, 30, what="10 FIFO messages", ack=True)
            self.assertEqual([m.body.decode() for m in got], ["fifo-%02d" % i for i in range(10)])
            self.assertTrue(all(m.message_group == "order-42" for m in got))

    def test_a_delay_message_arrives_not_before_its_delivery_timestamp(self):
        with self.cluster.reporting():
            # This client takes the delivery timestamp in whole seconds (it fills Timestamp.seconds).
            deliver_at_s = int(time.time()) + 4
            deliver_at = deliver_at_s * 1000
            r = self.send("V5Delay", "later", deliver_at_s=deliver_at_s)
            c = self.consumer("v5_delay_cg", "V5Delay")
            got = receive_until(c, lambda ms: len(ms) >= 1, 40, what="the delay message", ack=True)
            now = int(time.time() * 1000)
            self.assertEqual(got[0].message_id, r.message_id)
            self.assertGreaterEqual(now, deliver_at, "delivered %d ms early" % (deliver_at - now))
            # Apus maps the delivery time to a delay level (no timer wheel yet): the message says DELAY (3),
            # but its exact delivery timestamp is not kept through the schedule topic.
            self.assertEqual(got[0].message_type, 3)

    def test_a_committed_transaction_is_delivered_and_a_rolled_back_one_never(self):
        with self.cluster.reporting():
            tx_producer = Producer(self.config(), ("V5Tx",), checker=RollbackChecker())
            tx_producer.startup()
            self.addCleanup(tx_producer.shutdown)
            c = self.consumer("v5_tx_cg", "V5Tx")
            ids = {}
            transactions = {}
            for body in ("commit-me", "roll-me-back"):
                m = Message()
                m.topic = "V5Tx"
                m.body = body.encode()
                t = tx_producer.begin_transaction()
                r = tx_producer.send(m, t)
                self.assertTrue(r.transaction_id)
                ids[body] = r.message_id
                transactions[body] = t
            # Half messages are invisible until their transaction ends.
            self.assertEqual([m.body for m in c.receive(16, 20)], [])
            transactions["commit-me"].commit()
            transactions["roll-me-back"].rollback()
            got = receive_until(c, lambda ms: len(ms) >= 1, 30, what="the committed message", ack=True)
            self.assertEqual([(m.body.decode(), m.message_id) for m in got], [("commit-me", ids["commit-me"])])
            for _ in range(2):
                self.assertEqual([m.body for m in c.receive(16, 20)], [])

    def test_a_push_consumer_gets_every_message_and_a_failed_one_again(self):
        with self.cluster.reporting():
            seen = []
            lock = threading.Lock()

            class Listener(MessageListener):
                def consume(self, message):
                    body = message.body.decode()
                    with lock:
                        seen.append((body, message.delivery_attempt))
                    # The client answers FAILURE with ChangeInvisibleDuration (its retry backoff: 1 s first).
                    if body == "push-fail-once" and message.delivery_attempt == 1:
                        return ConsumeResult.FAILURE
                    return ConsumeResult.SUCCESS

            pc = PushConsumer(self.config(), "v5_push_cg", Listener(), {"V5Push": FilterExpression()})
            pc.startup()
            self.addCleanup(pc.shutdown)
            bodies = ["push-%d" % i for i in range(10)] + ["push-fail-once"]
            for b in bodies:
                self.send("V5Push", b)

            def done():
                with lock:
                    return {b for b, _ in seen} >= set(bodies) and ("push-fail-once", 2) in seen
            wait_until("every pushed message, the failed one twice", done, timeout=60)
            with lock:
                attempts = sorted(a for b, a in seen if b == "push-fail-once")
                others = [a for b, a in seen if b != "push-fail-once"]
            self.assertEqual(attempts[:2], [1, 2])
            self.assertEqual(set(others), {1}, "a message consumed successfully came back")

    def test_a_message_sent_over_remoting_is_received_over_grpc(self):
        with self.cluster.reporting():
            out = self.cluster.mqadmin("sendMessage", "-t", "V5Cross", "-p", "from-remoting", "-k", "rk1", "-c", "TagR")
            log("mqadmin sendMessage: %s" % out.strip())
            c = self.consumer("v5_cross_cg", "V5Cross")
            got = receive_until(c, lambda ms: len(ms) >= 1, 30, what="the remoting message", ack=True)
            m = got[0]
            self.assertEqual((m.body, m.tag, set(m.keys), m.delivery_attempt), (b"from-remoting", "TagR", {"rk1"}, 1))
            # The 4.x client's message id (UNIQ_KEY) is the 5.x message id.
            self.assertIn(m.message_id, out)

    def test_an_orderly_groups_push_consumer_gets_each_message_group_in_order(self):
        with self.cluster.reporting():
            group = "v5_fifo_push_cg"
            # An orderly subscription group makes a FIFO consumer group (RocketMQ 5's group attribute): its
            # clients get Settings fifo, and the broker hands out a queue's next message only after an ack.
            self.cluster.mqadmin("updateSubGroup", "-b", self.broker.addr, "-g", group, "-o", "true")
            seen = []
            lock = threading.Lock()

            class Listener(MessageListener):
                def consume(self, message):
                    time.sleep(0.01)  # 20 consumption threads: out-of-order consumption would show
                    with lock:
                        seen.append((message.message_group, message.body.decode()))
                    return ConsumeResult.SUCCESS

            pc = PushConsumer(self.config(), group, Listener(), {"V5FifoPush": FilterExpression()})
            pc.startup()
            self.addCleanup(pc.shutdown)
            sent = {"ga": [], "gb": [], "gc": []}
            for i in range(30):
                g = "g" + "abc"[i % 3]
                body = "%s-%02d" % (g, i)
                self.send("V5FifoPush", body, group=g)
                sent[g].append(body)

            def done():
                with lock:
                    return len(seen) >= 30
            wait_until("30 FIFO messages pushed", done, timeout=60)
            with lock:
                for g, bodies in sent.items():
                    self.assertEqual([b for mg, b in seen if mg == g], bodies, "group %s out of order" % g)


if __name__ == "__main__":
    unittest.main()
