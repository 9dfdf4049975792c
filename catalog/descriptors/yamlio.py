"""Meshwork's one way in and out of YAML files: read with lines, validate with locations, dump, write, name.

- `read_yaml` / `parse_yaml`: every value is mapped to the line it was written on. Every YAML Meshwork
  reads comes through here, and every one is hostile until read: a document over MAX_BYTES, nested
  deeper than MAX_DEPTH, or whose anchors and aliases would expand past MAX_NODES is refused (a
  YamlError with its line) after one linear pass over the parser's events, before anything is built,
  so a 350-byte alias bomb costs milliseconds, not gigabytes.
- `validate`: a pydantic model from a document; each error becomes a `FieldError` naming the field as a
  person writes it (`source.path`, not pydantic's `source.parquet.path`) and the line to open.
- `dump_yaml`: the one style Meshwork writes (key order kept, SQL as literal blocks, short lists and
  `Flow` mappings on one line), so every file it writes reads and diffs alike.
- `write_atomic`: temp file, fsync, rename: a crash leaves the old file or the new one, never half of one.
- `slug`: a file name from a title.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from catalog.errors import MeshError

Location = tuple[Any, ...]
M = TypeVar("M", bound=BaseModel)
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


def read_document_text(path: str | Path, what: str, error: type[Exception] = YamlError) -> str:
    """The text of a document another tool wrote (an ODCS contract, an ODPS product), read no further than
    MAX_BYTES; every refusal names the file (`error` for one too large, a MeshError when it cannot be read)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise error(f"{path}: over {MAX_BYTES:,} bytes, more than {what} may have")
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MeshError(f"{path}: cannot read: {exc}") from None


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


# ---------------------------------------------------------------- validate with locations

# The fields Meshwork's tagged unions switch on (a source's `kind`, a check's `check`): pydantic puts the
# tag's value in an error's location (`source.parquet.path`), where a person never wrote it.
_DISCRIMINATORS = ("kind", "check")


@dataclass(frozen=True)
class FieldError:
    """One validation error placed in its document: `where:line: field: message`."""

    where: str
    loc: Location
    line: int | None
    message: str
    kind: str  # pydantic's error type, "yaml" for a file that does not parse, "mapping" for a top that is no mapping

    @property
    def field(self) -> str:
        return ".".join(str(part) for part in self.loc)

    def __str__(self) -> str:
        return f"{self.where}:{self.line or 1}: " + (f"{self.field}: " if self.loc else "") + self.message


class DocumentInvalid(MeshError):
    """A YAML document that does not parse or validate; `errors` has every problem, the message the first."""

    def __init__(self, errors: list[FieldError]):
        super().__init__(str(errors[0]))
        self.errors = errors


def _document_loc(loc: Location, data: Any) -> Location:
    """Pydantic's location as the document spells it: union-branch tags (`function-after[...]`, `str`, the
    discriminator value of a tagged union) dropped, walking the data to tell a tag from a key."""
    out: list[Any] = []
    node, tag_dropped = data, False
    for part in loc:
        if isinstance(part, str) and (part.startswith("function-") or "[" in part):
            continue
        if (isinstance(node, dict) and not tag_dropped and isinstance(part, str)
                and any(node.get(key) == part for key in _DISCRIMINATORS)):
            tag_dropped = True
            continue
        out.append(part)
        tag_dropped = False
        node = node.get(part) if isinstance(node, dict) else (
            node[part] if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node) else None)
    return tuple(out)


def _friendly(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; see the descriptor reference in the README)"
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        expected = err.get("ctx", {}).get("expected_tags", "")
        return f"unknown kind {err.get('input')!r}; expected one of {expected}"
    if kind == "union_tag_not_found":
        return f"missing the field that says which kind this is ({err.get('ctx', {}).get('discriminator', '')})"
    return str(err["msg"]).removeprefix("Value error, ")


def field_errors(error: ValidationError, doc: YamlDocument, where: str | Path, data: Any = None,
                 base: Location = ()) -> list[FieldError]:
    """Every error of a pydantic validation of `data` (the document's, or the part of it at `base`), located."""
    data = doc.data if data is None else data
    out = []
    for err in error.errors():
        loc = base + _document_loc(tuple(err["loc"]), data)
        out.append(FieldError(str(where), loc, doc.line_of(loc), _friendly(err), err["type"]))
    return out


def validate(model: type[M], doc: YamlDocument, where: str | Path, *,
             what: str = "a mapping of fields (key: value)") -> M:
    """`model` from a whole document, or DocumentInvalid naming where, line and field of every problem;
    `what` says what the top of the file should be when it is not a mapping."""
    if not isinstance(doc.data, dict):
        raise DocumentInvalid([FieldError(str(where), (), 1, f"expected {what} at the top of the file", "mapping")])
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise DocumentInvalid(field_errors(exc, doc, where)) from None


def load_text(model: type[M], text: str, where: str | Path, *, what: str = "a mapping of fields (key: value)") -> M:
    """Parse and validate YAML text (edited on a page, uploaded); DocumentInvalid says where it is wrong."""
    return _load(model, lambda: parse_yaml(text), where, what)


def load_file(model: type[M], path: Path, *, what: str = "a mapping of fields (key: value)") -> M:
    """Read and validate a YAML file; DocumentInvalid says where it is wrong (OSError when it cannot be read)."""
    return _load(model, lambda: read_yaml(path), path, what)


def _load(model: type[M], parse: Callable[[], YamlDocument], where: str | Path, what: str) -> M:
    try:
        doc = parse()
    except YamlError as exc:
        raise DocumentInvalid([FieldError(str(where), (), exc.line or 1, f"invalid YAML: {exc}", "yaml")]) from None
    return validate(model, doc, where, what=what)


# ---------------------------------------------------------------- dump

class Flow(dict):  # type: ignore[type-arg]
    """A mapping written on one line (`{name: id, type: BIGINT}`), as people write columns and checks."""


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Block style in the key order given; multi-line strings (SQL) as literal blocks a reviewer can read."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar(_STR_TAG, value, style="|" if "\n" in value else None)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    flow = bool(value) and all(isinstance(v, (str, int, float, bool)) for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(Flow, lambda d, value: d.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True))


def dump_yaml(data: Any) -> str:
    """YAML text in Meshwork's one style (see the module docstring); `parse_yaml` reads the same data back."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=100)


# ---------------------------------------------------------------- write

def write_atomic(path: Path, data: str | bytes, *, replace: bool = True) -> Path:
    """Write `path` whole: a temp file beside it, flushed to disk (fsync), renamed over it. With
    `replace=False` the file is created only if absent (FileExistsError otherwise), so of two writers
    creating it one wins. A crash leaves the old file or the new one, never a torn one."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
        _fsync_folder(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a platform that cannot open a folder skips it."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---------------------------------------------------------------- name

_WORD = re.compile(r"[a-z0-9]+")


def slug(title: str, sep: str = "-", *, default: str, max_length: int | None = None,
         letter_first: bool = False) -> str:
    """A file name from a title: its ASCII letters and digits lower-cased, every run of anything else one
    `sep` ('Customer 360 / Risk' -> 'customer-360-risk'), cut at `max_length`; `default` when nothing is left,
    and, with `letter_first`, before a leading digit ('360 view' -> 'dashboard_360_view')."""
    out = sep.join(_WORD.findall(title.lower()))[:max_length]
    if letter_first and out and not out[0].isalpha():
        return f"{default}{sep}{out}"
    return out or default
