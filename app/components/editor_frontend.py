"""The code editor's browser half: streamlit-code-editor's build, with two edits that keep it from sending the
server a report nobody needs.

The component holds one value, and each value it sends asks the server for a rerun. Unpatched, it reports
the text when the editor loses the focus even when nothing changed since the last report. After a Ctrl+Enter
the focus stays in the editor, so the person's next click (Download CSV, say) first sent that report, and its
rerun raced the click: a deferred download's file is registered anew by every rerun, and the click asked for
the one just replaced, so nothing downloaded. The edits:

- a Ctrl+Enter (or the Run button) remembers the text it sent;
- losing the focus reports the text only when it differs from the last one sent.

The build is copied once per package version and edit, by hard links where the file system allows (18 MB
otherwise), into a cache folder: Streamlit serves a component only from its own folder, and resolves
symlinks to refuse files outside it. If the installed build does not hold the exact code the edits expect (a
new version), the editor falls back to the package's own build, which works with the extra reruns.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

import streamlit.components.v1 as components

LOG = logging.getLogger(__name__)
PACKAGE = "code_editor"
SENT = "window.__meshworkSent"
EDITS = (  # (what the build holds, what it becomes)
    ('includes("blur")&&t){const e=t.getSession().$modeId.split("/").pop();c(t.getValue()),',
     f'includes("blur")&&t&&t.getValue()!=={SENT}){{{SENT}=t.getValue();'
     'const e=t.getSession().$modeId.split("/").pop();c(t.getValue()),'),
    ('name:"submit",description:"Send \'submit\' response",bindKey:{win:"Ctrl-Enter",mac:"Command-Enter"},exec:e=>{',
     'name:"submit",description:"Send \'submit\' response",bindKey:{win:"Ctrl-Enter",mac:"Command-Enter"},'
     f'exec:e=>{{{SENT}=e.getValue();'),
)


def build_folder() -> Path | None:
    """The installed package's frontend build, found without importing the package (which would declare its
    own component)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "frontend" / "build"
    return folder if folder.is_dir() else None


def patched(script: str) -> str | None:
    """The main script with the edits, or None when it does not hold each edited piece exactly once."""
    for before, after in EDITS:
        if script.count(before) != 1:
            return None
        script = script.replace(before, after)
    return script


def cache_roots() -> list[Path]:
    """Where the copy may go, in order: MESHWORK_CACHE_DIR, else the user's cache folder, then the system's
    temporary folder (a home that cannot be written, as in some containers)."""
    configured = os.environ.get("MESHWORK_CACHE_DIR")
    if configured:
        return [Path(configured)]
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return [home / "meshwork", Path(tempfile.gettempdir()) / "meshwork-cache"]


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def patched_build(source: Path, root: Path) -> Path | None:
    """A copy of `source` with the edited main script, made once (under `root`, named by the package version
    and the edits) and reused; None if the build cannot take the edits."""
    mains = sorted((source / "static" / "js").glob("main.*.chunk.js"))
    script = patched(mains[0].read_text(encoding="utf-8")) if len(mains) == 1 else None
    if script is None:
        return None
    main = mains[0]
    digest = hashlib.sha256(script.encode()).hexdigest()[:12]
    version = importlib.metadata.version("streamlit-code-editor")
    target = root / f"code_editor-{version}-{digest}"
    if (target / "index.html").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=root))
    try:
        shutil.copytree(source, building / "build", copy_function=_link_or_copy)
        edited = building / "build" / main.relative_to(source)
        edited.unlink()  # a hard link: writing through it would edit the installed package
        edited.write_text(script, encoding="utf-8")
        try:
            os.replace(building / "build", target)  # another process may have made it meanwhile: theirs is the same
        except OSError:
            pass
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target if (target / "index.html").exists() else None


def declare() -> Callable[..., Any] | None:
    """The editor component to draw, or None when the package is not installed."""
    source = build_folder()
    if source is None:
        return None
    folder, trouble = None, "streamlit-code-editor's build differs from the one expected"
    for root in cache_roots():
        try:
            folder = patched_build(source, root)
            break
        except OSError as exc:
            trouble = f"its build could not be copied into {root} ({exc})"
    if folder is None:
        LOG.warning("the code editor runs unpatched: %s", trouble)
        folder = source
    return components.declare_component("code_editor", path=str(folder))
