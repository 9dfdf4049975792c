"""The one place that knows how the state store's SQL differs between SQLite and PostgreSQL.

Owner modules and the migrations write one SQL text, in the SQLite flavour the store always spoke (`?`
placeholders, `INSERT OR IGNORE` / `INSERT OR REPLACE`, `INTEGER PRIMARY KEY AUTOINCREMENT`, a column called
`user`, triggers that `RAISE(ABORT, ...)`). On PostgreSQL the store runs `postgres(sql)` instead: placeholders
become `%s`, `user` (a reserved word there) is quoted, the two SQLite upserts become `ON CONFLICT`, an
`INSERT` into a table with an `id` returns it (what SQLite's `lastrowid` gave), and the DDL gets PostgreSQL's
types. Text columns use the "C" collation, so ordering and comparison of text are byte-wise as in SQLite
whatever the database's locale. The translation is mechanical and cached per SQL text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from catalog.state import migrations

_STRING = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_USER = re.compile(r"(?<![\w\"$])user\b(?!\s*\()", re.IGNORECASE)
_INSERT_OR = re.compile(r"^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+\"?(\w+)\"?\s*", re.IGNORECASE)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+\"?(\w+)\"?", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_TRIGGER = re.compile(
    r"^\s*CREATE\s+TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s+(BEFORE|AFTER)\s+(INSERT|UPDATE|DELETE)\s+ON\s+"
    r"\"?(\w+)\"?\s+BEGIN\s+SELECT\s+RAISE\s*\(\s*ABORT\s*,\s*('(?:[^']|'')*')\s*\)\s*;\s*END\s*;?\s*$",
    re.IGNORECASE | re.DOTALL)
_TYPES = {"INTEGER": "BIGINT", "INT": "BIGINT", "REAL": "DOUBLE PRECISION", "FLOAT": "DOUBLE PRECISION",
          "BLOB": "BYTEA", "TEXT": 'TEXT COLLATE "C"'}
_COLUMN = re.compile(r'^("?\w+"?)(\s+)(\w+)(.*)$', re.DOTALL)
_AUTOINCREMENT = re.compile(r"\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b", re.IGNORECASE)
_TABLE_HEAD = re.compile(r"^(\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?\w+\s*\()(.*)(\)\s*;?\s*)$",
                         re.IGNORECASE | re.DOTALL)
_ADD_HEAD = re.compile(r"^(\s*ALTER\s+TABLE\s+\w+\s+ADD\s+(?:COLUMN\s+)?)(.*?)(\s*;?\s*)$", re.IGNORECASE | re.DOTALL)


def _code_parts(sql: str, change) -> str:
    """Apply `change` to the SQL outside its string literals and quoted names, which stay as written."""
    out, last = [], 0
    for literal in _STRING.finditer(sql):
        out.append(change(sql[last:literal.start()]))
        out.append(literal.group(0))
        last = literal.end()
    out.append(change(sql[last:]))
    return "".join(out)


def _placeholders_and_names(code: str) -> str:
    return _USER.sub('"user"', code.replace("?", "%s"))


@dataclass(frozen=True)
class TableShape:
    """What the upsert and `RETURNING id` translations need to know about a state table."""
    columns: tuple[str, ...]
    key: tuple[str, ...]

    @property
    def has_id(self) -> bool:
        return "id" in self.columns


_CREATE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s*\((.*?)\)\s*;", re.IGNORECASE | re.DOTALL)
_ADD_COLUMN = re.compile(r"ALTER\s+TABLE\s+(\w+)\s+ADD\s+(?:COLUMN\s+)?\"?(\w+)\"?", re.IGNORECASE)


@lru_cache(maxsize=1)
def table_shapes() -> dict[str, TableShape]:
    """Every state table's columns and primary key, read from the migrations themselves (so a table a later
    migration adds, or a column it adds, is known without a second list to keep in step)."""
    columns: dict[str, list[str]] = {}
    keys: dict[str, tuple[str, ...]] = {}
    for script in [migrations.META + ";", *migrations.MIGRATIONS]:
        for table, body in _CREATE.findall(script):
            cols: list[str] = []
            for item in _split_top_level(body):
                words = item.split()
                if not words:
                    continue
                head = words[0].upper()
                if head == "PRIMARY":
                    keys[table] = tuple(c.strip(' "') for c in item[item.index("(") + 1:item.rindex(")")].split(","))
                elif head not in {"UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT"}:
                    cols.append(words[0].strip('"'))
                    if "PRIMARY KEY" in item.upper():
                        keys[table] = (words[0].strip('"'),)
            columns[table] = cols
        for table, column in _ADD_COLUMN.findall(script):
            columns.setdefault(table, []).append(column)
    return {t: TableShape(tuple(c), keys.get(t, ())) for t, c in columns.items()}


def _split_top_level(body: str) -> list[str]:
    """A column list split at its top-level commas (not those inside CHECK (...) or PRIMARY KEY (a, b))."""
    parts, depth, current = [], 0, ""
    for ch in body:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return parts


@dataclass(frozen=True)
class Translated:
    """A statement as PostgreSQL runs it, and whether it returns the new row's id (SQLite's lastrowid)."""
    sql: str
    returns_id: bool = False


@lru_cache(maxsize=2048)
def postgres(sql: str, many: bool = False) -> Translated:
    """The PostgreSQL text of one SQLite-flavoured DML statement (`many`: run with executemany, no RETURNING)."""
    text = _code_parts(sql.replace("%", "%%"), _placeholders_and_names)
    upsert = _INSERT_OR.match(text)
    if upsert:
        how, table = upsert.group(1).upper(), upsert.group(2)
        text = f"INSERT INTO {table} " + text[upsert.end():]
        if how == "IGNORE":
            text = text.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
        else:
            text = _replace(text, table)
    target = _INSERT.match(text)
    shape = table_shapes().get(target.group(1)) if target else None
    if shape is not None and shape.has_id and not many and not _RETURNING.search(text):
        return Translated(text.rstrip().rstrip(";") + " RETURNING id", returns_id=True)
    return Translated(text)


def _replace(text: str, table: str) -> str:
    """SQLite's INSERT OR REPLACE as an upsert on the table's primary key (every other column replaced)."""
    shape = table_shapes().get(table)
    if shape is None or not shape.key:
        raise ValueError(f"INSERT OR REPLACE INTO {table}: the migrations declare no primary key for it")
    body = text[len(f"INSERT INTO {table} "):]
    if not body.lstrip().startswith("("):  # no column list: every column, in the table's order
        body = "(" + ", ".join(_quoted(c) for c in shape.columns) + ") " + body
        named = list(shape.columns)
    else:
        named = [c.strip(' "') for c in body[body.index("(") + 1:body.index(")")].split(",")]
    rest = [c for c in named if c not in shape.key]
    action = ("DO UPDATE SET " + ", ".join(f"{_quoted(c)} = EXCLUDED.{_quoted(c)}" for c in rest)) if rest \
        else "DO NOTHING"
    key = ", ".join(_quoted(c) for c in shape.key)
    return f"INSERT INTO {table} " + body.rstrip().rstrip(";") + f" ON CONFLICT ({key}) {action}"


def _quoted(column: str) -> str:
    return f'"{column}"' if column.lower() == "user" else column


def postgres_ddl(statement: str) -> list[str]:
    """The PostgreSQL statements for one migration statement: types mapped, `user` quoted, and a SQLite
    `RAISE(ABORT, ...)` trigger made a PL/pgSQL function plus the trigger that calls it."""
    trigger = _TRIGGER.match(statement)
    if trigger:
        name, when, event, table, message = trigger.groups()
        return [f"CREATE OR REPLACE FUNCTION {name}_fn() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN RAISE EXCEPTION {message}; END $$",
                f"CREATE OR REPLACE TRIGGER {name} {when} {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}_fn()"]

    table = _TABLE_HEAD.match(statement) or _ADD_HEAD.match(statement)
    if table:
        head, body, tail = table.groups()
        columns = ", ".join(_column(item) for item in _split_top_level(body))
        return [(head + columns + tail).strip().rstrip(";")]
    return [_code_parts(statement, lambda code: _USER.sub('"user"', code)).strip().rstrip(";")]


def _column(item: str) -> str:
    """One column definition with its SQLite type made PostgreSQL's (constraints such as CHECK pass through)."""
    found = _COLUMN.match(item)
    if not found or found.group(1).upper() in {"PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT"}:
        return _code_parts(item, lambda code: _USER.sub('"user"', code))
    name, space, kind, rest = found.groups()
    name = '"user"' if name.strip('"').lower() == "user" else name
    if kind.upper() == "INTEGER" and _AUTOINCREMENT.match(rest):
        return f"{name} BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY{rest[_AUTOINCREMENT.match(rest).end():]}"
    return name + space + _TYPES.get(kind.upper(), kind) + _code_parts(rest, lambda code: _USER.sub('"user"', code))
