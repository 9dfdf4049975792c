"""One real app session over Streamlit's own websocket protocol, without a browser.

A browser tab is, to the server, a websocket on `/_stcore/stream` that sends `BackMsg` protobufs (a rerun
with the page, the URL's query string and the widgets' values) and receives `ForwardMsg`s (the elements the
script drew, then `script_finished`). `AppSession` speaks exactly that, with the protobufs of the installed
streamlit (`streamlit.proto`) over the `websockets` client, so a load test can hold dozens of sessions on a
2-core machine where as many Chromium tabs would not fit. The server cannot tell it from a browser: each session
runs the app's script, keeps its `st.session_state`, and is identified by the headers it connects with (the
trusted proxy header).

    async with AppSession(url, headers={"X-Forwarded-Email": "ann@bank.example"}) as app:
        page = await app.open("workbench", {"sql": "SELECT 1"})
        page = await app.submit_editor(page, "SELECT 1")   # as Ctrl+Enter in the cell's SQL editor
        page.has_text("1 row")                             # the result's caption
"""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState


VALUE_FIELDS = {"button": "trigger_value", "text_input": "string_value", "text_area": "string_value",
                "selectbox": "string_value", "radio": "string_value", "checkbox": "bool_value"}
"""The WidgetState field each kind of widget reports its value in (what the browser sends on a change)."""


def run_sessions(coroutine):
    """`asyncio.run(coroutine)` on a thread of its own: a browser test earlier in the same worker leaves
    Playwright's event loop running on the main thread, where `asyncio.run` refuses to start another."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="app-sessions") as pool:
        return pool.submit(asyncio.run, coroutine).result()


class AppError(RuntimeError):
    """The script raised (the page shows an exception) or the run did not finish in time."""


@dataclass
class Page:
    """What one script run drew: its elements in order, and the exceptions it showed."""

    elements: list[Element] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    popovers: dict[str, str] = field(default_factory=dict)
    """label -> id of each popover that keeps its open state on the server (opened like a checkbox)."""

    def texts(self) -> list[str]:
        """Markdown, captions, alerts, headings and links, as the person reads them."""
        out = []
        for e in self.elements:
            kind = e.WhichOneof("type")
            if kind in ("markdown", "alert", "heading"):
                out.append(getattr(e, kind).body)
            elif kind == "page_link":
                out.append(e.page_link.label)
        return out

    def has_text(self, needle: str) -> bool:
        return any(needle in t for t in self.texts())

    def widget(self, label: str, nth: int = 0) -> tuple[str, str]:
        """(id, WidgetState value field) of the `nth` widget labelled `label` (a button, text box, select box,
        radio, toggle or a stateful popover: True opens it), as a person finds it by its label."""
        found = [(wid, "bool_value") for name, wid in self.popovers.items() if name == label]
        for e in self.elements:
            kind = e.WhichOneof("type")
            if kind in VALUE_FIELDS and getattr(e, kind).label == label:
                found.append((getattr(e, kind).id, VALUE_FIELDS[kind]))
        if len(found) <= nth:
            raise AppError(f"no widget {label!r} on the page; texts: {self.texts()[:8]}")
        return found[nth]

    def options(self, label: str) -> list[str]:
        """The options a select box or radio labelled `label` offers, as shown."""
        for e in self.elements:
            kind = e.WhichOneof("type")
            if kind in ("selectbox", "radio") and getattr(e, kind).label == label:
                return list(getattr(e, kind).options)
        raise AppError(f"no select box {label!r} on the page; texts: {self.texts()[:8]}")

    def component(self, name_part: str) -> Element:
        """The first custom component whose name contains `name_part` (e.g. the SQL editor, "code_editor")."""
        for e in self.elements:
            if e.WhichOneof("type") == "component_instance" and name_part in e.component_instance.component_name:
                return e
        raise AppError(f"no {name_part} component on the page; texts: {self.texts()[:8]}")


class AppSession:
    """An app session on a server at `url` (http://127.0.0.1:PORT), identified by `headers`."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, timeout_s: float = 60.0):
        self.stream = url.replace("http://", "ws://", 1).rstrip("/") + "/_stcore/stream"
        self.headers = headers or {}
        self.timeout_s = timeout_s
        self.page_name = ""
        self.page_hash = ""
        self.query = ""
        self._ws = None

    async def __aenter__(self) -> AppSession:
        self._ws = await websockets.connect(self.stream, subprotocols=["streamlit"],
                                            additional_headers=self.headers, max_size=2**26,
                                            open_timeout=self.timeout_s, ping_interval=None)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def open(self, page_name: str, params: dict[str, str] | None = None) -> Page:
        """Open a page as its URL would (`/<page_name>?<params>`; "" is the home page) and wait for the run."""
        self.page_name, self.page_hash, self.query = page_name, "", urlencode(params or {})
        return await self.rerun([])

    async def rerun(self, widgets: list[WidgetState]) -> Page:
        """Send a rerun with these widget values (what a click or a key press in a widget sends). Unlike a browser,
        which sends every widget's value, only these are sent; the others keep what the session last held."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_name = self.page_name
        state.page_script_hash = self.page_hash
        state.widget_states.widgets.extend(widgets)
        await self._ws.send(msg.SerializeToString())
        return await asyncio.wait_for(self._collect(), self.timeout_s)

    async def act(self, page: Page, values: dict[str, object] | None = None, click: str | None = None,
                  nth: int = 0) -> Page:
        """Set widgets by label (a select box or radio by the option's text as shown) and click a button (a
        form's submit button sends the form's values with it, as here)."""
        states = []
        for label, value in (values or {}).items():
            wid, value_field = page.widget(label)
            states.append(WidgetState(id=wid, **{value_field: value}))
        if click is not None:
            wid, _ = page.widget(click, nth)
            states.append(WidgetState(id=wid, trigger_value=True))
        return await self.rerun(states)

    async def submit_editor(self, page: Page, sql: str, index: int = 0) -> Page:
        """Run a workbench cell as Ctrl+Enter does: the SQL editor component reports a `submit` event."""
        editors = [e for e in page.elements if e.WhichOneof("type") == "component_instance"
                   and "code_editor" in e.component_instance.component_name]
        if len(editors) <= index:
            raise AppError(f"no SQL editor #{index} on the page; texts: {page.texts()[:8]}")
        event = {"id": uuid.uuid4().hex[:8], "type": "submit", "lang": "sql", "text": sql,
                 "selected": "", "cursor": {}}
        state = WidgetState(id=editors[index].component_instance.id, json_value=json.dumps(event))
        return await self.rerun([state])

    async def _collect(self) -> Page:
        """ForwardMsgs until the script has finished for good (a run that reruns itself is followed)."""
        page = Page()
        while True:
            raw = await self._ws.recv()
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "navigation" and msg.navigation.page_script_hash:
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "new_session" and msg.new_session.page_script_hash:
                self.page_hash = msg.new_session.page_script_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                page.elements.append(element)
                if element.WhichOneof("type") == "exception":
                    page.exceptions.append(f"{element.exception.type}: {element.exception.message}")
            elif kind == "delta" and msg.delta.WhichOneof("type") == "add_block":
                block = msg.delta.add_block
                if block.WhichOneof("type") == "popover" and block.popover.id:
                    page.popovers[block.popover.label] = block.popover.id
            elif kind == "page_info_changed":  # the script changed st.query_params: the URL now says so
                self.query = msg.page_info_changed.query_string
            elif kind == "page_not_found":
                raise AppError(f"no page {self.page_name!r}")
            elif kind == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    page = Page()  # the script asked for a rerun: the page is what the next run draws
                    continue
                return page
