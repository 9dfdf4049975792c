"""`meshwork init`, `meshwork publish`, `meshwork contract export|import` and `meshwork compliance`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import polars as pl
import typer

from catalog.cli import app
from catalog.cli.common import fail, open_or_exit
from catalog.cli.viewer import ROLE, USER, viewer
from catalog.descriptors.yamlio import read_yaml
from catalog.text import neutralize_frame

contract_app = typer.Typer(no_args_is_help=True, help="Export and import Open Data Contract Standard (v3) documents.")
app.add_typer(contract_app, name="contract")

MESH = typer.Argument(..., help="the mesh folder (holds mesh.yaml)")


class TableFormat(str, Enum):
    text = "text"
    csv = "csv"


@app.command()
def init(path: Path = typer.Argument(..., help="the folder to make a mesh of (created if missing)"),
         name: str = typer.Option(None, help="mesh name (default: from the folder name)"),
         title: str = typer.Option("", help="a title people read"),
         steward: str = typer.Option(None, "--steward", help="the mesh's first steward (default: MESHWORK_USER, "
                                                             "the OS user)")) -> None:
    """Create an empty mesh: mesh.yaml with the default roles (analyst, steward), global policies and its
    first steward (who may add domains)."""
    from catalog.publish.publish import init_mesh

    root = init_mesh(path, name=name, title=title, steward=steward)
    users = list((read_yaml(root / "mesh.yaml").data or {}).get("users") or {})
    typer.echo(f"created {root / 'mesh.yaml'}" + (f" with {users[0]} as its steward" if users else "")
               + f"; publish a product with `meshwork publish {path} SOURCE --domain D --name N --owner EMAIL`")


@app.command()
def publish(
    mesh_path: Path = MESH,
    source: str = typer.Argument(..., help="a .csv/.parquet file, postgresql://…?table=schema.table, "
                                           "or 'sql:SELECT … FROM domain.product'"),
    domain: str = typer.Option(..., "--domain", help="the owning domain (a steward may create a new one)"),
    name: str = typer.Option(..., "--name", help="the product name (lower_snake_case)"),
    owner: str = typer.Option(..., "--owner", help="the accountable person's e-mail"),
    description: str = typer.Option("", "--description", help="what the data is and what it is for"),
    title: str = typer.Option("", "--title"),
    version: str = typer.Option(None, "--version", help="needed (higher than the current) to replace a product"),
    column_doc: list[str] = typer.Option([], "--column-doc", help="COLUMN=TEXT, a column description (repeatable)"),
    role: str = typer.Option("steward", "--role", help="sql: sources run as this role to profile the result"),
    dry_run: bool = typer.Option(False, "--dry-run", help="show the draft and its compliance; write nothing"),
    in_place: bool = typer.Option(False, "--in-place", help="read a local file where it is, any size (its folder "
                                                            "becomes a data root of mesh.yaml; stewards only)"),
    user: str | None = typer.Option(None, "--user", help="who publishes (default: MESHWORK_USER, "
                                                         "identity.local_user, the OS user)"),
) -> None:
    """Register a product from a file, a PostgreSQL table or SQL over products; same checks as the Publish page."""
    mesh = open_or_exit(mesh_path)
    mesh = _local_file(mesh, mesh_path, source, in_place, dry_run, user)
    docs = {}
    for item in column_doc:
        column, sep, text = item.partition("=")
        if not sep:
            fail(f"--column-doc {item!r}: write COLUMN=TEXT", code=2)
        docs[column.strip()] = text.strip()
    draft = mesh.publisher.draft_from_source(source, domain=domain, name=name, owner=owner, description=description,
                                  title=title, version=version, role=role)
    if docs:
        draft = mesh.publisher.describe_columns(draft, docs)
    typer.echo(draft.yaml())
    for note in draft.notes:
        typer.echo(f"note: {note}", err=True)
    for row in draft.violations.iter_rows(named=True):
        typer.echo(f"{row['severity']}: {row['policy']}: {row['message']} (fix: {row['fix']})", err=True)
    if dry_run:
        typer.echo(f"dry run: {draft.product_id} not written", err=True)
        raise typer.Exit(1 if not draft.blocking.is_empty() else 0)
    result = mesh.publisher.publish(draft, user=user)
    written = f" and {result.data_path.relative_to(mesh.root)}" if result.data_path else ""
    typer.echo(f"published {result.product_id} v{result.version}: {result.descriptor_path.relative_to(mesh.root)}"
               f"{written}" + (f" (new domain {draft.domain})" if result.created_domain else ""), err=True)


def _local_file(mesh, mesh_path: Path, source: str, in_place: bool, dry_run: bool, user: str | None):
    """A local file outside the mesh's data roots is copied in (up to the upload limit), or with --in-place
    read where it is, its folder added as a data root; either way the CLI says which."""
    from catalog.publish.publish import MAX_UPLOAD_BYTES

    if source.startswith(("sql:", "postgresql://", "postgres://")):
        return mesh
    path = Path(source).expanduser()
    if not path.is_file():
        return mesh
    if any(path.resolve().is_relative_to(r) for r in mesh.data_roots):
        return mesh
    if not in_place:
        size = path.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            fail(f"{path} is {size / 1e6:,.1f} MB, over the {MAX_UPLOAD_BYTES / 1e6:,.0f} MB a copy into the mesh "
                 "may have; publish it where it is with --in-place (its folder becomes a data root)", code=2)
        typer.echo(f"note: copying {path} into the domain's data/ folder (--in-place reads it where it is)", err=True)
        return mesh
    if dry_run:
        typer.echo(f"note: --in-place would add {path.resolve().parent} to mesh.yaml data_roots", err=True)
        fail("--dry-run with --in-place: the folder is not a data root yet, so nothing can be read; "
             "publish without --dry-run, or add the folder to mesh.yaml data_roots first", code=2)
    mesh.add_data_root(path.resolve().parent, user=user)
    typer.echo(f"note: added {path.resolve().parent} to mesh.yaml data_roots; {path.name} is read where it is "
               "(nothing copied)", err=True)
    return open_or_exit(mesh_path)


@app.command()
def compliance(mesh_path: Path = MESH,
               domain: str = typer.Option(None, "--domain", help="only this domain's products"),
               failing: bool = typer.Option(False, "--failing", help="only the violations"),
               fmt: TableFormat = typer.Option(TableFormat.text, "--format", help="text or csv"),
               role: str | None = ROLE, user: str | None = USER) -> None:
    """Evaluate the global and domain policies on every product the viewer sees in full; exit 1 when a policy
    of severity error fails (run it as a steward in CI to cover restricted products)."""
    from catalog.governance.policies import compliance as compliance_of
    from catalog.governance.policies import policy_issues

    mesh = open_or_exit(mesh_path)
    policy = viewer(mesh, role, user)
    frame = compliance_of(mesh.declared, mesh.cache, domain, policy)
    for issue in policy_issues(mesh.declared):
        typer.echo(f"warning: {issue}", err=True)
    shown = frame.filter(~pl.col("passed")) if failing else frame
    if fmt == TableFormat.csv:
        typer.echo(neutralize_frame(shown).write_csv(), nl=False)
    else:
        for row in shown.iter_rows(named=True):
            status = "ok  " if row["passed"] else row["severity"].upper()[:4].ljust(4)
            fix = f"  -> {row['fix']}" if row["fix"] else ""
            typer.echo(f"{status} {row['product_id']}: {row['policy']} ({row['scope']}): {row['message']}{fix}")
    blocking = frame.filter(~pl.col("passed") & (pl.col("severity") == "error")).height
    typer.echo(f"{frame.height} evaluations, {frame.filter(~pl.col('passed')).height} failing, "
               f"{blocking} of severity error", err=True)
    raise typer.Exit(1 if blocking else 0)


@contract_app.command("export")
def contract_export(mesh_path: Path = MESH,
                    product_ids: list[str] = typer.Argument(..., help="domain.name (several: one document, one "
                                                                      "schema object each)"),
                    output: Path = typer.Option(None, "-o", "--output", help="write here instead of stdout")) -> None:
    """Print (or write) products' ODCS document, validated against the ODCS JSON schema of its version."""
    from catalog.interop.odcs import export_contract

    mesh = open_or_exit(mesh_path)
    text = export_contract(mesh, *product_ids)
    if output:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
    else:
        typer.echo(text, nl=False)


@contract_app.command("import")
def contract_import(mesh_path: Path = MESH, file: Path = typer.Argument(..., help="an ODCS v3 YAML or JSON file"),
                    domain: str = typer.Option(None, "--domain", help="the domain (default: the contract's)"),
                    name: str = typer.Option(None, "--name", help="the product's name, for a one-table contract "
                                                                 "(default: the contract's name)"),
                    source_path: str = typer.Option(None, "--source-path",
                                                    help="where the data is when the contract's servers do not "
                                                         "say, relative to the domain folder; {table} is each "
                                                         "schema object's physical name (data/{table}.parquet)"),
                    version: str = typer.Option(None, "--version", help="needed to replace an existing product"),
                    user: str | None = typer.Option(None, "--user", help="who imports (default: MESHWORK_USER, "
                                                                         "identity.local_user, the OS user)"),
                    ) -> None:
    """Publish an ODCS v3 document, one product per schema object (validated against its own version's
    schema, policies checked, written atomically); prints what was carried verbatim and what was dropped."""
    from catalog.interop.odcs import import_contracts
    from catalog.interop.odcs.reading import read_text_file

    mesh = open_or_exit(mesh_path)
    report = import_contracts(mesh, read_text_file(file), where=str(file), domain=domain, version=version,
                              user=user, name=name, source_path=source_path)
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)
    for result in report.results:
        typer.echo(f"imported {result.product_id} v{result.version}: "
                   f"{result.descriptor_path.relative_to(mesh.root)}")
