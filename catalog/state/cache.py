"""`MeshCache`: the one way a mesh caches what it derives, explicitly invalidated.

Every cached value is keyed by a namespace and a key, and stamped with the revisions it was computed
at: the descriptors' revision (fixed for an open mesh: a changed folder is a new `Mesh`) and the newest
row id of each state table it depends on (`StateStore.revision`). A read whose stamp differs recomputes,
so a new quality run or grant is seen at once, and nothing is cached in module globals, where one mesh's
values could outlive it or leak into another. A namespace may be bounded (`limit`): the least recently
used entries then go first, as for dashboard tile results keyed by their products' data fingerprints.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from catalog.state.store import StateStore

T = TypeVar("T")
_MISSING = object()


class MeshCache:
    """Values derived from one mesh: `get(namespace, key, compute, tables=(...))`, or `peek` then `put`."""

    def __init__(self, state: StateStore, descriptors_revision: str = ""):
        self._state = state
        self._descriptors = descriptors_revision
        self._spaces: dict[str, OrderedDict[Hashable, tuple[tuple[object, ...], object]]] = {}
        self._lock = threading.RLock()
        self.hits = 0
        self.misses = 0

    def _stamp(self, tables: tuple[str, ...]) -> tuple[object, ...]:
        return (self._descriptors, *self._state.revision(*tables)) if tables else (self._descriptors,)

    def get(self, namespace: str, key: Hashable, compute: Callable[[], T], tables: tuple[str, ...] = (),
            limit: int | None = None) -> T:
        """The cached value, or `compute()` when absent or computed at other revisions of `tables`."""
        stamp = self._stamp(tables)
        value = self._lookup(namespace, key, stamp)
        if value is _MISSING:
            value = compute()
            self._store(namespace, key, stamp, value, limit)
        return value  # type: ignore[return-value]

    def peek(self, namespace: str, key: Hashable, tables: tuple[str, ...] = ()) -> Any | None:
        """The cached value, or None: for callers that compute in pieces (several tiles at once)."""
        value = self._lookup(namespace, key, self._stamp(tables))
        return None if value is _MISSING else value

    def put(self, namespace: str, key: Hashable, value: object, tables: tuple[str, ...] = (),
            limit: int | None = None) -> None:
        self._store(namespace, key, self._stamp(tables), value, limit)

    def _lookup(self, namespace: str, key: Hashable, stamp: tuple[object, ...]) -> object:
        with self._lock:
            space = self._spaces.get(namespace)
            hit = space.get(key) if space is not None else None
            if hit is not None and hit[0] == stamp:
                space.move_to_end(key)  # type: ignore[union-attr]
                self.hits += 1
                return hit[1]
            self.misses += 1
            return _MISSING

    def _store(self, namespace: str, key: Hashable, stamp: tuple[object, ...], value: object,
               limit: int | None) -> None:
        with self._lock:
            space = self._spaces.setdefault(namespace, OrderedDict())
            space[key] = (stamp, value)
            space.move_to_end(key)
            while limit is not None and len(space) > limit:
                space.popitem(last=False)

    def size(self, namespace: str) -> int:
        with self._lock:
            return len(self._spaces.get(namespace, ()))

    def forget(self, namespace: str | None = None) -> None:
        """Drop one namespace (or everything): for writes the state revisions cannot see."""
        with self._lock:
            if namespace is None:
                self._spaces.clear()
            else:
                self._spaces.pop(namespace, None)
