"""The examples of README.md and docs/*.md run as tests (sqlite-utils' ``test_docs`` is the model).

Every fenced ```python and ```bash block is executed; a block that is deliberately not runnable is preceded
by ``<!-- not-tested: why -->`` (the reason is required). Each file runs in a fresh temporary directory that
holds what the examples name: a copy of the repository's ``docs/`` and ``examples/``, a ``contracts/``
folder of PDFs (one of them encrypted), and — for the pages under ``docs/``, whose examples continue the
README's Python quick start — the ``./my-db`` that quick start leaves behind. ``P8_HOME`` and ``P8_DB_PATH``
point into that directory, which is also the working directory.

Python blocks of one file run in order in one namespace. Bash blocks of one file run as one script in
``bash -euo pipefail`` with the real ``rem`` of this interpreter's environment first on ``PATH``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rem_db import Database

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOC_FILES = [README, *sorted((ROOT / "docs").glob("*.md"))]
CORPUS = Path("/work/shared/corpus")  # the business documents the ingest tests use too
CONTRACT_PDFS = ("doc-001-glenview-industrial-warehouse.pdf", "doc-011-ironwood-office-park.pdf")

FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")
MARKER = re.compile(r"^<!--\s*not-tested:\s*(?P<reason>\S.*?)\s*-->$")
RUNNABLE = ("python", "bash")


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it starts (1-based line of the fence), its language and code, and the
    reason it is not run (``None``: it is run)."""

    path: Path
    line: int
    lang: str
    code: str
    not_tested: str | None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def code_blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    n = 0
    while n < len(lines):
        fence = FENCE.match(lines[n])
        if fence is None:
            n += 1
            continue
        end = n + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        before = next((line.strip() for line in reversed(lines[:n]) if line.strip()), "")
        marker = MARKER.match(before)
        blocks.append(Block(path, n + 1, fence["lang"], "\n".join(lines[n + 1:end]) + "\n",
                            marker["reason"] if marker else None))
        n = end + 1
    return blocks


def runnable(path: Path, lang: str) -> list[Block]:
    return [b for b in code_blocks(path) if b.lang == lang and b.not_tested is None]


def files_with(lang: str, docs_only: bool = False) -> list[Any]:
    return [pytest.param(p, id=str(p.relative_to(ROOT))) for p in DOC_FILES
            if runnable(p, lang) and not (docs_only and p == README)]


def run_python(blocks: list[Block]) -> tuple[str, dict[str, Any]]:
    """Run the blocks in order in one namespace; returns what they printed and the namespace. Databases left
    open are closed."""
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            for block in blocks:
                exec(compile(block.code, block.where, "exec"), namespace)
    finally:
        for value in namespace.values():
            if isinstance(value, Database):
                value.close()
    return out.getvalue(), namespace


def make_contracts(folder: Path) -> None:
    """Two contract PDFs and a third encrypted with a password (it fails to ingest, as docs/ingest.md shows)."""
    from pypdf import PdfReader, PdfWriter

    folder.mkdir()
    for name in CONTRACT_PDFS:
        shutil.copy(CORPUS / name, folder / name)
    writer = PdfWriter()
    writer.add_page(PdfReader(CORPUS / CONTRACT_PDFS[0]).pages[0])
    writer.encrypt(user_password="secret", owner_password="secret", algorithm="AES-256")
    with (folder / "locked.pdf").open("wb") as handle:
        writer.write(handle)


def prepare(where: Path, quick_start_db: Path | None = None) -> None:
    """What the examples name, in ``where``."""
    shutil.copytree(ROOT / "docs", where / "docs")
    shutil.copytree(ROOT / "examples", where / "examples")
    make_contracts(where / "contracts")
    if quick_start_db is not None:
        shutil.copytree(quick_start_db, where / "my-db")


@contextlib.contextmanager
def inside(where: Path) -> Iterator[None]:
    """``where`` as working directory, with ``P8_HOME``/``P8_DB_PATH`` under it and no other ``P8_*``."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("P8_")]:
            patch.delenv(name)
        patch.setenv("P8_HOME", str(where / "home"))
        patch.setenv("P8_DB_PATH", str(where / "db"))
        patch.chdir(where)
        yield


@dataclass
class QuickStart:
    """The README's Python examples, run once per session: their directory and what they printed."""

    path: Path
    printed: str


@pytest.fixture(scope="session")
def quick_start(tmp_path_factory: pytest.TempPathFactory) -> QuickStart:
    where = tmp_path_factory.mktemp("readme")
    prepare(where)
    with inside(where):
        printed, _ = run_python(runnable(README, "python"))
    return QuickStart(where, printed)


def test_markers_name_a_reason_and_every_block_is_seen() -> None:
    for path in DOC_FILES:
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            if "not-tested" in line:
                assert MARKER.match(line.strip()), f"{path.name}: a not-tested marker needs a reason: {line!r}"
        fences = sum(1 for line in text.splitlines() if FENCE.match(line))
        assert fences == 2 * len(code_blocks(path)), f"{path.name}: an unclosed code fence"
    assert runnable(README, "python") and runnable(README, "bash")


def test_readme_python_quick_start_prints_what_it_says(quick_start: QuickStart) -> None:
    printed = quick_start.printed.splitlines()
    readme = README.read_text(encoding="utf-8")
    assert printed[0] in readme  # the deterministic id in the comment is the one printed
    assert printed[1] == "3.5 2"
    assert printed[2].startswith("notes://1 ")  # the fern note answers the dark-bathroom question
    assert printed[3].startswith("{'files': ") and printed[3].endswith("[]")  # docs/ ingested, nothing failed
    assert printed[4] == "1 1"  # insert_jsonl: one row, one chunk
    assert printed[5] == "digraph traverse {" and "bigger_than" in quick_start.printed
    assert printed[-1].startswith("{'field': 'product_code'")
    assert (quick_start.path / "out" / "product.parquet").is_file()
    assert (quick_start.path / "dump" / "manifest.json").is_file()


@pytest.mark.parametrize("path", files_with("python", docs_only=True))
def test_docs_python_examples_run(path: Path, quick_start: QuickStart, tmp_path: Path) -> None:
    prepare(tmp_path, quick_start.path / "my-db")
    with inside(tmp_path):
        _, namespace = run_python(runnable(path, "python"))
    if path.name == "ingest.md":  # the folder the test provides gives the report the page shows
        summary = namespace["report"].summary()
        assert (summary["files"], summary["added"], summary["failed"]) == (3, 2, 1)
        assert namespace["report"].failed[0].reason.startswith("encrypted PDF: a password is needed")


@pytest.mark.parametrize("path", files_with("bash"))
def test_shell_examples_run(path: Path, quick_start: QuickStart, tmp_path: Path) -> None:
    prepare(tmp_path, None if path == README else quick_start.path / "my-db")
    script = "".join(block.code for block in runnable(path, "bash"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("P8_")}
    env.update({"P8_HOME": str(tmp_path / "home"), "P8_DB_PATH": str(tmp_path / "db"), "NO_COLOR": "1",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"})
    proc = subprocess.run(["bash", "-euxo", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"{path.name}: a shell example failed:\n{proc.stderr[-4000:]}"
    assert "Traceback" not in proc.stderr
    if path == README:
        assert "inserted 24 rows into plant" in proc.stderr
        assert "digraph traverse {" in proc.stdout and "looks_like" in proc.stdout
        assert "resources" in proc.stdout  # the search found chunks of the ingested docs
        assert (tmp_path / "dump" / "manifest.json").is_file()
