"""Errors a user can cause; each message says what happened, where, and what to do."""


class MeshError(Exception):
    """Base of every error Meshwork raises on purpose."""


class MeshNotFound(MeshError):
    """The folder given is not a mesh (no such folder, or no mesh.yaml in it)."""


class UnknownProduct(MeshError):
    """A product id that the mesh does not have (or that this role may not see)."""


class QueryRejected(MeshError):
    """The governed SQL gate refused a query before it ran; the message says why."""


class QueryFailed(MeshError):
    """A query was allowed but failed while running (syntax, binder, source error)."""


class QueryTimeout(QueryFailed):
    """A query ran past the session's time limit and was interrupted."""


class QueryCancelled(QueryFailed):
    """A query was stopped on request (`Session.interrupt`, the workbench's Cancel)."""


class SourceUnavailable(MeshError):
    """A product's source could not be read (missing file, unreachable database)."""


class AccessDenied(MeshError):
    """A person tried something their identity does not allow (a role they do not hold, approving a
    request for a product they do not own, using an expired grant); the refusal is in the audit log."""


class GrantLapsed(AccessDenied, QueryRejected):
    """A query named a product that only an expired or revoked grant had opened to this user."""


class ChartError(MeshError):
    """A chart spec that does not fit the result it draws (a missing column, a sum of text)."""


class PublishError(MeshError):
    """A self-serve publish was refused (bad name, bad or empty upload, unreachable source, would overwrite
    another product); nothing was written to the mesh folder."""


class QuerySyntaxError(QueryRejected):
    """A query that does not parse; `line` and `col` (1-based) mark where, and the message shows it."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None):
        super().__init__(message)
        self.line = line
        self.col = col


class StateUnavailable(MeshError):
    """The state store's database could not be reached (at start-up, or lost mid-session); the message names
    its URL with the password hidden. Nothing was written by the call that raised it."""
