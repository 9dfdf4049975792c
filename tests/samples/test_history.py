"""The synthetic sample history is seeded once, when a sample's state store is created, never by a read:
a fresh clone's first open shows it, a second open adds nothing, a mesh without history.yaml gets none."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import catalog
from catalog.samples.history import META_KEY, seed_history

PACKAGE = Path(catalog.__file__).parent


def test_a_fresh_sample_shows_its_history_on_the_first_read(sample_copy):
    root = sample_copy("banking")
    assert not (root / ".meshwork" / "state.sqlite").exists()  # as on a fresh clone
    mesh = catalog.open_mesh(root)
    usage = mesh.usage()  # the facade's plain read; it never seeded anything itself
    assert usage.height > 1000
    assert mesh.quality_history("retail.accounts").height == 90
    assert mesh.state.meta(META_KEY) is not None
    mesh.close()
    again = catalog.open_mesh(root)
    assert again.usage().height == usage.height  # seeded once per state store, not once per open
    again.close()


def test_a_mesh_without_history_file_gets_no_synthetic_history(minimesh, tmp_path):
    mesh = catalog.open_mesh(minimesh, state_dir=tmp_path / "state")
    assert mesh.usage().height == 0 and mesh.quality_history().height == 0
    assert mesh.state.meta(META_KEY) is None


def test_two_meshes_opening_one_new_state_at_once_seed_it_once(sample_copy, tmp_path):
    root = sample_copy("supply_chain")
    meshes = [catalog.open_mesh(root, state_dir=tmp_path / "state") for _ in range(2)]
    counts: list[int] = []
    threads = [threading.Thread(target=lambda m=m: counts.append(m.usage().height)) for m in meshes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seed_history(root, state_dir=tmp_path / "alone")  # the same day, seeded by one opener only
    expected = catalog.open_mesh(root, state_dir=tmp_path / "alone").usage().height
    assert counts == [expected, expected]


def test_no_read_path_knows_the_sample_history():
    """Only the facade (which wires the seeder into the state store) and the sample builder import it."""
    importers = {".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
                 for path in PACKAGE.rglob("*.py")
                 if re.search(r"catalog\.samples\.history|catalog\.samples import history", path.read_text())}
    assert importers == {"catalog.mesh", "catalog.samples.build"}
    assert not re.search(r"ensure_history|_history_checked", "".join(
        path.read_text() for path in [*PACKAGE.rglob("*.py"), *(PACKAGE.parent / "app").rglob("*.py")]))
