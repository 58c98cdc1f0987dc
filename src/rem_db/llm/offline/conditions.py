"""Conditions a question states on one table: values of enum and known fields ("pots", "in France", "not
shipped"), number comparisons ("cheaper than 10", "at least 20 in stock", "between 5 and 10", "out of
stock") and dates ("after March 2022", "in the last 30 days", "in 2023", "this month"; relative to now)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field

from ..context import FieldInfo
from .build import Condition
from .text import Token, number
from .vocab import QUANTITY_NAMES, RATING_NAMES, TableVocab

_LESS = ("under", "below", "less than", "cheaper than", "lower than", "fewer than", "smaller than", "beneath",
         "less then", "lt", "<")
_AT_MOST = ("at most", "up to", "no more than", "not more than", "maximum", "max", "<=", "or less", "or fewer",
            "or cheaper", "and under", "or below")
_MORE = ("over", "above", "more than", "greater than", "higher than", "pricier than", "more expensive than",
         "bigger than", "larger than", "exceeding", "gt", ">")
_AT_LEAST = ("at least", "no less than", "minimum", "min", ">=", "or more", "and up", "and above", "or above",
             "plus")
_EQUAL = ("exactly", "equal to", "equals", "=")
_NEGATE = ("not", "non", "except", "excluding", "without", "other than", "isn't", "aren't", "never")
MONEY_WORDS = ("cheap", "cheaper", "cheapest", "expensive", "pricier", "priciest", "cost", "costs", "costing",
               "price", "priced", "euro", "euros", "eur", "dollar", "dollars", "usd", "pound", "pounds", "budget",
               "spend", "spent", "worth", "value", "€", "$", "£")
QUANTITY_WORDS = ("stock", "units", "left", "inventory", "available", "quantity", "items", "pieces")
RATING_WORDS = ("rated", "rating", "stars", "star", "score")
MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
_UNITS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "month": 30, "months": 30, "year": 365, "years": 365}


@dataclass
class Found:
    """Conditions and the token indexes they used, plus words that named a field role (money, quantity)."""

    conditions: list[Condition] = field(default_factory=list)
    used: set[int] = field(default_factory=set)


def _phrase_before(toks: list[Token], i: int, phrases: tuple[str, ...], lowered: str) -> tuple[str, int] | None:
    """The phrase among ``phrases`` that ends right before token ``i`` (allowing one filler word such as a
    currency word between), with the index of its first token."""
    for back in (1, 2):
        if i - back < 0:
            break
        for phrase in sorted(phrases, key=len, reverse=True):
            words = phrase.split()
            start = i - back - len(words) + 1
            if start < 0:
                continue
            if [t.lower for t in toks[start:i - back + 1]] == words:
                return phrase, start
    return None


def _phrase_after(toks: list[Token], i: int, phrases: tuple[str, ...]) -> tuple[str, int] | None:
    for phrase in sorted(phrases, key=len, reverse=True):
        words = phrase.split()
        for skip in (0, 1):
            stop = i + 1 + skip + len(words)
            if stop <= len(toks) and [t.lower for t in toks[i + 1 + skip:stop]] == words:
                return phrase, stop - 1
    return None


def _field_near(toks: list[Token], i: int, table: TableVocab, used: set[int]) -> tuple[FieldInfo | None, set[int]]:
    """The numeric field a comparison at token ``i`` is about: a field named within four tokens (nearest
    first), else one implied by a role word (cheaper -> money, in stock -> quantity, rated -> rating)."""
    numeric = {f.name for f in table.numeric()}
    order = sorted(range(max(0, i - 5), min(len(toks), i + 5)), key=lambda k: abs(k - i))
    for k in order:
        if k == i:
            continue
        f = table.field_mentioned(toks[k])
        if f is not None and f.name in numeric:
            return f, {k}
    window = [toks[k] for k in order]
    for words, pick in ((QUANTITY_WORDS, lambda: table.role(QUANTITY_NAMES)),
                        (RATING_WORDS, lambda: table.role(RATING_NAMES)),
                        (MONEY_WORDS, table.money)):
        hits = {t.index for t in window if t.lower in words}
        if hits:
            f = pick()
            if f is not None:
                return f, hits
    return None, set()


def numbers(toks: list[Token], table: TableVocab, used: set[int], text: str) -> Found:
    found = Found()
    lowered = text.lower()
    n = 0
    while n < len(toks):
        tok = toks[n]
        value = number(tok.text)
        if value is None or n in used:
            n += 1
            continue
        # between A and B
        if n >= 1 and toks[n - 1].lower == "between" and n + 2 < len(toks) and toks[n + 1].lower == "and" \
                and number(toks[n + 2].text) is not None:
            f, hits = _field_near(toks, n, table, used)
            if f is not None:
                high = number(toks[n + 2].text)
                found.conditions += [Condition(f.name, ">=", value), Condition(f.name, "<=", high)]
                found.used |= {n - 1, n, n + 1, n + 2} | hits
                n += 3
                continue
        op, words = None, set()
        comparisons: tuple[tuple[tuple[str, ...], str], ...] = (
            (_AT_MOST, "<="), (_LESS, "<"), (_AT_LEAST, ">="), (_MORE, ">"), (_EQUAL, "="))
        for phrases, symbol in comparisons:
            before = _phrase_before(toks, n, phrases, lowered)
            if before is not None:
                op, words = symbol, set(range(before[1], n))
                break
        if op is None:
            after_words: tuple[tuple[tuple[str, ...], str], ...] = (
                (("or less", "or fewer", "or cheaper", "or below", "and under"), "<="),
                (("or more", "and up", "and above", "or above", "plus"), ">="))
            for phrases, symbol in after_words:
                after = _phrase_after(toks, n, phrases)
                if after is not None:
                    op, words = symbol, set(range(n + 1, after[1] + 1))
                    break
        if op is None:
            n += 1
            continue
        f, hits = _field_near(toks, n, table, used)
        if f is None:
            n += 1
            continue
        if f.type == "integer" and isinstance(value, float) and value.is_integer():
            value = int(value)
        found.conditions.append(Condition(f.name, op, value))
        found.used |= {n} | words | hits
        n += 1
    return found


def stock_phrases(toks: list[Token], table: TableVocab, used: set[int]) -> Found:
    """``out of stock`` / ``sold out`` -> quantity = 0; ``in stock`` / ``available`` -> quantity > 0."""
    found = Found()
    quantity = table.role(QUANTITY_NAMES)
    if quantity is None:
        return found
    words = [t.lower for t in toks]
    for n in range(len(words)):
        if n in used:
            continue
        if words[n:n + 3] == ["out", "of", "stock"] or words[n:n + 2] == ["sold", "out"]:
            span = 3 if words[n] == "out" else 2
            found.conditions.append(Condition(quantity.name, "=", 0))
            found.used |= set(range(n, n + span))
        elif words[n:n + 2] == ["in", "stock"] and not (n + 2 < len(words) and number(words[n + 2]) is not None) \
                and not (n >= 1 and number(words[n - 1]) is not None):
            found.conditions.append(Condition(quantity.name, ">", 0))
            found.used |= {n, n + 1}
    return found


def values(toks: list[Token], table: TableVocab, used: set[int]) -> Found:
    """Enum and known values of the table's fields, as ``=`` (``IN`` for several values of one field; ``!=`` /
    ``NOT IN`` after a negation word)."""
    found = Found()
    by_field: dict[tuple[str, bool], list[object]] = {}
    taken: set[int] = set()
    for size in (3, 2, 1):
        for i in range(len(toks) - size + 1):
            span = range(i, i + size)
            if any(k in used or k in taken for k in span):
                continue
            words = [toks[k] for k in span]
            text = " ".join(t.lower for t in words)
            hit = table.values.get(text)
            if hit is None and size == 1:  # plural / singular: "pot" for "pots", "plant" for "plants"
                hit = next((v for low, v in table.values.items() if " " not in low and
                            (low.rstrip("s") == text.rstrip("s")) and len(text) > 3), None)
            if hit is None:
                continue
            negated = i >= 1 and toks[i - 1].lower in _NEGATE
            by_field.setdefault((hit[0], negated), [])
            if hit[1] not in by_field[(hit[0], negated)]:
                by_field[(hit[0], negated)].append(hit[1])
            taken.update(span)
            if negated:
                taken.add(i - 1)
            # "in category pots": the field's own name nearby is understood too
            for k in (i - 1, i - 2, i + size):
                if 0 <= k < len(toks) and table.field_mentioned(toks[k]) is not None \
                        and table.field_mentioned(toks[k]).name == hit[0]:  # type: ignore[union-attr]
                    taken.add(k)
    for (name, negated), vals in by_field.items():
        if len(vals) == 1:
            found.conditions.append(Condition(name, "!=" if negated else "=", vals[0]))
        else:
            found.conditions.append(Condition(name, "NOT IN" if negated else "IN", tuple(vals)))
    found.used = taken
    return found


# -- dates -------------------------------------------------------------------------------------------------
def _iso(day: dt.datetime) -> str:
    return day.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _month_start(year: int, month: int) -> dt.datetime:
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def _next_month(year: int, month: int) -> dt.datetime:
    return _month_start(year + (month == 12), 1 if month == 12 else month + 1)


_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _period(toks: list[Token], i: int, now: dt.datetime) -> tuple[dt.datetime, dt.datetime, int] | None:
    """The period named from token ``i``: ``(start, end, tokens used)``; a month without a year is its latest
    occurrence up to now."""
    word = toks[i].lower
    nxt = toks[i + 1].lower if i + 1 < len(toks) else ""
    if word in MONTHS:
        month = MONTHS[word]
        if re.fullmatch(r"\d{4}", nxt):
            year, used = int(nxt), 2
        else:
            year, used = (now.year if month <= now.month else now.year - 1), 1
        return _month_start(year, month), _next_month(year, month), used
    if re.fullmatch(r"\d{4}", word) and 1900 <= int(word) <= 2200:
        year = int(word)
        return dt.datetime(year, 1, 1, tzinfo=dt.UTC), dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC), 1
    m = _DATE_RE.match(word)
    if m:
        try:
            day = dt.datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=dt.UTC)
        except ValueError:
            return None
        return day, day + dt.timedelta(days=1), 1
    return None


def dates(toks: list[Token], table: TableVocab, used: set[int], now: dt.datetime) -> Found:
    found = Found()
    candidates = table.dates()
    if not candidates:
        return found
    words = [t.lower for t in toks]
    field_name, field_tokens = candidates[0].name, set()
    for t in toks:  # "hired", "placed", "joined" name their date field
        f = table.field_mentioned(t)
        if f is not None and f in candidates:
            field_name, field_tokens = f.name, {t.index}
            break
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    n = 0
    while n < len(toks):
        if n in used:
            n += 1
            continue
        w = words[n]
        start: dt.datetime | None = None
        end: dt.datetime | None = None
        span = 0
        if w in ("last", "past", "previous", "recent") and n + 1 < len(toks):
            count, k = 1, n + 1
            if number(words[k]) is not None:
                count, k = int(float(number(words[k]) or 1)), k + 1
            if k < len(toks) and words[k] in _UNITS:
                start, span = now - dt.timedelta(days=count * _UNITS[words[k]]), k - n + 1
        elif w == "this" and n + 1 < len(toks) and words[n + 1] in ("week", "month", "year"):
            unit = words[n + 1]
            start = {"week": today - dt.timedelta(days=today.weekday()),
                     "month": today.replace(day=1), "year": today.replace(month=1, day=1)}[unit]
            span = 2
        elif w == "today":
            start, span = today, 1
        elif w == "yesterday":
            start, end, span = today - dt.timedelta(days=1), today, 1
        elif w in ("after", "since", "before", "until", "till", "in", "during", "from", "by", "of") \
                and n + 1 < len(toks):
            k = n + 1
            if words[k] == "the" and k + 1 < len(toks):
                k += 1
            period = _period(toks, k, now)
            if period is not None:
                p_start, p_end, used_n = period
                span = k - n + used_n
                if w == "after":
                    start = p_end
                elif w in ("since", "from"):
                    start = p_start
                elif w in ("before", "by"):
                    end = p_start
                elif w in ("until", "till"):
                    end = p_end
                else:
                    start, end = p_start, p_end
        if span:
            if start is not None:
                found.conditions.append(Condition(field_name, ">=", _iso(start)))
            if end is not None:
                found.conditions.append(Condition(field_name, "<", _iso(end)))
            found.used |= set(range(n, n + span)) | field_tokens
            n += span
            continue
        n += 1
    return found
