"""Interleaved A/B runs of a bench script's ``measure`` mode: each run a fresh process printing one JSON line,
the committed package (``--old-code SRC``, put first on ``PYTHONPATH``) and this tree alternating, medians.

    git archive HEAD src | tar -x -C /tmp/base    # then --old-code /tmp/base/src
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def run(script: str, path: Path, code: str | None) -> dict[str, float]:
    """``python SCRIPT measure PATH`` with the package at ``code`` (None: this tree); its last JSON line."""
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = code
    done = subprocess.run([sys.executable, script, "measure", str(path)], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def ab(script: str, path: Path, old_code: str, rounds: int) -> None:
    """``rounds`` runs of each version, the order swapped every round; prints each run, then the medians."""
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for r in range(rounds):
        order = (("before", old_code), ("after", None)) if r % 2 == 0 else (("after", None), ("before", old_code))
        for name, code in order:
            runs[name].append(run(script, path, code))
            print(name, r, json.dumps(runs[name][-1]), flush=True)
    for key in runs["before"][0]:
        before = statistics.median(x[key] for x in runs["before"])
        after = statistics.median(x[key] for x in runs["after"])
        print(f"{key}: before {before:.3f}  after {after:.3f}  after/before {after / before:.2f}")


def main(script: str, doc: str | None, measure: Callable[[Path], dict[str, float]],
         build: Callable[[Path], None] | None = None, rounds: int = 4) -> None:
    """The command line of such a script: ``[build] | measure [--code SRC] | ab --old-code SRC [--rounds N]``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=(("build",) if build else ()) + ("measure", "ab"))
    parser.add_argument("path", type=Path)
    parser.add_argument("--code", help="run this copy of the package (a src directory)")
    parser.add_argument("--old-code", help="ab: the src directory of the version to compare with")
    parser.add_argument("--rounds", type=int, default=rounds)
    args = parser.parse_args()
    if args.mode == "build" and build is not None:
        build(args.path)
    elif args.mode == "ab":
        if not args.old_code:
            parser.error("ab needs --old-code")
        ab(script, args.path, args.old_code, args.rounds)
    elif args.code:
        print(json.dumps(run(script, args.path, args.code)))
    else:
        print(json.dumps(measure(args.path)))
