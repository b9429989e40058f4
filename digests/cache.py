"""A small LRU of values made from a frozen object, keyed by the object's identity.

Used to build an edition's views, renderer and mail headers once per edition while
many recipients are rendered in a row.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class IdentityCache:
    """A small LRU of values made from an object, keyed by the object's identity (plus
    ``extra``). An entry keeps its object alive, so the id cannot be reused while cached.

    For frozen objects only (an :class:`Edition`): a value is never recomputed while
    its entry lives.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[int, Any], tuple[object, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, obj: object, extra: Any, make: Callable[[], Any]) -> Any:
        key = (id(obj), extra)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] is obj:
                self._entries.move_to_end(key)
                return hit[1]
        value = make()
        with self._lock:
            self._entries[key] = (obj, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value
