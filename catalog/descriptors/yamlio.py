"""YAML with line numbers: every value is mapped to the line it was written on.

Pydantic reports errors by location (`("columns", 2, "type")`); this module turns
such a location into the line a person should open in their editor.

Every YAML Meshwork reads comes through here, and every one is hostile until read: a document
over MAX_BYTES, nested deeper than MAX_DEPTH, or whose anchors and aliases would expand past
MAX_NODES is refused (a YamlError with its line) after one linear pass over the parser's events,
before anything is built, so a 350-byte alias bomb costs milliseconds, not gigabytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

Location = tuple[Any, ...]
_STR_TAG = "tag:yaml.org,2002:str"

MAX_BYTES = 2_000_000     # the largest descriptor, draft, dashboard, notebook or contract read
MAX_NODES = 100_000       # values a document may hold once its aliases are expanded
MAX_DEPTH = 100           # nesting of mappings and lists


class YamlError(Exception):
    """The file is not valid YAML; `line` is 1-based."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


@dataclass
class YamlDocument:
    data: Any
    lines: dict[Location, int] = field(default_factory=dict)
    reparse: Callable[[], dict[Location, int]] | None = None  # lines on demand (a document from a cache)

    def line_of(self, loc: Location) -> int | None:
        """The line of the deepest part of `loc` that exists in the document."""
        if self.reparse is not None:
            self.lines, self.reparse = self.reparse(), None
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)


def _construct(node: yaml.Node, loc: Location, lines: dict[Location, int], loader: yaml.SafeLoader) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, list):
                key = tuple(key)
            lines[loc + (key,)] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, loc + (key,), lines, loader)
            # The key's own line is where a person looks for an error about the value.
            lines[loc + (key,)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, loc + (i,), lines, loader) for i, item in enumerate(node.value)]
    if node.tag == _STR_TAG:
        return node.value  # what SafeConstructor returns for a plain string, without its per-node overhead
    return loader.construct_object(node, deep=True)


# libyaml (C) parses ~10x faster; the pure-Python parser stays the reference for error messages.
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document keeping the line of every key and item; bombs are refused first."""
    if len(text) > MAX_BYTES:
        raise YamlError(f"the document is {len(text):,} characters, over the {MAX_BYTES:,} a Meshwork YAML "
                        "file may have; split it or trim it", 1)
    _check_bounds(text)
    if _FAST_LOADER is not None:
        loader = _FAST_LOADER(text)
        try:
            root = loader.get_single_node()
            lines: dict[Location, int] = {}
            return YamlDocument(_construct(root, (), lines, loader) if root is not None else None, lines)
        except Exception:  # noqa: BLE001 - any failure is re-read below for the reference message and line
            pass
        finally:
            loader.dispose()
    return _parse_reference(text)


_SCALAR, _ALIAS = yaml.ScalarEvent, yaml.AliasEvent
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _check_bounds(text: str) -> None:
    """Count the values the document would hold with every alias expanded, and its depth, from the parser's
    events (nothing is built); refuse past MAX_NODES or MAX_DEPTH. Malformed YAML passes on to the parser,
    which reports it with its own message."""
    loader = (_FAST_LOADER or yaml.SafeLoader)(text)
    sizes: dict[str, int] = {}       # anchor -> values under it, expanded
    open_nodes: list[tuple[str | None, int]] = []
    total = 0
    aliases = False
    try:
        while loader.check_event():
            event = loader.get_event()
            kind = type(event)
            if kind is _SCALAR:
                total += 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif kind is _ALIAS:
                total += sizes.get(event.anchor, 1)
                aliases = True
            elif kind in _OPEN:
                total += 1
                open_nodes.append((event.anchor, total))
                if len(open_nodes) > MAX_DEPTH:
                    raise YamlError(f"values are nested more than {MAX_DEPTH} levels deep",
                                    event.start_mark.line + 1)
            elif kind in _CLOSE:
                anchor, start = open_nodes.pop()
                if anchor:
                    sizes[anchor] = total - start + 1
            if total > MAX_NODES:
                how = (" once its aliases (*name) are expanded: refused as a YAML bomb" if aliases
                       else ", more than a Meshwork YAML file may have; split it or trim it")
                raise YamlError(f"the document would hold more than {MAX_NODES:,} values{how}",
                                event.start_mark.line + 1)
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):  # the parser's own limit, met before ours by one scan ahead
            mark = getattr(exc, "problem_mark", None)
            raise YamlError(f"values are nested more than {MAX_DEPTH} levels deep",
                            mark.line + 1 if mark else 1) from None
    finally:
        loader.dispose()


def _parse_reference(text: str) -> YamlDocument:
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)
        root = loader.get_single_node()
        lines: dict[Location, int] = {}
        data = _construct(root, (), lines, loader) if root is not None else None
        return YamlDocument(data, lines)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        raise YamlError(f"character {exc.character!r} is not allowed in YAML ({exc.reason})", line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
        raise YamlError(message, mark.line + 1 if mark else 1) from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc), 1) from None
    except (TypeError, ValueError, RecursionError) as exc:  # e.g. an unhashable key, a bad timestamp
        raise YamlError(f"cannot read this value: {exc}", 1) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml(path: Path) -> YamlDocument:
    """A YAML file, read no further than MAX_BYTES (a pipe such as `<(git show ...)` included)."""
    with open(path, "rb") as handle:
        raw = handle.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise YamlError(f"the file is over {MAX_BYTES:,} bytes, more than a Meshwork YAML file may have; "
                        "split it or trim it", 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(f"not UTF-8 text ({exc.reason})", None) from None
    return parse_yaml(text)
