"""A real app server and a headless Chromium, shared by the tests, the benchmarks and `make screenshots`.

Launching Streamlit as a subprocess keeps `catalog` free of any streamlit import.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAIN = REPO / "app" / "main.py"
SERVE = REPO / "app" / "serve.py"  # starts MAIN with the libraries imported before the first visit
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]
# Streamlit marks its root with the script's run state ("running", "notRunning", ...); the status widget's
# "Stop" button only shows once a run has lasted a moment, so it alone would call a fresh run idle.
APP_IDLE = ("() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
            " const state = app && app.getAttribute('data-test-script-state');"
            " if (state) return state === 'notRunning';"
            " const w = document.querySelector('[data-testid=\"stStatusWidget\"]');"
            " return !w || !(w.innerText.includes('Running') || w.innerText.includes('Stop')); }")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """The app (app/serve.py, as `make run` starts it) on a free loopback port, for one mesh; ready when its health check answers.

    `tree` serves another checkout's app instead (its own serve.py and catalog, as `make run` starts it there):
    the app benchmark's before/after comparison. `base_path` serves it under that URL prefix (Streamlit's
    `server.baseUrlPath`, as behind a proxy that keeps the prefix); `url` includes it."""

    def __init__(self, mesh: Path, env: dict[str, str] | None = None, log_dir: Path | None = None,
                 script: Path = MAIN, tree: Path = REPO, base_path: str = ""):
        self.port = free_port()
        prefix = base_path.strip("/")
        self.url = f"http://127.0.0.1:{self.port}" + (f"/{prefix}" if prefix else "")
        env = {**(env or {}), **({"STREAMLIT_SERVER_BASE_URL_PATH": prefix} if prefix else {})}
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
        self.log = open(log_dir / f"streamlit-{self.port}.log", "w") if log_dir else None
        # the app starts as `make run` starts it (libraries imported before the first visit); another script
        # (a benchmark's baseline) as plain `streamlit run`
        tree = Path(tree).resolve()
        own = {} if tree == REPO else {"PYTHONPATH": str(tree)}
        launch = [sys.executable, str(tree / "app" / "serve.py")] if script == MAIN else [
            sys.executable, "-m", "streamlit", "run", str(script)]
        self.process = subprocess.Popen(
            [*launch, "--server.port", str(self.port), "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--", "--mesh", str(mesh)],
            cwd=tree, stdout=self.log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
            env={**os.environ, **own, **(env or {})},
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the Streamlit server of {tree} did not start within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if self.log:
            self.log.close()


def launch_chromium(playwright):
    """Debian's Chromium (Playwright's own browser download does not work here)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing; `make test` installs Debian's chromium")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


# Elements of the previous run stay greyed out ("stale") until the new run has redrawn or dropped them.
NOTHING_STALE = "() => !document.querySelector('[data-stale=\"true\"]')"


def wait_for_app(page, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit has finished running the script and redrawn what the run changed."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout_ms)
    page.wait_for_function(APP_IDLE, timeout=timeout_ms)
    page.wait_for_function(NOTHING_STALE, timeout=timeout_ms)


MAIN_HEIGHT = ("() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], section.main')]"
               ".map(e => e.scrollHeight), document.body.scrollHeight)")


CANVASES_PRESENT = ("() => [...document.querySelectorAll('[data-testid=\"stDataFrame\"], "
                    "[data-testid=\"stVegaLiteChart\"]')].every(e => e.querySelector('canvas, svg'))")


def screenshot(page, path: Path, max_height: int = 4000) -> None:
    """The whole page, not just the viewport: Streamlit scrolls inside its main block, so grow the viewport to
    the content's height for the shot, then put it back."""
    size = page.viewport_size or {"width": 1400, "height": 900}
    height = min(max_height, max(size["height"], int(page.evaluate(MAIN_HEIGHT))))
    if height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": height})
    # charts and tables paint on canvases after the script run ends, and again after a resize
    page.wait_for_function(CANVASES_PRESENT, timeout=10_000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(path), full_page=True)
    if height > size["height"]:
        page.set_viewport_size(size)


def focus_editor(page, editor, timeout_s: float = 30) -> None:
    """Click into a cell's code editor until it holds the keyboard focus. A cell just added is an iframe that
    is still loading Ace: a click that lands before Ace listens leaves the focus outside, and keys typed then
    go nowhere."""
    deadline = time.monotonic() + timeout_s
    content = editor.locator(".ace_content").first
    focused = editor.locator("textarea.ace_text-input:focus")
    while True:
        content.click()
        try:
            focused.wait_for(timeout=1000)
            return
        except Exception:  # noqa: BLE001 - not focused yet: click again
            if time.monotonic() > deadline:
                raise AssertionError("the code editor never took the keyboard focus") from None


def wait_for_editor_text(editor, text: str, timeout_s: float = 30) -> None:
    """Wait until the editor shows `text` (whitespace aside): on a loaded machine Chromium can still be working
    through the keys when `keyboard.type` returns."""
    wanted = "".join(text.split())
    lines = editor.locator(".ace_editor").first.locator(".ace_text-layer .ace_line")  # not the completion popup's
    deadline = time.monotonic() + timeout_s
    while "".join("".join(lines.all_inner_texts()).split()) != wanted:
        if time.monotonic() > deadline:
            raise AssertionError(f"the editor never held what was typed: {text!r}; it holds {lines.all_inner_texts()!r}")
        time.sleep(0.1)


def type_in_editor(page, editor, text: str, delay: float = 2) -> None:
    """Focus a cell's code editor, type `text` into it and wait until it holds all of it (then Ctrl+Enter runs
    exactly that)."""
    focus_editor(page, editor)
    page.keyboard.type(text, delay=delay)
    wait_for_editor_text(editor, text)


def run_cell(page, index: int = 0, timeout_ms: int = 60_000) -> None:
    """Run a workbench cell as a person does: focus its code editor and press Ctrl+Enter (a link only fills
    a cell; nothing runs until this)."""
    focus_editor(page, page.frame_locator("iframe[title*='code_editor']").nth(index))
    page.keyboard.press("Control+Enter")
    page.wait_for_timeout(300)
    wait_for_app(page, timeout_ms)


def search_for(page, text: str, at: str | None = None) -> None:
    """Search on the Discover page as a person does: type into its box, press Enter, wait for the results;
    with `at` (a server's URL), open its Discover page first."""
    if at is not None:
        page.goto(f"{at}/discover")
        wait_for_app(page)
    box = page.get_by_role("textbox", name="Search data products")
    box.fill(text)
    box.press("Enter")
    wait_for_app(page)


def open_tab(page, label: str) -> None:
    """Tabs are lazy: a click reruns the page to draw the tab."""
    page.get_by_role("tab", name=label).click()
    wait_for_app(page)
