"""Meshwork: a data-product catalog and analytics workbench for a data mesh.

    import catalog
    mesh = catalog.open_mesh("sample_data/banking")
    mesh.session(role="analyst").sql("SELECT * FROM retail.customers LIMIT 5")
"""

from catalog.errors import (
    AccessDenied,
    MeshError,
    MeshNotFound,
    PublishError,
    QueryFailed,
    QueryRejected,
    QuerySyntaxError,
    QueryTimeout,
    SourceUnavailable,
    UnknownProduct,
)
from catalog.mesh import Mesh, open_mesh
from catalog.descriptors.model import Column, DataProduct, Domain, Problem
from catalog.access.policy import LockedProduct, Policy

__all__ = [
    "AccessDenied", "Column", "DataProduct", "Domain", "LockedProduct", "Mesh", "MeshError", "MeshNotFound", "Policy",
    "Problem", "PublishError",
    "QueryFailed", "QueryRejected", "QuerySyntaxError", "QueryTimeout", "SourceUnavailable", "UnknownProduct",
    "open_mesh", "import_dbt",
]


def import_dbt(mesh, manifest, **options):  # type: ignore[no-untyped-def]
    """Register a dbt project's models, seeds and sources (`target/manifest.json`) as products of one domain of
    `mesh` (a Mesh, or a mesh folder to open): checks from its tests, documentation from descriptions and meta,
    exposures as consumers, lineage from the manifest. Options: domain, owner, database, user,
    allow_violations. Returns a `catalog.interop.dbt.DbtImport`."""
    if not isinstance(mesh, Mesh):
        mesh = open_mesh(mesh)
    return mesh.import_dbt(manifest, **options)
