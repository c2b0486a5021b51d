# Issue 10 must-show 3 with the C++ client's BROADCASTING push consumer (offsets kept in a local file under
# $HOME/.rocketmq_offsets): see failover.py for the scenario.

import unittest

from failover import FailoverScenario
from rmq import MessageModel


class BroadcastingFailoverTest(FailoverScenario, unittest.TestCase):
    model = MessageModel.BROADCASTING


if __name__ == "__main__":
    unittest.main(verbosity=2)
