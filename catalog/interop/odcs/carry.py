"""What an import carries verbatim: the part of a document that Meshwork's own export would not write back.

At import, the document is compared with the export of the descriptor made from it; the difference (fields
Meshwork does not model, and modelled ones it says differently) is kept in the descriptor's `x-odcs` key.
The export of the product is Meshwork's document with that difference laid over it, so a round trip gives
back what came in, and a field the descriptor changes later is written from the descriptor.

Lists of named things (schema objects, properties) are matched by name; other lists are kept whole.
"""

from __future__ import annotations

from typing import Any

NAMED_LISTS = {"schema": "name", "properties": "name", "customProperties": "property"}
_BY_NAME = "~by-name"  # marks a named list's difference, stored as {name: difference}


def _named(items: Any, key: str = "name") -> bool:
    return (isinstance(items, list) and bool(items)
            and all(isinstance(i, dict) and isinstance(i.get(key), str) for i in items)
            and len({i[key] for i in items}) == len(items))


def difference(original: Any, generated: Any) -> Any:
    """What of `original` `generated` lacks or says differently (None: nothing)."""
    if isinstance(original, dict) and isinstance(generated, dict):
        out = {}
        for key, value in original.items():
            by = NAMED_LISTS.get(key)
            if by and _named(value, by) and _named(generated.get(key), by):
                theirs = {item[by]: item for item in generated[key]}
                items = {item[by]: d for item in value if (d := difference(item, theirs.get(item[by]))) is not None}
                if items or [i[by] for i in value] != [i[by] for i in generated[key]]:
                    out[key] = {_BY_NAME: items, "~order": [i[by] for i in value], "~key": by}
                continue
            if key not in generated:
                out[key] = value
            elif value != generated[key]:
                d = difference(value, generated[key])
                if d is not None:
                    out[key] = d
        return out or None
    return None if original == generated else original


def overlay(generated: Any, carried: Any) -> Any:
    """`generated` with `carried` (a `difference`) laid over it."""
    if carried is None:
        return generated
    if isinstance(carried, dict) and _BY_NAME in carried:
        by = carried.get("~key", "name")
        items = {i[by]: i for i in generated} if _named(generated, by) else {}
        order = list(carried.get("~order", [])) + [n for n in items if n not in carried.get("~order", [])]
        out = []
        for name in order:
            if name in items or name in carried[_BY_NAME]:
                out.append(overlay(items.get(name, {}), carried[_BY_NAME].get(name)))
        return out
    if isinstance(carried, dict) and isinstance(generated, dict):
        out = dict(generated)
        for key, value in carried.items():
            out[key] = overlay(generated.get(key), value)
        return out
    return carried


def leaves(value: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    """Every leaf field of a document by its path (named lists by name, so order does not count)."""
    if isinstance(value, dict):
        out: dict[tuple[Any, ...], Any] = {}
        for key, item in value.items():
            out.update(leaves(item, path + (key,)))
        return out or {path: {}}
    if isinstance(value, list):
        by = NAMED_LISTS.get(path[-1]) if path and isinstance(path[-1], str) else None
        if by and _named(value, by):
            out = {}
            for item in value:
                out.update(leaves(item, path + (f"{by}={item[by]}",)))
            return out
        out = {}
        for i, item in enumerate(value):
            out.update(leaves(item, path + (i,)))
        return out or {path: []}
    return {path: value}


def kept_share(original: dict[str, Any], exported: dict[str, Any]) -> tuple[int, int]:
    """(leaf fields of `original` the export gives back unchanged, leaf fields of `original`)."""
    mine, theirs = leaves(original), leaves(exported)
    return sum(1 for path, value in mine.items() if path in theirs and theirs[path] == value), len(mine)


def carried_paths(carried: Any, prefix: str = "$") -> list[str]:
    """Readable top paths of what is carried (for the import's report)."""
    if not isinstance(carried, dict):
        return [prefix]
    if _BY_NAME in carried:
        return [p for name, d in carried[_BY_NAME].items() for p in carried_paths(d, f"{prefix}[{name}]")]
    out = []
    for key, value in carried.items():
        if isinstance(value, dict) and (_BY_NAME in value or key in ("schema", "object")):
            out += carried_paths(value, f"{prefix}.{key}")
        else:
            out.append(f"{prefix}.{key}")
    return out
