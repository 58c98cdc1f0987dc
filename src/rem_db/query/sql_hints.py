"""Words for the SQL messages: the keyword a misspelt word most likely is, what to use instead of a statement a
query cannot run, and sqlglot's parse errors retold in the user's terms (never its class names)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .lexical import LexicalError, Token, tokens

# What to use instead of a statement that a query cannot run.
INSTEAD = {
    **dict.fromkeys(("insert", "upsert", "replace", "merge"),
                    "write rows with Database.insert / insert_batch / upsert, or `rem insert` / `rem upsert`"),
    "update": "change a row with Database.update(id, patch), or `rem update`",
    "delete": "delete a row with Database.delete(id), or `rem delete`",
    "truncate": "delete rows with Database.delete / `rem delete`, or drop the table with Database.remove_schema "
                "/ `rem schema remove`",
    **dict.fromkeys(("create", "alter"), "a table is made by registering its schema: Database.register_schema, "
                                         "or `rem schema add`"),
    "drop": "drop a table with Database.remove_schema, or `rem schema remove`",
    **dict.fromkeys(("show", "describe", "desc", "pragma"),
                    "list tables with Database.list_schemas / `rem schema list`, and see one with "
                    "Database.get_schema / `rem schema show NAME`"),
    **dict.fromkeys(("begin", "start", "commit", "rollback", "abort", "savepoint", "release", "end"),
                    "there are no transactions: every write is atomic, and insert_batch writes a whole batch "
                    "atomically"),
    **dict.fromkeys(("copy", "export"), "export a table with Database.export, or `rem export`"),
    **dict.fromkeys(("import", "load"), "read files with Database.ingest, or `rem ingest`"),
}
OTHER_STATEMENTS = frozenset((
    "attach", "detach", "install", "use", "set", "reset", "vacuum", "checkpoint", "analyze", "analyse", "call",
    "execute", "prepare", "deallocate", "grant", "revoke", "comment", "refresh", "summarize", "pivot", "unpivot",
    "values", "kill", "lock", "unlock", "cache", "uncache", "optimize", "rename", "declare", "do", "exec",
))


def close_keyword(word: str, candidates: Iterable[str]) -> str | None:
    """The keyword (``candidates``, first word compared) a word is a likely misspelling of, or ``None``."""
    upper = word.upper()
    best: tuple[int, str] | None = None
    for cand in candidates:
        head = cand.split()[0]
        if upper == head:
            continue
        limit = 1 if len(head) <= 4 else 2
        dist = _distance(upper, head) * 2 + (upper[:1] != head[:1])  # ties go to the same first letter
        if dist <= limit * 2 + 1 and len(upper) >= 2 and (best is None or dist < best[0]):
            best = (dist, cand)
    return best[1] if best else None


def _distance(a: str, b: str) -> int:
    """Edit distance counting a swap of two neighbours as one edit (optimal string alignment)."""
    if abs(len(a) - len(b)) > 2:
        return 3
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def next_token(text: str, pos: int) -> Token | None:
    try:
        found = tokens(text, pos)
    except LexicalError:
        return None
    return found[0] if found and found[0].kind != "end" else None



# -- sqlglot's parse errors, in the user's terms --------------------------------------------------------
_REQUIRED = re.compile(r"Required keyword: '\w+' missing for <class '(?:[\w]+\.)*(\w+)'>")
_CLASS = re.compile(r"<class '(?:[\w]+\.)*(\w+)'>")
_MULTIPLE = re.compile(r"Found multiple '([\w ]+)' clauses")
_NODE_NAMES = {
    "EQ": "'='", "NEQ": "'!='", "GT": "'>'", "GTE": "'>='", "LT": "'<'", "LTE": "'<='", "Add": "'+'", "Sub": "'-'",
    "Mul": "'*'", "Div": "'/'", "Mod": "'%'", "Neg": "'-'", "DPipe": "'||'", "And": "AND", "Or": "OR", "Not": "NOT",
    "Between": "BETWEEN", "Like": "LIKE", "ILike": "ILIKE", "In": "IN", "Is": "IS", "Escape": "ESCAPE",
    "Where": "WHERE", "Group": "GROUP BY", "Order": "ORDER BY", "Ordered": "ORDER BY", "Limit": "LIMIT",
    "Offset": "OFFSET", "Column": "a column name", "Dot": "a dotted name", "Alias": "AS", "Cast": "CAST",
    "Paren": "'('", "Tuple": "a list", "Count": "COUNT", "Sum": "SUM", "Avg": "AVG", "Min": "MIN", "Max": "MAX",
}


def parse_error_message(description: str, text: str, pos: int) -> str:
    """A message for one of sqlglot's parse errors (``description``, at offset ``pos`` of ``text``) that names
    the token there and never sqlglot's classes."""
    tok = next_token(text, pos) if pos >= 0 else None
    shown = "end of query" if tok is None else f"'{tok.text[:40]}'"
    if "Invalid expression / Unexpected token" in description:
        return f"syntax error: unexpected {shown}"
    required = _REQUIRED.search(description)
    if required is not None:
        name = _NODE_NAMES.get(required.group(1), required.group(1).upper())
        return f"syntax error: {name} is incomplete at {shown}"
    if description.startswith("Expecting )"):
        return f"syntax error: a ')' is missing before {shown}"
    if description.startswith("Expected table name"):
        return f"syntax error: a table name is expected at {shown}"
    closing = re.match(r"Expected ([\]})])", description)
    if closing is not None:
        return f"syntax error: a '{closing.group(1)}' is missing before {shown}"
    if description.startswith("Expected type"):
        return f"syntax error: a type name is expected at {shown}"
    arguments = re.match(r"The number of provided arguments \((\d+)\) is greater than the maximum number of "
                         r"supported arguments \((\d+)\)", description)
    if arguments is not None:
        name = _function_at(text, pos)
        return (f"syntax error: {name or 'a function'} is given {arguments.group(1)} arguments, but takes at most "
                f"{arguments.group(2)}")
    multiple = _MULTIPLE.search(description)
    if multiple is not None:
        return f"syntax error: {multiple.group(1).upper()} is given twice"
    cleaned = _CLASS.sub(lambda m: _NODE_NAMES.get(m.group(1), m.group(1).upper()), description)
    return f"syntax error: {cleaned} (at {shown})"


def _function_at(text: str, pos: int) -> str | None:
    """The name of the function whose argument list is open at offset ``pos`` (``NAME()``), if any."""
    try:
        found = tokens(text, 0, pos)
    except LexicalError:
        return None
    opened: list[int] = []
    for k, tok in enumerate(found):
        if tok.is_op("("):
            opened.append(k)
        elif tok.is_op(")") and opened:
            opened.pop()
    if opened and opened[-1] > 0 and found[opened[-1] - 1].kind == "word":
        return f"{found[opened[-1] - 1].text.upper()}()"
    return None
