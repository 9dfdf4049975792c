"""The MCP resources: the products the caller may list, and each one's descriptor and ODCS contract.

A product the caller sees in full gives its descriptor file and its ODCS v3 document (`catalog.interop.odcs`);
a locked one gives its card as the descriptor and a refusal as the contract; a hidden one is an unknown
product, with the same message as an id that does not exist.
"""

from __future__ import annotations

import json

from catalog.descriptors.yamlio import dump_yaml
from catalog.interop.odcs import export_contract
from catalog.mcp.caller import Caller
from catalog.mcp.tools import refuse_locked, viewer
from catalog.mesh import Mesh
from catalog.access.policy import LockedProduct

INDEX_URI = "meshwork://products"
DESCRIPTOR_URI = "meshwork://products/{product_id}/descriptor"
CONTRACT_URI = "meshwork://products/{product_id}/contract"


def index(mesh: Mesh, caller: Caller) -> str:
    """JSON: one entry per product the caller may list, with the URIs of its descriptor and contract."""
    policy = viewer(mesh, caller)
    entries = []
    for pid in sorted(policy.listed):
        product = mesh.products[pid]
        entry = {"id": pid, "title": product.title, "domain": product.domain, "owner": product.owner,
                 "locked": policy.is_locked(pid), "descriptor": DESCRIPTOR_URI.format(product_id=pid)}
        if not policy.is_locked(pid):
            entry["contract"] = CONTRACT_URI.format(product_id=pid)
        entries.append(entry)
    return json.dumps({"mesh": mesh.name, "role": caller.role, "user": caller.user, "products": entries}, indent=2)


def descriptor(mesh: Mesh, caller: Caller, product_id: str) -> str:
    """The descriptor YAML as the product page shows it: the file for a product seen in full, the card for a
    locked one."""
    product = mesh.product_for(product_id, viewer(mesh, caller))
    if isinstance(product, LockedProduct):
        return dump_yaml({**product.as_dict(), "locked": True})
    return product.path.read_text(encoding="utf-8")


def contract(mesh: Mesh, caller: Caller, product_id: str) -> str:
    """The product's ODCS v3 YAML, validated against the ODCS schema; refused for a locked product."""
    refuse_locked(mesh.product_for(product_id, viewer(mesh, caller)), caller)
    return export_contract(mesh, product_id)
