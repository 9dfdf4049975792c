"""How each category of personal data is masked for roles that may not see it.

Masks are sqlglot expressions applied inside the view a role sees, so no query
over that view can reach the raw value. Keys become a salted, deterministic token
so masked keys still join across products.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import sqlglot
from sqlglot import exp

from catalog.model import Column

_VALUE = "__value__"

# One template per category; `__value__` stands for the column being masked.
_TEMPLATES: dict[str, str] = {
    "email": "'***@' || split_part(CAST(__value__ AS VARCHAR), '@', 2)",
    "phone": "'***-***-' || right(regexp_replace(CAST(__value__ AS VARCHAR), '[^0-9]', '', 'g'), 4)",
    "ssn": "'***-**-' || right(regexp_replace(CAST(__value__ AS VARCHAR), '[^0-9]', '', 'g'), 4)",
    "account_number": "'****' || right(CAST(__value__ AS VARCHAR), 4)",
    "name": "array_to_string(list_transform(string_split(trim(CAST(__value__ AS VARCHAR)), ' '), "
            "w -> upper(left(w, 1)) || '.'), ' ')",
    "birth_date": "CAST(year(CAST(__value__ AS DATE)) AS VARCHAR) || '-**-**'",
    "address": "'*** (address hidden)'",
    "ip_address": "split_part(CAST(__value__ AS VARCHAR), '.', 1) || '.' || "
                  "split_part(CAST(__value__ AS VARCHAR), '.', 2) || '.*.*'",
    "health": "'*** (health data hidden)'",
    "free_text": "'*** (text hidden)'",
    "other": "'*** (hidden)'",
}
_TOKEN = "'tok_' || left(md5(__salt__ || CAST(__value__ AS VARCHAR)), 16)"

MASK_DESCRIPTIONS: dict[str, str] = {
    "email": "local part hidden, domain kept (***@bank.example)",
    "phone": "last four digits kept",
    "ssn": "last four digits kept",
    "account_number": "last four characters kept",
    "name": "initials only (A. S.)",
    "birth_date": "year only",
    "address": "hidden",
    "ip_address": "first two octets kept",
    "health": "hidden",
    "free_text": "hidden",
    "other": "hidden",
    "identifier": "deterministic token (still joins)",
}


def describe_mask(column: Column) -> str:
    """How the column appears to a role without PII access, in a user's words."""
    if column.key or column.pii_category == "identifier":
        return MASK_DESCRIPTIONS["identifier"]
    return MASK_DESCRIPTIONS.get(column.pii_category or "other", "hidden")


def mask_expression(column: Column, value: exp.Expression, salt: str) -> exp.Expression:
    """The masked form of `value` (an expression reading `column`); NULL stays NULL."""
    if column.key or column.pii_category == "identifier":
        template = _TOKEN
    else:
        template = _TEMPLATES.get(column.pii_category or "other", _TEMPLATES["other"])
    masked = sqlglot.parse_one(template, read="duckdb")

    def substitute(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name == _VALUE:
            return value.copy()
        if isinstance(node, exp.Column) and node.name == "__salt__":
            return exp.Literal.string(salt)
        return node

    masked = masked.transform(substitute)
    return exp.Case(ifs=[exp.If(this=exp.Is(this=value.copy(), expression=exp.Null()), true=exp.Null())],
                    default=masked)


def mesh_salt(state_dir: Path) -> str:
    """A per-mesh secret so tokens cannot be recomputed from guessed values."""
    path = Path(state_dir) / "salt"
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_hex(16)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(salt)
    try:
        tmp.rename(path) if not path.exists() else tmp.unlink()
    except OSError:
        pass
    return path.read_text().strip()
