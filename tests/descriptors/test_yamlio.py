"""Every YAML Meshwork reads refuses bombs (aliases, size, depth) before it builds them, with the file and line."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import catalog
from catalog.descriptors import yamlio as yamlsource
from catalog.governance.changes import load_descriptor
from catalog.interop.odcs import read_contract
from catalog.dashboards.model import load_dashboard
from catalog.errors import MeshError
from catalog.workbench.notebook import Notebook
from catalog.publish.publish import parse_descriptor
from catalog.descriptors.yamlio import YamlError, parse_yaml

REPO = Path(__file__).resolve().parents[2]


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """Billion laughs: each level lists the one below `width` times (9 levels of 9 = 387 million strings)."""
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    lines.append(f"name: *a{levels - 1}")
    return "\n".join(lines) + "\n"


SMALL_BOMB = alias_bomb()
BIG_BOMB = alias_bomb(24, 40)
HUGE = "name: x\ndescription: " + "a" * (yamlsource.MAX_BYTES + 10) + "\n"
MANY_VALUES = "name: x\ntags: [" + "t," * 400_000 + "]\n"
DEEP = "name: x\ntags: " + "[" * 5_000 + "]" * 5_000 + "\n"
BOMBS = {"small alias bomb": SMALL_BOMB, "big alias bomb": BIG_BOMB, "huge document": HUGE,
         "many values": MANY_VALUES, "deep nesting": DEEP}


def test_the_small_alias_bomb_is_about_350_bytes():
    assert 300 <= len(SMALL_BOMB.encode()) <= 400


@pytest.fixture
def builds(monkeypatch) -> list[str]:
    """Every attempt to build Python values from a document; a build raises, so a bomb that got that far
    fails the test instead of taking minutes or all the memory."""
    attempts: list[str] = []

    def refuse(name: str):
        def build(*args, **kwargs):
            attempts.append(name)
            raise AssertionError(f"{name} was asked to build the document")
        return build

    monkeypatch.setattr(yamlsource, "_construct", refuse("_construct"))
    monkeypatch.setattr(yamlsource, "_parse_reference", refuse("_parse_reference"))
    return attempts


@pytest.mark.parametrize("label", list(BOMBS))
def test_each_bomb_is_refused_before_anything_is_built_with_its_line(label, builds):
    with pytest.raises(YamlError) as caught:
        parse_yaml(BOMBS[label])
    assert builds == []
    assert caught.value.line is not None and caught.value.line >= 1
    assert any(word in str(caught.value) for word in ("expanded", "values", "characters", "nested"))


def test_the_alias_bomb_names_the_line_where_it_blows_up():
    with pytest.raises(YamlError) as caught:
        parse_yaml(SMALL_BOMB)
    assert "alias" in str(caught.value) and caught.value.line in range(5, 11)


def test_ordinary_anchors_and_aliases_still_read():
    doc = parse_yaml("base: &b {type: VARCHAR}\ncolumns:\n  - *b\n  - *b\n")
    assert doc.data["columns"] == [{"type": "VARCHAR"}, {"type": "VARCHAR"}]


def test_a_bomb_in_a_product_descriptor_is_a_problem_with_file_and_line(minimesh):
    path = minimesh / "retail/products/bomb.yaml"
    path.write_text(SMALL_BOMB)
    mesh = catalog.open_mesh(minimesh)
    problems = [p for p in mesh.problems if Path(p.path).name == "bomb.yaml"]
    assert problems and problems[0].line and "alias" in problems[0].message
    assert "refused as a YAML bomb" in problems[0].message  # counted from the parser's events, never built
    assert "retail.customers" in mesh.products  # the rest of the mesh still loads


@pytest.mark.parametrize("label", ["small alias bomb", "huge document", "deep nesting"])
def test_a_bomb_in_domain_and_mesh_yaml_is_a_problem(minimesh, label):
    (minimesh / "risk/domain.yaml").write_text(BOMBS[label])
    mesh = catalog.open_mesh(minimesh)
    assert any(Path(p.path).name == "domain.yaml" and p.line for p in mesh.problems)


def test_every_reader_refuses_the_bomb(tmp_path, minimesh):
    mesh = catalog.open_mesh(minimesh)
    board = minimesh / "retail/dashboards/bomb.yaml"
    board.parent.mkdir(parents=True, exist_ok=True)
    board.write_text(SMALL_BOMB)
    loaded = load_dashboard(mesh.declared, board)
    assert loaded.unreadable and loaded.problems[0].line
    with pytest.raises(MeshError, match="alias"):
        Notebook.from_yaml(SMALL_BOMB, "n.yaml")
    with pytest.raises(MeshError, match="alias"):
        read_contract(SMALL_BOMB, "c.yaml")
    with pytest.raises(MeshError, match=r"edited\.yaml:\d+: invalid YAML.*alias"):
        parse_descriptor(SMALL_BOMB, "edited.yaml")
    diff_input = tmp_path / "old.yaml"
    diff_input.write_text(SMALL_BOMB)
    with pytest.raises(MeshError, match="alias"):
        load_descriptor(diff_input)


class _Counting:
    """A file whose reads add the number of bytes they return to `read`."""

    def __init__(self, handle, read: list[int]):
        self._handle, self._read = handle, read

    def read(self, *args) -> bytes:
        data = self._handle.read(*args)
        self._read.append(len(data))
        return data

    def __enter__(self) -> "_Counting":
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()

    def __getattr__(self, name: str):
        return getattr(self._handle, name)


def test_a_huge_file_is_not_read_whole(tmp_path, monkeypatch):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.write(b"name: x\ndescription: ")
        handle.truncate(200_000_000)  # sparse: 200 MB on paper
    read: list[int] = []
    monkeypatch.setattr(yamlsource, "open", lambda *args, **kwargs: _Counting(open(*args, **kwargs), read),
                        raising=False)
    with pytest.raises(YamlError, match="over"):
        yamlsource.read_yaml(path)
    assert sum(read) == yamlsource.MAX_BYTES + 1  # one byte past the limit tells it is too large


def test_meshwork_diff_refuses_a_bomb_with_exit_2(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(SMALL_BOMB)
    done = subprocess.run([sys.executable, "-c", "from catalog.cli import main; main()", "diff", str(bomb),
                           str(bomb)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 2, done.stderr
    assert "alias" in done.stderr and "Traceback" not in done.stderr


def test_no_malformed_document_takes_a_process_past_500_mb(tmp_path, minimesh):
    """With 500 MB of address space to spare, every bomb in a descriptor, a domain.yaml and a direct parse is refused cleanly."""
    folder = tmp_path / "bombs"
    folder.mkdir()
    for i, text in enumerate(BOMBS.values()):
        (folder / f"{i}.yaml").write_text(text)
        (minimesh / f"retail/products/bomb{i}.yaml").write_text(text)
    script = textwrap.dedent(f"""
        import resource, sys
        from pathlib import Path
        from catalog.descriptors.yamlio import YamlError, read_yaml
        from catalog.descriptors.loader import open_descriptors
        # 500 MB of address space beyond what the imports already mapped (polars and pyarrow reserve ~800 MB)
        mapped = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmSize:"))
        limit = mapped * 1024 + 500 * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        for path in sorted(Path({str(folder)!r}).glob("*.yaml")):
            try:
                read_yaml(path)
                sys.exit(f"{{path.name}} was read")
            except YamlError:
                pass
        loaded = open_descriptors(Path({str(minimesh)!r}))
        assert sum("bomb" in p.path for p in loaded.problems) == {len(BOMBS)}, loaded.problems
        peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
        print("ok", int(peak.split()[1]) // 1024)  # not ru_maxrss: Linux carries the parent's across exec
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("ok")
    assert int(done.stdout.split()[1]) < 500


# ---------------------------------------------------------------- validate, dump, write, slug

def test_a_validation_error_names_the_field_as_written_and_its_line():
    from catalog.descriptors.model import ProductDescriptor

    text = "name: orders\nsource:\n  kind: parquet\n  path: 5\nquality:\n  - {check: not_null, colum: id}\n"
    with pytest.raises(yamlsource.DocumentInvalid) as caught:
        yamlsource.load_text(ProductDescriptor, text, "sales/products/orders.yaml")
    located = {e.field: e.line for e in caught.value.errors}
    assert located["source.path"] == 4 and located["quality.0.colum"] == 6
    assert str(caught.value).startswith("sales/products/orders.yaml:4: source.path: ")


def test_a_document_that_is_no_mapping_or_no_yaml_is_refused_at_line_one_or_its_line():
    from catalog.descriptors.model import ProductDescriptor

    with pytest.raises(yamlsource.DocumentInvalid, match=r"^x.yaml:1: expected a mapping of fields"):
        yamlsource.load_text(ProductDescriptor, "- a\n- b\n", "x.yaml")
    with pytest.raises(yamlsource.DocumentInvalid, match=r"^x.yaml:3: invalid YAML"):
        yamlsource.load_text(ProductDescriptor, "name: a\nsource: [\n", "x.yaml")


def test_dumped_yaml_reads_back_the_same_data_in_one_style():
    data = {"name": "orders", "tags": ["a", "b"], "columns": [yamlsource.Flow({"name": "id", "type": "BIGINT"})],
            "source": {"kind": "sql", "sql": "SELECT 1\nFROM x\n"}, "title": "Café"}
    text = yamlsource.dump_yaml(data)
    assert parse_yaml(text).data == data
    assert "tags: [a, b]" in text and "- {name: id, type: BIGINT}" in text and "sql: |" in text and "Café" in text


def test_an_atomic_write_replaces_or_creates_once_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "board.yaml"
    yamlsource.write_atomic(path, "a: 1\n")
    yamlsource.write_atomic(path, b"a: 2\n")
    assert path.read_text() == "a: 2\n"
    with pytest.raises(FileExistsError):
        yamlsource.write_atomic(path, "a: 3\n", replace=False)
    assert path.read_text() == "a: 2\n" and sorted(p.name for p in tmp_path.iterdir()) == ["board.yaml"]


def test_an_atomic_write_reaches_the_disk_before_the_rename(tmp_path, monkeypatch):
    events = []
    monkeypatch.setattr(os, "fsync", lambda fd: events.append("fsync"))
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b)))
    yamlsource.write_atomic(tmp_path / "n.yaml", "x")
    assert events[:2] == ["fsync", "replace"]


@pytest.mark.parametrize("title, dashboard, notebook", [
    ("Customer 360 / Risk", "customer_360_risk", "customer-360-risk"),
    ("360 view", "dashboard_360_view", "360-view"),
    ("", "dashboard", "notebook"),
    ("  --  ", "dashboard", "notebook"),
    ("Churn: Q3 (draft)", "churn_q3_draft", "churn-q3-draft"),
])
def test_dashboards_and_notebooks_keep_their_file_names(title, dashboard, notebook):
    from catalog.dashboards.model import slug
    from catalog.workbench.notebook import slugify

    assert slug(title) == dashboard and slugify(title) == notebook


def test_a_long_notebook_title_is_cut_at_sixty_characters():
    from catalog.workbench.notebook import slugify

    assert slugify("a" * 59 + " b" * 10) == "a" * 59 + "-"


def test_the_declared_revision_changes_when_a_descriptor_file_does(minimesh):
    from catalog.descriptors.loader import descriptors_revision, open_descriptors

    before = open_descriptors(minimesh).revision
    assert before and open_descriptors(minimesh).revision == before == descriptors_revision(minimesh)
    customers = minimesh / "retail/products/customers.yaml"
    customers.write_text(customers.read_text() + "\n")
    assert open_descriptors(minimesh).revision == descriptors_revision(minimesh) != before
    (minimesh / "notes").mkdir()  # a folder that is no domain is no descriptor
    assert descriptors_revision(minimesh) == open_descriptors(minimesh).revision
