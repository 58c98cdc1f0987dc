"""A saved HNSW graph without its vectors: the ``NAME.graph`` file of an index saved by :mod:`.hnsw`.

Each vector is stored once at full precision, in the ``embeddings`` column family (SPEC §3: the source of
truth). hnswlib keeps a float32 copy of every vector inside each element's record, so its own file
(``saveIndex``) held them all a second time (162 MiB of a 100,000-row store of 384-d vectors). This file holds
the graph and an 8-bit code of each vector (a quarter of its float32 size): 53 MiB there. Loading puts
hnswlib's records back together from the graph and the stored vectors (:meth:`SavedGraph.level0`) and hands
them to hnswlib's state constructor (the one its pickling uses), which copies them in. The codes steer the
walk of a just-opened index (:mod:`.hnsw_file`) without a store read per step, and stand in for the vectors
of deleted elements (still walked through by hnswlib; the store no longer holds them).

The file is six sections, their sizes given by the index metadata (``NAME.json``, key ``graph``):

1. the bottom-layer links of each element: hnswlib's record minus the vector and label (a 2-byte count, a
   flags byte whose bit 0 marks a deleted element, a spare byte, then ``max_M0`` element numbers, uint32);
2. each element's label (uint64), which :mod:`.labels` maps to its entity id through ``NAME.ids.npy``;
3. each element's top layer (int32; 0 for most);
4. the links of the upper layers, element after element (``size_links_per_element`` bytes a layer);
5. each element's unit vector as int8 codes, ``round(v * 127 / max|v|)``;
6. each element's code scale, ``max|v| / 127`` (float32): ``v ≈ code * scale``.

:class:`SavedGraph` maps the file and checks that it is consistent (a damaged one is
:class:`~.ann.CorruptIndex`); the sections are read in place.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from .ann import CorruptIndex

#: hnswlib's scalar state, saved in the metadata (its arrays are the file's sections)
SCALARS = ("offset_level0", "max_elements", "cur_element_count", "size_data_per_element", "label_offset",
           "offset_data", "max_level", "enterpoint_node", "max_M", "max_M0", "M", "mult", "ef_construction",
           "has_deletions", "size_links_per_element", "seed", "num_threads", "ef")
CODE_CHUNK = 8192  # elements encoded at a time


def encode(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """8-bit codes of unit vectors and their scales (``vectors ≈ codes * scales[:, None]``)."""
    peak = np.abs(vectors).max(axis=1) if len(vectors) else np.empty(0, dtype=np.float32)
    scales = (np.where(peak > 0, peak, 1.0) / 127.0).astype(np.float32)
    return np.rint(vectors / scales[:, None]).astype(np.int8), scales


def unit_rows(got: list[np.ndarray | None], dimensions: int) -> tuple[list[int], np.ndarray]:
    """The positions of the vectors ``got`` holds (None, or of another dimension: left out) and those vectors
    at unit length, as an index in the cosine space holds them."""
    found, rows = [], []
    for n, vector in enumerate(got):
        if vector is not None and len(vector) == dimensions:
            found.append(n)
            rows.append(vector)
    return found, unit(np.vstack(rows)) if rows else np.empty((0, dimensions), dtype=np.float32)


def unit(rows: np.ndarray) -> np.ndarray:
    """Rows at unit length (float32; zero rows stay zero)."""
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def write_graph(path: Path, state: dict[str, Any]) -> dict[str, Any]:
    """Write hnswlib's state (``Index.__getstate__()[0]``) as a graph file (the vectors as 8-bit codes);
    returns the graph's metadata."""
    count, per = state["cur_element_count"], state["size_data_per_element"]
    links_end, label_at = state["offset_data"], state["label_offset"]
    records = state["data_level0"].reshape(-1, per)[:count]
    with open(path, "wb") as fh:
        fh.write(np.ascontiguousarray(records[:, :links_end]).data)
        fh.write(np.ascontiguousarray(records[:, label_at:label_at + 8]).data)
        fh.write(np.ascontiguousarray(state["element_levels"][:count], dtype="<i4").data)
        fh.write(np.ascontiguousarray(state["link_lists"]).data)
        scales = []
        for start in range(0, count, CODE_CHUNK):
            codes, part = encode(records[start:start + CODE_CHUNK, links_end:label_at].view(np.float32))
            fh.write(codes.data)
            scales.append(part)
        fh.write(np.concatenate(scales or [np.empty(0, np.float32)]).astype("<f4").data)
    meta = {name: state[name] for name in SCALARS}
    meta["upper_bytes"] = len(state["link_lists"])
    return meta


class SavedGraph:
    """A graph file, memory-mapped and checked against its metadata (``meta``: what :func:`write_graph` returned).

    ``full=True`` also checks every link and layer (what loading into hnswlib needs: it trusts them); a view
    answering searches checks the sizes only and guards each step of its walk."""

    def __init__(self, path: Path, meta: dict[str, Any], dimensions: int, labels: int, full: bool = False) -> None:
        try:
            self.meta = meta = {name: meta[name] for name in (*SCALARS, "upper_bytes")}
            count, per, max_m0 = int(meta["cur_element_count"]), int(meta["size_data_per_element"]), int(meta["max_M0"])
            links_end, label_at = int(meta["offset_data"]), int(meta["label_offset"])
            upper = int(meta["upper_bytes"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptIndex(f"{path}: the graph metadata is incomplete ({exc})") from None
        if (meta["offset_level0"] != 0 or links_end != 4 + 4 * max_m0 or label_at != links_end + 4 * dimensions
                or per != label_at + 8 or meta["size_links_per_element"] != 4 + 4 * int(meta["max_M"])
                or count != labels or upper < 0 or (count and not 0 <= meta["enterpoint_node"] < count)):
            raise CorruptIndex(f"{path}: the graph's layout does not match {labels} {dimensions}-d vectors")
        size = count * (links_end + 16 + dimensions) + upper
        with open(path, "rb") as fh:  # pages are read as they are touched
            if fh.seek(0, 2) != size:
                raise CorruptIndex(f"{path}: {fh.tell()} bytes where the graph needs {size}")
            mapped = mmap.mmap(fh.fileno(), 0, prot=mmap.PROT_READ) if size else b""
        self.count, self.dimensions, self.max_m0 = count, dimensions, max_m0
        self.entry = int(meta["enterpoint_node"])
        at = count * links_end
        self.records = np.frombuffer(mapped, dtype=np.uint8, count=at).reshape(count, links_end)
        self.link_counts = self.records[:, 0:2].view(np.uint16).reshape(-1)
        self.links = self.records[:, 4:].view(np.uint32)
        self.labels = np.frombuffer(mapped, dtype="<u8", count=count, offset=at)
        at += 8 * count
        self.levels = np.frombuffer(mapped, dtype="<i4", count=count, offset=at)
        at += 4 * count
        self.upper = np.frombuffer(mapped, dtype=np.int8, count=upper, offset=at)
        at += upper
        self.codes = np.frombuffer(mapped, dtype=np.int8, count=count * dimensions, offset=at).reshape(count,
                                                                                                         dimensions)
        self.scales = np.frombuffer(mapped, dtype="<f4", count=count, offset=at + count * dimensions)
        if full:
            self._check(path)

    def _check(self, path: Path) -> None:
        """Every link names an element, every count fits its list, every label its id map, every layer the graph."""
        count, meta = self.count, self.meta
        in_use = np.arange(self.max_m0) < self.link_counts[:, None]
        if (self.link_counts > self.max_m0).any() or (self.links[in_use] >= count).any():
            raise CorruptIndex(f"{path}: a bottom-layer link names no element")
        if count and (int(self.labels.max()) >= count or len(np.unique(self.labels)) != count):
            raise CorruptIndex(f"{path}: an element's label is not in the id map, or two share one")
        levels = self.levels
        if count and (int(levels.min()) < 0 or int(levels.max()) != meta["max_level"]
                      or levels[self.entry] != meta["max_level"]):
            raise CorruptIndex(f"{path}: the graph's layers do not match its entry point")
        per_layer, max_m = int(meta["size_links_per_element"]), int(meta["max_M"])
        if int(levels.sum()) * per_layer != len(self.upper):
            raise CorruptIndex(f"{path}: the upper layers' links do not match the elements' layers")
        lists = self.upper.view(np.uint8).reshape(-1, per_layer)
        counts = lists[:, 0:2].copy().view(np.uint16).reshape(-1)
        targets = lists[:, 4:].copy().view(np.uint32)
        if (counts > max_m).any() or (targets[np.arange(max_m) < counts[:, None]] >= count).any():
            raise CorruptIndex(f"{path}: an upper-layer link names no element")
        if not np.isfinite(self.scales).all():
            raise CorruptIndex(f"{path}: a vector code's scale is not a number")

    def decoded(self, rows: np.ndarray | slice) -> np.ndarray:
        """The vectors of these elements as their codes give them (unit length to about 1 %)."""
        return self.codes[rows].astype(np.float32) * self.scales[rows][:, None]

    def scores(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """The similarity of these elements to ``query`` as their codes give it."""
        return (self.codes[rows].astype(np.float32) @ query) * self.scales[rows]

    def level0(self, stored: Iterable[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """hnswlib's bottom-layer records: the links, the labels and the unit vectors: ``stored`` yields
        rows with their stored vectors (``(rows, matrix)``); the other rows (deleted elements, or ones deleted
        from the store since the save, which the catch-up that follows removes) take their decoded codes."""
        count, links_end = self.count, self.records.shape[1]
        out = np.empty((count, links_end + 4 * self.dimensions + 8), dtype=np.uint8)
        out[:, :links_end] = self.records
        vectors = out[:, links_end:-8].view(np.float32)
        filled = np.zeros(count, dtype=bool)
        for rows, matrix in stored:
            vectors[rows] = unit(matrix)
            filled[rows] = True
        rest = np.flatnonzero(~filled)
        for start in range(0, len(rest), CODE_CHUNK):
            part = rest[start:start + CODE_CHUNK]
            vectors[part] = self.decoded(part)
        out[:, -8:] = self.labels.view(np.uint8).reshape(count, 8)
        return out

    def state(self, level0: np.ndarray, capacity: int, dimensions: int) -> dict[str, Any]:
        """The state hnswlib's constructor takes (``hnswlib.Index(params=...)``), with room for ``capacity``."""
        state: dict[str, Any] = dict(self.meta)
        del state["upper_bytes"]
        state.update(ser_version=1, space="cosine", dim=dimensions, index_inited=True, ep_added=self.count > 0,
                     normalize=True, allow_replace_deleted=False, max_elements=max(capacity, self.count),
                     data_level0=level0.reshape(-1), link_lists=np.asarray(self.upper),
                     element_levels=np.asarray(self.levels, dtype=np.int32),
                     label_lookup_external=np.asarray(self.labels, dtype=np.uint64),
                     label_lookup_internal=np.arange(self.count, dtype=np.uint32))
        return state


FORMAT = 2  # 1: hnswlib's own file with the vectors inside (rebuilt from the stored vectors when found)
LEGACY_SUFFIX = ".hnsw"  # format 1's index file: removed by the first save of the rebuilt index
SUFFIXES = (".json", ".graph", ".ids.npy", ".live.npy")  # the metadata first: written last


def open_saved(base: Path, dimensions: int, full: bool = False) -> tuple[dict[str, Any], np.ndarray, np.ndarray,
                                                                          SavedGraph]:
    """The saved set at ``base``: its metadata, id map (16-byte ids by label), live flags by label and graph;
    :class:`~.ann.CorruptIndex` if they do not fit together (``full``: see :class:`SavedGraph`)."""
    try:
        meta = orjson.loads((base.parent / (base.name + ".json")).read_bytes())
        if meta.get("format") != FORMAT or meta["dimensions"] != dimensions:
            raise CorruptIndex(f"{base}: format or dimension mismatch")
        ids = np.load(str(base) + ".ids.npy")
        live = np.load(str(base) + ".live.npy")
        labels = int(meta["labels"])
        if (ids.shape != (labels, 16) or ids.dtype != np.uint8 or live.shape != (labels,) or live.dtype != bool
                or int(live.sum()) != meta["count"]):
            raise CorruptIndex(f"{base}: id map does not match the index metadata")
        graph = SavedGraph(Path(str(base) + ".graph"), meta["graph"], dimensions, labels, full)
    except CorruptIndex:
        raise
    except Exception as exc:  # any unreadable or truncated file
        raise CorruptIndex(f"{base}: {type(exc).__name__}: {exc}") from None
    return meta, ids, live, graph
