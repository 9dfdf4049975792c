"""PostgreSQL connection strings: what is expanded, what is shown, where they may point.

- A connection string a person types (the Publish page, `meshwork publish postgresql://...`) is used exactly
  as typed: `${...}` in it is refused, never filled from the server's environment.
- A committed descriptor may write `${MESHWORK_...}` to keep a secret out of git: only variables with an
  allow-listed prefix are expanded, so a descriptor cannot read `${AWS_SECRET_ACCESS_KEY}` or `${HOME}`.
- What is shown (errors, notes, logs, lineage) is `redact`ed: no password, and `scrub` takes every expanded
  value out of a driver's message.
- Every connection has a connect timeout, and when mesh.yaml lists `postgres_hosts`, every host a string
  names must be on that list (libpq's own `service`/`passfile`/certificate-file keywords are refused in a
  typed string, since they make the server read files of its own choosing).
"""

from __future__ import annotations

import math
import os
import re
from typing import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

from catalog.errors import MeshError

ALLOWED_PREFIXES = ("MESHWORK_",)
CONNECT_TIMEOUT_S = 8
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FILE_KEYWORDS = ("service", "servicefile", "passfile", "sslcert", "sslkey", "sslrootcert", "sslcrl", "sslcrldir")
_KEYWORD = re.compile(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)")


class DsnError(MeshError):
    """A connection string refused before any connection is tried."""


def expand(dsn: str) -> str:
    """A committed descriptor's DSN with `${MESHWORK_...}` filled in; any other `${VAR}` stays as written
    (and so fails to connect, with `redact`'s message), never read from the environment."""
    return _VAR.sub(lambda m: os.environ.get(m.group(1), "") if m.group(1).startswith(ALLOWED_PREFIXES)
                    else m.group(0), dsn)


def expanded_values(dsn: str) -> list[str]:
    """The values `expand` put in, longest first (for `scrub`)."""
    values = {os.environ.get(m.group(1), "") for m in _VAR.finditer(dsn) if m.group(1).startswith(ALLOWED_PREFIXES)}
    return sorted((v for v in values if len(v) >= 3), key=len, reverse=True)


def disallowed_variables(dsn: str) -> list[str]:
    return [m.group(1) for m in _VAR.finditer(dsn) if not m.group(1).startswith(ALLOWED_PREFIXES)]


def redact(dsn: str) -> str:
    """The DSN with its password hidden, in URL form (user:pw@), as a keyword (password=...) or in a query."""
    out = re.sub(r"(://[^:/@?#]*:)[^@/?#]*@", r"\1***@", dsn)
    out = re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)", r"\1***", out, flags=re.I)
    return out


def scrub(message: str, dsn: str, expanded: str | None = None) -> str:
    """A driver's message with the DSN, the expanded DSN and every expanded value replaced by their redacted
    forms, on one line."""
    text = str(message)
    for raw in filter(None, (expanded, dsn)):
        text = text.replace(raw, redact(raw))
    for value in expanded_values(dsn):
        text = text.replace(value, "***")
    for secret in _passwords(expanded or dsn):
        text = text.replace(secret, "***")
    return " ".join(text.splitlines()[:1]).strip()


def _passwords(dsn: str) -> list[str]:
    found = [m.group(1) for m in re.finditer(r"://[^:/@?#]*:([^@/?#]+)@", dsn)]
    found += [m.group(2).strip("'") for m in re.finditer(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)", dsn, re.I)]
    return [p for p in found if len(p) >= 3 and p != "***"]


def with_connect_timeout(dsn: str, seconds: float = CONNECT_TIMEOUT_S) -> str:
    """`dsn` with libpq's connect_timeout (whole seconds, at least 2) unless it sets one already."""
    if "connect_timeout" in dsn:
        return dsn
    value = max(2, math.ceil(seconds))
    if "://" in dsn:
        return f"{dsn}{'&' if '?' in dsn else '?'}connect_timeout={value}"
    return f"{dsn} connect_timeout={value}"


def _keywords(dsn: str) -> list[tuple[str, str]]:
    """(keyword, value) pairs of a DSN in either form (URL query, or `key=value ...`)."""
    if "://" in dsn:
        return [(k.lower(), v) for k, v in parse_qsl(urlsplit(dsn).query, keep_blank_values=True)]
    return [(m.group(1).lower(), m.group(2).strip("'")) for m in _KEYWORD.finditer(dsn)]


def hosts(dsn: str) -> list[str]:
    """Every host a DSN may connect to (URL netloc, multi-host lists, host= and hostaddr=); 'localhost' when
    it names none (libpq's default socket)."""
    found: list[str] = []
    if "://" in dsn:
        netloc = urlsplit(dsn).netloc.rpartition("@")[2]
        for part in filter(None, netloc.split(",")):
            host = part[1:].partition("]")[0] if part.startswith("[") else part.rpartition(":")[0] or part
            found.append(unquote(host))
    for key, value in _keywords(dsn):
        if key in ("host", "hostaddr"):
            found += [h for h in value.split(",") if h]
    return [h.lower() for h in found] or ["localhost"]


def check_typed(dsn: str, allowed_hosts: Iterable[str] = ()) -> str:
    """A DSN a person typed: refused when it holds `${...}`, names a file keyword, or a host off the mesh's
    allow-list; returned unchanged (it is used literally)."""
    dsn = (dsn or "").strip()
    if not dsn:
        raise DsnError("give a PostgreSQL connection string, e.g. postgresql://user@host:5432/db")
    if any(ch in dsn for ch in "\r\n\x00"):
        raise DsnError("the connection string has a line break or NUL in it; write it on one line")
    if "${" in dsn:
        raise DsnError("variables (${...}) are not expanded in a connection string you type: write it literally "
                       "and leave the password out (the server's ~/.pgpass supplies it); only a committed "
                       "descriptor may use ${MESHWORK_...} variables")
    check_written(dsn, allowed_hosts)
    return dsn


def check_written(dsn: str, allowed_hosts: Iterable[str] = ()) -> None:
    """What any DSN a person hands in (typed, or in a draft or a contract) must hold to: no file keywords,
    and (expanded) only allowed hosts."""
    used = sorted({k for k, _ in _keywords(dsn) if k in _FILE_KEYWORDS})
    if used:
        raise DsnError(f"the connection string may not set {', '.join(used)}: they make the server read files; "
                       "ask an administrator to configure the connection")
    check_hosts(expand(dsn), allowed_hosts)


def check_hosts(dsn: str, allowed_hosts: Iterable[str]) -> None:
    """With an allow-list (mesh.yaml `postgres_hosts`), every host the DSN names must be on it."""
    allowed = {h.lower() for h in allowed_hosts}
    if not allowed:
        return
    off = [h for h in hosts(dsn) if h not in allowed]
    if off:
        raise DsnError(f"PostgreSQL host {', '.join(off)} is not one this mesh may connect to "
                       f"(mesh.yaml postgres_hosts: {', '.join(sorted(allowed))})")
