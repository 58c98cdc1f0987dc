"""Token counting with the local embedding model's own tokenizer (all-MiniLM-L6-v2 WordPiece), so a chunk
bound of N tokens means N tokens to the model: the chunker never produces text the model would truncate.

Chunk sizes are counted in these tokens whatever embedding provider a table uses (another provider's
tokenizer splits text differently, but a bound in MiniLM tokens keeps chunks of a comparable size).
"""

from __future__ import annotations

import threading
from typing import Any

from ..errors import ConfigError

#: ``[CLS]`` and ``[SEP]``: added by the model to every text, counted in the chunk bound.
SPECIAL_TOKENS = 2

_tokenizer: Any = None
_lock = threading.Lock()


def tokenizer() -> Any:
    """The (process-wide) tokenizer: no truncation, no padding; ``encode(..., add_special_tokens=False)``."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            from tokenizers import Tokenizer

            from ..embeddings.local import model_dir

            path = model_dir() / "tokenizer.json"
            if not path.exists():
                raise ConfigError(f"the tokenizer of the local model is missing: {path}")
            loaded = Tokenizer.from_file(str(path))
            loaded.no_truncation()
            loaded.no_padding()
            _tokenizer = loaded
        return _tokenizer


def encode_batch(texts: list[str]) -> list[Any]:
    """Encodings (ids, offsets into each text, word ids) of many texts in one call."""
    return tokenizer().encode_batch(texts, add_special_tokens=False)


def encode(text: str) -> Any:
    return tokenizer().encode(text, add_special_tokens=False)


def count(text: str) -> int:
    """Tokens the model sees for ``text``, ``[CLS]`` and ``[SEP]`` included."""
    return len(encode(text)) + SPECIAL_TOKENS
