"""Message bus: wakes up the nodes that hold sockets for a topic.

The database is the truth; the bus only carries JSON strings and knows nothing of
their meaning (in the publishing process it hands its handlers the frame a string
encodes as well, so that they need not decode it again). `MemoryBus` serves one
process; `bus.redis.RedisBus`, the same interface over Redis pub/sub, serves several
nodes (R14.2).
"""

from visavis.bus.base import Bus, Handler, Routed
from visavis.bus.memory import MemoryBus

__all__ = ["Bus", "Handler", "MemoryBus", "Routed"]
