"""The SQL editor of a workbench cell: Ace (streamlit-code-editor) with SQL highlighting and autocomplete of
the products and columns this role can see; a plain text area when the component is missing or the person
prefers it (screen readers, tests).

`sql_editor` returns the cell's current text and whether the person asked to run it (Ctrl+Enter or the
editor's Run button) on this rerun.

The editor tells the server its text when it loses the focus and when the person runs it, never while they type.
The component holds one value, and the latest sent wins: a report sent 250 ms after the last key (its
"debounce" mode) could arrive after a Ctrl+Enter pressed within that time, while the server was busy, and the
request to run was replaced by a mere "the text changed". A click anywhere else on the page takes the focus
first, so the server has the text before that click's callback runs (`current_text`); and the editor reports
losing the focus only when the text changed since it last sent it (components/editor_frontend.py).
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from components import editor_frontend

code_editor = editor_frontend.declare()  # None without the package: the page still works, without highlighting

PLAIN_KEY = "wb_plain_editor"

# Enter inserts a newline even while the completion popup is open (Ace's popup takes Enter by default, so typing
# `AS c⏎FROM` became `AS customersFROM`); Tab or a click accepts a completion. The popup's Enter command is moved
# to a chord nobody presses.
KEYBINDINGS = {"completer": [{"name": "Return", "bindkey": {"win": "Ctrl-Alt-Shift-F12", "mac": "Ctrl-Alt-Shift-F12"}}]}
# Ace's own light theme: the component's "streamlit" themes @import a font from fonts.googleapis.com, a
# request to an outside host on every page with an editor (and a font that never arrives offline).
ACE_THEME = "textmate"

_RUN_BUTTON = {"name": "Run", "feather": "Play", "primary": True, "hasText": True, "showWithIcon": True,
               "commands": ["submit"], "alwaysOn": True, "style": {"bottom": "0.35rem", "right": "0.4rem"}}


_NO_EVENT = {"id": "", "type": "", "lang": "", "text": "", "selected": "", "cursor": ""}


def available() -> bool:
    return code_editor is not None


def plain() -> bool:
    return code_editor is None or bool(st.session_state.get(PLAIN_KEY))


@st.cache_data(show_spinner=False, max_entries=32)
def completions(schema: pl.DataFrame) -> list[dict]:
    """Ace completion items: product ids first, then their columns (meta says which product and type)."""
    items = [{"caption": pid, "value": pid, "meta": "product", "name": pid, "score": 1000}
             for pid in schema["product_id"].unique(maintain_order=True).to_list()]
    seen: set[str] = set()
    for row in schema.iter_rows(named=True):
        if row["column"] not in seen:
            seen.add(row["column"])
            meta = f"{row['product_id']} · {row['type']}" + (" · masked" if row["masked"] else "")
            items.append({"caption": row["column"], "value": row["column"], "meta": meta, "name": row["column"],
                          "score": 500})
    return items


def current_text(key: str, state) -> str | None:
    """What the editor of `key` last reported, read from the component's own value when the page has not yet
    copied it: a click's callback runs before the page does, in the same rerun as the editor's report of losing
    the focus. None until the person has typed or the cell's text was set."""
    event = state.get(key)
    if event and event.get("id") and event["id"] != state.get(f"{key}_seen"):
        return event.get("text", "")
    return state.get(f"{key}_text")


def sql_editor(initial: str, key: str, schema: pl.DataFrame) -> tuple[str, bool]:
    """Draw the editor; (text now in it, run requested). `initial` must stay the same for a given `key`:
    the editor keeps what the person types, and a new text needs a new key."""
    text_key, seen_key, initial_key = f"{key}_text", f"{key}_seen", f"{key}_initial"
    if text_key not in st.session_state:
        st.session_state[text_key] = initial
    initial = st.session_state.setdefault(initial_key, initial)  # the editor's starting text never changes
    if plain():
        text = st.text_area("SQL", value=st.session_state[text_key], key=f"{key}_area", height=140,
                            label_visibility="collapsed", placeholder="SELECT … FROM <domain>.<product>")
        st.session_state[text_key] = text
        run = st.button("Run", key=f"{key}_run", icon=":material/play_arrow:", type="primary")
        return text, run
    event = code_editor(code=initial, lang="sql", key=key, height=[6, 24], theme="default", shortcuts="vscode",
                        completions=completions(schema), response_mode=["blur"], buttons=[_RUN_BUTTON],
                        keybindings=KEYBINDINGS, focus=False, snippets=["", ""], menu={}, info={}, editor_props={},
                        component_props={}, allow_reset=False, replace_completer=False, ghost_text="",
                        default=_NO_EVENT,
                        options={"showLineNumbers": True, "wrap": True, "tabSize": 2, "enableLiveAutocompletion": True,
                                 "fontFamily": "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
                                 "fontSize": 14},
                        props={"placeholder": "SELECT … FROM <domain>.<product>   (Ctrl+Enter runs; Tab completes)",
                               "theme": ACE_THEME})
    run = False
    if event and event.get("id") and event["id"] != st.session_state.get(seen_key):
        st.session_state[seen_key] = event["id"]
        st.session_state[text_key] = event.get("text", "")
        run = event.get("type") == "submit"
    return st.session_state[text_key], run
