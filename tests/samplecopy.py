"""A private copy of a shipped sample mesh for a test module: copied without its local state, so the test may
write grants, descriptors and history, optionally with `discovery: hidden`, and opened and closed for it."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import catalog

SAMPLES = Path(__file__).resolve().parents[1] / "sample_data"


def hide_unlisted(root: Path) -> Path:
    """Declare `discovery: hidden` in the mesh at `root`: a product a viewer may not read is not even listed."""
    (root / "mesh.yaml").write_text((root / "mesh.yaml").read_text().rstrip("\n") + "\ndiscovery: hidden\n")
    return root


def copy_sample(parent: Path, name: str = "banking", discovery: str = "listed") -> Path:
    """`sample_data/<name>` copied to `parent/<name>` (its `.meshwork` state left behind); the mesh's root."""
    root = parent / name
    shutil.copytree(SAMPLES / name, root, ignore=shutil.ignore_patterns(".meshwork"))
    return hide_unlisted(root) if discovery == "hidden" else root


@contextmanager
def opened_sample(parent: Path, name: str = "banking", discovery: str = "listed") -> Iterator[catalog.Mesh]:
    """The copy, opened; closed when the `with` ends (a module fixture yields inside it)."""
    mesh = catalog.open_mesh(copy_sample(parent, name, discovery))
    try:
        yield mesh
    finally:
        mesh.close()
