"""Build the sample meshes: three industry stories, deterministic to the byte.

`build_sample("banking", Path("sample_data/banking"))` rewrites the shipped mesh byte for byte;
`scale=N` multiplies every product's rows (streamed in chunks, so memory stays bounded).
Each industry module documents its seeded defects in `DEFECTS` (product id -> list of Defect).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import ModuleType

from catalog.samples import banking, life_sciences, supply_chain
from catalog.samples._spec import ANCHOR, Defect
from catalog.samples._writer import write_mesh
from catalog.samples.history import write_history

SAMPLES: dict[str, ModuleType] = {"banking": banking, "life_sciences": life_sciences, "supply_chain": supply_chain}


def build_sample(name: str, dest: Path, scale: int = 1, anchor: datetime = ANCHOR) -> Path:
    """Write the sample mesh `name` into `dest` (emptied first if it already holds a mesh)."""
    if name not in SAMPLES:
        raise ValueError(f"unknown sample {name!r}; choose from {', '.join(SAMPLES)}")
    if scale < 1:
        raise ValueError("scale must be a positive integer")
    spec = SAMPLES[name].mesh(scale, anchor)
    out = write_mesh(spec, Path(dest), scale)
    write_history(spec, out, scale)  # 90 days of usage and quality runs, seeded when its state is created
    return out


def defects(name: str) -> dict[str, list[Defect]]:
    """The defects seeded on purpose into sample `name`: product id -> defects with exact counts."""
    return SAMPLES[name].DEFECTS
