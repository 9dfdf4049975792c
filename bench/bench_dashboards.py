"""How fast a dashboard opens: cold (fresh mesh, nothing cached) and warm (tile cache hit, sources unchanged)
for every sample dashboard, plus one open right after a source file changed (only its tiles rescan).

Writes bench/results/dashboards.md. Ratios are measured within one run on one machine; target: warm < 1 s.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from pathlib import Path

import catalog

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SAMPLES = ("banking", "life_sciences", "supply_chain")
WARM_RUNS = 5
ROLE, USER = "analyst", "bench@meshwork.example"


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _copy(name: str) -> Path:
    root = DATA / f"dashboards_{name}"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(REPO / "sample_data" / name, root, ignore=shutil.ignore_patterns(".meshwork"))
    return root


def _sample(name: str) -> list[tuple[str, int, float, float, float]]:
    root = _copy(name)
    rows = []
    for board_id in sorted(catalog.open_mesh(root).dashboards.list()):
        mesh = catalog.open_mesh(root)  # a fresh mesh per dashboard: its engine and cache start empty
        board = mesh.dashboards.get(board_id)
        cold = _timed(lambda: mesh.dashboards.run(board, ROLE, USER))
        warm = statistics.median(_timed(lambda: mesh.dashboards.run(board, ROLE, USER)) for _ in range(WARM_RUNS))
        results = mesh.dashboards.run(board, ROLE, USER)
        assert all(r.cached for r in results if r.ok), f"{board_id}: warm open rescanned a tile"
        source = next(p for r in results for p in mesh.dashboards._sources(r.products)
                      if mesh.products[p].kind in ("parquet", "csv"))
        for file in _files(mesh, source):
            os.utime(file, None)  # a new mtime: the product's fingerprint changes
        changed = _timed(lambda: mesh.dashboards.run(board, ROLE, USER))
        rows.append((board_id, len(board.slots), cold, warm, changed))
        mesh.close()
    return rows


def _files(mesh: catalog.Mesh, product_id: str) -> list[str]:
    from catalog.sources.files import files_of

    return list(files_of(mesh.products[product_id]))


def main(results: Path) -> Path:
    DATA.mkdir(exist_ok=True)
    lines = ["# Dashboards: cold and warm open", "",
             f"Every tile of each sample dashboard run as `{ROLE}` (parallel, governed). Cold: a fresh mesh, "
             f"engine and cache; warm: median of {WARM_RUNS} opens with unchanged sources (tile cache hits, "
             "fingerprints re-checked); source changed: one source file of a tile touched, so the tiles reading "
             "it rescan and the others stay cached. Target: warm under 1 s.", "",
             "| mesh | dashboard | tiles | cold s | warm ms | source changed s | cold / warm |",
             "|---|---|---:|---:|---:|---:|---:|"]
    worst = 0.0
    for name in SAMPLES:
        for board_id, tiles, cold, warm, changed in _sample(name):
            worst = max(worst, warm)
            lines.append(f"| {name} | `{board_id}` | {tiles} | {cold:.2f} | {warm * 1000:.0f} | {changed:.2f} | "
                         f"{cold / warm:.0f}x |")
    lines += ["", f"Slowest warm open: {worst * 1000:.0f} ms ({'meets' if worst < 1 else 'misses'} the 1 s target)."]
    out = results / "dashboards.md"
    out.write_text("\n".join(lines) + "\n")
    return out
