"""``rem ask --answer``: an answer written by a chat model from the result rows, citing the ids it used.

The model sees the question and the rows (ids first, long values cut, at most :data:`MAX_ROWS` rows and
:data:`MAX_CHARS` characters) and is asked to cite rows as ``[id]``. Citations of ids that are not among the
rows shown are dropped (and taken out of the text when they look like ids), so ``cited_ids`` only ever names
rows the question's query returned.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..config import Settings
from ..errors import ConfigError
from .clients.base import chat_client, split_model

MAX_ROWS = 30
MAX_CHARS = 12_000
MAX_VALUE_CHARS = 400
MAX_ANSWER_TOKENS = 800
NO_MODEL = "--answer needs a model: set P8_DEFAULT_LLM or pass --model"

ANSWER_PROMPT = """\
Answer the user's question from the database rows given, and from nothing else. Be brief and exact. \
After each statement, cite the rows it comes from by their id in square brackets, e.g. [{example}]. \
If the rows do not answer the question, say so."""

_BRACKETS = re.compile(r"\[([^\[\]\n]{1,400})\]")
_SPLIT = re.compile(r"[\s,;]+")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
# values a reader of the answer never needs and that would crowd the rows out of the prompt
_LEFT_OUT = ("edges", "_path", "deleted_at")


def write_answer(model: str | None, settings: Settings, question: str, results: list[dict[str, Any]]
                 ) -> dict[str, Any]:
    """``{"answer": str, "cited_ids": [id, …], "model": "provider:model"}`` for ``question`` from ``results``.

    ``model`` (``provider:model``) defaults to ``P8_DEFAULT_LLM``; without one (or with ``offline``) this is a
    :class:`~rem_db.errors.ConfigError`. Failures of the model are :class:`~rem_db.errors.LLMError`. With no
    rows the model is not asked."""
    spec = (model or settings.default_llm or "").strip()
    if not spec or spec.lower() == "offline" or spec.lower().startswith("offline:"):
        raise ConfigError(NO_MODEL)
    provider, name = split_model(spec)
    client = chat_client(spec, settings)
    used = f"{provider}:{name}"
    if not results:
        return {"answer": "No rows matched the question, so there is nothing to answer from.", "cited_ids": [],
                "model": used}
    rows, ids = render_rows(results)
    example = next(iter(ids.values()), "3f2a0c1e-…")
    user = f"Question: {question}\n\nRows ({rows.count(chr(10)) + 1} of {len(results)}):\n{rows}"
    text = client.complete(ANSWER_PROMPT.format(example=example), [{"role": "user", "content": user}],
                           max_tokens=MAX_ANSWER_TOKENS)
    answer, cited = cite(text, ids)
    return {"answer": answer, "cited_ids": cited, "model": used}


def render_rows(results: list[dict[str, Any]]) -> tuple[str, dict[str, str]]:
    """The rows as compact JSON lines (one a row) within the size caps, and ``{id.casefold(): id}`` of the rows
    shown."""
    lines: list[str] = []
    ids: dict[str, str] = {}
    size = 0
    for row in results[:MAX_ROWS]:
        line = json.dumps(_compact(row), ensure_ascii=False, default=str)
        if lines and size + len(line) > MAX_CHARS:
            break
        if len(line) > MAX_CHARS:
            line = line[:MAX_CHARS] + "…"
        lines.append(line)
        size += len(line) + 1
        if row.get("id") is not None:
            ids[str(row["id"]).casefold()] = str(row["id"])
    return "\n".join(lines), ids


def _compact(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if row.get("id") is not None:
        out["id"] = row["id"]
    for key, value in row.items():
        if key == "id" or key in _LEFT_OUT or value is None:
            continue
        out[key] = _cut(value)
    return out


def _cut(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…"
    if isinstance(value, list):
        if len(value) > 16 and all(isinstance(v, float) for v in value):
            return f"[{len(value)} numbers]"  # a vector
        return [_cut(v) for v in value[:20]]
    if isinstance(value, dict):
        return {k: _cut(v) for k, v in list(value.items())[:30]}
    return value


def cite(text: str, ids: dict[str, str]) -> tuple[str, list[str]]:
    """The answer with its citations normalised to the rows' ids, and the ids cited, in order of first
    citation. A bracket of id-like tokens none of which is a row shown is removed (a made-up citation);
    other brackets are left as written."""
    cited: list[str] = []

    def replace(match: re.Match[str]) -> str:
        tokens = [t for t in _SPLIT.split(match.group(1).strip()) if t]
        known = [ids[t.casefold()] for t in tokens if t.casefold() in ids]
        if known:
            for id_ in known:
                if id_ not in cited:
                    cited.append(id_)
            return "[" + ", ".join(dict.fromkeys(known)) + "]"
        if tokens and all(_UUID.match(t) for t in tokens):
            return ""
        return match.group(0)

    answer = _BRACKETS.sub(replace, text)
    answer = re.sub(r"[ \t]+([.,;:])", r"\1", answer)  # the space a removed citation leaves before punctuation
    return answer.strip(), cited
