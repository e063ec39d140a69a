"""DynamoDB as DynamoDB runs it, around moto 5.2.1.

DynamoDB applies each request atomically: a conditional write is checked
against the item as the last write left it, so of N concurrent
conditional writes that expect the same old value exactly one succeeds
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate).
moto's server runs each request on a thread of its own and its DynamoDB
backend takes no lock, so two such writes can both read the old item and
both succeed (shared/store's TestClaimPassword saw two of twenty racers
win). Here each DynamoDB request runs alone; moto's DynamoDB requests take
about a millisecond, so the serialisation costs nothing a test can see.
"""

from __future__ import annotations

import threading

from moto.dynamodb.responses import DynamoHandler

_lock = threading.Lock()
_call_action = DynamoHandler.call_action


def _atomic_call_action(self):
    with _lock:
        return _call_action(self)


DynamoHandler.call_action = _atomic_call_action
