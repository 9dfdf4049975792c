"""`MeshCache`: the one way a mesh caches what it derives, explicitly invalidated.

Every cached value is keyed by a namespace and a key, and stamped with the revisions it was computed
at: the descriptors' revision (fixed for an open mesh: a changed folder is a new `Mesh`) and the newest
row id of each state table it depends on (`StateStore.revision`). A read whose stamp differs recomputes,
so a new quality run or grant is seen at once, and nothing is cached in module globals, where one mesh's
values could outlive it or leak into another.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from catalog.state.store import StateStore

T = TypeVar("T")


class MeshCache:
    """Values derived from one mesh: `get(namespace, key, compute, tables=(...))`."""

    def __init__(self, state: StateStore, descriptors_revision: str = ""):
        self._state = state
        self._descriptors = descriptors_revision
        self._values: dict[tuple[str, Hashable], tuple[tuple[object, ...], object]] = {}
        self._lock = threading.RLock()

    def get(self, namespace: str, key: Hashable, compute: Callable[[], T], tables: tuple[str, ...] = ()) -> T:
        """The cached value, or `compute()` when absent or computed at other revisions of `tables`."""
        stamp = (self._descriptors, *self._state.revision(*tables)) if tables else (self._descriptors,)
        with self._lock:
            hit = self._values.get((namespace, key))
            if hit is not None and hit[0] == stamp:
                return hit[1]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._values[(namespace, key)] = (stamp, value)
        return value

    def forget(self, namespace: str | None = None) -> None:
        """Drop one namespace (or everything): for writes the state revisions cannot see."""
        with self._lock:
            for entry in [k for k in self._values if namespace is None or k[0] == namespace]:
                del self._values[entry]
