"""The MCP server over streamable HTTP, with bearer tokens the way the SDK does them: a `TokenVerifier` that
maps a token to the user mesh.yaml gives it (`TokenBook`), and `AuthSettings`, so the SDK's own middleware
checks every request and hands the handlers the caller through `get_access_token()`.

The SDK refuses a bad token with HTTP 401 and a generic OAuth body; `PlainRefusals` puts the reason in that
answer as a JSON-RPC error (the SDK's client surfaces one as the `MCPError` of the call), so a client learns
why: no token, an unknown token, or a role its user does not hold.
"""

from __future__ import annotations

import contextvars
import json
from typing import Any

import anyio.to_thread
import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalog.errors import AccessDenied, MeshError
from catalog.mcp import server as mcp_server
from catalog.mcp.caller import Caller, TokenBook, digest
from catalog.mesh import Mesh

PATH = "/mcp"
_refusal: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("meshwork_mcp_refusal",
                                                                                 default=None)


class MeshTokenVerifier:
    """The SDK's `TokenVerifier` over mesh.yaml's tokens: an `AccessToken` for the caller, or None (refused)."""

    def __init__(self, book: TokenBook):
        self.book = book

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            caller = await anyio.to_thread.run_sync(self.book.caller, token)
        except MeshError as exc:
            holder = _refusal.get()
            if holder is not None:
                holder["reason"] = str(exc)
            return None
        # The digest stands in for the token: nothing downstream needs the secret itself.
        return AccessToken(token=digest(token), client_id=caller.user, subject=caller.user, scopes=[],
                           claims={"role": caller.role})


def token_caller() -> Caller:
    """The caller of the current HTTP request, as the verifier resolved it for this very request."""
    token = get_access_token()
    if token is None or not token.subject or not token.claims:
        raise AccessDenied("this MCP server needs a bearer token: send `Authorization: Bearer <token>`")
    return Caller(user=token.subject, role=str(token.claims["role"]), via="http")


class PlainRefusals:
    """Wraps the SDK's app: a 401 keeps its status and `WWW-Authenticate` header but carries a JSON-RPC
    error whose message is the reason the token was refused."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        holder: dict[str, str] = {}
        _refusal.set(holder)
        refused = False

        async def send_plain(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 401:
                refused = True
                reason = holder.get("reason") or ("this MCP server needs a bearer token: send "
                                                  "`Authorization: Bearer <token>`")
                body = json.dumps({"jsonrpc": "2.0", "id": None,
                                   "error": {"code": mcp_server.UNAUTHENTICATED, "message": reason}}).encode()
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"content-length", b"content-type")]
                headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
                await send({**message, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            if refused:
                return  # the SDK's own body is replaced by the one sent above
            await send(message)

        await self.app(scope, receive, send_plain)


def http_app(mesh: Mesh, host: str = "127.0.0.1", port: int = 8765, json_response: bool = False) -> Any:
    """The ASGI app: the SDK's streamable HTTP transport at /mcp, every request authenticated by token."""
    url = f"http://{host}:{port}{PATH}"
    # No authorization server issues these tokens (mesh.yaml does), so there is no discovery document to publish:
    # resource_server_url stays None and issuer_url only names this server.
    server = mcp_server.build_server(mesh, token_caller, "the user your bearer token maps to in mesh.yaml",
                                     token_verifier=MeshTokenVerifier(TokenBook(mesh)),
                                     auth=AuthSettings(issuer_url=url, resource_server_url=None))
    app = server.streamable_http_app(streamable_http_path=PATH, host=host, json_response=json_response)
    return PlainRefusals(app)


def serve_http(mesh: Mesh, host: str, port: int) -> None:
    """Serve until SIGINT / SIGTERM (uvicorn's clean shutdown)."""
    uvicorn.run(http_app(mesh, host, port), host=host, port=port, log_level="warning", lifespan="on")
