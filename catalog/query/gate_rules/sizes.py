"""Build sizes: functions that build one list or string in memory in a single step, which neither DuckDB
nor Spark can interrupt (`repeat('x', 5000000*20)`, `array_repeat(1, 900000000)` kill the worker).

Each size argument is folded to a number here, by the gate (arithmetic, casts, powers, greatest/least,
nested builders multiply): a size that is not a constant is refused, and so is one over MAX_BUILD.
A `range`/`generate_series` in FROM streams its rows on DuckDB and is left to the time limit; on Spark
it becomes `explode(sequence(...))`, a built array, and is checked on the Spark rendering.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Iterable

from sqlglot import exp

from catalog.errors import QueryRejected

MAX_BUILD = 10_000_000
_INFINITE = float("inf")

# Anonymous builders: name -> (index of the size argument, index of the element whose size multiplies it).
_BY_NAME: dict[str, tuple[int, int | None]] = {
    "list_resize": (1, None), "array_resize": (1, None), "array_repeat": (1, 0), "equi_width_bins": (2, None),
    "bitstring": (1, None), "to_base": (2, None), "bar": (3, None), "format_number": (1, None),
    "space": (0, None), "randstr": (0, None), "repeat": (1, 0), "lpad": (1, None), "rpad": (1, None),
}
_FORMATTERS = {"printf", "format", "format_string"}


def check(calls: Iterable[exp.Func]) -> None:
    """Refuse the first of a tree's `calls` (its exp.Func nodes) that builds a value whose size is not a
    constant or exceeds MAX_BUILD."""
    for node in calls:
        _check_node(node)


def _check_node(node: exp.Expression) -> None:
    if isinstance(node, exp.Format) or (isinstance(node, exp.Anonymous) and node.name.lower() in _FORMATTERS):
        _check_format(node)
        return
    if isinstance(node, exp.GenerateSeries) and isinstance(node.parent, exp.Table):
        return  # FROM range(n) streams its rows (DuckDB); the Spark rendering is checked separately
    size = build_size(node)
    if size is not None and size > MAX_BUILD:
        label = _label(node)
        shown = "more than 10^18" if size == _INFINITE or size > 1e18 else f"{int(size):,}"
        raise QueryRejected(f"`{label}` would build one value of {shown} elements in memory, which cannot be "
                            f"interrupted; sizes are computed (arithmetic included) and must stay under "
                            f"{MAX_BUILD:,}.")


def build_size(node: exp.Expression) -> float | None:
    """Elements (or characters) `node` builds in one step, or None when it is not a builder."""
    if isinstance(node, exp.GenerateSeries):
        start, end = _instant(node.args.get("start")), _instant(node.args.get("end"))
        if start is not None and end is not None:  # a calendar: DATE/TIMESTAMP bounds, an INTERVAL step
            step = _interval(node.args.get("step")) if node.args.get("step") else 86400.0
            if step is None:
                _number(None, node, "step")
        else:
            start, end = _number(node.args.get("start"), node, "start"), _number(node.args.get("end"), node, "end")
            step = _number(node.args["step"], node, "step") if node.args.get("step") else 1.0
        if step == 0:
            return _INFINITE
        span = (end - start) / step
        if span == _INFINITE or math.isnan(span):
            return _INFINITE
        return max(0.0, math.ceil(span) if node.args.get("is_end_exclusive") else math.floor(span) + 1)
    if isinstance(node, exp.Repeat):
        return _number(node.args.get("times"), node, "count") * max(1.0, element_size(node.this))
    if isinstance(node, exp.Pad):
        return _number(node.expression, node, "length")
    if isinstance(node, (exp.Space, exp.Randstr)):
        return _number(node.this, node, "length")
    if isinstance(node, exp.Anonymous) and node.name.lower() == "sequence" and len(node.expressions) >= 2:
        start, end, *step = node.expressions  # Spark's sequence(start, stop[, step]), stop included
        return build_size(exp.GenerateSeries(start=start.copy(), end=end.copy(),
                                             step=step[0].copy() if step else None))
    if isinstance(node, exp.Anonymous):
        spec = _BY_NAME.get(node.name.lower())
        if spec is None:
            return None
        args = node.expressions
        at, element = spec
        if at >= len(args):
            return None  # the optional size argument is absent: the function's default is small
        size = _number(args[at], node, "size")
        if element is not None and element < len(args):
            size *= max(1.0, element_size(args[element]))
        return size
    return None


def element_size(node: exp.Expression | None) -> float:
    """A lower bound on the size of a value built by `node`: literal lengths, list literal lengths, nested
    builders (so repeat(repeat('x', n), m) counts n*m); 1 when it cannot be known."""
    if node is None:
        return 1.0
    if isinstance(node, exp.Paren):
        return element_size(node.this)
    if isinstance(node, exp.Literal) and node.is_string:
        return float(len(node.this))
    if isinstance(node, exp.Array):
        return float(max(1, len(node.expressions)))
    if isinstance(node, (exp.Concat, exp.DPipe)):
        parts = node.expressions if isinstance(node, exp.Concat) else [node.this, node.expression]
        return sum(element_size(p) for p in parts)
    size = build_size(node) if isinstance(node, exp.Func) else None
    return 1.0 if size is None else size


# Seconds per unit; a month or a year counts at its shortest, so a count is never under-estimated.
_UNIT_SECONDS = {"microsecond": 1e-6, "millisecond": 1e-3, "second": 1.0, "minute": 60.0, "hour": 3600.0,
                 "day": 86400.0, "week": 604800.0, "month": 28 * 86400.0, "quarter": 89 * 86400.0,
                 "year": 365 * 86400.0}


def _instant(node: exp.Expression | None) -> float | None:
    """Seconds since 1970 of a constant DATE/TIMESTAMP literal (`DATE '2024-01-01'`), else None."""
    if not (isinstance(node, exp.Cast) and node.to.is_type(*exp.DataType.TEMPORAL_TYPES)
            and isinstance(node.this, exp.Literal) and node.this.is_string):
        return None
    try:
        moment = datetime.fromisoformat(node.this.this.strip())
    except ValueError:
        return None
    return (moment.replace(tzinfo=None) - datetime(1970, 1, 1)).total_seconds()


def _interval(node: exp.Expression | None) -> float | None:
    """Seconds of a constant INTERVAL literal (`INTERVAL 1 DAY`, `INTERVAL '6 hours'`), else None."""
    if not isinstance(node, exp.Interval) or not isinstance(node.this, exp.Literal):
        return None
    parts = node.this.name.split()
    unit = node.text("unit") or (parts[1] if len(parts) == 2 else "")
    seconds = _UNIT_SECONDS.get(unit.lower().rstrip("s"))
    try:
        return None if seconds is None else abs(float(parts[0])) * seconds
    except (ValueError, IndexError):
        return None


def _label(node: exp.Expression) -> str:
    text = node.sql("duckdb")
    return text if len(text) <= 80 else text[:77] + "..."


def _number(node: exp.Expression | None, builder: exp.Expression, what: str) -> float:
    value = constant(node)
    if value is None:
        raise QueryRejected(f"`{_label(builder)}` builds one value whose {what} is not a constant number; "
                            "such builders must be given constant sizes (under "
                            f"{MAX_BUILD:,}) so the gate can check them before they run.")
    return abs(value)


def constant(node: exp.Expression | None) -> float | None:
    """The number a constant numeric expression folds to (inf on overflow), or None when it is not one."""
    try:
        return _fold(node)
    except (OverflowError, ValueError):
        return _INFINITE
    except ZeroDivisionError:
        return None


def _fold(node: exp.Expression | None) -> float | None:
    if node is None:
        return None
    if isinstance(node, exp.Literal):
        return float(node.this) if node.is_number else _parse_number(node.this)
    if isinstance(node, exp.HexString):
        return float(int(node.this, 16))
    if isinstance(node, exp.Paren):
        return _fold(node.this)
    if isinstance(node, exp.Neg):
        value = _fold(node.this)
        return None if value is None else -value
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return _fold(node.this)
    if isinstance(node, exp.Binary) and isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv,
                                                          exp.Mod, exp.Pow)):
        left, right = _fold(node.this), _fold(node.expression)
        if left is None or right is None:
            return None
        return _arith(node, left, right)
    if isinstance(node, exp.Pow) or (isinstance(node, exp.Anonymous) and node.name.lower() in ("pow", "power")):
        args = [node.this, node.expression] if isinstance(node, exp.Pow) else node.expressions
        values = [_fold(a) for a in args]
        return None if len(values) != 2 or None in values else _power(values[0], values[1])
    if isinstance(node, (exp.Greatest, exp.Least)):
        values = [_fold(a) for a in [node.this, *node.expressions]]
        if None in values:
            return None
        return max(values) if isinstance(node, exp.Greatest) else min(values)
    unary = {exp.Abs: abs, exp.Ceil: math.ceil, exp.Floor: math.floor, exp.Round: round, exp.Sqrt: math.sqrt,
             exp.Exp: math.exp}
    for kind, fn in unary.items():
        if isinstance(node, kind):
            value = _fold(node.this)
            return None if value is None else float(fn(value))
    return None


def _parse_number(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def _power(base: float, exponent: float) -> float:
    if abs(base) > 1 and exponent > 400:
        return _INFINITE
    return float(math.pow(base, exponent))


def _arith(node: exp.Expression, left: float, right: float) -> float:
    if isinstance(node, exp.Add):
        return left + right
    if isinstance(node, exp.Sub):
        return left - right
    if isinstance(node, exp.Mul):
        return left * right
    if isinstance(node, exp.Div):
        return left / right
    if isinstance(node, exp.IntDiv):
        return float(left // right)
    if isinstance(node, exp.Mod):
        return math.fmod(left, right)
    return _power(left, right)


_WIDTH = re.compile(r"\d+")


def _check_format(node: exp.Expression) -> None:
    """printf/format/format_string: the format text must be a constant whose widths stay under MAX_BUILD
    (`printf('%999999999d', 1)` pads one value to that width); `*` widths come from arguments: refused."""
    pattern = node.this if isinstance(node, exp.Format) else (node.expressions[0] if node.expressions else None)
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise QueryRejected(f"`{_label(node)}` takes its format from an expression; give the format as a "
                            "constant string so the gate can check its widths.")
    text = pattern.this
    if "*" in text or any(int(w) > MAX_BUILD for w in _WIDTH.findall(text)) or re.search(r"\{[^}]*\{", text):
        raise QueryRejected(f"`{_label(node)}` asks for a width over {MAX_BUILD:,} characters (or one taken from "
                            "an argument); widths are built in memory in one step and must be constants under "
                            f"{MAX_BUILD:,}.")
