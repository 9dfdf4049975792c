"""Column values from a stateless hash of the row index, as polars expressions.

Not a sequential RNG: a row's value does not depend on chunk size or scale, so the shipped
samples are byte-stable and `scale=1000` streams the same first rows plus many more in
bounded memory. The hash is integer-only, so the stream is the same on every polars version.
"""

from __future__ import annotations

import math
import zlib
from datetime import date, datetime
from typing import Any, Callable, Sequence

import polars as pl

Gen = Callable[[pl.Expr, int], pl.Expr]
"""A column's values: (row index expression, salt) -> value expression; may read earlier columns."""

_U = pl.UInt64
DTYPES = {"VARCHAR": pl.String, "BIGINT": pl.Int64, "DOUBLE": pl.Float64, "BOOLEAN": pl.Boolean,
          "DATE": pl.Date, "TIMESTAMP": pl.Datetime("us")}
"""Polars type of each descriptor column type the samples use."""


def _u(value: int) -> pl.Expr:
    return pl.lit(value, dtype=_U)


def _mix(x: pl.Expr) -> pl.Expr:
    # lowbias32 (C. Wellons), with shifts written as floor divisions.
    x = x ^ (x // _u(1 << 16))
    x = (x * _u(0x7FEB352D)) % _u(1 << 32)
    x = x ^ (x // _u(1 << 15))
    x = (x * _u(0x846CA68B)) % _u(1 << 32)
    return x ^ (x // _u(1 << 16))


def salt_of(*parts: str) -> int:
    return zlib.crc32(".".join(parts).encode())


def rand(i: pl.Expr, salt: int) -> pl.Expr:
    """Uniform integers in [0, 2**32) keyed by row index and salt."""
    return _mix(_mix(i.cast(_U) % _u(1 << 32)) ^ _u(salt % (1 << 32)))


def percent(i: pl.Expr, salt: int) -> pl.Expr:
    """Uniform integers in [0, 100), for "x% of rows" decisions."""
    return (rand(i, salt) % _u(100)).cast(pl.Int64)


def unit(i: pl.Expr, salt: int) -> pl.Expr:
    """Uniform floats in [0, 1)."""
    return rand(i, salt).cast(pl.Float64) / float(1 << 32)


# --------------------------------------------------------------------------- generators

def seq(prefix: str, width: int, offset: int = 1) -> Gen:
    """Sequential ids: prefix + zero-padded (row + offset)."""
    return lambda i, s: ident(prefix, width, i + offset)


def ident(prefix: str, width: int, number: pl.Expr) -> pl.Expr:
    return pl.lit(prefix) + number.cast(pl.String).str.zfill(width)


def ref(prefix: str, width: int, parents: int, avoid: Sequence[int] = (), first_cover: bool = False,
        offset: int = 1) -> Gen:
    """A foreign key to a random parent row of a `seq(prefix, width, offset)` key.

    `avoid` lists parent rows whose id a duplicate-key defect replaced, so no orphan appears by accident.
    """
    def gen(i: pl.Expr, s: int) -> pl.Expr:
        idx = (rand(i, s) % _u(parents)).cast(pl.Int64)
        if first_cover:  # the first `parents` children cover every parent once
            idx = pl.when(i < parents).then(i).otherwise(idx)
        if avoid:
            idx = pl.when(idx.is_in(list(avoid))).then(idx - 1).otherwise(idx)
        return ident(prefix, width, idx + offset)
    return gen


def choice(values: Sequence[Any], weights: Sequence[int] | None = None) -> Gen:
    pool = [v for v, w in zip(values, weights or [1] * len(values)) for _ in range(w)]
    return lambda i, s: pick(rand(i, s), pool)


def cycle(values: Sequence[Any]) -> Gen:
    """values[row % len(values)]: every value appears before any repeats."""
    return lambda i, s: (i % len(values)).replace_strict(list(range(len(values))), list(values))


def pick(r: pl.Expr, pool: Sequence[Any]) -> pl.Expr:
    return (r % _u(len(pool))).cast(pl.Int64).replace_strict(list(range(len(pool))), list(pool))


def integer(lo: int, hi: int) -> Gen:
    return lambda i, s: (rand(i, s) % _u(hi - lo + 1)).cast(pl.Int64) + lo


def number(lo: float, hi: float, digits: int = 2) -> Gen:
    return lambda i, s: (unit(i, s) * (hi - lo) + lo).round(digits)


def skewed(lo: float, hi: float, digits: int = 2) -> Gen:
    """Log-uniform amounts: many small values, a few large ones."""
    a, b = math.log(lo), math.log(hi)
    return lambda i, s: (unit(i, s) * (b - a) + a).exp().round(digits)


def timestamp(start: datetime, end: datetime) -> Gen:
    span = int((end - start).total_seconds())
    return lambda i, s: pl.lit(start) + pl.duration(seconds=(rand(i, s) % _u(span + 1)).cast(pl.Int64))


def day(start: date, end: date) -> Gen:
    span = (end - start).days
    return lambda i, s: pl.lit(start) + pl.duration(days=(rand(i, s) % _u(span + 1)).cast(pl.Int64))


def after(column: str, lo_hours: int, hi_hours: int) -> Gen:
    """A timestamp some hours after another column of the same row."""
    return lambda i, s: pl.col(column) + pl.duration(
        hours=(rand(i, s) % _u(hi_hours - lo_hours + 1)).cast(pl.Int64) + lo_hours)


def const(value: Any) -> Gen:
    return lambda i, s: pl.lit(value)


def derive(expression: Callable[[], pl.Expr]) -> Gen:
    """A value computed from earlier columns of the row."""
    return lambda i, s: expression()


FIRST = ("Ana", "Ben", "Chen", "Dana", "Elif", "Farah", "Grace", "Hugo", "Ines", "Jonas", "Kofi", "Lena",
         "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wen", "Yara",
         "Zoe", "Aiden", "Bruno", "Carmen", "Diego", "Emma", "Felix", "Hana", "Ivan", "Julia", "Kai", "Leila")
LAST = ("Silva", "Okafor", "Li", "Kowalski", "Yilmaz", "Haddad", "Nguyen", "Martin", "Garcia", "Berg",
        "Mensah", "Rossi", "Tanaka", "Nair", "Smith", "Johnson", "Brown", "Moreau", "Novak", "Costa",
        "Schmidt", "Ahmed", "Kim", "Lopez", "Dubois", "Ivanova", "Patel", "Walker", "Hughes", "Sato")
STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Broad St", "River Rd", "Church St", "Hill St",
           "Park Ave", "Lake Dr", "Pine St", "Elm St", "Market St", "Mill Rd", "Spring St", "Forest Ave")


def person_name() -> Gen:
    return lambda i, s: pick(rand(i, s), FIRST) + " " + pick(rand(i, s + 1), LAST)


def email_of(name_column: str | None, domains: Sequence[str]) -> Gen:
    """first.last<n>@domain, from the row's name column when given so the pair reads as one person."""
    def gen(i: pl.Expr, s: int) -> pl.Expr:
        name = pl.col(name_column) if name_column else person_name()(i, s + 2)
        local = name.str.to_lowercase().str.replace_all(" ", ".")
        return local + (rand(i, s) % _u(100)).cast(pl.String) + "@" + pick(rand(i, s + 1), domains)
    return gen


def phone() -> Gen:
    return lambda i, s: ("+1-" + ((rand(i, s) % _u(800)) + _u(200)).cast(pl.String) + "-555-"
                         + (rand(i, s + 1) % _u(10000)).cast(pl.String).str.zfill(4))


def ssn() -> Gen:
    return lambda i, s: (((rand(i, s) % _u(565)) + _u(100)).cast(pl.String) + "-"
                         + ((rand(i, s + 1) % _u(99)) + _u(1)).cast(pl.String).str.zfill(2) + "-"
                         + ((rand(i, s + 2) % _u(9999)) + _u(1)).cast(pl.String).str.zfill(4))


def street() -> Gen:
    return lambda i, s: ((rand(i, s) % _u(9900)) + _u(100)).cast(pl.String) + " " + pick(rand(i, s + 1), STREETS)


def digits(n: int) -> Gen:
    """An n-digit number as text (account numbers, PANs)."""
    def gen(i: pl.Expr, s: int) -> pl.Expr:
        parts = [(rand(i, s + k) % _u(10 ** 8)).cast(pl.String).str.zfill(8) for k in range((n + 7) // 8)]
        return pl.concat_str(parts).str.slice(0, n)
    return gen


def lookup(column: str, mapping: dict[Any, Any]) -> Gen:
    """A value looked up from another column of the row (unit of a test code, country of a city)."""
    return lambda i, s: pl.col(column).replace_strict(list(mapping), list(mapping.values()))


def until(gen: Gen, limit: datetime) -> Gen:
    """`gen`, but never later than `limit` (a snapshot holds no future timestamps)."""
    return lambda i, s: pl.min_horizontal(gen(i, s), pl.lit(limit))
