# Basic interoperability with a client the Apus team did not write: the PyPI `rocketmq` 0.4.4 package (the
# RocketMQ C++ client) against one real mqnamesrv and one mqbroker. Sends of every kind the package offers
# (sync with keys, tags and properties, a body large enough for the client to compress, one-way, batch,
# orderly by sharding key) must reach a push consumer intact.

import unittest

from harness import Cluster, Collector, log, wait_until
from rmq import MessageModel, SendStatus, message, new_producer, new_push_consumer, send_sync


class BasicInteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster("basic")
        try:
            cls.cluster.start_namesrv()
            cls.broker = cls.cluster.broker("broker", role="ASYNC_MASTER").start()
            cls.producer = new_producer(cls.cluster.namesrv_addr, "interop_basic_pg", "basic-producer")
        except BaseException:
            cls.cluster.report()
            cls.cluster.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.producer.shutdown()
        cls.cluster.close()

    def setUp(self):
        self.consumers = []

    def tearDown(self):
        for c in self.consumers:
            c.shutdown()

    def consume(self, topic, group, collector, **kw):
        # Started before anything is sent, so the C++ default CONSUME_FROM_LAST_OFFSET cannot skip a message.
        self.consumers.append(new_push_consumer(self.cluster.namesrv_addr, group, topic, collector,
                                                instance=group, **kw))

    def test_sync_sends_arrive_with_body_tags_keys_and_properties(self):
        with self.cluster.reporting():
            topic = "InteropSync"
            self.cluster.create_topic(topic, self.broker, queues=4)
            got = Collector("sync consumer", properties=("interop",))
            self.consume(topic, "interop_sync_cg", got)
            expected = {}
            for i in range(60):
                # Some with keys and tags, some with one of them, some with neither; non-ASCII bodies; one body
                # over 4 KiB, which the C++ client sends zlib-compressed (sysFlag bit 0) and must get back whole.
                body = "sync-%d-äöü-✓" % i + ("-" + "x" * 10000 if i == 7 else "")
                keys = "key-%d order-%d" % (i, i // 10) if i % 3 == 0 else None
                tags = ("TagA" if i % 2 else "TagB") if i % 3 != 2 else None
                msg = message(topic, body, keys=keys, tags=tags)
                msg.set_property("interop", "p%d" % i)
                r = send_sync(self.producer, msg)
                self.assertEqual(r.status, SendStatus.OK, "send %d: %s" % (i, r))
                expected[body] = (tags, keys, "p%d" % i, r.msg_id)
            got.wait_for(expected, timeout=30)
            for body, (tags, keys, prop, msg_id) in expected.items():
                e = got.by_body[body]
                self.assertEqual(e["topic"], topic)
                self.assertEqual(e["tags"], (tags or "").encode(), body[:20])
                self.assertEqual(e["keys"], (keys or "").encode(), body[:20])
                self.assertEqual(e["properties"]["interop"], prop.encode(), body[:20])
                self.assertEqual(e["id"], msg_id, "the id the send returned is the id the consumer sees")
            log("sync: %d sent, %d received (%d deliveries)" % (len(expected), len(got.bodies()), got.deliveries))

    def test_oneway_sends_arrive(self):
        with self.cluster.reporting():
            topic = "InteropOneway"
            self.cluster.create_topic(topic, self.broker, queues=4)
            got = Collector("one-way consumer")
            self.consume(topic, "interop_oneway_cg", got)
            bodies = ["oneway-%d" % i for i in range(40)]
            for b in bodies:
                self.producer.send_oneway(message(topic, b, tags="OneWay"))
            # One-way sends get no answer; on loopback to a healthy broker every one is stored.
            got.wait_for(bodies, timeout=30)
            self.assertTrue(all(got.by_body[b]["tags"] == b"OneWay" for b in bodies))
            log("one-way: %d sent, %d received" % (len(bodies), len(got.bodies())))

    def test_batch_send_is_stored_as_sent(self):
        with self.cluster.reporting():
            topic = "InteropBatch"
            self.cluster.create_topic(topic, self.broker, queues=4)
            got = Collector("batch consumer")
            self.consume(topic, "interop_batch_cg", got)
            batches = []
            for batch in range(3):
                bodies = ["batch-%d-%d" % (batch, i) for i in range(10)]
                r = self.producer.send_batch([message(topic, b, keys="bk-%d" % batch) for b in bodies])
                self.assertEqual(r.status, SendStatus.OK, "batch %d: %s" % (batch, r))
                batches.append(bodies)
            # This client sends a batch as a plain SEND_MESSAGE whose header says batch="1" (C++ to_string of a
            # bool); RocketMQ 4.x brokers read that flag with Boolean.parseBoolean, so "1" is false and the
            # encoded batch is stored as one message (rocketmq-client-cpp issues 189 and 363). Apus does the
            # same: one stored message per batch. (Its body starts with a binary length, and 0.4.4 reads bodies
            # as NUL-terminated strings, so the body cannot be compared here.)
            wait_until("one delivery per batch", lambda: got.deliveries >= len(batches), timeout=30)
            status = self.cluster.mqadmin("topicStatus", "-t", topic)
            stored = sum(int(line.split()[3]) for line in status.splitlines() if line.startswith("broker-a"))
            self.assertEqual(stored, len(batches), "messages stored for %d batches:\n%s" % (len(batches), status))
            log("batch: 3 batches of 10 sent, stored and delivered as 3 messages (as a RocketMQ 4.x broker does)")

    def test_orderly_sends_arrive_in_order_per_sharding_key(self):
        with self.cluster.reporting():
            topic = "InteropOrderly"
            queues = 4
            self.cluster.create_topic(topic, self.broker, queues=queues)
            got = Collector("orderly consumer")
            # An orderly consumer locks its queues on the broker (LOCK_BATCH_MQ) and consumes each one in order.
            self.consume(topic, "interop_orderly_cg", got, orderly=True)
            sent = {key: [] for key in range(6)}
            for i in range(20):
                for key in sent:
                    # send_orderly is 0.4.4's send by sharding key: the default selector picks queue key % count.
                    body = "order-%d-step-%02d" % (key, i)
                    r = self.producer.send_orderly(message(topic, body, keys="order-%d" % key), key)
                    self.assertEqual(r.status, SendStatus.OK, "%s: %s" % (body, r))
                    sent[key].append(body)
            oneway = ["oneway-order-%d" % key for key in sent]
            for key, body in enumerate(oneway):
                self.producer.send_oneway_orderly(message(topic, body), key)
            got.wait_for([b for bodies in sent.values() for b in bodies] + oneway, timeout=60)
            for key, bodies in sent.items():
                arrived = [b for b in got.arrivals if b.startswith("order-%d-" % key)]
                # Redelivery may repeat a message, never reorder: the first arrival of each is in send order.
                first = sorted(set(arrived), key=arrived.index)
                self.assertEqual(first, bodies, "order of key %d" % key)
                self.assertEqual({got.by_body[b]["queue_id"] for b in bodies}, {key % queues}, "queue of key %d" % key)
            for key, body in enumerate(oneway):
                self.assertEqual(got.by_body[body]["queue_id"], key % queues, body)
            log("orderly: %d keys x 20 sync + %d one-way, received in order" % (len(sent), len(oneway)))

    def test_tag_subscription_gets_only_its_tags(self):
        with self.cluster.reporting():
            topic = "InteropTags"
            self.cluster.create_topic(topic, self.broker, queues=4)
            got = Collector("tag consumer")
            self.consume(topic, "interop_tags_cg", got, expression="TagA || TagC")
            wanted = []
            for i in range(30):
                tag = "Tag" + "ABC"[i % 3]
                body = "tags-%d-%s" % (i, tag)
                r = send_sync(self.producer, message(topic, body, tags=tag))
                self.assertEqual(r.status, SendStatus.OK)
                if tag != "TagB":
                    wanted.append(body)
            got.wait_for(wanted, timeout=30)
            unwanted = sorted(b for b in got.bodies() if b.endswith("TagB"))
            self.assertEqual(unwanted, [], "TagB messages delivered to a 'TagA || TagC' subscription")
            log("tags: %d of 30 match the subscription, all received, none other" % len(wanted))


if __name__ == "__main__":
    unittest.main(verbosity=2)
