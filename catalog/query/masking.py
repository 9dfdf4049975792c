"""How each category of personal data is masked for roles that may not see it.

Masks are sqlglot expressions applied inside the view a role sees, so no query
over that view can reach the raw value. Keys become a keyed, deterministic token
so masked keys still join across products.

The token is a keyed hash computed by a function every engine registers on its connections
(catalog/engines/tokens.py): the key never appears in SQL text. User SQL cannot call the
function: it is not on the gate's allow-list.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import sqlglot
from sqlglot import exp

from catalog.descriptors.model import Column
from catalog.engines.tokens import TOKEN_FUNCTION
from catalog.state.store import StateStore, utc_now

_VALUE = "__value__"
TOKEN_PATTERN = "^tok_[0-9a-f]{16}$"

# One template per category; `__value__` stands for the column being masked. Every mask is idempotent
# (masking a masked value gives it back), so a derived product computed over masked upstreams and masked
# again by its own classification shows the same masked values as its upstreams.
_TEMPLATES: dict[str, str] = {
    "email": "'***@' || split_part(CAST(__value__ AS VARCHAR), '@', 2)",
    "phone": "'***-***-' || right(regexp_replace(CAST(__value__ AS VARCHAR), '[^0-9]', '', 'g'), 4)",
    "ssn": "'***-**-' || right(regexp_replace(CAST(__value__ AS VARCHAR), '[^0-9]', '', 'g'), 4)",
    "account_number": "'****' || right(replace(CAST(__value__ AS VARCHAR), '*', ''), 4)",
    "name": "array_to_string(list_transform(list_filter(string_split(trim(CAST(__value__ AS VARCHAR)), ' '), "
            "w -> w <> ''), w -> upper(left(w, 1)) || '.'), ' ')",
    "birth_date": "left(CAST(__value__ AS VARCHAR), 4) || '-**-**'",
    "address": "'*** (address hidden)'",
    "ip_address": "split_part(CAST(__value__ AS VARCHAR), '.', 1) || '.' || "
                  "split_part(CAST(__value__ AS VARCHAR), '.', 2) || '.*.*'",
    "health": "'*** (health data hidden)'",
    "free_text": "'*** (text hidden)'",
    "other": "'*** (hidden)'",
}

# Masks that keep the column's type, for the fully masked views derived products are computed over (a
# derived product's date arithmetic still runs on a birth date reduced to its year).
_TYPED: dict[str, str] = {
    "birth_date": "CAST(date_trunc('year', CAST(__value__ AS DATE)) AS DATE)",
}

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


def is_token_masked(column: Column) -> bool:
    """Whether the column is masked as a token, which keeps equality (joins, uniqueness, membership)."""
    return bool(column.pii and (column.key or column.pii_category == "identifier"))


def mask_expression(column: Column, value: exp.Expression, keep_tokens: bool = False,
                    typed: bool = False) -> exp.Expression:
    """The masked form of `value` (an expression reading `column`); NULL stays NULL.

    `keep_tokens`: a value that already is a token stays as it is (a derived product's key computed over
    its upstreams' masked views), so keys still join across source and derived products. `typed`: the
    type-keeping mask where there is one (what derived products compute over)."""
    if is_token_masked(column):
        text = exp.cast(value.copy(), exp.DataType.Type.VARCHAR)
        masked: exp.Expression = exp.Anonymous(this=TOKEN_FUNCTION, expressions=[text])
        if keep_tokens:
            already = exp.RegexpLike(this=text.copy(), expression=exp.Literal.string(TOKEN_PATTERN))
            masked = exp.Case(ifs=[exp.If(this=already, true=text.copy())], default=masked)
    else:
        category = column.pii_category or "other"
        template = (_TYPED.get(category) if typed else None) or _TEMPLATES.get(category, _TEMPLATES["other"])
        masked = sqlglot.parse_one(template, read="duckdb").transform(
            lambda node: value.copy() if isinstance(node, exp.Column) and node.name == _VALUE else node)
    return exp.Case(ifs=[exp.If(this=exp.Is(this=value.copy(), expression=exp.Null()), true=exp.Null())],
                    default=masked)


SALT_KEY = "masking_salt"


def mesh_salt(state_dir: Path, state: StateStore | None = None) -> str:
    """The per-mesh masking key (never in SQL text). Kept in the state store, so every server over one store
    (several replicas on several hosts) makes the same tokens; created once under the store's write lock by
    whichever process asks first. A mesh whose key is still the `salt` file of its state folder (before the key
    moved into the store) keeps it: the file's key is carried over, so its tokens do not change. Without a store
    (a bare engine) the file alone."""
    if state is None:
        return _file_salt(Path(state_dir))
    found = state.query("SELECT value FROM mesh_keys WHERE name = ?", (SALT_KEY,))
    if found:
        return found[0][0]
    with state.transaction() as con:  # the store's lock: one process creates it, the others read that one
        row = con.execute("SELECT value FROM mesh_keys WHERE name = ?", (SALT_KEY,)).fetchone()
        if row:
            return row[0]
        path = Path(state_dir) / "salt"
        salt, origin = (path.read_text().strip(), "carried over from the state folder's salt file") \
            if path.is_file() and path.read_text().strip() else (secrets.token_hex(32), "created")
        con.execute("INSERT INTO mesh_keys (name, value, created_at, origin) VALUES (?, ?, ?, ?)",
                    (SALT_KEY, salt, utc_now(), origin))
    return salt


def _file_salt(state_dir: Path) -> str:
    """The key in the state folder's `salt` file, made (atomically, readable by its owner only) if missing."""
    path = state_dir / "salt"
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_hex(32)
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    tmp.write_text(salt)
    try:
        tmp.chmod(0o600)
        tmp.rename(path) if not path.exists() else tmp.unlink()
    except OSError:
        pass
    return path.read_text().strip()
