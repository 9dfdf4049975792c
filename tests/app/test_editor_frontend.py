"""The code editor's patched build: the installed streamlit-code-editor takes both edits, the copy is made
once and reused, and the installed package is never written to."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "app"))  # the app's own imports, as it runs
from components import editor_frontend  # noqa: E402


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_pinned_build_takes_both_edits_exactly_once():
    source = editor_frontend.build_folder()
    assert source is not None, "streamlit-code-editor is pinned in pyproject.toml"
    [main] = (source / "static" / "js").glob("main.*.chunk.js")
    script = editor_frontend.patched(main.read_text(encoding="utf-8"))
    assert script is not None
    assert script.count(editor_frontend.SENT) == 3  # set by a submit, compared and set on losing the focus


def test_a_build_that_differs_is_not_edited():
    assert editor_frontend.patched("console.log('another version')") is None


def test_the_copy_is_made_once_holds_the_edit_and_leaves_the_package_as_installed(tmp_path):
    source = editor_frontend.build_folder()
    [main] = (source / "static" / "js").glob("main.*.chunk.js")
    installed = digest(main)
    first = editor_frontend.patched_build(source, tmp_path)
    assert first is not None and first.parent == tmp_path
    edited = first / "static" / "js" / main.name
    assert editor_frontend.SENT in edited.read_text(encoding="utf-8")
    assert digest(main) == installed and editor_frontend.SENT not in main.read_text(encoding="utf-8")
    assert (first / "index.html").read_bytes() == (source / "index.html").read_bytes()
    made = os.stat(edited).st_mtime_ns
    again = editor_frontend.patched_build(source, tmp_path)
    assert again == first and os.stat(edited).st_mtime_ns == made  # reused, not made again
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no half-made folder is left behind
