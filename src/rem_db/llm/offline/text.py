"""Words of a question: tokens with their positions, light stemming and the words that carry no meaning here."""

from __future__ import annotations

import re
from dataclasses import dataclass


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: a number (``12``, ``9.5``, ``1,5``), or a word that may hold digits, ``-``, ``_``, ``'`` and ``.`` inside
#: (``PP-1002-LG``, ``o'brien``, ``e.g``); any script
_WORD = re.compile(r"\d+(?:[.,]\d+)?(?![\w-])|[^\W_](?:[\w\-'.]*[^\W_])?")

STOP = _words("""
a an the of to in on at by for from with and or but is are was were be been being am do does did done have has
had i me my we our us you your he she it its they them their this that these those there here what which who
whom whose when where why how can could would should will shall may might must please show list give find get
tell see let all any some each every other another one ones much many more most less least than then so such
as into about over under up down out off again also just only very too not no nor yes ok okay thing things
stuff something anything everything someone anyone everyone want need looking look like know i'm i'd what's
who's where's there's them's display fetch bring name names named called currently current ever still already
""")

#: words that ask for something rather than describe it (never search text on their own)
REQUEST = _words("show list give find get tell display fetch see look looking want need")


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # as written
    lower: str
    stem: str
    start: int  # character offsets in the question
    end: int
    index: int  # position among the tokens

    @property
    def is_number(self) -> bool:
        return number(self.text) is not None

    @property
    def is_stop(self) -> bool:
        return self.lower in STOP


def stem(word: str) -> str:
    """A light English stem: plural, -ing, -ed and a final e removed (``supplies`` / ``supplied`` -> ``supply``,
    ``hired`` / ``hire`` -> ``hir``, ``categories`` -> ``category``)."""
    w = word.lower()
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) <= 3:
        return w
    if (w.endswith("ies") and len(w) > 4) or (w.endswith("ied") and len(w) > 4):
        w = w[:-3] + "y"
    elif w.endswith(("sses", "shes", "ches", "xes", "zes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    elif w.endswith("ing") and len(w) > 5:
        w = w[:-3]
    elif w.endswith("ed") and len(w) > 4:
        w = w[:-2]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


def similar(a: str, b: str) -> bool:
    """Two stems name the same thing: equal, or sharing a prefix of at least 5 characters that covers all but
    two characters of the shorter one (``supply`` ~ ``supplier``)."""
    if a == b:
        return True
    short = min(len(a), len(b))
    if short < 5:
        return False
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return common >= 5 and common >= short - 2


def tokens(question: str) -> list[Token]:
    out = []
    for n, m in enumerate(_WORD.finditer(question)):
        text = m.group(0)
        out.append(Token(text, text.lower(), stem(text), m.start(), m.end(), n))
    return out


def number(text: str) -> float | int | None:
    """``12`` -> 12, ``9.5`` / ``9,5`` -> 9.5; anything else None."""
    if not re.fullmatch(r"\d+(?:[.,]\d+)?", text):
        return None
    if "." in text or "," in text:
        return float(text.replace(",", "."))
    return int(text)


def name_words(name: str) -> list[str]:
    """Stems of the words of a field or table name (``placed_at`` -> ``plac``, ``at``)."""
    return [stem(part) for part in re.split(r"[_\W]+", name) if part]


def content(toks: list[Token]) -> list[Token]:
    """The tokens that carry meaning (not stop words)."""
    return [t for t in toks if not t.is_stop]
