"""Stable integer labels for 16-byte entity ids, shared by the in-memory indexes (HNSW, exact): an update keeps
its id's label, and the labels of removed ids are reused by later adds."""

from __future__ import annotations

from collections.abc import Iterable


class Labels:
    """The id <-> label map of an index (``ids[label]`` is None for a free label)."""

    def __init__(self) -> None:
        self.labels: dict[bytes, int] = {}
        self.ids: list[bytes | None] = []
        self.free: list[int] = []  # labels of removed ids, reused by the next adds

    def __len__(self) -> int:
        """Live ids in the index."""
        return len(self.labels)

    def assign(self, ids: list[bytes]) -> tuple[list[int], list[int]]:
        """The label of each id, new ids getting a free or a fresh one; and the free labels that were reused."""
        labels, reused = [], []
        for id16 in ids:
            label = self.labels.get(id16)
            if label is None:
                label = self.free.pop() if self.free else len(self.ids)
                if label == len(self.ids):
                    self.ids.append(id16)
                else:
                    self.ids[label] = id16
                    reused.append(label)
                self.labels[id16] = label
            labels.append(label)
        return labels, reused

    def release(self, ids: list[bytes]) -> list[int]:
        """Free the labels of the live ids among ``ids`` (unknown ids are ignored); returns them."""
        released = []
        for id16 in ids:
            label = self.labels.pop(id16, None)
            if label is not None:
                self.ids[label] = None
                self.free.append(label)
                released.append(label)
        return released

    def restore(self, ids: list[bytes | None]) -> None:
        """Rebuild the map from a saved ``ids`` list."""
        self.ids = ids
        self.labels = {i: n for n, i in enumerate(ids) if i is not None}
        self.free = [n for n, i in enumerate(ids) if i is None]

    def label_of(self, id16: bytes) -> int | None:
        """The label of a live id, or None."""
        return self.labels.get(id16)

    def labels_of(self, ids: Iterable[bytes]) -> set[int]:
        """The labels of the live ids among ``ids``."""
        labels = self.labels
        return {labels[i] for i in ids if i in labels}
