"""The simulator's small SLS query engine, over diagnostic rows (dicts of strings).

Enough of https://www.alibabacloud.com/help/en/sls/user-guide/search-syntax and the SQL of
https://www.alibabacloud.com/help/doc-detail/63470.htm for the monitor's queries and
Alibaba's export alert templates:
- search: `*`, `key: value` and `"key" <op> number` terms joined by `and`, optionally in
  parentheses; a key may name a JSON sub-key (`"_etl_:connector_metrics.state"`);
- SQL: `select item, ... from log [where term and ...] [group by field, ...] [limit n]`
  with items `field`, `count(*)`, `sum|min|max|avg(field)` and `array_agg(distinct field)`,
  each optionally `as alias`.
Every value comes back as a string (`null` for a missing one), as SLS returns them.
Anything else is a `QueryError`, which the server answers as 400 ParameterInvalid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping

Row = Mapping[str, str]
DEFAULT_SQL_LIMIT = 100  # "an analytic statement returns 100 rows unless it has LIMIT"

_TERM = re.compile(
    r'\s*(?:"(?P<qkey>[^"]+)"|(?P<key>[\w:.]+))\s*'
    r"(?P<op>:|>=|<=|!=|=|>|<)\s*(?:'(?P<sval>[^']*)'|\"(?P<dval>[^\"]*)\"|(?P<val>[^\s()]+))\s*"
)
_ITEM = re.compile(
    r"\s*(?P<expr>.+?)(?:\s+as\s+(?P<alias>\"[^\"]+\"|\w+))?\s*$", re.IGNORECASE | re.DOTALL
)
_CALL = re.compile(r"(?P<fn>\w+)\s*\(\s*(?P<distinct>distinct\s+)?(?P<arg>.*?)\s*\)$", re.I)
_SQL = re.compile(
    r"^\s*select\s+(?P<items>.+?)\s+from\s+log"
    r"(?:\s+where\s+(?P<where>.+?))?"
    r"(?:\s+group\s+by\s+(?P<group>.+?))?"
    r"(?:\s+limit\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)


class QueryError(ValueError):
    pass


def field_value(row: Row, name: str) -> str | None:
    """A top-level field, or `json_field.sub_key` inside a JSON-valued field."""
    if name in row:
        return row[name]
    head, dot, key = name.rpartition(".")
    if not dot or head not in row:
        return None
    try:
        parsed = json.loads(row[head])
    except ValueError:
        return None
    if not isinstance(parsed, dict) or key not in parsed:
        return None
    value = parsed[key]
    return value if isinstance(value, str) else json.dumps(value)


def run_query(query: str, rows: Iterable[Row]) -> tuple[list[dict[str, str]], bool]:
    """(result rows, whether the query had SQL) for `query` over `rows`."""
    search, bar, sql = _split_bar(query)
    matches = _search_filter(search)
    selected = [row for row in rows if matches(row)]
    if not bar:
        return [dict(row) for row in selected], False
    return _run_sql(sql, selected), True


def _split_bar(query: str) -> tuple[str, bool, str]:
    parts = _split_top(query, "|", maxsplit=1)
    return (parts[0], True, parts[1]) if len(parts) == 2 else (query, False, "")


def _search_filter(text: str) -> Callable[[Row], bool]:
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    if text in ("", "*"):
        return lambda row: True
    terms = [_term(part) for part in re.split(r"\s+and\s+", text, flags=re.IGNORECASE)]
    return lambda row: all(term(row) for term in terms)


def _term(text: str) -> Callable[[Row], bool]:
    match = _TERM.fullmatch(text)
    if match is None:
        raise QueryError(f"invalid query: cannot parse {text.strip()!r}")
    key = match["qkey"] or match["key"]
    op = match["op"]
    wanted = next(v for v in (match["sval"], match["dval"], match["val"]) if v is not None)
    if op in (":", "=", "!="):
        equal = op != "!="
        return lambda row: (field_value(row, key) == wanted) is equal
    try:
        bound = float(wanted)
    except ValueError:
        raise QueryError(f"invalid query: {wanted!r} is not a number") from None
    compare = {
        ">": float.__gt__,
        ">=": float.__ge__,
        "<": float.__lt__,
        "<=": float.__le__,
    }[op]
    return lambda row: (
        _number(field_value(row, key)) is not None
        and compare(_number(field_value(row, key)), bound)
    )


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _split_top(text: str, separator: str, maxsplit: int = -1) -> list[str]:
    """`text` split at `separator` where it is outside quotes and parentheses."""
    parts, depth, quote, start = [], 0, "", 0
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == separator and depth == 0 and len(parts) != maxsplit:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _split_items(text: str) -> list[str]:
    return [item.strip() for item in _split_top(text, ",") if item.strip()]


def _name(text: str) -> str:
    text = text.strip()
    return text[1:-1] if text.startswith('"') and text.endswith('"') else text


def _run_sql(sql: str, rows: list[Row]) -> list[dict[str, str]]:
    match = _SQL.match(sql)
    if match is None:
        raise QueryError(f"invalid query: unsupported SQL {sql.strip()[:80]!r}")
    if match["where"]:
        keep = _search_filter(match["where"])
        rows = [row for row in rows if keep(row)]
    items = [_ITEM.match(item) for item in _split_items(match["items"])]
    columns = [(_name(m["alias"] or m["expr"]), m["expr"].strip()) for m in items if m]
    keys = [_name(part) for part in _split_items(match["group"] or "")]
    groups: dict[tuple, list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(field_value(row, k) for k in keys), []).append(row)
    if not keys and not groups:
        groups[()] = []
    limit = int(match["limit"]) if match["limit"] else DEFAULT_SQL_LIMIT
    return [
        {alias: _evaluate(expr, members) for alias, expr in columns}
        for members in list(groups.values())[:limit]
    ]


def _evaluate(expr: str, rows: list[Row]) -> str:
    call = _CALL.match(expr)
    if call is None:
        value = field_value(rows[0], _name(expr)) if rows else None
        return "null" if value is None else value
    fn, arg = call["fn"].lower(), call["arg"]
    if fn == "count" and arg == "*":
        return str(len(rows))
    values = [field_value(row, _name(arg)) for row in rows]
    present = [v for v in values if v is not None]
    if fn == "array_agg":
        distinct = list(dict.fromkeys(present)) if call["distinct"] else present
        return json.dumps(distinct, ensure_ascii=False, separators=(",", ":"))
    numbers = [n for n in (_number(v) for v in present) if n is not None]
    if fn not in ("sum", "min", "max", "avg"):
        raise QueryError(f"invalid query: function {fn} is not supported by the simulator")
    if not numbers:
        return "null"
    result = {
        "sum": sum(numbers),
        "min": min(numbers),
        "max": max(numbers),
        "avg": sum(numbers) / len(numbers),
    }[fn]
    return _render(result)


def _render(number: float) -> str:
    return str(int(number)) if number.is_integer() else repr(number)
