# Issue 10 must-show 3 with the C++ client's CLUSTERING push consumer (offsets kept by the brokers): see
# failover.py for the scenario.

import unittest

from failover import FailoverScenario
from rmq import MessageModel


class ClusteringFailoverTest(FailoverScenario, unittest.TestCase):
    model = MessageModel.CLUSTERING


if __name__ == "__main__":
    unittest.main(verbosity=2)
