"""A product's ports: how it may be consumed (output) and what it reads (input).

A product that declares no output port still has one: its governed SQL view (`sql`), which every
product has. Input ports are the products a derived product's SQL reads plus any declared ones, so
lineage and the product page never disagree with the SQL.
"""

from __future__ import annotations

from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.model import DataProduct, InputPort, OutputPort

DEFAULT_PORT = "sql"


def default_approval(product: DataProduct) -> str:
    """`auto` only for unrestricted data without personal data; else the owner decides."""
    return "owner" if product.descriptor.access.restricted or product.pii_columns else "auto"


def output_ports(product: DataProduct) -> list[OutputPort]:
    """The declared output ports, or the governed SQL view every product has."""
    declared = list(product.descriptor.ports.output)
    if declared:
        return declared
    return [OutputPort(name=DEFAULT_PORT, kind="sql_view", approval=default_approval(product),
                       description=f"the governed SQL view: SELECT ... FROM {product.id}")]


def output_port(product: DataProduct, name: str) -> OutputPort | None:
    return next((p for p in output_ports(product) if p.name == name), None)


def input_ports(mesh: DeclaredMesh, product_id: str) -> list[InputPort]:
    """Products this one reads: from its SQL (derived), then the declared ones not already listed."""
    product = mesh.product(product_id)
    out = [InputPort(product=pid, description="read by its SQL") for pid in sorted(mesh.upstreams(product_id))]
    seen = {p.product for p in out}
    out += [p for p in product.descriptor.ports.input if p.product not in seen]
    return out


def port_problems(mesh: DeclaredMesh, product: DataProduct) -> list[tuple[tuple, str, str]]:
    """(location, field, message) of each bad port: duplicate names, `auto` on restricted or personal data,
    an input port naming no product of the mesh."""
    out: list[tuple[tuple, str, str]] = []
    seen: set[str] = set()
    for i, port in enumerate(product.descriptor.ports.output):
        if port.name in seen:
            out.append((("ports", "output", i), f"ports.output.{i}", f"output port {port.name!r} is declared twice"))
        seen.add(port.name)
        if port.approval == "auto" and default_approval(product) != "auto":
            out.append((("ports", "output", i, "approval"), f"ports.output.{i}.approval",
                        f"output port {port.name!r} cannot be approved automatically: {product.id} is restricted "
                        "or holds personal data; use `owner` or `owner+steward`"))
    for i, port in enumerate(product.descriptor.ports.input):
        if port.product not in mesh.products:
            out.append((("ports", "input", i), f"ports.input.{i}",
                        f"input port {port.product!r} is not a product of this mesh"))
    return out
